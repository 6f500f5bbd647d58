// The YAML emitter against the `yaml` parser: whatever plain data goes in comes back out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parse } from 'yaml';
import { toYaml } from '../../render/yaml.ts';

const key = fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), fc.constantFrom('app.kubernetes.io/managed-by', 'true', '1', 'null', '- x', 'a: b', '#c'));
const scalarValue = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom('true', 'no', 'null', '~', '1e3', '0x1f', '.inf', '64500:100', '10.0.0.0/24', 'fd00::1', 'large:1:2:3', 'QW4=', '---', '', ' x', 'x ', 'a\nb', '"', "'"),
  fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(),
);
const data = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, scalarValue, tie('list'), tie('map')),
  list: fc.array(tie('value'), { maxLength: 4 }),
  map: fc.dictionary(key, tie('value'), { maxKeys: 4 }),
}));

test('any plain data round-trips through the yaml parser', () => {
  fc.assert(fc.property(data.map as fc.Arbitrary<Record<string, unknown>>, (object) => {
    assert.deepEqual(parse(toYaml(object)), JSON.parse(JSON.stringify(object)));
  }), { numRuns: 2000 });
});

test('Kubernetes-shaped objects read as they are written', () => {
  const text = toYaml({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x', labels: { 'app.kubernetes.io/managed-by': 'metalfleet' } }, data: { password: 'czNjcmV0IQ==' }, spec: {}, items: [] });
  assert.equal(text, 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\n  labels:\n    app.kubernetes.io/managed-by: metalfleet\ndata:\n  password: czNjcmV0IQ==\nspec: {}\nitems: []\n');
});
