// A write reads only the clusters it can affect (render/scope.ts, db/queries/clusters.ts
// listClustersInScope). Invariant: the database's prefilter never drops a cluster the exact
// selector semantics select (a dropped cluster would keep a stale config: the served config would
// no longer be the render of the committed intent). Property: for random labels and selectors
// (matchLabels and every matchExpressions operator), the clusters read are exactly those selected.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { listClustersInScope, ALL_ROWS, listClusters } from '../../db/queries/clusters.ts';
import { clusters, tenants } from '../../db/schema.ts';
import { withPlatform, withTenant } from '../../db/tenant.ts';
import type { LabelSelector } from '../../render/policy.ts';
import { clusterById, inScope, selectedBy, unionOf } from '../../render/scope.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/db.ts';

let database: TestDatabase;
let tenantId: string;
const KEYS = ['site', 'tier', 'zone'];
const VALUES = ['a', 'b', 'c'];

before(async () => {
  database = await openTestDatabase();
  const [tenant] = await withPlatform(database.db, (tx) => tx.insert(tenants).values({ slug: 'scoped', name: 'Scoped' }).returning({ id: tenants.id }));
  tenantId = tenant!.id;
  // Every combination of absent/a/b/c for three keys: 64 clusters.
  const rows: { tenantId: string; name: string; backend: 'frr'; labels: Record<string, string> }[] = [];
  for (let n = 0; n < 64; n++) {
    const labels: Record<string, string> = {};
    KEYS.forEach((key, i) => {
      const v = Math.floor(n / 4 ** i) % 4;
      if (v > 0) labels[key] = VALUES[v - 1]!;
    });
    rows.push({ tenantId, name: `c-${n}`, backend: 'frr' as const, labels });
  }
  await withTenant(database.db, tenantId, (tx) => tx.insert(clusters).values(rows));
});
after(() => database.close());

const key = fc.constantFrom(...KEYS);
const value = fc.constantFrom(...VALUES, 'd');
const selector: fc.Arbitrary<LabelSelector | null> = fc.option(fc.record({
  matchLabels: fc.option(fc.dictionary(key, value, { maxKeys: 2 }), { nil: undefined }),
  matchExpressions: fc.option(fc.array(fc.oneof(
    fc.record({ key, operator: fc.constantFrom('In' as const, 'NotIn' as const), values: fc.uniqueArray(value, { minLength: 1, maxLength: 2 }) }),
    fc.record({ key, operator: fc.constantFrom('Exists' as const, 'DoesNotExist' as const) }),
  ), { maxLength: 2 }), { nil: undefined }),
}, { requiredKeys: [] }), { nil: null });

test('the clusters read for a scope are exactly the clusters the scope selects', async () => {
  const everyone = await withTenant(database.db, tenantId, (tx) => listClusters(tx, { tenantId, limit: ALL_ROWS }));
  assert.equal(everyone.length, 64);
  await fc.assert(fc.asyncProperty(fc.array(selector, { maxLength: 3 }), fc.subarray(everyone.map((c) => c.id), { maxLength: 3 }),
    async (selectors, ids) => {
      const scope = unionOf([selectedBy(selectors), ...ids.map(clusterById)]);
      const read = await withTenant(database.db, tenantId, (tx) => listClustersInScope(tx, { tenantId, scope }));
      const expected = everyone.filter((c) => inScope(scope, c)).map((c) => c.name).sort();
      assert.deepEqual(read.map((c) => c.name).sort(), expected, JSON.stringify(scope));
    }), { numRuns: 150 });
});

test('a scope of one cluster reads one row; an empty scope none', async () => {
  const one = (await withTenant(database.db, tenantId, (tx) => listClusters(tx, { tenantId, limit: 1 })))[0]!;
  assert.deepEqual((await withTenant(database.db, tenantId, (tx) => listClustersInScope(tx, { tenantId, scope: clusterById(one.id) }))).map((c) => c.id), [one.id]);
  assert.deepEqual(await withTenant(database.db, tenantId, (tx) => listClustersInScope(tx, { tenantId, scope: unionOf([]) })), []);
  assert.equal((await withTenant(database.db, tenantId, (tx) => listClustersInScope(tx, { tenantId, scope: selectedBy([{}]) }))).length, 64, '{} selects every cluster');
});
