// Kubernetes objects against the API's own schemas, strict about unknown fields (the API server
// would silently drop a misspelt field, so a typo must fail a test instead):
// - custom resources against the upstream CRDs' openAPIV3Schema in test/fixtures/crds/<project>-<version>/
//   (MetalLB, frr-k8s; prometheus-operator's ServiceMonitor and PrometheusRule from its v0.93.0 tag,
//   example/prometheus-operator-crd/), copied unchanged from the upstream releases;
// - built-in kinds against the Kubernetes API's OpenAPI document (test/fixtures/kubernetes-openapi/,
//   the definitions the kinds we render need, extracted by extract.ts there).
// Both are compiled with ajv. Keys are `apiVersion/kind`.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';

const FIXTURES = new URL('../fixtures/', import.meta.url);
export const KUBERNETES_OPENAPI_VERSION = '1.36';

type Schema = Record<string, unknown>;

/** additionalProperties: false wherever the schema lists properties and preserves nothing else. */
export function strictUnknownFields(schema: Schema): Schema {
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'properties' && value && typeof value === 'object') {
      out.properties = Object.fromEntries(Object.entries(value as Record<string, Schema>).map(([k, v]) => [k, strictUnknownFields(v)]));
    } else if ((key === 'items' || key === 'additionalProperties') && value && typeof value === 'object') {
      out[key] = strictUnknownFields(value as Schema);
    } else if ((key === 'allOf' || key === 'anyOf' || key === 'oneOf') && Array.isArray(value)) {
      out[key] = value.map((v: Schema) => strictUnknownFields(v));
    } else {
      out[key] = value;
    }
  }
  if (out.properties && out.additionalProperties === undefined && !out['x-kubernetes-preserve-unknown-fields']) {
    out.additionalProperties = false;
  }
  return out;
}

/**
 * CRD patterns are Go (RE2) regular expressions, checked by the API server with Go's regexp: its
 * inline case-insensitive flag `(?i)` (prometheus-operator uses it) becomes JavaScript's `i` flag.
 */
function goRegExp(pattern: string, flags: string): RegExp {
  const insensitive = /^\^?\(\?i\)/.test(pattern);
  return new RegExp(insensitive ? pattern.replace('(?i)', '') : pattern, insensitive ? `${flags}i` : flags);
}
goRegExp.code = 'new RegExp';

export const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true, code: { regExp: goRegExp } });

/** Every version of every CRD under test/fixtures/crds/, by `group/version/Kind`. */
export function crdValidators(): Map<string, ValidateFunction> {
  loadKubernetes(); // metadata is checked against ObjectMeta
  const crds = fileURLToPath(new URL('crds/', FIXTURES));
  const validators = new Map<string, ValidateFunction>();
  for (const dir of readdirSync(crds)) {
    for (const file of readdirSync(`${crds}${dir}`)) {
      const crd = parse(readFileSync(`${crds}${dir}/${file}`, 'utf8'));
      for (const version of crd.spec.versions) {
        const schema = strictUnknownFields(version.schema.openAPIV3Schema);
        // metadata is validated by the API server itself, not by the CRD schema.
        (schema.properties as Record<string, Schema>).metadata = { $ref: `${K8S_ID}#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta` };
        validators.set(`${crd.spec.group}/${version.name}/${crd.spec.names.kind}`, ajv.compile(schema));
      }
    }
  }
  return validators;
}

// The types JSON Schema cannot say by `type` alone, as the API server parses them (the OpenAPI
// document calls both strings, but a number is a valid quantity and port).
const QUANTITY = '^[+-]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:[KMGTPE]i|[numkMGTPE]|[eE][+-]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+))?$';
const SPECIAL: Record<string, Schema> = {
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': { anyOf: [{ type: 'integer' }, { type: 'string', minLength: 1 }] },
  'io.k8s.apimachinery.pkg.api.resource.Quantity': { anyOf: [{ type: 'number' }, { type: 'string', pattern: QUANTITY }] },
};

const K8S_ID = 'kubernetes-openapi';
let kubernetesLoaded: { kinds: Record<string, string> } | undefined;

function loadKubernetes(): { kinds: Record<string, string> } {
  if (kubernetesLoaded) return kubernetesLoaded;
  const doc = JSON.parse(readFileSync(new URL(`kubernetes-openapi/v${KUBERNETES_OPENAPI_VERSION}.json`, FIXTURES), 'utf8')) as { kinds: Record<string, string>; definitions: Record<string, Schema> };
  const definitions = Object.fromEntries(Object.entries(doc.definitions).map(([name, schema]) => {
    return [name, SPECIAL[name] ?? strictUnknownFields(schema)];
  }));
  ajv.addSchema({ $id: K8S_ID, definitions });
  return (kubernetesLoaded = doc);
}

/** Built-in kinds (those extract.ts kept), by `apiVersion/Kind`. */
export function kubernetesValidators(): Map<string, ValidateFunction> {
  const { kinds } = loadKubernetes();
  return new Map(Object.entries(kinds).map(([kind, definition]) => [kind, ajv.compile({ $ref: `${K8S_ID}#/definitions/${definition}` })]));
}

let all: Map<string, ValidateFunction> | undefined;

/** Problems of one object against its kind's schema (built-in or CRD); a kind with no schema is one. */
export function schemaProblems(object: { apiVersion?: unknown; kind?: unknown; [field: string]: unknown }): string[] {
  all ??= new Map([...kubernetesValidators(), ...crdValidators()]);
  const key = `${String(object.apiVersion)}/${String(object.kind)}`;
  const validate = all.get(key);
  if (!validate) return [`no schema for ${key} (add the kind to test/fixtures/kubernetes-openapi/extract.ts or its CRD to test/fixtures/crds/)`];
  return validate(object) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`);
}
