// Every rendered Kubernetes object validates against the upstream CRD openAPIV3Schema
// (MetalLB v0.16.1, frr-k8s v0.0.25; copied from upstream into test/fixtures/crds; loaded by
// test/helpers/kube-schema.ts). The schemas are made strict about unknown fields: the API server would silently prune a misspelt field,
// so a typo must fail here instead. Every scenario/backend combination that scenarios.ts does not
// declare refused must render and validate, and each kind must be validated a known minimum of times.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { renderCluster } from '../../render/index.ts';
import { KIND_ORDER } from '../../render/metallb.ts';
import { ALL_BACKENDS, expectedToRender, intentFor, KUBERNETES_BACKENDS, REFUSED_ON, SCENARIOS } from './scenarios.ts';
import { ajv, crdValidators } from '../helpers/kube-schema.ts';

const validators = crdValidators();

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

/**
 * How many objects of each kind the scenarios must at least yield, over every combination that
 * must render (the counts today). Every kind the renderers emit (KIND_ORDER) is listed, so each
 * one is validated at least once; a renderer that drops objects, or a scenario that stops
 * producing a kind, fails here rather than shrinking what is checked.
 */
const MIN_VALIDATED: Record<(typeof KIND_ORDER)[number], number> = {
  Secret: 6, ConfigMap: 1, BFDProfile: 6, Community: 2, IPAddressPool: 66, BGPPeer: 59, BGPAdvertisement: 50, L2Advertisement: 6, FRRConfiguration: 2,
};

describe('rendered objects against the upstream CRD schemas', () => {
  const validated = new Map<string, number>();
  const mustRender = Object.keys(SCENARIOS).flatMap((scenario) =>
    KUBERNETES_BACKENDS.filter((backend) => expectedToRender(scenario, backend)).map((backend) => ({ scenario, backend })));

  test('the scenarios declare refusals only for scenarios and backends that exist', () => {
    for (const [scenario, backends] of Object.entries(REFUSED_ON)) {
      assert.ok(SCENARIOS[scenario], `REFUSED_ON names an unknown scenario ${scenario}`);
      for (const backend of backends) assert.ok((ALL_BACKENDS as readonly string[]).includes(backend), `${scenario}: unknown backend ${backend}`);
    }
    // Most combinations render: a refusal list that grew to cover everything would check nothing.
    assert.ok(mustRender.length >= 40, `only ${mustRender.length} scenario/backend combinations must render`);
  });

  for (const { scenario, backend } of mustRender) {
    test(`${scenario} on ${backend}`, () => {
      const result = renderCluster(intentFor(backend, SCENARIOS[scenario]!));
      assert.ok(result.ok, `${scenario} must render on ${backend} (REFUSED_ON in scenarios.ts says so), but was refused: ${result.ok ? '' : JSON.stringify(result.problems)}`);
      // Validate what an agent would apply: the YAML stream parsed back.
      const docs = result.content.split(/^---\n/m).filter(Boolean).map((d) => parse(d));
      assert.ok(docs.length > 0, 'no objects rendered');
      assert.equal(docs.length, result.objects!.length);
      for (const doc of docs) {
        const kind: string = doc.kind;
        const key = `${doc.apiVersion}/${kind}`;
        const validate = validators.get(key);
        assert.ok(validate, `no schema for ${key}`);
        const valid = validate(doc);
        assert.ok(valid, `${key} ${doc.metadata.name}: ${ajv.errorsText(validate.errors)}`);
        validated.set(kind, (validated.get(kind) ?? 0) + 1);
      }
    });
  }

  test('the combinations declared refused are refused', () => {
    for (const [scenario, backends] of Object.entries(REFUSED_ON)) {
      for (const backend of backends) {
        assert.equal(renderCluster(intentFor(backend, SCENARIOS[scenario]!)).ok, false, `${scenario} on ${backend} is declared refused but renders: move it out of REFUSED_ON`);
      }
    }
  });

  // Runs after every combination above (tests in a suite run in order).
  test('every kind the renderers emit was validated, at least as often as the scenarios yield it', () => {
    for (const kind of validated.keys()) assert.ok(kind in MIN_VALIDATED, `${kind} is rendered but has no minimum in MIN_VALIDATED`);
    for (const kind of KIND_ORDER) {
      const count = validated.get(kind) ?? 0;
      assert.ok(count >= MIN_VALIDATED[kind], `validated ${count} ${kind} object(s), expected at least ${MIN_VALIDATED[kind]}`);
    }
  });

  test('the strict schemas do reject an unknown or mistyped field', () => {
    const validate = validators.get('metallb.io/v1beta2/BGPPeer')!;
    const peer = { apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', metadata: {}, spec: { myASN: 1, peerAddres: '10.0.0.1' } };
    assert.equal(validate(peer), false);
    assert.equal(validate({ ...peer, spec: { myASN: 1, peerPort: 99999 } }), false);
  });
});
