// Platform administration: tenants, grants, policy, and the audit trail of it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../helpers/api.ts';

let h: Harness;
let admin: string;
before(async () => {
  h = await startHarness();
  admin = await h.token({ sub: 'ops@example.com', role: 'platform-admin' });
});
after(() => h.close());

describe('tenants', () => {
  test('create, read, rename with If-Match, delete (everything it owns goes with it)', async () => {
    const created = await h.call('POST', '/v1/tenants', { token: admin, body: { slug: 'acme', name: 'ACME' } });
    assert.equal(created.status, 201);
    assert.equal(created.headers.get('location'), '/v1/tenants/acme');
    assert.equal((await h.call('POST', '/v1/tenants', { token: admin, body: { slug: 'acme', name: 'again' } })).body.code, 'already-exists');
    assert.equal((await h.call('POST', '/v1/tenants', { token: admin, body: { slug: 'Bad_Slug', name: 'x' } })).status, 422);
    const renamed = await h.call('PATCH', '/v1/tenants/acme', { token: admin, body: { name: 'ACME Corp' }, headers: { 'if-match': created.headers.get('etag')! } });
    assert.equal(renamed.status, 200, renamed.text);
    assert.equal(renamed.body.name, 'ACME Corp');
    assert.equal((await h.call('PATCH', '/v1/tenants/acme', { token: admin, body: { slug: 'other' }, headers: { 'if-match': renamed.headers.get('etag')! } })).status, 422);
    await h.call('POST', '/v1/tenants/acme/grants', { token: admin, body: { cidr: '203.0.113.0/24' } });
    assert.equal((await h.call('DELETE', '/v1/tenants/acme', { token: admin })).status, 204);
    assert.equal((await h.call('GET', '/v1/tenants/acme', { token: admin })).status, 404);
    // The grant went with the tenant: the space can be granted again.
    await h.call('POST', '/v1/tenants', { token: admin, body: { slug: 'beta', name: 'Beta' } });
    assert.equal((await h.call('POST', '/v1/tenants/beta/grants', { token: admin, body: { cidr: '203.0.113.0/24' } })).status, 201);
    const platformAudit = await h.call('GET', '/v1/audit', { token: admin });
    assert.deepEqual(platformAudit.body.items.filter((e: { resourceId: string }) => e.resourceId === 'acme').map((e: { action: string }) => e.action), ['delete', 'update', 'create']);
    assert.equal(platformAudit.body.items[0].actor, 'ops@example.com');
  });
});

describe('grants', () => {
  test('canonical CIDRs only, exclusive across tenants (IPv4 and IPv6)', async () => {
    await h.call('POST', '/v1/tenants', { token: admin, body: { slug: 'g1', name: 'G1' } });
    await h.call('POST', '/v1/tenants', { token: admin, body: { slug: 'g2', name: 'G2' } });
    const v6 = await h.call('POST', '/v1/tenants/g1/grants', { token: admin, body: { cidr: '2001:DB8:100::/48' } });
    assert.equal(v6.status, 201);
    assert.equal(v6.body.cidr, '2001:db8:100::/48');
    const hostBits = await h.call('POST', '/v1/tenants/g1/grants', { token: admin, body: { cidr: '198.51.100.7/24' } });
    assert.equal(hostBits.status, 422);
    assert.match(hostBits.body.errors[0].message, /198\.51\.100\.0\/24/);
    assert.equal((await h.call('POST', '/v1/tenants/g2/grants', { token: admin, body: { cidr: '2001:db8:100:5::/64' } })).body.code, 'address-overlap');
    const list = await h.call('GET', '/v1/tenants/g1/grants', { token: admin });
    assert.deepEqual(list.body.items.map((g: { cidr: string }) => g.cidr), ['2001:db8:100::/48']);
    assert.equal((await h.call('DELETE', `/v1/tenants/g1/grants/${v6.body.id}`, { token: admin })).status, 204);
    assert.equal((await h.call('DELETE', '/v1/tenants/g1/grants/not-a-uuid', { token: admin })).status, 404);
  });
});

describe('policy', () => {
  test('default until set; PUT validates and replaces; every change is audited', async () => {
    await h.call('POST', '/v1/tenants', { token: admin, body: { slug: 'pol', name: 'Pol' } });
    const initial = await h.call('GET', '/v1/tenants/pol/policy', { token: admin });
    assert.deepEqual(initial.body.allowedASNs, []);
    assert.deepEqual(initial.body.allowedBackends, ['metallb-native', 'metallb-frr', 'metallb-frr-k8s', 'frr', 'bird', 'gobgp']);
    const bad = await h.call('PUT', '/v1/tenants/pol/policy', { token: admin, body: { allowedASNs: [{ from: 65000, to: 64000 }], allowedPeerCIDRs: ['10.0.0.1/8'], extra: 1 } });
    assert.equal(bad.status, 422);
    assert.ok(bad.body.errors.length >= 2, JSON.stringify(bad.body.errors));
    const put = await h.call('PUT', '/v1/tenants/pol/policy', { token: admin, body: { allowedASNs: [{ from: 64512, to: 65534 }], requireBFD: true } });
    assert.equal(put.status, 200);
    assert.equal(put.body.requireBFD, true);
    const stale = await h.call('PUT', '/v1/tenants/pol/policy', { token: admin, body: {}, headers: { 'if-match': initial.headers.get('etag')! } });
    assert.equal(stale.status, 412);
    const audit = await h.call('GET', '/v1/tenants/pol/audit', { token: admin });
    assert.equal(audit.body.items[0].resource, 'policy');
    assert.equal(audit.body.items[0].after.requireBFD, true);
    assert.ok(audit.body.items[0].requestId);
  });
});
