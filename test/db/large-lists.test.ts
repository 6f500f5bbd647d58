// A statement binds at most 65535 parameters. Lists of ids grow with the fleet (a fan-out to every
// cluster of a 10,000-cluster tenant stores 10,000 revisions, holds their prefixes, lists their
// pools), so none of them may bind a parameter per value: this failed with a 500 past ~6,500.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import { resultRows } from '../../db/client.ts';
import { clusterHolds, clustersWithoutHolds, holdDesiredPrefixes } from '../../db/queries/holds.ts';
import { markWithdrawing } from '../../db/queries/clusters.ts';
import { idsByName } from '../../db/queries/named.ts';
import { desiredShas, latestShasQuery, storeRevisions, unpinClusters, type NewRevision } from '../../db/queries/revisions.ts';
import { agents, clusters, pools, tenants } from '../../db/schema.ts';
import { withPlatform, withTenant } from '../../db/tenant.ts';
import { openTestDatabase } from '../helpers/db.ts';

const N = 7_000; // ten parameters per revision: 70,000 in one statement before

test(`${N} clusters at once: revisions stored, holds written, lists read, in one go each`, async () => {
  const database = await openTestDatabase();
  try {
    const [tenant] = await withPlatform(database.db, (tx) => tx.insert(tenants).values({ slug: 'huge', name: 'Huge' }).returning({ id: tenants.id }));
    const tenantId = tenant!.id;
    const ids = await withTenant(database.db, tenantId, async (tx) => {
      const rows: string[] = [];
      for (let start = 0; start < N; start += 1000) {
        const created = await tx.insert(clusters).values(Array.from({ length: 1000 }, (_, i) => ({
          tenantId, name: `c-${start + i}`, backend: 'frr' as const,
        }))).returning({ id: clusters.id });
        rows.push(...created.map((c) => c.id));
      }
      // Agents on a few, so that their prefixes are held.
      await tx.insert(agents).values(rows.slice(0, 10).map((clusterId, i) => ({
        tenantId, clusterId, publicJwk: { kty: 'OKP', crv: 'Ed25519', x: `x${i}` }, kid: `k${i}`,
      })));
      return rows;
    });
    const revisions: NewRevision[] = ids.map((clusterId) => ({
      tenantId, clusterId, revision: 1, backend: 'frr', content: 'sealed', sha256: 'a'.repeat(64), signature: 'sig', cause: 'test',
      prefixes: ['198.51.100.0/24'], intent: 'sealed',
    }));
    await withTenant(database.db, tenantId, async (tx) => {
      const numbers = await storeRevisions(tx, revisions);
      assert.equal(numbers.size, N);
      assert.ok([...numbers.values()].every((n) => n === 1));
      const shas = await desiredShas(tx, { clusterIds: ids });
      assert.equal(shas.size, N);
      await holdDesiredPrefixes(tx, { clusterIds: ids });
      assert.equal((await clusterHolds(tx, { clusterIds: ids })).length, 10, 'the clusters with an agent hold their prefixes');
      assert.equal((await clustersWithoutHolds(tx, { clusterIds: ids })).length, N - 10);
      await unpinClusters(tx, { clusterIds: ids });
      await markWithdrawing(tx, { clusterIds: ids });
      const withdrawing = resultRows<{ n: string }>(await tx.execute(sql`select count(*) as n from clusters where withdrawing_since is not null`));
      assert.equal(Number(withdrawing[0]!.n), N);
      await tx.insert(pools).values({ tenantId, name: 'p', autoAssign: true, avoidBuggyIPs: false });
      const names = Array.from({ length: N }, (_, i) => `p${i === 0 ? '' : i}`);
      assert.deepEqual([...(await idsByName(tx, pools, tenantId, names)).keys()], ['p']);
    });
  } finally {
    await database.close();
  }
});

// A list of ids joined to a table under row-level security must still reach its index: flattened,
// the text→uuid cast (not leakproof) sat in the join condition behind the RLS filter, and the
// newest revision of each of 10,000 clusters became a sequential scan per cluster (minutes in the
// fan-out benchmark). With sequential scans priced out, the plan must probe the index.
test('a list of ids joined under row-level security probes the index', async () => {
  const database = await openTestDatabase();
  try {
    const [tenant] = await withPlatform(database.db, (tx) => tx.insert(tenants).values({ slug: 'plan', name: 'Plan' }).returning({ id: tenants.id }));
    const plan = await withTenant(database.db, tenant!.id, async (tx) => {
      await tx.execute(sql`set local enable_seqscan = off`);
      return resultRows<{ 'QUERY PLAN': string }>(await tx.execute(sql`explain ${latestShasQuery([crypto.randomUUID(), crypto.randomUUID()])}`))
        .map((r) => r['QUERY PLAN']).join('\n');
    });
    assert.match(plan, /Index (Only )?Scan.* on config_revisions/, plan);
    assert.doesNotMatch(plan, /Seq Scan on config_revisions/, plan);
  } finally {
    await database.close();
  }
});
