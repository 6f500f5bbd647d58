// The maintenance job (worker/jobs.ts, run hourly by `metalfleet serve` and by a Cron Trigger on
// Workers): each cluster keeps its last N revisions and the one its agent applied; enrollment
// tokens go 30 days after they expired; every tenant is done, each in its own scope.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { asc, eq } from 'drizzle-orm';
import { clusters, configRevisions, enrollmentTokens } from '../../db/schema.ts';
import { withPlatform, withTenant } from '../../db/tenant.ts';
import { parseRevisionsKept, runMaintenance } from '../../worker/jobs.ts';
import { startMaintenance } from '../../cli/maintenance.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { createTenant, randomHex } from '../helpers/fixtures.ts';

let database: TestDatabase;
before(async () => { database = await openTestDatabase(); });
after(() => database.close());

const DAY = 86_400_000;
const now = new Date('2026-11-25T12:00:00Z');

/** A cluster with revisions 1..count, desired = count, applied as given. */
async function clusterWithRevisions(tenantId: string, name: string, count: number, applied: number | null): Promise<string> {
  return withTenant(database.db, tenantId, async (tx) => {
    const [cluster] = await tx.insert(clusters).values({ tenantId, name, backend: 'frr', desiredRevision: count, appliedRevision: applied }).returning({ id: clusters.id });
    await tx.insert(configRevisions).values(Array.from({ length: count }, (_, i) => ({
      tenantId, clusterId: cluster!.id, revision: i + 1, backend: 'frr' as const, content: `r${i + 1}`, sha256: randomHex(32), signature: 'sig', cause: 'test',
    })));
    return cluster!.id;
  });
}

const revisionsOf = async (clusterId: string) => (await withPlatform(database.db, (tx) => tx.select({ r: configRevisions.revision })
  .from(configRevisions).where(eq(configRevisions.clusterId, clusterId)).orderBy(asc(configRevisions.revision)))).map((row) => row.r);

test('each cluster of every tenant keeps its last N revisions and the applied one; old expired tokens go', async () => {
  const a = await createTenant(database.db);
  const b = await createTenant(database.db);
  const lagging = await clusterWithRevisions(a, 'lagging', 10, 3);
  const young = await clusterWithRevisions(a, 'young', 3, 3);
  const neverApplied = await clusterWithRevisions(b, 'new', 6, null);
  const tokens = await withTenant(database.db, b, (tx) => tx.insert(enrollmentTokens).values([
    { tenantId: b, clusterId: neverApplied, tokenSha256: randomHex(32), expiresAt: new Date(now.getTime() - 40 * DAY), usedAt: new Date(now.getTime() - 41 * DAY), createdBy: 't' },
    { tenantId: b, clusterId: neverApplied, tokenSha256: randomHex(32), expiresAt: new Date(now.getTime() - 10 * DAY), createdBy: 't' },
    { tenantId: b, clusterId: neverApplied, tokenSha256: randomHex(32), expiresAt: new Date(now.getTime() + DAY), createdBy: 't' },
  ]).returning({ id: enrollmentTokens.id }));

  const result = await runMaintenance(database.db, { revisionsKept: 4, now });
  assert.deepEqual(await revisionsOf(lagging), [3, 7, 8, 9, 10], 'the last four, and the one the agent still runs');
  assert.deepEqual(await revisionsOf(young), [1, 2, 3], 'fewer than four: all kept');
  assert.deepEqual(await revisionsOf(neverApplied), [3, 4, 5, 6], 'the other tenant is done too');
  const left = (await withPlatform(database.db, (tx) => tx.select({ id: enrollmentTokens.id }).from(enrollmentTokens).where(eq(enrollmentTokens.clusterId, neverApplied)))).map((t) => t.id);
  assert.deepEqual(left.sort(), [tokens[1]!.id, tokens[2]!.id].sort(), 'expired 40 days ago: gone; 10 days ago: still listed');
  assert.equal(result.revisionsDeleted, 5 + 2);
  assert.equal(result.tokensDeleted, 1);

  assert.deepEqual(await runMaintenance(database.db, { revisionsKept: 4, now }), { ...result, revisionsDeleted: 0, tokensDeleted: 0 }, 'a second run finds nothing');
});

test('metalfleet serve runs it after start and on its interval, and waits for a run in progress on shutdown', async () => {
  const tenant = await createTenant(database.db);
  const cluster = await clusterWithRevisions(tenant, 'scheduled', 5, 5);
  const runs: Array<Record<string, unknown>> = [];
  const stop = startMaintenance(database.db, { revisionsKept: 2, firstRunMs: 10, everyMs: 20, log: (entry) => runs.push(entry) });
  while (runs.length < 2) await new Promise((r) => setTimeout(r, 10));
  await stop();
  const afterStop = runs.length;
  assert.ok(runs.every((r) => r.msg === 'maintenance'), JSON.stringify(runs));
  assert.deepEqual(await revisionsOf(cluster), [4, 5]);
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(runs.length, afterStop, 'nothing runs after stop');
});

test('METALFLEET_REVISIONS_KEPT: a whole number from 1, default 100', () => {
  assert.equal(parseRevisionsKept(undefined), 100);
  assert.equal(parseRevisionsKept('7'), 7);
  for (const bad of ['0', '-1', '1.5', 'ten', '1e3', ' 5']) assert.throws(() => parseRevisionsKept(bad), /METALFLEET_REVISIONS_KEPT must be/, bad);
});
