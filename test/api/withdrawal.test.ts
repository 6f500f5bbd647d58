// Addresses are never announced by two tenants (or two clusters) at once: space that leaves a pool,
// a cluster or a tenant stays held ("quarantined") until every agent that may announce it applied a
// config without it. Also: deletion of tenants and clusters withdraws first, rollbacks are
// re-validated like any write, and conditional writes are atomic.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateAgentKey, type AgentClient } from '../../agents/client.ts';
import { seedApiTenant, startHarness, type Harness } from '../helpers/api.ts';

let h: Harness;
let admin: string;
before(async () => {
  h = await startHarness();
  admin = await h.token({ sub: 'ops', role: 'platform-admin' });
});
after(() => h.close());

type Tenant = Awaited<ReturnType<typeof seedApiTenant>>;
const call = (t: Tenant, method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  h.call(method, `/v1/tenants/${t.slug}/${path}`, { token: t.tenantAdmin, ...(body !== undefined ? { body } : {}), ...(headers ? { headers } : {}) });

function assertProblem(res: { status: number; body: any; text: string }, status: number, code: string) {
  assert.equal(res.status, status, res.text);
  assert.equal(res.body.code, code, res.text);
}

/** A cluster with an enrolled agent that has applied its current config. */
async function clusterWithAgent(t: Tenant, name: string): Promise<AgentClient> {
  assert.equal((await call(t, 'POST', 'clusters', { name, backend: 'metallb-frr-k8s' })).status, 201);
  const minted = await call(t, 'POST', `clusters/${name}/enrollment-tokens`, {});
  const agent = h.agentClient();
  await agent.enroll(minted.body.token, { privateJwk: await generateAgentKey() });
  await applyLatest(agent);
  return agent;
}

/** The agent polls, applies what it gets and reports it: what the real agent does each round. */
async function applyLatest(agent: AgentClient): Promise<number> {
  const polled = await agent.fetchConfig();
  assert.equal(polled.status, 200);
  const revision = polled.status === 200 ? polled.config.revision : 0;
  await agent.reportStatus({ appliedRevision: revision, applyError: null, sessions: [] });
  return revision;
}

describe('quarantine: space that left a pool is held until the agents applied a config without it', () => {
  test('a deleted pool of an offline cluster cannot be carved or granted again; after the agent applies, it can', async () => {
    const a = await seedApiTenant(h, 'qa');
    const b = await seedApiTenant(h, 'qb');
    const agent = await clusterWithAgent(a, 'edge');
    const space = a.v4Grant.replace('.0.0/16', '.7.0/24');
    assert.equal((await call(a, 'POST', 'pools', { name: 'web', cidrs: [space] })).status, 201);
    await applyLatest(agent); // the agent now announces the pool
    assert.equal((await call(a, 'DELETE', 'pools/web')).status, 204);

    // The agent is offline: it still announces the pool.
    const quarantine = await call(a, 'GET', 'quarantine');
    assert.deepEqual(quarantine.body.items.map((q: { cidr: string }) => q.cidr), [space]);
    assert.equal(quarantine.body.items[0].clusters[0].cluster, 'edge');
    assertProblem(await call(a, 'POST', 'pools', { name: 'again', cidrs: [space] }), 409, 'address-quarantined');
    assertProblem(await call(a, 'POST', 'pools', { name: 'wider', cidrs: [a.v4Grant.replace('.0.0/16', '.6.0/23')] }), 409, 'address-quarantined');
    const carved = await call(a, 'POST', 'pools', { name: 'carved', allocate: { family: 4, prefixLength: 24, count: 8 } });
    assert.equal(carved.status, 201, carved.text);
    assert.ok(!carved.body.cidrs.includes(space), 'allocation skips quarantined space');
    // The agent may have fetched the carved pool meanwhile: once deleted, it is held too.
    assert.equal((await call(a, 'DELETE', 'pools/carved')).status, 204);

    const grants = await call(a, 'GET', 'grants');
    const v4 = grants.body.items.find((g: { cidr: string }) => g.cidr === a.v4Grant);
    assert.deepEqual(v4.quarantined.map((q: { cidr: string }) => q.cidr).sort(), [space, ...carved.body.cidrs].sort());

    // The grant can be withdrawn, but its held space is given to nobody else.
    assert.equal((await h.call('DELETE', `/v1/tenants/${a.slug}/grants/${v4.id}`, { token: admin })).status, 204);
    const refused = await h.call('POST', `/v1/tenants/${b.slug}/grants`, { token: admin, body: { cidr: space } });
    assertProblem(refused, 409, 'address-quarantined');
    assert.equal(refused.body.quarantined[0].clusters[0].tenant, a.slug);
    assert.ok((await h.call('GET', '/v1/quarantine', { token: admin })).body.items.some((q: { cidr: string }) => q.cidr === space));

    await applyLatest(agent); // the agent applies a config without the pool
    assert.deepEqual((await call(a, 'GET', 'quarantine')).body.items, []);
    assert.equal((await h.call('POST', `/v1/tenants/${b.slug}/grants`, { token: admin, body: { cidr: space } })).status, 201);
  });

  test('a cluster that never had an agent announces nothing: its space is free at once', async () => {
    const t = await seedApiTenant(h, 'qc');
    assert.equal((await call(t, 'POST', 'clusters', { name: 'lab', backend: 'frr' })).status, 201);
    const space = t.v4Grant.replace('.0.0/16', '.9.0/24');
    assert.equal((await call(t, 'POST', 'pools', { name: 'p', cidrs: [space] })).status, 201);
    assert.equal((await call(t, 'DELETE', 'pools/p')).status, 204);
    assert.deepEqual((await call(t, 'GET', 'quarantine')).body.items, []);
    assert.equal((await call(t, 'POST', 'pools', { name: 'p2', cidrs: [space] })).status, 201);
  });
});

describe('deleting a tenant whose clusters have agents', () => {
  test('refused without force; with force its clusters withdraw, its space stays held, and it goes once they have', async () => {
    const t = await seedApiTenant(h, 'leaving');
    const other = await seedApiTenant(h, 'arriving');
    const agent = await clusterWithAgent(t, 'edge');
    const space = t.v4Grant.replace('.0.0/16', '.1.0/24');
    assert.equal((await call(t, 'POST', 'pools', { name: 'web', cidrs: [space] })).status, 201);
    await applyLatest(agent);

    const refused = await h.call('DELETE', `/v1/tenants/${t.slug}`, { token: admin });
    assertProblem(refused, 409, 'tenant-has-agents');
    assert.deepEqual(refused.body.clusters, ['edge']);

    const forced = await h.call('DELETE', `/v1/tenants/${t.slug}?force=true`, { token: admin });
    assert.equal(forced.status, 202, forced.text);
    assert.equal(forced.body.state, 'deleting');
    assert.deepEqual(forced.body.waitingFor, [{ cluster: 'edge', cidrs: [space] }]);
    assert.ok((await h.call('GET', `/v1/tenants/${t.slug}`, { token: admin })).body.deletingSince);
    // Nothing about it can change any more, and its grants are gone but their held space is not free.
    assertProblem(await call(t, 'POST', 'peers', { name: 'x', myASN: 64512, peerASN: 64513, peerAddress: '10.0.0.1' }), 409, 'tenant-deleting');
    assertProblem(await h.call('POST', `/v1/tenants/${other.slug}/grants`, { token: admin, body: { cidr: t.v4Grant } }), 409, 'address-quarantined');

    // The agent gets its withdrawal: an empty config.
    const polled = await agent.fetchConfig();
    assert.ok(polled.status === 200 && !polled.config.content.includes(space), 'the withdrawal carries none of the pools');
    await agent.reportStatus({ appliedRevision: polled.status === 200 ? polled.config.revision : 0, applyError: null, sessions: [] });
    assert.equal((await h.call('GET', `/v1/tenants/${t.slug}`, { token: admin })).status, 404, 'the tenant went once its agent withdrew');
    assert.equal((await h.call('POST', `/v1/tenants/${other.slug}/grants`, { token: admin, body: { cidr: t.v4Grant } })).status, 201);
    const trail = (await h.call('GET', '/v1/audit', { token: admin })).body.items.filter((e: { resourceId: string }) => e.resourceId === t.slug);
    assert.deepEqual(trail.map((e: { actor: string; action: string }) => `${e.actor} ${e.action}`).slice(0, 2), ['system:withdrawal delete', 'ops delete']);
  });

  test('a tenant whose clusters have no agents goes at once', async () => {
    const t = await seedApiTenant(h, 'quiet');
    assert.equal((await call(t, 'POST', 'clusters', { name: 'lab', backend: 'frr' })).status, 201);
    assert.equal((await h.call('DELETE', `/v1/tenants/${t.slug}`, { token: admin })).status, 204);
    assert.equal((await h.call('GET', `/v1/tenants/${t.slug}`, { token: admin })).status, 404);
  });
});

describe('deleting a cluster whose agent may be announcing', () => {
  test('withdraws first (202) and goes once the agent applied; force (platform admins) releases at once, audited', async () => {
    const t = await seedApiTenant(h, 'cdel');
    const agent = await clusterWithAgent(t, 'old');
    const space = t.v4Grant.replace('.0.0/16', '.2.0/24');
    assert.equal((await call(t, 'POST', 'pools', { name: 'web', cidrs: [space], clusterSelector: { matchLabels: { keep: 'no' } } })).status, 201);
    assert.equal((await call(t, 'POST', 'pools', { name: 'all', cidrs: [t.v4Grant.replace('.0.0/16', '.3.0/24')] })).status, 201);
    await applyLatest(agent);

    const withdrawing = await call(t, 'DELETE', 'clusters/old');
    assert.equal(withdrawing.status, 202, withdrawing.text);
    assert.deepEqual(withdrawing.body.waitingFor, [t.v4Grant.replace('.0.0/16', '.3.0/24')]);
    const etag = (await call(t, 'GET', 'clusters/old')).headers.get('etag')!;
    assertProblem(await call(t, 'PATCH', 'clusters/old', { labels: { a: 'b' } }, { 'if-match': etag }), 409, 'cluster-withdrawing');
    await applyLatest(agent);
    assert.equal((await call(t, 'GET', 'clusters/old')).status, 404);

    const stuck = await clusterWithAgent(t, 'stuck');
    assert.equal((await call(t, 'DELETE', 'clusters/stuck')).status, 202);
    void stuck; // its agent never comes back
    assertProblem(await call(t, 'DELETE', 'clusters/stuck?force=true'), 403, 'forbidden');
    assert.equal((await h.call('DELETE', `/v1/tenants/${t.slug}/clusters/stuck?force=true`, { token: admin })).status, 204);
    assert.deepEqual((await call(t, 'GET', 'quarantine')).body.items, []);
    const audit = (await call(t, 'GET', 'audit')).body.items[0];
    assert.equal(audit.resource, 'cluster');
    assert.deepEqual(audit.after, { force: true, released: [t.v4Grant.replace('.0.0/16', '.3.0/24')] });
  });
});

describe('rollback is a write like any other', () => {
  test('re-validated against today\'s intent, policy and grants; pinned until a change affects the cluster', async () => {
    const t = await seedApiTenant(h, 'rb');
    assert.equal((await call(t, 'POST', 'clusters', { name: 'edge', backend: 'metallb-frr-k8s' })).status, 201);
    const p1 = t.v4Grant.replace('.0.0/16', '.1.0/24');
    const p2 = t.v4Grant.replace('.0.0/16', '.2.0/24');
    assert.equal((await call(t, 'POST', 'pools', { name: 'one', cidrs: [p1] })).status, 201);
    const withOne = (await call(t, 'GET', 'clusters/edge')).body.desiredRevision;
    assert.equal((await call(t, 'POST', 'peers', { name: 'tor', myASN: 64512, peerASN: 64600, peerAddress: '10.0.0.1' })).status, 201);
    const withPeer = (await call(t, 'GET', 'clusters/edge')).body.desiredRevision;
    assert.equal((await call(t, 'POST', 'pools', { name: 'two', cidrs: [p2] })).status, 201);

    // Back to "one, without the peer": fine, and pinned.
    const back = await call(t, 'POST', 'clusters/edge/rollback', { revision: withOne });
    assert.equal(back.status, 201, back.text);
    const pinned = (await call(t, 'GET', 'clusters/edge')).body;
    assert.equal(pinned.pinnedRevision, back.body.revision);
    const served = (await call(t, 'GET', 'clusters/edge/config')).body.content as string;
    assert.ok(served.includes(p1) && !served.includes(p2) && !served.includes('10.0.0.1'));
    // A change that does not affect the cluster keeps the pin; one that does ends it.
    assert.equal((await call(t, 'POST', 'pools', { name: 'elsewhere', cidrs: [t.v4Grant.replace('.0.0/16', '.9.0/24')], clusterSelector: { matchLabels: { x: 'y' } } })).status, 201);
    assert.equal((await call(t, 'GET', 'clusters/edge')).body.pinnedRevision, back.body.revision);
    assert.equal((await call(t, 'POST', 'communities', { name: 'c', value: '64512:1' })).status, 201);
    const unpinned = (await call(t, 'GET', 'clusters/edge')).body;
    assert.equal(unpinned.pinnedRevision, null);
    assert.ok(((await call(t, 'GET', 'clusters/edge/config')).body.content as string).includes(p2), 'today\'s intent again');

    // The policy no longer allows the peer's ASN: rolling back to a revision with it is refused.
    const policy = await h.call('PUT', `/v1/tenants/${t.slug}/policy`, { token: admin, body: { allowedASNs: [{ from: 64512, to: 64599 }], allowedPeerCIDRs: ['10.0.0.0/8'] } });
    assert.equal(policy.status, 422, 'the live peer itself breaks the new policy');
    assert.equal((await call(t, 'DELETE', 'peers/tor')).status, 204);
    assert.equal((await h.call('PUT', `/v1/tenants/${t.slug}/policy`, { token: admin, body: { allowedASNs: [{ from: 64512, to: 64599 }], allowedPeerCIDRs: ['10.0.0.0/8'] } })).status, 200);
    const policyRefused = await call(t, 'POST', 'clusters/edge/rollback', { revision: withPeer });
    assertProblem(policyRefused, 422, 'cluster-config-invalid');
    assert.ok(policyRefused.body.errors.some((e: { code: string }) => e.code === 'asn-not-allowed'), policyRefused.text);

    // Pool "one" was deleted since: rolling back to a revision that announces it is refused.
    assert.equal((await call(t, 'DELETE', 'pools/one')).status, 204);
    const addressRefused = await call(t, 'POST', 'clusters/edge/rollback', { revision: withOne });
    assertProblem(addressRefused, 422, 'cluster-config-invalid');
    assert.equal(addressRefused.body.errors[0].code, 'rollback-address-not-held');
    assert.equal((await call(t, 'GET', 'clusters/edge')).body.pinnedRevision, null, 'a refused rollback changes nothing');
  });
});

describe('conditional writes are atomic', () => {
  test('50 parallel tenant PATCHes with one ETag: exactly one wins, the rest 412', async () => {
    assert.equal((await h.call('POST', '/v1/tenants', { token: admin, body: { slug: 'cas', name: 'CAS' } })).status, 201);
    const etag = (await h.call('GET', '/v1/tenants/cas', { token: admin })).headers.get('etag')!;
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) =>
      h.call('PATCH', '/v1/tenants/cas', { token: admin, body: { name: `CAS ${i}` }, headers: { 'if-match': etag } })));
    assert.deepEqual(results.map((r) => r.status).sort(), [200, ...Array(49).fill(412)]);
  });

  test('10 parallel policy PUTs with one ETag: exactly one wins', async () => {
    const t = await seedApiTenant(h, 'pcas');
    const etag = (await h.call('GET', `/v1/tenants/${t.slug}/policy`, { token: admin })).headers.get('etag')!;
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => h.call('PUT', `/v1/tenants/${t.slug}/policy`, {
      token: admin, headers: { 'if-match': etag }, body: { allowedASNs: [{ from: 64512, to: 64512 + i }], allowedPeerCIDRs: ['10.0.0.0/8'] },
    })));
    assert.deepEqual(results.map((r) => r.status).sort(), [200, ...Array(9).fill(412)]);
  });

  test('revoking an enrollment token and enrolling with it race: exactly one succeeds', async () => {
    const t = await seedApiTenant(h, 'tokrace');
    assert.equal((await call(t, 'POST', 'clusters', { name: 'edge', backend: 'frr' })).status, 201);
    for (let i = 0; i < 5; i++) {
      const minted = await call(t, 'POST', 'clusters/edge/enrollment-tokens', {});
      const [revoked, enrolled] = await Promise.all([
        call(t, 'DELETE', `clusters/edge/enrollment-tokens/${minted.body.id}`),
        h.agentClient().enroll(minted.body.token, { privateJwk: await generateAgentKey() }).then(() => 'enrolled', () => 'refused'),
      ]);
      assert.ok((revoked.status === 204) !== (enrolled === 'enrolled'), `revocation ${revoked.status}, enrollment ${enrolled}`);
      if (revoked.status !== 204) assertProblem(revoked, 409, 'enrollment-token-used');
      assertProblem(await call(t, 'DELETE', `clusters/edge/enrollment-tokens/${minted.body.id}`), 409, revoked.status === 204 ? 'already-revoked' : 'enrollment-token-used');
    }
  });
});
