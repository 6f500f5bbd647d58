// The rollout invariant, as a property under concurrency (the companion of consistency.test.ts):
// random mixes of writes, agents' reports (healthy or not), pause/resume/abort/promote and
// advances at random times run in parallel; afterwards, for every cluster:
//   - in the one started unfinished rollout: progressing/passed serve the rollout's revision,
//     pending/rolled-back the one it served when the rollout started (`from`);
//   - otherwise, waiting in queued rollouts: the `from` of the oldest of them;
//   - otherwise, after rollouts: what the rollout that finished last left it on (its revision
//     where it reached the cluster, else the previous one); before any: the newest revision;
// the newest revision of every cluster is the render of the committed intent (api/verify.ts);
// at most one rollout has started and not finished; a paused rollout's failed wave stays back.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { sql } from 'drizzle-orm';
import { AgentClient, generateAgentKey } from '../../agents/client.ts';
import { advanceRollouts } from '../../api/rollouts.ts';
import { verifyFleet } from '../../api/verify.ts';
import { resultRows } from '../../db/client.ts';
import { withPlatform } from '../../db/tenant.ts';
import { seedApiTenant, startHarness, type Harness } from '../helpers/api.ts';

let h: Harness;
let t: Awaited<ReturnType<typeof seedApiTenant>>;
const url = (path: string) => `/v1/tenants/${t.slug}/${path}`;
const CLUSTERS = ['c-canary', 'c-a', 'c-b', 'c-c'] as const;
const agents = new Map<string, AgentClient>();
const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  h.call(method, url(path), { token: t.tenantAdmin, ...(body !== undefined ? { body } : {}), ...(headers ? { headers } : {}) });
const pool = (i: number) => t.v4Grant.replace('.0.0/16', `.${i}.0/24`);

const Op = fc.oneof(
  fc.record({ kind: fc.constant('pool'), n: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ kind: fc.constant('pool-delete'), n: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ kind: fc.constant('asn'), asn: fc.constantFrom(64600, 64601) }),
  fc.record({ kind: fc.constant('report'), cluster: fc.constantFrom(...CLUSTERS), healthy: fc.boolean() }),
  fc.record({ kind: fc.constant('act'), action: fc.constantFrom('pause', 'resume', 'abort', 'promote'), back: fc.nat(2) }),
  fc.record({ kind: fc.constant('advance'), seconds: fc.constantFrom(0, 100) }),
  fc.record({ kind: fc.constant('policy'), onNewChange: fc.constantFrom('queue', 'supersede') }),
);
type Op = typeof Op extends fc.Arbitrary<infer T> ? T : never;

const policy = (onNewChange: string) => ({ policy: { onNewChange, waves: [
  { name: 'canary', selector: { matchLabels: { tier: 'canary' } }, bakeSeconds: 0, timeoutSeconds: 60 },
  { name: 'half', percent: 50, bakeSeconds: 0, timeoutSeconds: 60 },
  { name: 'rest', bakeSeconds: 0, timeoutSeconds: 60 },
] } });

async function run(op: Op): Promise<number> {
  switch (op.kind) {
    case 'pool': {
      const created = await call('POST', 'pools', { name: `p${op.n}`, cidrs: [pool(op.n)] });
      return created.status;
    }
    case 'pool-delete': return (await call('DELETE', `pools/p${op.n}`)).status;
    case 'asn': {
      const current = await call('GET', 'peers/tor');
      return (await call('PATCH', 'peers/tor', { peerASN: op.asn }, { 'if-match': current.headers.get('etag')! })).status;
    }
    case 'report': {
      const agent = agents.get(op.cluster)!;
      const polled = await agent.fetchConfig();
      // Reports a moment apart: last_seen_at must move for the second to count as evidence.
      await agent.reportStatus({
        appliedRevision: polled.status === 200 ? polled.config.revision : null,
        sessions: [{ node: op.cluster, peer: '10.0.1.1', vrf: '', bgpState: op.healthy ? 'Established' : 'Active', bfdState: null,
          uptimeSeconds: 1, prefixesReceived: 0, prefixesSent: op.healthy ? 99 : 0, lastResetReason: null }],
      });
      await new Promise((r) => setTimeout(r, 2));
      await agent.reportStatus({
        appliedRevision: polled.status === 200 ? polled.config.revision : null,
        sessions: [{ node: op.cluster, peer: '10.0.1.1', vrf: '', bgpState: op.healthy ? 'Established' : 'Active', bfdState: null,
          uptimeSeconds: 1, prefixesReceived: 0, prefixesSent: op.healthy ? 99 : 0, lastResetReason: null }],
      });
      return 204;
    }
    case 'act': {
      const list = (await call('GET', 'rollouts?limit=3')).body.items as Array<{ number: number }>;
      const target = list[Math.min(op.back, list.length - 1)];
      return target ? (await call('POST', `rollouts/${target.number}/${op.action}`)).status : 404;
    }
    case 'advance':
      await advanceRollouts(h.database.db, { secretKey: h.secretKey }, new Date(Date.now() + op.seconds * 1000));
      return 200;
    case 'policy': return (await call('PUT', 'rollout-policy', policy(op.onNewChange))).status;
  }
}

interface Row { cluster: string; number: number; rollout_state: string; started: boolean; finished_at: string; state: string; from_revision: number | null; to_revision: number }

async function assertInvariant(label: string) {
  const state = await withPlatform(h.database.db, async (tx) => ({
    clusters: resultRows<{ id: string; name: string; desired: number; latest: number }>(await tx.execute(sql`
      select c.id, c.name, c.desired_revision as desired, (select max(revision) from config_revisions r where r.cluster_id = c.id) as latest
      from clusters c where c.tenant_id = (select id from tenants where slug = ${t.slug})`)),
    rows: resultRows<Row>(await tx.execute(sql`
      select c.name as cluster, ro.number, ro.state as rollout_state, ro.wave_started_at is not null as started,
        (extract(epoch from ro.updated_at) * 1000000)::bigint::text as finished_at, rc.state, rc.from_revision, rc.to_revision
      from rollout_clusters rc join rollouts ro on ro.id = rc.rollout_id join clusters c on c.id = rc.cluster_id
      where ro.tenant_id = (select id from tenants where slug = ${t.slug}) order by ro.number`)),
  }));
  const unfinished = (r: Row) => ['queued', 'progressing', 'paused'].includes(r.rollout_state);
  const startedRollouts = new Set(state.rows.filter((r) => unfinished(r) && r.started).map((r) => r.number));
  assert.ok(startedRollouts.size <= 1, `${label}: at most one started unfinished rollout, got ${[...startedRollouts]}`);
  for (const c of state.clusters) {
    const mine = state.rows.filter((r) => r.cluster === c.name && r.state !== 'skipped');
    const active = mine.find((r) => unfinished(r) && r.started);
    const queued = mine.filter((r) => unfinished(r) && !r.started);
    // The rollout that finished last (an older one can finish after a newer one was aborted).
    const finished = mine.filter((r) => !unfinished(r)).sort((a, b) => (BigInt(a.finished_at) < BigInt(b.finished_at) ? -1 : 1)).at(-1);
    const what = `${label}: ${c.name} desired r${c.desired} latest r${c.latest} rows ${JSON.stringify(mine)}`;
    if (active) {
      const want = active.state === 'progressing' || active.state === 'passed' ? active.to_revision : active.from_revision;
      assert.equal(Number(c.desired), Number(want), what);
    } else if (queued.length > 0) {
      assert.equal(Number(c.desired), Number(queued[0]!.from_revision), what);
    } else if (finished) {
      // What the rollout that finished last left it on: its revision where it reached the cluster, else the previous one.
      const want = finished.state === 'progressing' || finished.state === 'passed' ? finished.to_revision : finished.from_revision;
      assert.equal(Number(c.desired), Number(want), what);
    } else {
      assert.equal(Number(c.desired), Number(c.latest), what);
    }
  }
  const drift = await verifyFleet(h.database.db, { secretKey: h.secretKey, signingKey: h.auth.signingKey }, { repair: false });
  assert.deepEqual(drift.findings, [], `${label}: newest revisions that are not the render of the committed intent`);
}

before(async () => {
  h = await startHarness();
  t = await seedApiTenant(h, 'waverace');
  for (const name of CLUSTERS) {
    assert.equal((await call('POST', 'clusters', { name, backend: 'frr', labels: { tier: name.slice(2) } })).status, 201);
  }
  assert.equal((await call('POST', 'pools', { name: 'p0', cidrs: [pool(0)] })).status, 201);
  assert.equal((await call('POST', 'peers', { name: 'tor', myASN: 64512, peerASN: 64600, peerAddress: '10.0.1.1' })).status, 201);
  assert.equal((await call('POST', 'bgp-advertisements', { name: 'all', ipAddressPools: [] })).status, 201);
  for (const name of CLUSTERS) {
    const minted = await call('POST', `clusters/${name}/enrollment-tokens`);
    const agent = h.agentClient();
    await agent.enroll(minted.body.token, { privateJwk: await generateAgentKey(), capabilities: { frrVersion: '10.3' } });
    agents.set(name, agent);
  }
  assert.equal((await call('PUT', 'rollout-policy', policy('queue'))).status, 200);
});
after(() => h.close());

describe('a cluster serves its previous revision or the rollout\'s, as the rollout record says', () => {
  test('random parallel mixes of writes, reports, actions and advances', async () => {
    let round = 0;
    await fc.assert(fc.asyncProperty(fc.array(Op, { minLength: 6, maxLength: 16 }), async (ops) => {
      round++;
      const statuses = await Promise.all(ops.map(run));
      for (const [i, status] of statuses.entries()) assert.ok(status < 500, `${JSON.stringify(ops[i])}: ${status}`);
      await assertInvariant(`round ${round}`);
    }), { numRuns: 12, seed: Number(process.env.FC_SEED ?? Date.now() % 1_000_000), endOnFailure: true, includeErrorInReport: true });
    const rollouts = (await call('GET', 'rollouts?limit=500')).body.items as Array<{ state: string }>;
    assert.ok(rollouts.length > 0, 'the property exercised rollouts');
  });

  test('abort restores every cluster\'s previous revision', async () => {
    // Settle: abort whatever is unfinished, then start a fresh rollout and let it reach a later wave.
    for (const r of (await call('GET', 'rollouts?limit=500')).body.items as Array<{ number: number; state: string }>) {
      if (['queued', 'progressing', 'paused'].includes(r.state)) await call('POST', `rollouts/${r.number}/abort`);
    }
    const before = await withPlatform(h.database.db, async (tx) => resultRows<{ name: string; desired: number }>(await tx.execute(sql`
      select name, desired_revision as desired from clusters order by name`)));
    assert.equal((await call('POST', 'pools', { name: 'p9', cidrs: [pool(9)] })).status, 201);
    const number = (await call('GET', 'rollouts?limit=1')).body.items[0].number as number;
    await call('POST', `rollouts/${number}/promote`);
    const aborted = await call('POST', `rollouts/${number}/abort`);
    assert.equal(aborted.status, 200, aborted.text);
    const afterwards = await withPlatform(h.database.db, async (tx) => resultRows<{ name: string; desired: number }>(await tx.execute(sql`
      select name, desired_revision as desired from clusters order by name`)));
    assert.deepEqual(afterwards, before);
    await assertInvariant('after abort');
  });
});
