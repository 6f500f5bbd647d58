// The agent protocol: enrollment, signed assertions, polls with 304, status, and what
// write-time rendering does for each cluster a change touches.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { base64url, SignJWT, importJWK } from 'jose';
import { sql } from 'drizzle-orm';
import { AgentClient, ControlPlaneError, generateAgentKey, publicPart } from '../../agents/client.ts';
import { resultRows } from '../../db/client.ts';
import { newEnrollmentToken } from '../../api/routes/cluster-ops.ts';
import { PUBLIC_URL, seedApiTenant, startHarness, type Harness } from '../helpers/api.ts';
import { BACKENDS } from '../../render/policy.ts';

let h: Harness;
let t: Awaited<ReturnType<typeof seedApiTenant>>;
const url = (path: string) => `/v1/tenants/${t.slug}/${path}`;
const post = (path: string, body: unknown = {}) => h.call('POST', url(path), { token: t.tenantAdmin, body });
const get = (path: string) => h.call('GET', url(path), { token: t.tenantAdmin });
const pool4 = () => t.v4Grant.replace('.0.0/16', '.10.0/24');
const pool6 = () => t.v6Grant.replace('::/48', ':10::/64');

before(async () => {
  h = await startHarness();
  t = await seedApiTenant(h, 'proto');
});
after(() => h.close());

async function enrolledAgent(cluster: string, capabilities?: Parameters<AgentClient['enroll']>[1]['capabilities']) {
  const minted = await post(`clusters/${cluster}/enrollment-tokens`);
  assert.equal(minted.status, 201, minted.text);
  const agent = h.agentClient();
  await agent.enroll(minted.body.token, { privateJwk: await generateAgentKey(), agentVersion: '0.1.0-test', ...(capabilities ? { capabilities } : {}) });
  return agent;
}

const revisionsOf = async (cluster: string) => (await get(`clusters/${cluster}/revisions`)).body.items as Array<{ revision: number; cause: string }>;

describe('write-time rendering', () => {
  test('a pool selected by three clusters of different backends creates three revisions', async () => {
    for (const [name, backend] of [['fan-native', 'metallb-native'], ['fan-k8s', 'metallb-frr-k8s'], ['fan-host', 'frr']] as const) {
      assert.equal((await post('clusters', { name, backend, labels: { fan: 'yes' } })).status, 201);
      assert.equal((await revisionsOf(name)).length, 1, 'a new cluster gets its first revision');
    }
    assert.equal((await post('clusters', { name: 'elsewhere', backend: 'frr', labels: { fan: 'no' } })).status, 201);
    assert.equal((await post('peers', { name: 'fan-tor', myASN: 64512, peerASN: 64513, peerAddress: '10.0.0.1', clusterSelector: { matchLabels: { fan: 'yes' } } })).status, 201);
    assert.equal((await post('bgp-advertisements', { name: 'fan-adv', clusterSelector: { matchLabels: { fan: 'yes' } } })).status, 201);
    const before = Object.fromEntries(await Promise.all(['fan-native', 'fan-k8s', 'fan-host', 'elsewhere'].map(async (c) => [c, (await revisionsOf(c)).length])));

    const created = await post('pools', { name: 'fan-pool', cidrs: [pool4()], clusterSelector: { matchLabels: { fan: 'yes' } } });
    assert.equal(created.status, 201, created.text);
    for (const c of ['fan-native', 'fan-k8s', 'fan-host']) {
      const revisions = await revisionsOf(c);
      assert.equal(revisions.length, before[c] + 1, c);
      assert.match(revisions[0]!.cause, /create pool fan-pool by proto-admin/);
      const config = await get(`clusters/${c}/config`);
      assert.ok(config.body.content.includes(pool4()), `${c} announces the pool`);
    }
    assert.equal((await revisionsOf('elsewhere')).length, before.elsewhere, 'a cluster the selector excludes is not touched');

    // IPv6 in the pool would break the native cluster: refused, and nothing changes anywhere.
    const etag = (await get('pools/fan-pool')).headers.get('etag')!;
    const refused = await h.call('PATCH', url('pools/fan-pool'), { token: t.tenantAdmin, body: { cidrs: [pool4(), pool6()] }, headers: { 'if-match': etag } });
    assert.equal(refused.status, 422, refused.text);
    assert.equal(refused.body.code, 'cluster-config-invalid');
    assert.deepEqual(refused.body.clusters.map((c: { cluster: string }) => c.cluster), ['fan-native']);
    assert.equal(refused.body.clusters[0].problems[0].code, 'native-ipv6-unsupported');
    assert.match(refused.body.clusters[0].problems[0].remedy, /metallb-frr-k8s/);
    for (const c of ['fan-native', 'fan-k8s', 'fan-host']) assert.equal((await revisionsOf(c)).length, before[c] + 1, `${c} unchanged`);
    assert.deepEqual((await get('pools/fan-pool')).body.cidrs, [pool4()]);
  });

  test('a change that renders the same output stores no revision', async () => {
    const before = (await revisionsOf('fan-host')).length;
    const k8sBefore = (await revisionsOf('fan-k8s')).length;
    const etag = (await get('pools/fan-pool')).headers.get('etag')!;
    // autoAssign is not part of a host frr.conf: the host cluster's sha256 does not change.
    assert.equal((await h.call('PATCH', url('pools/fan-pool'), { token: t.tenantAdmin, body: { autoAssign: false }, headers: { 'if-match': etag } })).status, 200);
    assert.equal((await revisionsOf('fan-host')).length, before);
    assert.equal((await revisionsOf('fan-k8s')).length, k8sBefore + 1, 'the MetalLB object did change');
  });

  test('a policy that existing intent breaks is refused for the clusters it breaks', async () => {
    const res = await h.call('PUT', url('policy'), { token: t.admin, body: { allowedASNs: [{ from: 64512, to: 65534 }], allowedPeerCIDRs: ['10.0.0.0/8'], allowedBackends: ['frr', 'metallb-frr-k8s'] } });
    assert.equal(res.status, 422);
    assert.deepEqual(res.body.clusters.map((c: { cluster: string }) => c.cluster), ['fan-native']);
    assert.equal((await get('policy')).body.allowedBackends.length, BACKENDS.length, 'the policy was not stored');
  });

  test('revisions: config redacts passwords, diffs are unified, rollback makes a new revision and is audited', async () => {
    assert.equal((await post('clusters', { name: 'rev', backend: 'frr', labels: { rev: 'yes' } })).status, 201);
    assert.equal((await post('peers', { name: 'rev-tor', myASN: 64512, peerASN: 64513, peerAddress: '10.0.0.9', password: 'Sup3rS3cret', clusterSelector: { matchLabels: { rev: 'yes' } } })).status, 201);
    const etag = (await get('peers/rev-tor')).headers.get('etag')!;
    assert.equal((await h.call('PATCH', url('peers/rev-tor'), { token: t.tenantAdmin, body: { holdTime: '30s' }, headers: { 'if-match': etag } })).status, 200);
    const config = await get('clusters/rev/config');
    assert.match(config.body.content, /neighbor 10\.0\.0\.9 password <redacted>/);
    assert.ok(!config.text.includes('Sup3rS3cret'));
    const revisions = await revisionsOf('rev');
    assert.equal(revisions.length, 3);
    const diff = await h.app.request(url(`clusters/rev/revisions/${revisions[0]!.revision}/diff`), { headers: { authorization: `Bearer ${t.tenantAdmin}` } });
    const text = await diff.text();
    assert.equal(diff.status, 200);
    assert.match(diff.headers.get('content-type')!, /text\/x-diff/);
    assert.match(text, /^\+  neighbor 10\.0\.0\.9 timers 10 30$/m);
    assert.ok(!text.includes('Sup3rS3cret'));
    const old = await get(`clusters/rev/config?revision=${revisions[1]!.revision}`);
    const rolled = await post('clusters/rev/rollback', { revision: revisions[1]!.revision });
    assert.equal(rolled.status, 201, rolled.text);
    assert.equal(rolled.body.revision, revisions[0]!.revision + 1);
    assert.equal(rolled.body.sha256, old.body.sha256);
    assert.equal((await post('clusters/rev/rollback', { revision: revisions[1]!.revision })).status, 409);
    const audit = await get('audit?limit=5');
    assert.ok(audit.body.items.some((e: { resource: string }) => e.resource === 'rollback'));
  });
});

describe('enrollment', () => {
  before(async () => { assert.equal((await post('clusters', { name: 'enroll', backend: 'frr' })).status, 201); });

  test('a token is shown once and stored only as a hash; TTL is bounded', async () => {
    const minted = await post('clusters/enroll/enrollment-tokens', { ttl: '2h' });
    assert.match(minted.body.token, /^[A-Za-z0-9_-]{43}$/);
    const rows = resultRows<Record<string, unknown>>(await h.database.db.execute(sql`select * from enrollment_tokens`));
    assert.ok(!JSON.stringify(rows).includes(minted.body.token));
    const listed = await get('clusters/enroll/enrollment-tokens');
    assert.ok(!listed.text.includes(minted.body.token));
    assert.equal((await post('clusters/enroll/enrollment-tokens', { ttl: '8d' })).status, 422);
  });

  test('tokens are 43 base64url characters and never start with "-", which command lines take for an option', () => {
    const tokens = Array.from({ length: 5000 }, newEnrollmentToken);
    assert.deepEqual(tokens.filter((t) => !/^[A-Za-z0-9_][A-Za-z0-9_-]{42}$/.test(t)), []);
    assert.equal(new Set(tokens).size, tokens.length);
  });

  test('50 concurrent enrollments with one token: exactly one succeeds', async () => {
    const minted = await post('clusters/enroll/enrollment-tokens');
    const key = publicPart(await generateAgentKey());
    const attempts = await Promise.all(Array.from({ length: 50 }, () => h.call('POST', '/v1/agent/enroll', { body: { token: minted.body.token, publicKeyJwk: key } })));
    const statuses = attempts.map((a) => a.status);
    assert.equal(statuses.filter((s) => s === 200).length, 1, JSON.stringify(statuses));
    assert.equal(statuses.filter((s) => s === 401).length, 49);
  });

  test('reused, expired and revoked tokens are refused alike', async () => {
    const agent = await enrolledAgent('enroll');
    assert.ok(agent.identity);
    const used = (await get('clusters/enroll/enrollment-tokens')).body.items.find((t2: { state: string }) => t2.state === 'used');
    assert.ok(used);
    const revoked = await post('clusters/enroll/enrollment-tokens');
    assert.equal((await h.call('DELETE', url(`clusters/enroll/enrollment-tokens/${revoked.body.id}`), { token: t.tenantAdmin })).status, 204);
    const expired = await post('clusters/enroll/enrollment-tokens');
    await h.database.db.execute(sql`update enrollment_tokens set expires_at = now() - interval '1 second' where id = ${expired.body.id}`);
    for (const token of [revoked.body.token, expired.body.token, 'A'.repeat(43)]) {
      const res = await h.call('POST', '/v1/agent/enroll', { body: { token, publicKeyJwk: publicPart(await generateAgentKey()) } });
      assert.equal(res.status, 401);
      assert.equal(res.body.code, 'enrollment-refused');
    }
    const bad = await h.call('POST', '/v1/agent/enroll', { body: { token: 'A'.repeat(43), publicKeyJwk: { ...(await generateAgentKey()), kty: 'OKP' } } });
    assert.equal(bad.status, 422, 'a private key is never accepted');
  });
});

describe('agent assertions', () => {
  let agent: AgentClient;
  let other: AgentClient;
  before(async () => {
    agent = await enrolledAgent('enroll');
    other = await enrolledAgent('enroll');
  });

  const sign = async (privateJwk: Record<string, unknown>, claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'EdDSA' }) =>
    new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(await importJWK({ ...privateJwk, alg: 'EdDSA' }, 'EdDSA'));
  const poll = (token: string) => h.call('GET', '/v1/agent/config', { headers: { authorization: `Bearer ${token}` } });
  const claims = (over: Record<string, unknown> = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return { iss: agent.identity!.agentId, sub: agent.identity!.agentId, aud: PUBLIC_URL, iat: now, exp: now + 120, jti: crypto.randomUUID(), ...over };
  };

  test('a fresh assertion is accepted', async () => {
    assert.equal((await poll(await sign(agent.identity!.privateJwk as never, claims()))).status, 200);
  });

  const refusals: Array<[string, () => Promise<string>]> = [
    ['expired', async () => sign(agent.identity!.privateJwk as never, claims({ iat: Math.floor(Date.now() / 1000) - 600, exp: Math.floor(Date.now() / 1000) - 300 }))],
    ['not yet valid', async () => sign(agent.identity!.privateJwk as never, claims({ nbf: Math.floor(Date.now() / 1000) + 600 }))],
    ['wrong audience', async () => sign(agent.identity!.privateJwk as never, claims({ aud: 'https://other.example' }))],
    ['lives longer than 5 minutes', async () => sign(agent.identity!.privateJwk as never, claims({ exp: Math.floor(Date.now() / 1000) + 3600 }))],
    ['no jti', async () => sign(agent.identity!.privateJwk as never, claims({ jti: undefined }))],
    ['signed by another agent', async () => sign(other.identity!.privateJwk as never, claims())],
    ['alg none', async () => `${base64url.encode(JSON.stringify({ alg: 'none' }))}.${base64url.encode(JSON.stringify(claims()))}.`],
    ['HS256 keyed with the public key', async () => new SignJWT(claims()).setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(JSON.stringify(publicPart(agent.identity!.privateJwk))))],
    ['iss of an unknown agent', async () => sign(agent.identity!.privateJwk as never, claims({ iss: crypto.randomUUID() }))],
    // Five minutes long, but dated in the future: it would be good for a month otherwise.
    ['iat 30 days ahead, exp = iat + 300', async () => {
      const iat = Math.floor(Date.now() / 1000) + 30 * 86_400;
      return sign(agent.identity!.privateJwk as never, claims({ iat, exp: iat + 300 }));
    }],
    ['iat a minute ahead (beyond the skew)', async () => sign(agent.identity!.privateJwk as never, claims({ iat: Math.floor(Date.now() / 1000) + 60, exp: Math.floor(Date.now() / 1000) + 200 }))],
  ];
  for (const [name, make] of refusals) {
    test(`${name} → 401`, async () => {
      const res = await poll(await make());
      assert.equal(res.status, 401, res.text);
      assert.equal(res.headers.get('content-type'), 'application/problem+json');
    });
  }

  test('an assertion replayed after its exp is refused, though it was accepted (and cached) before', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await sign(agent.identity!.privateJwk as never, claims({ iat: now - 60, exp: now - 30 + 2 }));
    // Valid for two seconds more, with the 30 s skew: accepted, then cached until its exp.
    assert.equal((await poll(token)).status, 200);
    await new Promise((r) => setTimeout(r, 2_500));
    assert.equal((await poll(token)).status, 401);
  });

  test('an assertion within the clock skew either side is accepted', async () => {
    const now = Math.floor(Date.now() / 1000);
    assert.equal((await poll(await sign(agent.identity!.privateJwk as never, claims({ iat: now + 20, exp: now + 300 })))).status, 200, 'iat slightly ahead');
    assert.equal((await poll(await sign(agent.identity!.privateJwk as never, claims({ iat: now - 280, exp: now - 10 })))).status, 200, 'exp slightly past');
  });

  test('a revoked agent is refused at once, even with an assertion that verified before', async () => {
    const victim = await enrolledAgent('enroll');
    const assertion = await victim.assertion();
    assert.equal((await poll(assertion)).status, 200);
    assert.equal((await h.call('DELETE', url(`clusters/enroll/agents/${victim.identity!.agentId}`), { token: t.tenantAdmin })).status, 204);
    assert.equal((await poll(assertion)).status, 401);
    await assert.rejects(victim.fetchConfig(), (err) => err instanceof ControlPlaneError && err.status === 401);
  });

  test('a revocation made by another instance reaches this one at once (the database announces it)', async () => {
    const victim = await enrolledAgent('enroll');
    const assertion = await victim.assertion();
    assert.equal((await poll(assertion)).status, 200, 'verified and cached');
    await h.database.db.execute(sql`update agents set revoked_at = now() where id = ${victim.identity!.agentId}`);
    for (let i = 0; i < 50 && h.caches.agents.get(victim.identity!.agentId); i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal((await poll(assertion)).status, 401);
  });

  test('key rotation: the new key works and the old one stays valid for the grace period', async () => {
    const rotating = await enrolledAgent('enroll');
    const oldKey = rotating.identity!.privateJwk;
    await rotating.rotateKey(await generateAgentKey());
    assert.equal((await rotating.fetchConfig()).status, 200, 'new key');
    const withOld = await sign(oldKey as never, { ...claims(), iss: rotating.identity!.agentId, sub: rotating.identity!.agentId });
    assert.equal((await poll(withOld)).status, 200, 'old key within grace');
    await h.database.db.execute(sql`update agents set previous_key_valid_until = now() - interval '1 second' where id = ${rotating.identity!.agentId}`);
    const fresh = h.agentClient();
    fresh.identity = { ...rotating.identity!, privateJwk: oldKey };
    // The agent record is cached for a short while; a second instance (fresh verifier) sees it at once.
    const { createApp } = await import('../../api/app.ts');
    const app2 = createApp({ db: h.database.db, secretKey: h.secretKey, auth: h.auth, publicUrl: PUBLIC_URL, log: () => {} });
    const res = await app2.request('/v1/agent/config', { headers: { authorization: `Bearer ${await sign(oldKey as never, { ...claims(), iss: rotating.identity!.agentId, sub: rotating.identity!.agentId })}` } });
    assert.equal(res.status, 401, 'old key after grace');
  });
});

describe('polling and status', () => {
  test('200 with a verified, signed config, then 304s that render nothing and read nothing', async () => {
    assert.equal((await post('clusters', { name: 'poller', backend: 'frr', labels: { poll: 'yes' } })).status, 201);
    const agent = await enrolledAgent('poller');
    const first = await agent.fetchConfig();
    assert.equal(first.status, 200);
    assert.equal(first.pollIntervalSeconds, 30);
    assert.match(first.etag, /^"r\d+-[0-9a-f]{16}"$/);

    const renders = h.metrics.get('render') ?? 0;
    const queriesBefore = h.queries.length;
    for (let i = 0; i < 3; i++) {
      const again = await agent.fetchConfig(first.etag);
      assert.equal(again.status, 304);
      assert.equal(again.pollIntervalSeconds, 30, 'a 304 still tells the agent its poll interval');
    }
    assert.equal(h.metrics.get('render') ?? 0, renders, 'no rendering on the poll path');
    assert.deepEqual(h.queries.slice(queriesBefore), [], 'a current ETag is answered from memory');
  });

  test('a change reaches the agent on its next poll: the database announces it to the index', async () => {
    const agent = await enrolledAgent('poller');
    const first = await agent.fetchConfig();
    assert.equal(first.status, 200);
    assert.equal((await agent.fetchConfig(first.etag)).status, 304);
    assert.equal((await post('peers', { name: 'poll-tor', myASN: 64512, peerASN: 64513, peerAddress: '10.0.0.77', clusterSelector: { matchLabels: { poll: 'yes' } } })).status, 201);
    // NOTIFY is delivered after commit; give the listener a moment.
    for (let i = 0; i < 50 && h.caches.desired.get(agent.identity!.clusterId) !== undefined; i++) await new Promise((r) => setTimeout(r, 20));
    const next = await agent.fetchConfig(first.etag);
    assert.equal(next.status, 200);
    assert.ok(next.status === 200 && next.config.revision === first.config.revision + 1 && next.config.content.includes('10.0.0.77'));
  });

  test('the database lost between reading a new revision and its content: the ETag held still answers 304 while it is away', async () => {
    const agent = await enrolledAgent('poller');
    const first = await agent.fetchConfig();
    assert.equal(first.status, 200);
    assert.equal((await post('peers', { name: 'lost-tor', myASN: 64512, peerASN: 64513, peerAddress: '10.0.0.78', clusterSelector: { matchLabels: { poll: 'yes' } } })).status, 201);
    for (let i = 0; i < 50 && h.caches.desired.get(agent.identity!.clusterId) !== undefined; i++) await new Promise((r) => setTimeout(r, 20));
    // The driver loses the server as the revision's content is read, and after that for every query.
    const lost = Object.assign(new Error('write CONNECTION_CLOSED'), { code: 'CONNECTION_CLOSED' });
    let down = false;
    const push = h.queries.push;
    h.queries.push = (...qs: string[]) => {
      if (down || qs.some((q) => /^select .* from "config_revisions" where/.test(q))) { down = true; throw lost; }
      return push.apply(h.queries, qs);
    };
    try {
      for (let i = 0; i < 3; i++) {
        const during: unknown = await agent.fetchConfig(first.etag).catch((err: unknown) => err);
        assert.ok(down, 'the content read was reached');
        assert.deepEqual(during, { status: 304, etag: first.etag, pollIntervalSeconds: 30 }, `poll ${i}: the agent keeps what it holds`);
      }
    } finally {
      h.queries.push = push;
    }
    const next = await agent.fetchConfig(first.etag);
    assert.ok(next.status === 200 && next.config.content.includes('10.0.0.78'), 'the database back: the new revision');
  });

  test('without an index (as on Workers) a 304 costs exactly one indexed read', async () => {
    const { createApp } = await import('../../api/app.ts');
    const { inProcessFetch } = await import('../helpers/api.ts');
    const agent = await enrolledAgent('poller');
    const first = await agent.fetchConfig();
    const bare = createApp({ db: h.database.db, secretKey: h.secretKey, auth: h.auth, publicUrl: PUBLIC_URL, log: () => {} });
    const client = new AgentClient({ baseUrl: PUBLIC_URL, fetch: inProcessFetch(bare), identity: agent.identity! });
    await client.fetchConfig(first.etag); // the agent record is now cached by this app's verifier
    const queriesBefore = h.queries.length;
    assert.equal((await client.fetchConfig(first.etag)).status, 304);
    const ran = h.queries.slice(queriesBefore).filter((q) => !/^select set_config/.test(q));
    assert.equal(ran.length, 1, ran.join('\n'));
    assert.match(ran[0]!, /^select .* from "clusters" inner join "config_revisions"/);
  });

  test('a tampered config is refused by the client, whatever the server says', async () => {
    const agent = await enrolledAgent('poller');
    const res = await h.call('GET', '/v1/agent/config', { headers: { authorization: `Bearer ${await agent.assertion()}` } });
    await assert.rejects(agent.verify({ ...res.body, content: `${res.body.content}\nrouter bgp 666\n` }), /sha256/);
    const other = `${res.body.content}!`;
    const { createHash } = await import('node:crypto');
    await assert.rejects(agent.verify({ ...res.body, content: other, sha256: createHash('sha256').update(other).digest('hex') }), /signature covers another config/);
  });

  test('status: sync state follows the reports; only changed session rows are written', async () => {
    const agent = await enrolledAgent('poller');
    assert.equal((await get('clusters/poller/status')).body.syncState, 'never-seen');
    const config = await agent.fetchConfig();
    assert.equal(config.status, 200);
    const revision = config.config.revision;
    const sessions = Array.from({ length: 10 }, (_, i) => ({ node: 'host-1', peer: `10.0.1.${i + 1}`, bgpState: 'Established', bfdState: 'up', uptimeSeconds: 100, prefixesReceived: 0, prefixesSent: 1 }));

    await agent.reportStatus({ appliedRevision: revision - 1, sessions });
    assert.equal((await get('clusters/poller/status')).body.syncState, 'pending');
    await agent.reportStatus({ appliedRevision: revision, applyError: 'frr-reload.py: line 3: % Unknown command', sessions });
    assert.equal((await get('clusters/poller/status')).body.syncState, 'failed');

    const writes = () => h.metrics.get('session-writes') ?? 0;
    const w0 = writes();
    const stamps = async () => resultRows<{ peer: string; updated_at: string }>(await h.database.db.execute(sql`select peer, updated_at::text from session_states order by peer`));
    const before = await stamps();
    await agent.reportStatus({ appliedRevision: revision, sessions: sessions.map((s) => ({ ...s, uptimeSeconds: 130 })) });
    assert.equal(writes() - w0, 0, 'uptime growing alone writes nothing');
    assert.deepEqual(await stamps(), before);
    const changed = sessions.map((s, i) => (i === 3 ? { ...s, bgpState: 'Idle', bfdState: 'down', uptimeSeconds: null, lastResetReason: 'BFD down received' } : s));
    await agent.reportStatus({ appliedRevision: revision, sessions: changed.slice(0, 9) });
    assert.equal(writes() - w0, 2, 'one changed row written and one vanished row removed');
    const after = await stamps();
    assert.equal(after.length, 9);
    assert.equal(after.filter((a) => before.find((b) => b.peer === a.peer)?.updated_at !== a.updated_at).length, 1);

    const status = await get('clusters/poller/status');
    assert.equal(status.body.syncState, 'in-sync');
    const listed = await get('clusters/poller/sessions');
    assert.equal(listed.body.items.length, 9);
    assert.equal(listed.body.items.find((s: { peer: string }) => s.peer === '10.0.1.4').lastResetReason, 'BFD down received');
    const health = await h.call('GET', '/v1/fleet/health', { token: t.admin });
    const mine = health.body.tenants.find((x: { tenant: string }) => x.tenant === t.slug);
    assert.equal(mine.sessions.Established, 8);
    assert.equal(mine.sessions.Idle, 1);
    assert.ok(mine.clusters['in-sync'] >= 1);
  });

  test('a capability change re-renders the cluster; one its config cannot follow keeps it and says why', async () => {
    await h.call('PUT', url('policy'), { token: t.admin, body: { allowedASNs: [{ from: 64512, to: 65534 }], allowedPeerCIDRs: ['10.0.0.0/8', 'fd00::/8'], allowLocalPeering: true } });
    assert.equal((await post('clusters', { name: 'local', backend: 'frr', labels: { local: 'yes' } })).status, 201);
    const agent = await enrolledAgent('local', { frrVersion: '9.1.0', nodeAddresses: ['10.0.0.7'] });
    const localPeer = await post('peers', { name: 'node-bird', myASN: 64512, peerASN: 64600, peerAddress: '127.0.0.2', ebgpMultiHop: true, localPeering: true, clusterSelector: { matchLabels: { local: 'yes' } } });
    assert.equal(localPeer.status, 201, localPeer.text);
    const first = await agent.fetchConfig();
    assert.ok(first.status === 200 && first.config.content.startsWith('allow-reserved-ranges\n'));
    assert.match(first.config.content, /^ {2}set ip next-hop 10\.0\.0\.7$/m, 'the next hop is the node address its agent reports');

    await agent.reportStatus({ appliedRevision: first.config.revision, capabilities: { frrVersion: '8.4.4', nodeAddresses: ['10.0.0.7'] }, sessions: [] });
    const status = await get('clusters/local/status');
    assert.equal(status.body.renderProblems[0].code, 'local-peering-needs-frr-9');
    assert.equal(status.body.desiredRevision, first.config.revision, 'the config stays');
    assert.equal((await agent.fetchConfig(first.etag)).status, 304);

    await agent.reportStatus({ appliedRevision: first.config.revision, capabilities: { frrVersion: '10.0.1', nodeAddresses: ['10.0.0.7'] }, sessions: [] });
    assert.equal((await get('clusters/local/status')).body.renderProblems, null);

    // A node address is needed too: without one the config stays and the status says why.
    await agent.reportStatus({ appliedRevision: first.config.revision, capabilities: { frrVersion: '10.0.1' }, sessions: [] });
    assert.deepEqual((await get('clusters/local/status')).body.renderProblems.map((p: { code: string }) => p.code), ['node-address-unknown']);
  });
});
