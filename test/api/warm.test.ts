// The warm start (api/warm.ts): a new instance loads every active agent's keys and every desired
// revision before it says it is ready, so that an agent's first poll to it reads nothing from the
// database; what a notification names while a page is read is left out.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentClient, generateAgentKey } from '../../agents/client.ts';
import { createApp } from '../../api/app.ts';
import { listenForInvalidations, notifiedPollCaches, TtlCache } from '../../api/caches.ts';
import { warmPollCaches } from '../../api/warm.ts';
import { inProcessFetch, PUBLIC_URL, seedApiTenant, startHarness, type Harness } from '../helpers/api.ts';

let h: Harness;
let t: Awaited<ReturnType<typeof seedApiTenant>>;
const enrolled: AgentClient[] = [];

before(async () => {
  h = await startHarness();
  t = await seedApiTenant(h, 'warm');
  for (const name of ['w1', 'w2', 'w3']) {
    assert.equal((await h.call('POST', `/v1/tenants/warm/clusters`, { token: t.tenantAdmin, body: { name, backend: 'frr' } })).status, 201);
    const minted = await h.call('POST', `/v1/tenants/warm/clusters/${name}/enrollment-tokens`, { token: t.tenantAdmin, body: {} });
    const agent = h.agentClient();
    await agent.enroll(minted.body.token, { privateJwk: await generateAgentKey() });
    enrolled.push(agent);
  }
  // A revoked agent is not loaded: its polls read the database and are refused.
  const revoked = enrolled[2]!;
  const cluster = 'w3';
  assert.equal((await h.call('DELETE', `/v1/tenants/warm/clusters/${cluster}/agents/${revoked.identity!.agentId}`, { token: t.tenantAdmin })).status, 204);
});
after(() => h.close());

/** A second instance on the same database: its own caches, verifier and listener, as after a restart. */
async function freshInstance() {
  const caches = notifiedPollCaches();
  const stop = await listenForInvalidations(h.database, caches);
  const app = createApp({ db: h.database.db, secretKey: h.secretKey, auth: h.auth, log: () => {}, publicUrl: PUBLIC_URL, caches });
  return { caches, app, stop: stop! };
}

test('after the warm-up, an agent\'s first poll to a new instance reads nothing from the database', async () => {
  const instance = await freshInstance();
  try {
    // Pages of two: the walk goes on past a full page and stops at a short one.
    const warmed = await warmPollCaches(h.database.db, instance.caches, { pageSize: 2 });
    assert.equal(warmed.agents, 2, 'the two active agents');
    assert.ok(warmed.desired >= 3, `every cluster with a desired revision (${warmed.desired})`);
    const [first] = enrolled;
    const client = new AgentClient({ baseUrl: PUBLIC_URL, fetch: inProcessFetch(instance.app) });
    client.identity = first!.identity;
    const etag = (await first!.fetchConfig()).etag;
    const before = h.queries.length;
    const poll = await client.fetchConfig(etag);
    assert.equal(poll.status, 304);
    const read = h.queries.slice(before).filter((q) => /\b(agents|clusters|config_revisions)\b/.test(q) && !/pg_notify/.test(q));
    assert.deepEqual(read, [], 'the agent and its desired revision came from the warm caches');
  } finally {
    await instance.stop();
  }
});

test('the revoked agent is not loaded, and is refused', async () => {
  const instance = await freshInstance();
  try {
    await warmPollCaches(h.database.db, instance.caches);
    const revoked = enrolled[2]!;
    assert.equal(instance.caches.agents.get(revoked.identity!.agentId), undefined);
    const client = new AgentClient({ baseUrl: PUBLIC_URL, fetch: inProcessFetch(instance.app) });
    client.identity = revoked.identity;
    await assert.rejects(client.fetchConfig(), /401/);
  } finally {
    await instance.stop();
  }
});

test('fillMany leaves out a key a notification named during the read, and everything after a clear', async () => {
  const cache = new TtlCache<number>(60_000);
  const cached = await cache.fillMany(async () => {
    cache.delete('b'); // announced while the page was being read: its row may be the old one
    return [['a', 1], ['b', 2], ['c', 3]];
  });
  assert.equal(cached, 2);
  assert.deepEqual([cache.get('a'), cache.get('b'), cache.get('c')], [1, undefined, 3]);
  const none = await cache.fillMany(async () => {
    cache.clear(); // a resubscription: anything may have been missed
    return [['d', 4]];
  });
  assert.equal(none, 0);
  assert.equal(cache.get('d'), undefined);
});

test('entries loaded at once are dated apart, so they do not all expire together', async () => {
  let now = 1_000_000;
  const cache = new TtlCache<number>(10_000, () => now);
  await cache.fillMany(async () => Array.from({ length: 200 }, (_, i): [string, number] => [`k${i}`, i]), { ageSpreadMs: 5_000 });
  now += 7_500; // past the TTL for entries dated back more than 2.5 s, within it for the others
  const alive = Array.from({ length: 200 }, (_, i) => cache.get(`k${i}`)).filter((v) => v !== undefined).length;
  assert.ok(alive > 0 && alive < 200, `${alive} of 200 still fresh`);
});

test('/readyz says warming-up while the caches load', async () => {
  const app = createApp({ db: h.database.db, secretKey: h.secretKey, auth: h.auth, log: () => {}, publicUrl: PUBLIC_URL, warming: () => true });
  const res = await app.request('/readyz');
  assert.equal(res.status, 503);
  assert.equal((await res.json() as { code: string }).code, 'warming-up');
});

test('while warming, agent requests the caches cannot answer get 503 warming-up without a database read; those they can, 304', async () => {
  const caches = notifiedPollCaches();
  const stop = await listenForInvalidations(h.database, caches);
  let warming = true;
  const app = createApp({ db: h.database.db, secretKey: h.secretKey, auth: h.auth, log: () => {}, publicUrl: PUBLIC_URL, caches, warming: () => warming });
  try {
    const [first] = enrolled;
    const etag = (await first!.fetchConfig()).etag;
    const client = new AgentClient({ baseUrl: PUBLIC_URL, fetch: inProcessFetch(app) });
    client.identity = first!.identity;
    const before = h.queries.length;
    const refused = await app.request('/v1/agent/config', { headers: { authorization: `Bearer ${await client.assertion()}`, 'if-none-match': etag } });
    assert.equal(refused.status, 503);
    assert.equal((await refused.json() as { code: string }).code, 'warming-up');
    assert.ok(Number(refused.headers.get('retry-after')) > 0, 'Retry-After');
    const report = await app.request('/v1/agent/status', {
      method: 'POST', headers: { authorization: `Bearer ${await client.assertion()}`, 'content-type': 'application/json' }, body: JSON.stringify({ appliedRevision: null }),
    });
    assert.equal(report.status, 503, 'a status report waits for the next interval');
    const read = h.queries.slice(before).filter((q) => /\b(agents|clusters|config_revisions|session_states)\b/.test(q) && !/pg_notify/.test(q));
    assert.deepEqual(read, [], 'nothing read while warming');
    // The warm-up loaded what this agent needs: its polls are answered from memory, still warming.
    await warmPollCaches(h.database.db, caches);
    assert.equal((await client.fetchConfig(etag)).status, 304);
    warming = false;
    assert.equal((await client.fetchConfig(etag)).status, 304);
  } finally {
    await stop!();
  }
});
