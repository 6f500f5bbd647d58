// API tokens issued and revoked through the API: shown once, stored as a hash, bound to tenant ids,
// capped in lifetime, revocable at once on every instance, and never above the issuer's own rank.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import { createApp } from '../../api/app.ts';
import { listenForInvalidations, notifiedPollCaches } from '../../api/caches.ts';
import { resultRows } from '../../db/client.ts';
import { withPlatform } from '../../db/tenant.ts';
import { PUBLIC_URL, seedApiTenant, startHarness, type Harness } from '../helpers/api.ts';

let h: Harness;
let admin: string;
before(async () => {
  h = await startHarness();
  admin = await h.token({ sub: 'ops', role: 'platform-admin' });
});
after(() => h.close());

const issue = (token: string, body: unknown) => h.call('POST', '/v1/tokens', { token, body });

describe('issued tokens', () => {
  test('shown once, stored as its hash, listed with name, role, tenant, times; used, then revoked', async () => {
    const t = await seedApiTenant(h, 'tok');
    const issued = await issue(admin, { name: 'ci-deployer', role: 'tenant-admin', tenant: 'tok', ttl: '7d' });
    assert.equal(issued.status, 201, issued.text);
    assert.match(issued.body.token, /^mft_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/);
    assert.equal(issued.body.tenant, 'tok');
    assert.equal(Math.round((Date.parse(issued.body.expiresAt) - Date.parse(issued.body.createdAt)) / 86_400_000), 7);
    const stored = resultRows<Record<string, unknown>>(await withPlatform(h.database.db, (tx) => tx.execute(sql`select * from api_tokens where id = ${issued.body.id}`)))[0]!;
    // mft_<32 hex id>_<43 base64url secret>: the secret itself may hold '_', so cut by position, not by '_'.
    const secret = (issued.body.token as string).slice('mft_'.length + 32 + 1);
    assert.equal(secret.length, 43);
    assert.ok(!JSON.stringify(stored).includes(secret), 'the secret is not stored');

    const token = issued.body.token as string;
    assert.equal((await h.call('GET', `/v1/tenants/${t.slug}/pools`, { token })).status, 200);
    const list = await h.call('GET', '/v1/tokens', { token: admin });
    const listed = list.body.items.find((i: { id: string }) => i.id === issued.body.id);
    assert.deepEqual(Object.keys(listed).sort(), ['createdAt', 'createdBy', 'expiresAt', 'id', 'lastUsedAt', 'name', 'revokedAt', 'role', 'tenant']);
    assert.ok(listed.lastUsedAt, 'last used is recorded');
    assert.equal(listed.token, undefined);

    assert.equal((await h.call('DELETE', `/v1/tokens/${issued.body.id}`, { token: admin })).status, 204);
    assert.equal((await h.call('GET', `/v1/tenants/${t.slug}/pools`, { token })).status, 401, 'revoked: refused at once');
    assert.equal((await h.call('DELETE', `/v1/tokens/${issued.body.id}`, { token: admin })).body.code, 'already-revoked');
  });

  test('a tenant admin issues tokens for its own tenant up to its own role; a viewer none', async () => {
    const t = await seedApiTenant(h, 'own');
    const other = await seedApiTenant(h, 'theirs');
    assert.equal((await issue(t.tenantAdmin, { name: 'reader', role: 'tenant-viewer', tenant: 'own' })).status, 201);
    assert.equal((await issue(t.tenantAdmin, { name: 'peer-admin', role: 'tenant-admin', tenant: 'own' })).status, 201);
    assert.equal((await issue(t.tenantAdmin, { name: 'escalate', role: 'platform-admin' })).status, 403);
    assert.equal((await issue(t.tenantAdmin, { name: 'elsewhere', role: 'tenant-viewer', tenant: other.slug })).status, 404, 'another tenant is not even seen');
    assert.equal((await issue(t.viewer, { name: 'nope', role: 'tenant-viewer', tenant: 'own' })).status, 403);
    const mine = await h.call('GET', '/v1/tokens', { token: t.tenantAdmin });
    assert.ok(mine.body.items.length >= 2 && mine.body.items.every((i: { tenant: string }) => i.tenant === 'own'), 'a tenant admin lists its tenant\'s tokens only');
    const theirs = (await h.call('GET', '/v1/tokens', { token: admin })).body.items.find((i: { tenant: string }) => i.tenant === other.slug);
    assert.equal((await h.call('DELETE', `/v1/tokens/${theirs.id}`, { token: t.tenantAdmin })).status, 404);
  });

  test('a token issued by an API token never outlives it: capped without ttl, refused beyond it', async () => {
    await seedApiTenant(h, 'short');
    const parent = await issue(admin, { name: 'short-lived', role: 'tenant-admin', tenant: 'short', ttl: '1h' });
    assert.equal(parent.status, 201, parent.text);
    const byParent = (body: Record<string, unknown>) => issue(parent.body.token, { role: 'tenant-viewer', tenant: 'short', ...body });
    const capped = await byParent({ name: 'child-default' });
    assert.equal(capped.status, 201, capped.text);
    assert.ok(Date.parse(capped.body.expiresAt) <= Date.parse(parent.body.expiresAt), 'ends with its issuer');
    const longer = await byParent({ name: 'child-long', ttl: '2h' });
    assert.equal(longer.status, 422);
    assert.equal(longer.body.errors[0].code, 'ttl-exceeds-issuer');
    assert.equal((await byParent({ name: 'child-short', ttl: '30m' })).status, 201);
  });

  test('the lifetime is capped (default 90 days); tenant roles need a tenant, platform-admin none', async () => {
    await seedApiTenant(h, 'cap');
    const long = await issue(admin, { name: 'forever', role: 'tenant-viewer', tenant: 'cap', ttl: '91d' });
    assert.equal(long.status, 422);
    assert.equal(long.body.errors[0].code, 'invalid-ttl');
    const defaulted = await issue(admin, { name: 'default', role: 'tenant-viewer', tenant: 'cap' });
    assert.equal(Math.round((Date.parse(defaulted.body.expiresAt) - Date.parse(defaulted.body.createdAt)) / 86_400_000), 90);
    assert.equal((await issue(admin, { name: 'x', role: 'tenant-viewer' })).status, 422);
    assert.equal((await issue(admin, { name: 'x', role: 'platform-admin', tenant: 'cap' })).status, 422);
  });

  test('a deleted tenant\'s token does not work for a new tenant with the same slug', async () => {
    await seedApiTenant(h, 'reborn');
    const old = (await issue(admin, { name: 'old', role: 'tenant-admin', tenant: 'reborn' })).body.token as string;
    assert.equal((await h.call('GET', '/v1/tenants/reborn/pools', { token: old })).status, 200);
    assert.equal((await h.call('DELETE', '/v1/tenants/reborn', { token: admin })).status, 204);
    assert.equal((await h.call('POST', '/v1/tenants', { token: admin, body: { slug: 'reborn', name: 'New owner' } })).status, 201);
    assert.equal((await h.call('GET', '/v1/tenants/reborn/pools', { token: old })).status, 401);
    assert.equal((await h.call('GET', '/v1/tenants', { token: old })).status, 401);
  });

  test('revocation on one instance is refused at once on another (notifications)', async () => {
    const caches = notifiedPollCaches();
    const stop = await listenForInvalidations(h.database, caches);
    const second = createApp({ db: h.database.db, secretKey: h.secretKey, auth: h.auth, log: () => {}, publicUrl: PUBLIC_URL, caches });
    try {
      const issued = await issue(admin, { name: 'roaming', role: 'platform-admin' });
      const use = async () => (await second.request('/v1/tenants', { headers: { authorization: `Bearer ${issued.body.token}` } })).status;
      assert.equal(await use(), 200);
      assert.equal(await use(), 200, 'cached on the second instance');
      assert.equal((await h.call('DELETE', `/v1/tokens/${issued.body.id}`, { token: admin })).status, 204);
      const since = Date.now();
      while ((await use()) !== 401) {
        assert.ok(Date.now() - since < 1_000, 'the second instance still accepts a revoked token');
        await new Promise((r) => setTimeout(r, 5));
      }
    } finally {
      await stop?.();
    }
  });

  test('a token may revoke itself', async () => {
    const issued = await issue(admin, { name: 'self', role: 'platform-admin' });
    assert.equal((await h.call('DELETE', `/v1/tokens/${issued.body.id}`, { token: issued.body.token })).status, 204);
    assert.equal((await h.call('GET', '/v1/tokens', { token: issued.body.token })).status, 401);
  });
});
