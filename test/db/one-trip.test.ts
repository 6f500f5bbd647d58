// The one-round-trip path for scoped statements (db/one-trip.ts): values are data, never SQL;
// the scope ends with the message; an error rolls it all back; and status reports recorded this
// way leave the same rows as through a scoped transaction.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { eq, sql } from 'drizzle-orm';
import { openPostgres, resultRows, type Database } from '../../db/client.ts';
import { inlineStatement, scopedScript, sqlLiteral } from '../../db/one-trip.ts';
import { recordStatus, recordStatusInOneTrip, type StatusReport } from '../../db/queries/agents.ts';
import { sessionStates } from '../../db/schema.ts';
import { withAgent, withPlatform } from '../../db/tenant.ts';
import { onRealPostgres, openTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { seedTenant, type TenantRefs } from '../helpers/fixtures.ts';

let database: TestDatabase;
/** One connection: what one message leaves behind is what the next one sees. */
let single: Database;
let a: TenantRefs;

before(async () => {
  database = await openTestDatabase();
  single = onRealPostgres ? openPostgres(database.url!, { max: 1 }) : database;
  a = await seedTenant(database.db);
});
after(async () => {
  if (single !== database) await single.close();
  await database.close();
});

test('any text comes back from PostgreSQL exactly as it went in', async () => {
  const text = fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => s.replace(/\0/g, '')),
    fc.constantFrom("'; drop table tenants; --", '$$', '$mf$', '$mf0011223344556677$', '\\', "\\'", '\n;select 1;\n', '"', ''),
  );
  await fc.assert(fc.asyncProperty(text, async (value) => {
    const [row] = (await single.simpleQuery!(`select ${sqlLiteral(value)}::text as v`)).at(-1)!;
    assert.equal(row!.v, value);
  }), { numRuns: 300 });
  assert.throws(() => sqlLiteral('a\0b'), /NUL/);
  // One tag serves a whole message; a value that holds it is quoted with another.
  const tag = '$mf0011223344556677$';
  for (const value of [tag, `x${tag};select 1;--`, `${tag}${tag}`]) {
    assert.ok(!sqlLiteral(value, tag).startsWith(tag));
    const [row] = (await single.simpleQuery!(`select ${sqlLiteral(value, tag)}::text as v, ${sqlLiteral('plain', tag)}::text as w`)).at(-1)!;
    assert.deepEqual(row, { v: value, w: 'plain' });
  }
});

test('the scope lasts for its message only, and an error rolls everything back', async () => {
  const script = scopedScript('metalfleet_agent', { 'metalfleet.cluster_id': a.clusterId }, sql`select current_user as who, count(*)::int as n from clusters`);
  const [inside] = (await single.simpleQuery!(script)).at(-1)!;
  assert.deepEqual(inside, { who: 'metalfleet_agent', n: 1 }, 'the agent scope sees its own cluster only');
  const [afterwards] = (await single.simpleQuery!(`select current_user as who, coalesce(current_setting('metalfleet.cluster_id', true), '') as cluster`)).at(-1)!;
  assert.notEqual(afterwards!.who, 'metalfleet_agent');
  assert.equal(afterwards!.cluster, '');

  const failing = scopedScript('metalfleet_agent', { 'metalfleet.cluster_id': a.clusterId },
    sql`with u as (update clusters set last_apply_error = 'must not stay' returning 1) select 1 / 0`);
  await assert.rejects(single.simpleQuery!(failing));
  const rows = resultRows<{ e: string | null }>(await withPlatform(database.db, (tx) => tx.execute(sql`select last_apply_error as e from clusters where id = ${a.clusterId}`)));
  assert.equal(rows[0]!.e, null, 'rolled back');
  const [still] = (await single.simpleQuery!('select 1 as ok')).at(-1)!;
  assert.equal(still!.ok, 1, 'the connection is clean');
});

test('a status report leaves the same rows through either path', async () => {
  const report = (sessions: StatusReport['sessions']): StatusReport => ({
    agentId: crypto.randomUUID(), clusterId: a.clusterId, appliedRevision: 3, applyError: "it's $$ broken\n", agentVersion: null,
    capabilities: { frrVersion: '9.1.0' }, sessions,
  });
  const sessions = [{ node: 'n1', peer: '10.0.0.1', vrf: '', bgpState: 'Established', bfdState: 'up', uptimeSeconds: 10, prefixesReceived: 1, prefixesSent: 2, lastResetReason: "peer's reset" }];
  const snapshot = async () => (await withPlatform(database.db, (tx) => tx.select().from(sessionStates).where(eq(sessionStates.clusterId, a.clusterId))))
    .map(({ id: _i, updatedAt: _u, ...rest }) => rest).sort((x, y) => x.node.localeCompare(y.node));

  // xmax: the last transaction to update, delete or lock the row version.
  const rowVersions = async () => resultRows<{ v: string }>(await withPlatform(database.db, (tx) => tx.execute(
    sql`select xmin::text || '/' || xmax::text as v from session_states where cluster_id = ${a.clusterId} order by node`))).map((r) => r.v);

  const viaTx = await withAgent(database.db, a.clusterId, (tx) => recordStatus(tx, report(sessions)));
  const first = await snapshot();
  const versions = await rowVersions();
  const viaOneTrip = await recordStatusInOneTrip(single.simpleQuery!, report(sessions.map((s) => ({ ...s, uptimeSeconds: 40 }))));
  assert.deepEqual(await snapshot(), first.map((row) => ({ ...row, uptimeSeconds: 10 })));
  assert.deepEqual(await rowVersions(), versions, 'an unchanged session row is neither written nor locked');
  assert.equal(viaTx.sessionWrites, 2, 'one new session, and the seeded one vanished');
  assert.equal(viaOneTrip.sessionWrites, 0, 'the same report again writes nothing');
  assert.equal(viaTx.capabilitiesChanged, true);
  assert.equal(viaOneTrip.capabilitiesChanged, false);
  assert.match(inlineStatement(sql`select ${"it's"} as x`), /^select \$mf[0-9a-f]{16}\$it's\$mf[0-9a-f]{16}\$ as x$/);
});

test('the status function runs under the caller\'s row-level security: one cluster\'s scope cannot write another\'s', async () => {
  const b = await seedTenant(database.db);
  const intruding: StatusReport = {
    agentId: crypto.randomUUID(), clusterId: b.clusterId, appliedRevision: 99, applyError: 'not yours', agentVersion: null, capabilities: undefined,
    sessions: [{ node: 'x', peer: '10.0.0.9', vrf: '', bgpState: 'Idle', bfdState: null, uptimeSeconds: null, prefixesReceived: null, prefixesSent: null, lastResetReason: null }],
  };
  // In A's agent scope, a report naming B's cluster: B's rows are invisible, so nothing matches.
  await assert.rejects(withAgent(database.db, a.clusterId, (tx) => recordStatus(tx, intruding)), /not visible in this scope/);
  const rows = resultRows<{ applied: number | null; e: string | null }>(await withPlatform(database.db, (tx) => tx.execute(
    sql`select applied_revision as applied, last_apply_error as e from clusters where id = ${b.clusterId}`)));
  assert.deepEqual(rows[0], { applied: null, e: null });
  const sessions = await withPlatform(database.db, (tx) => tx.select().from(sessionStates).where(eq(sessionStates.clusterId, b.clusterId)));
  assert.ok(sessions.every((s) => s.node !== 'x'));
});

test('group commit: reports of several clusters in one message, each in its own scope; a bad one fails alone', async () => {
  const { StatusBatcher } = await import('../../api/status-batcher.ts');
  const c = await seedTenant(database.db);
  const batcher = new StatusBatcher(database.simpleQuery!, 64, 20);
  const report = (clusterId: string, node: string): StatusReport => ({
    agentId: crypto.randomUUID(), clusterId, appliedRevision: 7, applyError: null, agentVersion: null, capabilities: { frrVersion: '10.0.1' },
    sessions: [{ node, peer: '10.0.0.1', vrf: '', bgpState: 'Established', bfdState: null, uptimeSeconds: 5, prefixesReceived: 0, prefixesSent: 1, lastResetReason: null }],
  });
  const results = await Promise.allSettled([
    batcher.submit(report(a.clusterId, 'batch-a')),
    batcher.submit(report(c.clusterId, 'batch-c')),
    batcher.submit(report(crypto.randomUUID(), 'nowhere')),
  ]);
  assert.equal(results[0]!.status, 'fulfilled');
  assert.equal(results[1]!.status, 'fulfilled');
  assert.equal((results[0] as PromiseFulfilledResult<{ capabilitiesChanged: boolean }>).value.capabilitiesChanged, true, 'each outcome is its own');
  assert.equal(results[2]!.status, 'rejected');
  const nodesOf = async (clusterId: string) => (await withPlatform(database.db, (tx) => tx.select().from(sessionStates).where(eq(sessionStates.clusterId, clusterId)))).map((s) => s.node);
  assert.deepEqual(await nodesOf(a.clusterId), ['batch-a'], 'A got only its own report');
  assert.deepEqual(await nodesOf(c.clusterId), ['batch-c'], 'C got only its own report');
});
