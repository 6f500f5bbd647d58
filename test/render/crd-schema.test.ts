// Every rendered Kubernetes object validates against the upstream CRD openAPIV3Schema
// (MetalLB v0.16.1, frr-k8s v0.0.25; copied from upstream into test/fixtures/crds). The schemas
// are made strict about unknown fields: the API server would silently prune a misspelt field,
// so a typo must fail here instead.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { renderCluster } from '../../render/index.ts';
import { intentFor, SCENARIOS } from './scenarios.ts';

const CRDS = fileURLToPath(new URL('../fixtures/crds/', import.meta.url));

type Schema = Record<string, unknown>;

/** additionalProperties: false wherever the schema lists properties and preserves nothing else. */
function strictUnknownFields(schema: Schema): Schema {
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'properties' && value && typeof value === 'object') {
      out.properties = Object.fromEntries(Object.entries(value as Record<string, Schema>).map(([k, v]) => [k, strictUnknownFields(v)]));
    } else if ((key === 'items' || key === 'additionalProperties') && value && typeof value === 'object') {
      out[key] = strictUnknownFields(value as Schema);
    } else {
      out[key] = value;
    }
  }
  if (out.properties && out.additionalProperties === undefined && !out['x-kubernetes-preserve-unknown-fields']) {
    out.additionalProperties = false;
  }
  return out;
}

const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
const validators = new Map<string, ValidateFunction>();
for (const dir of readdirSync(CRDS)) {
  for (const file of readdirSync(`${CRDS}${dir}`)) {
    const crd = parse(readFileSync(`${CRDS}${dir}/${file}`, 'utf8'));
    for (const version of crd.spec.versions) {
      const schema = strictUnknownFields(version.schema.openAPIV3Schema);
      // metadata is validated by the API server itself, not by the CRD schema.
      (schema.properties as Record<string, Schema>).metadata = { type: 'object' };
      validators.set(`${crd.spec.group}/${version.name}/${crd.spec.names.kind}`, ajv.compile(schema));
    }
  }
}

// Core kinds the renderers emit, with the fields the API server would check.
validators.set('v1/Secret', ajv.compile({
  type: 'object', required: ['apiVersion', 'kind', 'metadata', 'type', 'data'], additionalProperties: false,
  properties: {
    apiVersion: { const: 'v1' }, kind: { const: 'Secret' }, metadata: { type: 'object' },
    type: { const: 'kubernetes.io/basic-auth' },
    data: { type: 'object', required: ['password'], additionalProperties: false, properties: { password: { type: 'string', pattern: '^[A-Za-z0-9+/]+={0,2}$' } } },
  },
}));
validators.set('v1/ConfigMap', ajv.compile({
  type: 'object', required: ['apiVersion', 'kind', 'metadata', 'data'], additionalProperties: false,
  properties: {
    apiVersion: { const: 'v1' }, kind: { const: 'ConfigMap' }, metadata: { type: 'object' },
    data: { type: 'object', additionalProperties: { type: 'string' } },
  },
}));

describe('rendered objects against the upstream CRD schemas', () => {
  let checked = 0;
  for (const [scenario, body] of Object.entries(SCENARIOS)) {
    for (const backend of ['metallb-native', 'metallb-frr', 'metallb-frr-k8s'] as const) {
      const result = renderCluster(intentFor(backend, body));
      if (!result.ok) continue;
      test(`${scenario} on ${backend}`, () => {
        // Validate what an agent would apply: the YAML stream parsed back.
        const docs = result.content.split(/^---\n/m).filter(Boolean).map((d) => parse(d));
        assert.equal(docs.length, result.objects!.length);
        for (const doc of docs) {
          const key = `${doc.apiVersion}/${doc.kind}`;
          const validate = validators.get(key);
          assert.ok(validate, `no schema for ${key}`);
          const valid = validate(doc);
          assert.ok(valid, `${key} ${doc.metadata.name}: ${ajv.errorsText(validate.errors)}`);
          checked++;
        }
      });
    }
  }
  test('the strict schemas do reject an unknown or mistyped field', () => {
    const validate = validators.get('metallb.io/v1beta2/BGPPeer')!;
    const peer = { apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', metadata: {}, spec: { myASN: 1, peerAddres: '10.0.0.1' } };
    assert.equal(validate(peer), false);
    assert.equal(validate({ ...peer, spec: { myASN: 1, peerPort: 99999 } }), false);
    assert.ok(checked >= 0);
  });
});
