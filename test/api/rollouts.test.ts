// Staged rollouts through the API, with in-process agents that report what real ones would: a
// good change rolls through three waves; a change that brings the canary's session down stops
// there, is moved back on the canary, and the later waves never get it; changes made meanwhile
// queue; abort restores; roles and refusals are problem+json.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentClient, generateAgentKey } from '../../agents/client.ts';
import { advanceRollouts } from '../../api/rollouts.ts';
import { seedApiTenant, startHarness, type Harness } from '../helpers/api.ts';

let h: Harness;
let t: Awaited<ReturnType<typeof seedApiTenant>>;
const url = (path: string) => `/v1/tenants/${t.slug}/${path}`;
const as = (token: string) => ({
  get: (path: string) => h.call('GET', url(path), { token }),
  post: (path: string, body: unknown = {}) => h.call('POST', url(path), { token, body }),
});
const admin = () => as(t.tenantAdmin);
const CLUSTERS = ['canary', 'w2', 'w3'] as const;
const agents = new Map<string, AgentClient>();
const desired = async (name: string) => (await admin().get(`clusters/${name}`)).body.desiredRevision as number;
const desiredAll = async () => Object.fromEntries(await Promise.all(CLUSTERS.map(async (c) => [c, await desired(c)])));
const rollout = async (n: number) => (await admin().get(`rollouts/${n}`)).body;
const pool = (i: number) => t.v4Grant.replace('.0.0/16', `.${i}.0/24`);

/**
 * What an agent reports after applying what it is served: the session `state`, advertising
 * `prefixes`; twice, as a real agent does over two rounds (only a report after the one that
 * shows the revision applied is evidence about it).
 */
async function report(name: string, opts: { state?: string; prefixes: number; error?: string }) {
  await reportOnce(name, opts);
  return reportOnce(name, opts);
}

async function reportOnce(name: string, opts: { state?: string; prefixes: number; error?: string }) {
  const agent = agents.get(name)!;
  const polled = await agent.fetchConfig();
  const revision = polled.status === 200 ? polled.config.revision : null;
  await agent.reportStatus({
    appliedRevision: opts.error ? revision! - 1 : revision, applyError: opts.error ?? null,
    sessions: [{ node: name, peer: '10.0.1.1', vrf: '', bgpState: opts.state ?? 'Established', bfdState: null, uptimeSeconds: 10,
      prefixesReceived: 0, prefixesSent: opts.prefixes, lastResetReason: null }],
  });
  return revision;
}

before(async () => {
  h = await startHarness();
  t = await seedApiTenant(h, 'waves');
  for (const name of CLUSTERS) {
    assert.equal((await admin().post('clusters', { name, backend: 'frr', labels: { tier: name } })).status, 201);
  }
  assert.equal((await admin().post('pools', { name: 'p1', cidrs: [pool(1)] })).status, 201);
  assert.equal((await admin().post('peers', { name: 'tor', myASN: 64512, peerASN: 64600, peerAddress: '10.0.1.1' })).status, 201);
  assert.equal((await admin().post('bgp-advertisements', { name: 'all', ipAddressPools: ['p1', 'p2', 'p3'].slice(0, 1) })).status, 201);
  for (const name of CLUSTERS) {
    const minted = await admin().post(`clusters/${name}/enrollment-tokens`);
    const agent = h.agentClient();
    await agent.enroll(minted.body.token, { privateJwk: await generateAgentKey(), agentVersion: '0.1.0-test', capabilities: { frrVersion: '10.3' } });
    agents.set(name, agent);
    await report(name, { prefixes: 1 });
  }
});
after(() => h.close());

describe('staged rollouts', () => {
  test('without a policy a change reaches every cluster at once, and opens no rollout', async () => {
    const before = await desiredAll();
    assert.equal((await admin().post('pools', { name: 'p0', cidrs: [pool(9)] })).status, 201);
    assert.equal((await admin().post('bgp-advertisements', { name: 'zero', ipAddressPools: ['p0'] })).status, 201);
    const afterwards = await desiredAll();
    for (const c of CLUSTERS) assert.equal(afterwards[c], before[c]! + 1);
    assert.deepEqual((await admin().get('rollouts')).body.items, []);
    assert.equal((await admin().get('rollout-policy')).body.policy, null);
  });

  test('viewers read the policy but cannot set it; a bad policy is a 422 with field errors', async () => {
    const viewer = await h.call('PUT', url('rollout-policy'), { token: t.viewer, body: { policy: null } });
    assert.equal(viewer.status, 403);
    const bad = await h.call('PUT', url('rollout-policy'), { token: t.tenantAdmin, body: { policy: { waves: [{ name: 'a', bakeSeconds: 60, timeoutSeconds: 5 }] } } });
    assert.equal(bad.status, 422, bad.text);
    assert.equal(bad.headers.get('content-type'), 'application/problem+json');
    const put = await h.call('PUT', url('rollout-policy'), { token: t.tenantAdmin, body: { policy: { waves: [
      { name: 'canary', selector: { matchLabels: { tier: 'canary' } }, bakeSeconds: 0, timeoutSeconds: 30 },
      { name: 'w2', selector: { matchLabels: { tier: 'w2' } }, bakeSeconds: 0, timeoutSeconds: 30 },
      { name: 'rest', bakeSeconds: 0, timeoutSeconds: 30 },
    ] } } });
    assert.equal(put.status, 200, put.text);
    assert.equal((await as(t.viewer).get('rollout-policy')).body.policy.waves.length, 3);
  });

  test('a good change rolls through canary, w2 and w3 as each wave\'s agent reports healthy sessions', async () => {
    const start = await desiredAll();
    assert.equal((await admin().post('pools', { name: 'p3', cidrs: [pool(3)] })).status, 201);
    assert.equal((await admin().get('rollouts')).body.items.length, 0, 'a change that changes no config opens no rollout');
    assert.equal((await admin().post('bgp-advertisements', { name: 'more', ipAddressPools: ['p3'] })).status, 201);
    let r = await rollout(1);
    assert.equal(r.state, 'progressing');
    assert.equal(r.currentWave, 'canary');
    assert.deepEqual(await desiredAll(), { canary: start.canary + 1, w2: start.w2, w3: start.w3 }, 'only the canary moved');
    // Three prefixes now (p1, p0, p3): a report of two is not enough (prefixes-advertised).
    await report('canary', { prefixes: 2 });
    assert.equal((await rollout(1)).currentWave, 'canary');
    assert.equal((await rollout(1)).waves[0].clusters[0].gates.find((g: { gate: string }) => g.gate === 'prefixes-advertised').ok, false);
    await report('canary', { prefixes: 3 });
    r = await rollout(1);
    assert.equal(r.currentWave, 'w2', JSON.stringify(r.waves[0]));
    assert.equal(await desired('w2'), start.w2 + 1);
    assert.equal(await desired('w3'), start.w3, 'w3 waits for w2');
    await report('w2', { prefixes: 3 });
    await report('w3', { prefixes: 3 });
    r = await rollout(1);
    assert.equal(r.state, 'completed', JSON.stringify(r));
    assert.deepEqual(await desiredAll(), { canary: start.canary + 1, w2: start.w2 + 1, w3: start.w3 + 1 });
    for (const wave of r.waves) for (const c of wave.clusters) assert.equal(c.serving, 'new');
  });

  test('a wrong peer ASN stops at the canary: moved back there at the timeout, w2 and w3 never get it, the rollout pauses', async () => {
    const start = await desiredAll();
    const etag = (await admin().get('peers/tor')).headers.get('etag')!;
    const patched = await h.call('PATCH', url('peers/tor'), { token: t.tenantAdmin, body: { peerASN: 64999 }, headers: { 'if-match': etag } });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(await desired('canary'), start.canary + 1);
    await report('canary', { state: 'Active', prefixes: 0 });
    assert.equal((await rollout(2)).state, 'progressing', 'red gates wait until the timeout');
    await advanceRollouts(h.database.db, { secretKey: h.secretKey }, new Date(Date.now() + 31_000));
    const r = await rollout(2);
    assert.equal(r.state, 'paused');
    assert.match(r.pausedReason, /canary.*sessions-established/);
    assert.deepEqual(await desiredAll(), start, 'the canary is back on its previous revision; w2 and w3 never moved');
    assert.equal(r.waves[0].clusters[0].state, 'rolled-back');
    assert.equal(r.waves[0].clusters[0].serving, 'previous');
    assert.match(r.waves[0].clusters[0].gates.find((g: { gate: string }) => g.gate === 'sessions-established').evidence, /Active/);
    // The agent is served the previous revision again.
    assert.equal(await report('canary', { prefixes: 3 }), start.canary);
    // A failed gate never advances, however often it is evaluated.
    await advanceRollouts(h.database.db, { secretKey: h.secretKey }, new Date(Date.now() + 120_000));
    assert.equal((await rollout(2)).state, 'paused');
    const fleet = (await h.call('GET', '/v1/fleet/health', { token: t.admin })).body.tenants.find((x: { tenant: string }) => x.tenant === t.slug);
    assert.deepEqual(fleet.pausedRollouts.map((p: { number: number }) => p.number), [2], 'the fleet-health line names the paused rollout');
    const audit = (await admin().get('audit?limit=50')).body.items.filter((e: { resource: string }) => e.resource === 'rollout');
    assert.ok(audit.some((e: { actor: string; after: { state?: string } }) => e.actor === 'system:rollout' && e.after.state === 'paused'));
  });

  test('a rollback of a cluster in an unfinished rollout is refused; viewers cannot act on rollouts', async () => {
    const rollback = await admin().post('clusters/w2/rollback', { revision: 1 });
    assert.equal(rollback.status, 409);
    assert.equal(rollback.body.code, 'cluster-in-rollout');
    const viewer = await as(t.viewer).post('rollouts/2/abort');
    assert.equal(viewer.status, 403);
    assert.equal((await as(t.viewer).get('rollouts/2')).status, 200);
    const refused = await admin().post('rollouts/1/resume');
    assert.equal(refused.status, 409);
    assert.equal(refused.body.code, 'rollout-action-refused');
    assert.equal((await admin().get('rollouts/99')).status, 404);
  });

  test('a change made while a rollout is paused queues; abort restores and starts the queued one', async () => {
    const start = await desiredAll();
    const etag = (await admin().get('peers/tor')).headers.get('etag')!;
    const fixed = await h.call('PATCH', url('peers/tor'), { token: t.tenantAdmin, body: { peerASN: 64600 }, headers: { 'if-match': etag } });
    assert.equal(fixed.status, 200, fixed.text);
    assert.equal((await rollout(3)).state, 'queued');
    assert.deepEqual(await desiredAll(), start, 'nothing moves while rollout 2 is paused');
    const aborted = await admin().post('rollouts/2/abort');
    assert.equal(aborted.status, 200, aborted.text);
    assert.equal(aborted.body.state, 'aborted');
    const r3 = await rollout(3);
    assert.equal(r3.state, 'progressing');
    assert.equal(r3.currentWave, 'canary');
    assert.equal(await desired('canary'), r3.waves[0].clusters[0].toRevision);
    assert.deepEqual({ w2: await desired('w2'), w3: await desired('w3') }, { w2: start.w2, w3: start.w3 });
    for (const c of CLUSTERS) await report(c, { prefixes: 3 });
    for (const c of CLUSTERS) await report(c, { prefixes: 3 });
    assert.equal((await rollout(3)).state, 'completed');
  });

  test('pause holds a wave; promote skips its gates; the list pages newest first', async () => {
    assert.equal((await admin().post('pools', { name: 'p2', cidrs: [pool(2)] })).status, 201);
    assert.equal((await admin().post('bgp-advertisements', { name: 'two', ipAddressPools: ['p2'] })).status, 201);
    const paused = await admin().post('rollouts/4/pause');
    assert.equal(paused.body.state, 'paused');
    await report('canary', { prefixes: 4 });
    assert.equal((await rollout(4)).currentWave, 'canary', 'a paused rollout does not advance on reports');
    const promoted = await admin().post('rollouts/4/promote');
    assert.equal(promoted.status, 200, promoted.text);
    assert.equal(promoted.body.currentWave, 'w2');
    const page = await admin().get('rollouts?limit=2');
    assert.deepEqual(page.body.items.map((r: { number: number }) => r.number), [4, 3]);
    const next = await admin().get(`rollouts?limit=2&cursor=${page.body.nextCursor}`);
    assert.deepEqual(next.body.items.map((r: { number: number }) => r.number), [2, 1]);
  });

  test('a rollout waiting behind one that is aborted goes back to what its clusters serve after the abort', async () => {
    // Rollout 4 has moved canary and w2; rollout 5 queues behind it and is paused before it starts.
    const etag = (await admin().get('peers/tor')).headers.get('etag')!;
    const changed = await h.call('PATCH', url('peers/tor'), { token: t.tenantAdmin, body: { peerASN: 64601 }, headers: { 'if-match': etag } });
    assert.equal(changed.status, 200, changed.text);
    assert.equal((await rollout(5)).state, 'queued');
    assert.equal((await admin().post('rollouts/5/pause')).body.state, 'paused');
    assert.equal((await admin().post('rollouts/4/abort')).status, 200);
    const waiting = await rollout(5);
    assert.equal(waiting.state, 'paused', 'a rollout paused before it started stays paused');
    const clusters = waiting.waves.flatMap((w: { clusters: unknown[] }) => w.clusters) as Array<{ cluster: string; fromRevision: number; desiredRevision: number }>;
    assert.equal(clusters.length, CLUSTERS.length);
    for (const c of clusters) assert.equal(c.fromRevision, c.desiredRevision, `${c.cluster}: its "from" is what it serves now`);
  });
});
