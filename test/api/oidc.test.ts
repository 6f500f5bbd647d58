// An external identity provider: tokens from its JWKS (served here on loopback) are accepted
// with the configured role and tenant claims; its other checks hold as for the server's tokens.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createApp } from '../../api/app.ts';
import { generateSigningKeyJwk, importSigningKey, OIDC_MAX_LIFETIME_SECONDS } from '../../api/auth.ts';
import { generateSecretKeyText, importSecretKey } from '../../db/secrets.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/db.ts';

let server: Server;
let database: TestDatabase;
let app: ReturnType<typeof createApp>;
let idpKey: CryptoKey;
const ISSUER = 'https://idp.example.test/realms/ops';

before(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  idpKey = pair.privateKey;
  const jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'idp-1', alg: 'ES256', use: 'sig' }] };
  server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(req.url === '/jwks' ? jwks : {}));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  database = await openTestDatabase();
  app = createApp({
    db: database.db, secretKey: await importSecretKey(generateSecretKeyText()), log: () => {}, publicUrl: 'http://metalfleet.test',
    auth: {
      signingKey: await importSigningKey(await generateSigningKeyJwk()),
      oidc: { issuer: ISSUER, audience: 'metalfleet-prod', jwksUrl: `http://127.0.0.1:${port}/jwks`, roleClaim: 'mf_role', tenantClaim: 'mf_tenant' },
    },
  });
});
after(async () => {
  server.close();
  await database.close();
});

const idpToken = (claims: Record<string, unknown>, opts: { aud?: string; exp?: number; iat?: number } = {}) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'idp-1' }).setIssuer(ISSUER).setAudience(opts.aud ?? 'metalfleet-prod')
    .setSubject('alice@example.com').setIssuedAt(opts.iat ?? Math.floor(Date.now() / 1000))
    .setExpirationTime(opts.exp ?? Math.floor(Date.now() / 1000) + 300).sign(idpKey);

const call = async (token: string) => (await app.request('/v1/tenants', { headers: { authorization: `Bearer ${token}` } })).status;

test('a provider token with the role claim is accepted', async () => {
  assert.equal(await call(await idpToken({ mf_role: 'platform-admin' })), 200);
});

test('provider tokens without a valid role, for another audience, or expired are refused', async () => {
  assert.equal(await call(await idpToken({})), 401);
  assert.equal(await call(await idpToken({ mf_role: 'tenant-admin' })), 401, 'a tenant role needs the tenant claim');
  assert.equal(await call(await idpToken({ mf_role: 'platform-admin' }, { aud: 'other-app' })), 401);
  assert.equal(await call(await idpToken({ mf_role: 'platform-admin' }, { exp: Math.floor(Date.now() / 1000) - 600 })), 401);
});

test('provider tokens are people\'s: at most a day long, and not issued in the future', async () => {
  const now = Math.floor(Date.now() / 1000);
  assert.equal(await call(await idpToken({ mf_role: 'platform-admin' }, { exp: now + OIDC_MAX_LIFETIME_SECONDS - 60 })), 200);
  assert.equal(await call(await idpToken({ mf_role: 'platform-admin' }, { exp: now + 30 * 86_400 })), 401, 'a month-long token');
  assert.equal(await call(await idpToken({ mf_role: 'platform-admin' }, { iat: now + 3600, exp: now + 3900 })), 401, 'issued an hour from now');
});

test('a symmetric token claiming the provider as issuer is refused', async () => {
  const forged = await new SignJWT({ mf_role: 'platform-admin' }).setProtectedHeader({ alg: 'HS256', kid: 'idp-1' }).setIssuer(ISSUER)
    .setAudience('metalfleet-prod').setSubject('mallory').setIssuedAt().setExpirationTime('5m').sign(new TextEncoder().encode('guess'));
  assert.equal(await call(forged), 401);
});

test('the console signs in with a provider token: its tenant claim names the tenant, and only that one', async () => {
  const admin = await idpToken({ mf_role: 'platform-admin' });
  for (const slug of ['oidc-a', 'oidc-b']) {
    const res = await app.request('/v1/tenants', { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ slug, name: slug }) });
    assert.equal(res.status, 201);
  }
  const signIn = async (token: string) => app.request('/sign-in', { method: 'POST', body: new URLSearchParams({ token }),
    headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  const res = await signIn(await idpToken({ mf_role: 'tenant-admin', mf_tenant: 'oidc-a' }));
  assert.equal(res.status, 303);
  const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
  const page = async (path: string) => app.request(path, { headers: { cookie } });
  assert.equal((await page('/')).headers.get('location'), '/t/oidc-a');
  assert.equal((await page('/t/oidc-a')).status, 200);
  assert.equal((await page('/t/oidc-b')).status, 404);
  assert.equal((await signIn(await idpToken({ mf_role: 'tenant-admin', mf_tenant: 'no-such-tenant' }))).status, 401);
  assert.equal((await signIn(await idpToken({ mf_role: 'platform-admin' }, { aud: 'other-app' }))).status, 401);
});
