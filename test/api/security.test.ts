// Security of every route, enumerated from the OpenAPI document so that a new route is covered
// without editing this file: another tenant's URLs answer 404 for every method, a viewer's writes
// answer 403, and forged or stale tokens answer 401.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT, base64url } from 'jose';
import { seedApiTenant, startHarness, type Harness } from '../helpers/api.ts';

let h: Harness;
let a: Awaited<ReturnType<typeof seedApiTenant>>;
let b: Awaited<ReturnType<typeof seedApiTenant>>;
let routes: Array<{ method: string; path: string }>;

const OBJECTS: Record<string, string> = {
  clusters: 'edge', pools: 'web', peers: 'tor', 'bfd-profiles': 'fast', communities: 'no-adv', 'bgp-advertisements': 'announce', 'l2-advertisements': 'announce',
};

async function seedObjects(t: typeof a, v4: string) {
  const call = (path: string, body: unknown) => h.call('POST', `/v1/tenants/${t.slug}/${path}`, { token: t.tenantAdmin, body });
  const results = [
    await call('clusters', { name: 'edge', backend: 'frr' }),
    await call('pools', { name: 'web', cidrs: [v4.replace('/16', '/24')] }),
    await call('bfd-profiles', { name: 'fast' }),
    await call('peers', { name: 'tor', myASN: 64512, peerASN: 64513, peerAddress: '10.0.0.1' }),
    await call('communities', { name: 'no-adv', value: '65535:65282' }),
    await call('bgp-advertisements', { name: 'announce' }),
    await call('l2-advertisements', { name: 'announce', clusterSelector: { matchLabels: { l2: 'yes' } } }),
  ];
  for (const r of results) assert.equal(r.status, 201, r.text);
  // A rollout (number 1) for the rollout routes: a policy, then a change to the cluster's config.
  const policy = await h.call('PUT', `/v1/tenants/${t.slug}/rollout-policy`, { token: t.tenantAdmin, body: { policy: { waves: [{ name: 'all' }] } } });
  assert.equal(policy.status, 200, policy.text);
  assert.equal((await call('peers', { name: 'tor-b', myASN: 64512, peerASN: 64513, peerAddress: '10.0.0.2' })).status, 201);
}

before(async () => {
  h = await startHarness();
  a = await seedApiTenant(h, 'alpha');
  b = await seedApiTenant(h, 'bravo');
  await seedObjects(a, a.v4Grant);
  await seedObjects(b, b.v4Grant);
  const doc = (await h.call('GET', '/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
  routes = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => ({ method: method.toUpperCase(), path })));
});
after(() => h.close());

/** A concrete URL of tenant `slug` for an OpenAPI path template. */
async function concrete(path: string, slug: string, token: string): Promise<string> {
  let url = path.replace('{tenant}', slug);
  const collection = /\/v1\/tenants\/[^/]+\/([^/]+)\/\{name\}/.exec(path)?.[1];
  if (collection) url = url.replace('{name}', OBJECTS[collection]!);
  url = url.replace('{revision}', '1').replace('{rollout}', '1').replace('{token}', crypto.randomUUID()).replace('{agent}', crypto.randomUUID());
  if (url.includes('{grant}')) {
    const grants = await h.call('GET', `/v1/tenants/${slug}/grants`, { token });
    url = url.replace('{grant}', grants.body.items[0].id);
  }
  return url;
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

describe('tenant isolation over every route', () => {
  test('the document has the tenant routes this test relies on', () => {
    assert.ok(routes.filter((r) => r.path.startsWith('/v1/tenants/{tenant}')).length >= 35, `${routes.length}`);
  });

  test("a tenant-admin of A gets 404 for every URL of B, whatever the method, and B's data is unchanged", async () => {
    const adminToken = a.admin;
    const before = await h.call('GET', `/v1/tenants/${b.slug}/audit?limit=500`, { token: adminToken });
    for (const route of routes.filter((r) => r.path.startsWith('/v1/tenants/{tenant}'))) {
      const url = await concrete(route.path, b.slug, b.admin);
      const res = await h.call(route.method, url, { token: a.tenantAdmin, body: WRITES.has(route.method) && route.method !== 'DELETE' ? {} : undefined, headers: { 'if-match': '*' } });
      assert.equal(res.status, 404, `${route.method} ${url}: ${res.status} ${res.text}`);
      assert.equal(res.headers.get('content-type'), 'application/problem+json');
    }
    const afterAudit = await h.call('GET', `/v1/tenants/${b.slug}/audit?limit=500`, { token: adminToken });
    assert.equal(afterAudit.body.items.length, before.body.items.length, 'nothing happened in tenant B');
  });

  test('a tenant that does not exist answers exactly as another tenant does', async () => {
    const other = await h.call('GET', `/v1/tenants/${b.slug}/pools`, { token: a.tenantAdmin });
    const missing = await h.call('GET', '/v1/tenants/no-such-tenant/pools', { token: a.tenantAdmin });
    assert.equal(other.status, missing.status);
    assert.equal(other.body.code, missing.body.code);
    assert.equal(other.body.title, missing.body.title);
  });

  test('a tenant token lists only its own tenant', async () => {
    const res = await h.call('GET', '/v1/tenants', { token: a.viewer });
    assert.deepEqual(res.body.items.map((t: { slug: string }) => t.slug), ['alpha']);
  });
});

describe('roles', () => {
  test('a tenant-viewer gets 403 on every write to its own tenant and can read everything', async () => {
    for (const route of routes.filter((r) => r.path.startsWith('/v1/tenants/{tenant}'))) {
      const url = await concrete(route.path, a.slug, a.admin);
      const res = await h.call(route.method, url, { token: a.viewer, body: WRITES.has(route.method) && route.method !== 'DELETE' ? {} : undefined, headers: { 'if-match': '*' } });
      if (WRITES.has(route.method)) assert.equal(res.status, 403, `${route.method} ${url}: ${res.text}`);
      else assert.equal(res.status, 200, `${route.method} ${url}: ${res.text}`);
    }
  });

  test('platform-level actions need a platform-admin: tenant-admins get 403 on their own tenant', async () => {
    const checks: Array<[string, string, unknown]> = [
      ['POST', '/v1/tenants', { slug: 'new', name: 'New' }],
      ['PATCH', `/v1/tenants/${a.slug}`, { name: 'x' }],
      ['DELETE', `/v1/tenants/${a.slug}`, undefined],
      ['POST', `/v1/tenants/${a.slug}/grants`, { cidr: '192.0.2.0/24' }],
      ['PUT', `/v1/tenants/${a.slug}/policy`, {}],
      ['GET', '/v1/audit', undefined],
    ];
    for (const [method, path, body] of checks) {
      const res = await h.call(method, path, { token: a.tenantAdmin, body, headers: { 'if-match': '*' } });
      assert.equal(res.status, 403, `${method} ${path}: ${res.text}`);
    }
  });
});

describe('tokens', () => {
  const unsigned = (payload: Record<string, unknown>, header: Record<string, unknown>) =>
    `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(payload))}.`;
  const claims = () => ({ iss: 'metalfleet', aud: 'metalfleet', sub: 'mallory', role: 'platform-admin', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 600 });
  const serverSigned = (extra: Record<string, unknown> = {}) =>
    new SignJWT({ ...claims(), ...extra }).setProtectedHeader({ alg: 'EdDSA', kid: h.auth.signingKey.kid }).sign(h.auth.signingKey.privateKey);

  const cases: Array<[string, () => Promise<string>]> = [
    ['no token', async () => ''],
    ['not a token', async () => 'Bearer hello'],
    ['a scheme other than Bearer', async () => `Basic ${btoa('admin:admin')}`],
    ['alg none', async () => `Bearer ${unsigned(claims(), { alg: 'none', typ: 'JWT' })}`],
    ['HS256 signed with the public key', async () => {
      const secret = new TextEncoder().encode(JSON.stringify(h.auth.signingKey.publicJwk));
      return `Bearer ${await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256' }).sign(secret)}`;
    }],
    ['HS256 signed with the public key x value', async () => {
      const secret = base64url.decode(h.auth.signingKey.publicJwk.x!);
      return `Bearer ${await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256' }).sign(secret)}`;
    }],
    // The server's key signs configs only: a JWT it signed is no token (whoever holds the key cannot mint one).
    ['a JWT signed with the server key', async () => `Bearer ${await serverSigned()}`],
    ['an API token with another secret', async () => {
      const real = await h.token({ sub: 'x', role: 'platform-admin' });
      return `Bearer ${real.slice(0, -4)}${real.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    }],
    ['an API token of an id that was never issued', async () => `Bearer mft_${'0'.repeat(32)}_${'A'.repeat(43)}`],
    ['an expired API token', async () => {
      const token = await h.token({ sub: 'x', role: 'platform-admin' }, 1);
      await new Promise((r) => setTimeout(r, 1100));
      return `Bearer ${token}`;
    }],
  ];
  for (const [name, make] of cases) {
    test(`${name} → 401 problem+json`, async () => {
      const authorization = await make();
      const res = await h.call('GET', '/v1/tenants', { headers: authorization ? { authorization } : {} });
      assert.equal(res.status, 401, res.text);
      assert.equal(res.headers.get('content-type'), 'application/problem+json');
      assert.equal(res.body.code, 'unauthorized');
      assert.equal(res.headers.get('x-request-id'), res.body.requestId);
    });
  }

  test('the Bearer scheme is case-insensitive (RFC 9110)', async () => {
    const token = await h.token({ sub: 'x', role: 'platform-admin' });
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      assert.equal((await h.call('GET', '/v1/tenants', { headers: { authorization: `${scheme} ${token}` } })).status, 200, scheme);
    }
  });

  test('the public key is served as a JWK set, without the private part', async () => {
    const res = await h.call('GET', '/.well-known/jwks.json');
    assert.equal(res.status, 200);
    assert.equal(res.body.keys.length, 1);
    assert.equal(res.body.keys[0].kid, h.auth.signingKey.kid);
    assert.equal(res.body.keys[0].d, undefined);
  });
});
