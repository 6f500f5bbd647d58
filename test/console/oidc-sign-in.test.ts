// The console's redirect sign-in against a real OpenID Provider (panva's oidc-provider on
// loopback): the code flow with PKCE followed by hand (each redirect, each cookie), landing signed
// in with the provider's role and tenant claims; and what is refused: a state that is not this
// browser's, a callback replayed, the provider's error, an account without a role or with an
// unknown tenant, a sign-in older than 10 minutes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createApp } from '../../api/app.ts';
import type { OidcConfig } from '../../api/auth.ts';
import { readOidcEnv, signInWithProviderTokens } from '../../api/oidc-login.ts';
import { ApiError } from '../../api/errors.ts';
import { seedDemo } from '../../cli/demo-seed.ts';
import { PUBLIC_URL, startHarness, type Harness } from '../helpers/api.ts';
import { Jar, loginAtProvider, OIDC_CLIENT_ID, startOidcProvider, type TestProvider } from '../helpers/oidc-provider.ts';

let h: Harness;
let idp: TestProvider;
let oidc: OidcConfig;
let clock: Date | undefined;
let app: ReturnType<typeof createApp>;

before(async () => {
  h = await startHarness();
  const admin = await h.token({ sub: 'admin', role: 'platform-admin' });
  await seedDemo(async (method, path, body, headers) => {
    const r = await h.call(method, path, { token: admin, body, headers });
    if (r.status >= 400) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
    return r.body;
  });
  idp = await startOidcProvider(`${PUBLIC_URL}/sign-in/oidc/callback`);
  oidc = readOidcEnv({
    METALFLEET_OIDC_ISSUER: idp.issuer, METALFLEET_OIDC_AUDIENCE: OIDC_CLIENT_ID, METALFLEET_OIDC_JWKS_URL: `${idp.issuer}/jwks`,
    METALFLEET_OIDC_CLIENT_ID: OIDC_CLIENT_ID,
  })!;
  app = createApp({
    db: h.database.db, secretKey: h.secretKey, auth: { ...h.auth, oidc }, publicUrl: PUBLIC_URL, log: () => {},
    now: () => clock ?? new Date(),
  });
});
after(async () => {
  await idp?.close();
  await h?.close();
});

/** The console, in-process, with this browser's cookies. */
async function consoleGet(jar: Jar, path: string, on = app): Promise<Response> {
  const res = await on.request(path, { headers: { cookie: jar.header() } });
  jar.take(res);
  return res;
}

/** Start at the console's sign-in button, log in at the provider; the callback URL it sends back to. */
async function startSignIn(jar: Jar, login: string, on = app, issuer = idp.issuer): Promise<URL> {
  const page = await consoleGet(jar, '/sign-in', on);
  assert.match(await page.text(), new RegExp(`href="/sign-in/oidc">Sign in with 127\\.0\\.0\\.1:\\d+<`));
  const start = await consoleGet(jar, '/sign-in/oidc', on);
  assert.equal(start.status, 302);
  const authorizationUrl = new URL(start.headers.get('location')!);
  assert.equal(authorizationUrl.origin, issuer);
  assert.equal(authorizationUrl.searchParams.get('code_challenge_method'), 'S256');
  assert.equal(authorizationUrl.searchParams.get('redirect_uri'), `${PUBLIC_URL}/sign-in/oidc/callback`);
  const pendingCookie = start.headers.getSetCookie().find((c) => c.startsWith('metalfleet-oidc='))!;
  assert.match(pendingCookie, /HttpOnly/);
  assert.match(pendingCookie, /SameSite=Lax/);
  return loginAtProvider(authorizationUrl.href, login, PUBLIC_URL);
}

const callbackPath = (url: URL) => `${url.pathname}${url.search}`;

test('the code flow signs in with the provider\'s role: the callback answers a page that moves on to /', async () => {
  const jar = new Jar();
  const callback = await startSignIn(jar, 'alice');
  assert.ok(callback.searchParams.get('code'), callback.href);
  const done = await consoleGet(jar, callbackPath(callback));
  const body = await done.text();
  assert.equal(done.status, 200, body);
  assert.match(body, /<meta http-equiv="refresh" content="0; url=\/"/);
  assert.match(body, /<a href="\/">Continue to the console<\/a>/);
  const session = done.headers.getSetCookie().find((c) => c.startsWith('metalfleet-session='))!;
  assert.match(session, /HttpOnly/);
  assert.match(session, /SameSite=Strict/);
  assert.ok(!jar.has('metalfleet-oidc'), 'the pending sign-in is used up');
  const fleet = await consoleGet(jar, '/');
  const text = await fleet.text();
  assert.equal(fleet.status, 200, text);
  assert.match(text, /<h1>Fleet<\/h1>/);
  assert.match(text, /alice \(platform-admin\)/);
});

test('with METALFLEET_OIDC_AUDIENCE naming the API, the console calls it with the provider\'s JWT access token', async () => {
  const api = 'urn:metalfleet:api';
  const atIdp = await startOidcProvider(`${PUBLIC_URL}/sign-in/oidc/callback`, { accessTokenAudience: api });
  try {
    const atApp = createApp({
      db: h.database.db, secretKey: h.secretKey, publicUrl: PUBLIC_URL, log: () => {},
      auth: { ...h.auth, oidc: readOidcEnv({
        METALFLEET_OIDC_ISSUER: atIdp.issuer, METALFLEET_OIDC_AUDIENCE: api, METALFLEET_OIDC_JWKS_URL: `${atIdp.issuer}/jwks`,
        METALFLEET_OIDC_CLIENT_ID: OIDC_CLIENT_ID,
      })! },
    });
    const jar = new Jar();
    const done = await consoleGet(jar, callbackPath(await startSignIn(jar, 'vera', atApp, atIdp.issuer)), atApp);
    assert.equal(done.status, 200, await done.text());
    const tenant = await consoleGet(jar, '/t/demo', atApp);
    assert.equal(tenant.status, 200);
    assert.match(await tenant.text(), /vera \(tenant-viewer\)/);
  } finally {
    await atIdp.close();
  }
});

test('under TLS the pending sign-in cookie is __Host- and Secure (still SameSite=Lax)', async () => {
  const start = await app.request('https://localhost/sign-in/oidc');
  assert.equal(start.status, 302);
  assert.match(start.headers.getSetCookie().join('\n'), /^__Host-metalfleet-oidc=[^;]+;.*Secure.*SameSite=Lax|^__Host-metalfleet-oidc=[^;]+;.*SameSite=Lax.*Secure/m);
});

test('a tenant-viewer signed in by the provider sees its tenant only, and no write controls', async () => {
  const jar = new Jar();
  const callback = await startSignIn(jar, 'vera');
  assert.equal((await consoleGet(jar, callbackPath(callback))).status, 200);
  assert.equal((await consoleGet(jar, '/')).headers.get('location'), '/t/demo');
  const cluster = await consoleGet(jar, '/t/demo/clusters/edge-frr');
  const text = await cluster.text();
  assert.equal(cluster.status, 200, text);
  assert.match(text, /vera \(tenant-viewer\)/);
  assert.doesNotMatch(text, /Create enrollment token|Roll back to|>Revoke</);
  assert.equal((await consoleGet(jar, '/t/demo-native')).status, 404);
});

test('a callback replayed is refused: the pending sign-in is gone, and the provider takes a code once', async () => {
  const jar = new Jar();
  const callback = await startSignIn(jar, 'alice');
  const cookiesBefore = jar.header();
  assert.equal((await consoleGet(jar, callbackPath(callback))).status, 200);
  // The same browser again: no sign-in under way.
  const again = await consoleGet(jar, callbackPath(callback));
  assert.equal(again.status, 400);
  assert.match(await again.text(), /Sign-in not in progress/);
  // With the pending cookie copied from before: the provider refuses the used code.
  const copied = await app.request(callbackPath(callback), { headers: { cookie: cookiesBefore } });
  const text = await copied.text();
  assert.equal(copied.status, 400, text);
  assert.match(text, /did not accept the sign-in code \(invalid_grant\)/);
  assert.ok(!copied.headers.getSetCookie().some((c) => c.startsWith('metalfleet-session=')));
});

test('an answer for another browser\'s sign-in (state mismatch) or without any is refused', async () => {
  const victim = new Jar();
  const attacker = new Jar();
  const attackersCallback = await startSignIn(attacker, 'alice');
  await startSignIn(victim, 'vera');
  const res = await consoleGet(victim, callbackPath(attackersCallback));
  const text = await res.text();
  assert.equal(res.status, 400, text);
  assert.match(text, /state mismatch/);
  const none = await app.request(callbackPath(attackersCallback));
  assert.equal(none.status, 400);
  assert.match(await none.text(), /Sign-in not in progress/);
});

test('the provider\'s error is shown escaped, with 401', async () => {
  const jar = new Jar();
  const start = await consoleGet(jar, '/sign-in/oidc');
  const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
  const res = await consoleGet(jar, `/sign-in/oidc/callback?${new URLSearchParams({ state, error: 'access_denied', error_description: '<script>x</script>' })}`);
  const text = await res.text();
  assert.equal(res.status, 401);
  assert.match(text, /the identity provider answered access_denied: &lt;script&gt;x&lt;\/script&gt;/);
  assert.doesNotMatch(text, /<script>x/);
});

test('an account without the role claim, or naming an unknown tenant, is refused with a clear message', async () => {
  for (const [login, message] of [['nora', /carries no valid metalfleet_role claim/], ['ghost', /names no tenant this control plane has/]] as const) {
    const jar = new Jar();
    const res = await consoleGet(jar, callbackPath(await startSignIn(jar, login)));
    const text = await res.text();
    assert.equal(res.status, 401, text);
    assert.match(text, message);
    assert.ok(!res.headers.getSetCookie().some((c) => c.startsWith('metalfleet-session=')), login);
  }
});

test('a sign-in expires after 10 minutes', async () => {
  const jar = new Jar();
  const callback = await startSignIn(jar, 'alice');
  clock = new Date(Date.now() + 11 * 60_000);
  try {
    const res = await consoleGet(jar, callbackPath(callback));
    assert.equal(res.status, 400);
    assert.match(await res.text(), /Sign-in expired/);
  } finally {
    clock = undefined;
  }
});

test('the credential: the access token when the API takes it, else the ID token; the refusal that explains', async () => {
  const tried: string[] = [];
  const refuse = (detail: string) => new ApiError(401, 'unauthorized', 'Unauthorized', detail);
  const jwt = (aud: string) => `${btoa('{"alg":"none"}')}.${btoa(JSON.stringify({ aud })).replace(/=+$/, '')}.x`;
  const tokens = { accessToken: jwt(oidc.audience), idToken: jwt('other') };
  assert.equal(await signInWithProviderTokens(oidc, tokens, async (c) => { tried.push(c); return c; }), tokens.accessToken);
  assert.equal(await signInWithProviderTokens(oidc, { accessToken: 'opaque', idToken: tokens.idToken }, async (c) => {
    if (c === 'opaque') throw refuse('not a JWT');
    return c;
  }), tokens.idToken);
  await assert.rejects(signInWithProviderTokens(oidc, tokens, async (c) => { throw refuse(c === tokens.accessToken ? 'no role' : 'aud'); }), /no role/);
  await assert.rejects(signInWithProviderTokens(oidc, { accessToken: 'opaque', idToken: tokens.idToken },
    async (c) => { throw refuse(c === 'opaque' ? 'not a JWT' : 'no role in the ID token'); }), /no role in the ID token/);
});

test('METALFLEET_OIDC_CLIENT_ID: needs the issuer, https unless on loopback, and openid among the scopes', () => {
  const base = { METALFLEET_OIDC_ISSUER: 'https://idp.example', METALFLEET_OIDC_AUDIENCE: 'a', METALFLEET_OIDC_JWKS_URL: 'https://idp.example/jwks' };
  assert.equal(readOidcEnv(base)!.login, undefined, 'pasted tokens only');
  assert.deepEqual(readOidcEnv({ ...base, METALFLEET_OIDC_CLIENT_ID: 'c' })!.login, { clientId: 'c', scopes: 'openid profile email' });
  assert.deepEqual(readOidcEnv({ ...base, METALFLEET_OIDC_CLIENT_ID: 'c', METALFLEET_OIDC_CLIENT_SECRET: 's', METALFLEET_OIDC_SCOPES: ' openid  groups ' })!.login,
    { clientId: 'c', clientSecret: 's', scopes: 'openid groups' });
  assert.throws(() => readOidcEnv({ METALFLEET_OIDC_CLIENT_ID: 'c' }), /needs METALFLEET_OIDC_ISSUER/);
  assert.throws(() => readOidcEnv({ ...base, METALFLEET_OIDC_CLIENT_SECRET: 's' }), /CLIENT_SECRET needs METALFLEET_OIDC_CLIENT_ID/);
  assert.throws(() => readOidcEnv({ ...base, METALFLEET_OIDC_ISSUER: 'http://idp.example', METALFLEET_OIDC_CLIENT_ID: 'c' }), /https/);
  assert.throws(() => readOidcEnv({ ...base, METALFLEET_OIDC_CLIENT_ID: 'c', METALFLEET_OIDC_SCOPES: 'profile' }), /openid/);
});
