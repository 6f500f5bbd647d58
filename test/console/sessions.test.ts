// Console sessions without a browser: the cookie's attributes, sign-out, a revoked or expired
// token ending its session, one-time sign-in links, CSRF and origin checks, and the same roles
// and tenant isolation as the API (the console calls it).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createApp } from '../../api/app.ts';
import { startHarness, type Harness } from '../helpers/api.ts';
import { seedDemo } from '../../cli/demo-seed.ts';

let h: Harness;
let admin: string;
before(async () => {
  h = await startHarness();
  admin = await h.token({ sub: 'admin', role: 'platform-admin' });
  await seedDemo(async (method, path, body, headers) => {
    const r = await h.call(method, path, { token: admin, body, headers });
    if (r.status >= 400) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
    return r.body;
  });
});
after(() => h.close());

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

async function signIn(token: string, app = h.app, origin = 'http://localhost'): Promise<{ cookie: string; setCookie: string }> {
  const res = await app.request('/sign-in', { method: 'POST', body: new URLSearchParams({ token }), headers: { ...FORM, origin } });
  assert.equal(res.status, 303, await res.text());
  const setCookie = res.headers.get('set-cookie')!;
  return { cookie: setCookie.split(';')[0]!, setCookie };
}

const page = (path: string, cookie: string) => h.app.request(path, { headers: { cookie } });
const csrfOf = async (res: Response) => /name="csrf" value="([0-9a-f]{64})"/.exec(await res.text())![1]!;

test('a session cookie is HttpOnly and SameSite=Strict; Secure with a __Host- name under TLS', async () => {
  const { setCookie } = await signIn(admin);
  assert.match(setCookie, /^metalfleet-session=[A-Za-z0-9_-]{43};/);
  assert.match(setCookie, /HttpOnly/);
  assert.match(setCookie, /SameSite=Strict/);
  assert.doesNotMatch(setCookie, /Secure/);
  assert.ok(!setCookie.includes(admin), 'the token never reaches the browser');
  const res = await h.app.request('https://localhost/sign-in', { method: 'POST', body: new URLSearchParams({ token: admin }), headers: { ...FORM, origin: 'https://localhost' } });
  assert.match(res.headers.get('set-cookie')!, /^__Host-metalfleet-session=.*Secure/);
});

test('pages need a session; a wrong token is refused with 401', async () => {
  const res = await h.app.request('/t/demo');
  assert.equal(res.status, 303);
  assert.equal(res.headers.get('location'), '/sign-in');
  const bad = await h.app.request('/sign-in', { method: 'POST', body: new URLSearchParams({ token: 'mft_nope' }), headers: FORM });
  assert.equal(bad.status, 401);
});

test('sign-out deletes the session; a revoked token ends its session at the next page', async () => {
  const { cookie } = await signIn(admin);
  const fleet = await page('/', cookie);
  assert.equal(fleet.status, 200);
  const out = await h.app.request('/sign-out', { method: 'POST', body: new URLSearchParams({ csrf: await csrfOf(fleet) }), headers: { ...FORM, cookie } });
  assert.equal(out.status, 303);
  assert.equal((await page('/', cookie)).status, 303, 'signed out');

  const token = await h.token({ sub: 'short-lived', role: 'tenant-admin', tenant: 'demo' });
  const session = await signIn(token);
  assert.equal((await page('/t/demo', session.cookie)).status, 200);
  const id = (await h.call('GET', '/v1/tokens?limit=500', { token: admin })).body.items.find((t: { name: string }) => t.name === 'short-lived').id;
  assert.equal((await h.call('DELETE', `/v1/tokens/${id}`, { token: admin })).status, 204);
  const revoked = await page('/t/demo', session.cookie);
  assert.equal(revoked.status, 401);
  assert.equal((await page('/t/demo', session.cookie)).status, 303, 'the session went with the token');
});

test('an expired session is no session', async () => {
  let now = new Date();
  const app = createApp({ db: h.database.db, secretKey: h.secretKey, auth: h.auth, publicUrl: 'http://metalfleet.test', log: () => {}, now: () => now });
  const { cookie } = await signIn(admin, app);
  assert.equal((await app.request('/t/demo', { headers: { cookie } })).status, 200);
  now = new Date(now.getTime() + 13 * 3600_000);
  assert.equal((await app.request('/t/demo', { headers: { cookie } })).status, 303);
});

test('a sign-in link signs in once, and only with a bearer token', async () => {
  assert.equal((await h.app.request('/sign-in/links', { method: 'POST' })).status, 401);
  const created = await h.app.request('/sign-in/links', { method: 'POST', headers: { authorization: `Bearer ${admin}` } });
  assert.equal(created.status, 201);
  const link = new URL((await created.json() as { url: string }).url).searchParams.get('code')!;
  const shown = await h.app.request(`/sign-in/link?code=${link}`);
  assert.equal(shown.status, 200, 'a GET only shows a button');
  const follow = () => h.app.request('/sign-in/link', { method: 'POST', body: new URLSearchParams({ link }), headers: FORM });
  const first = await follow();
  assert.equal(first.status, 303);
  const cookie = first.headers.get('set-cookie')!.split(';')[0]!;
  assert.ok(!cookie.endsWith(link), 'the session id is not the link');
  assert.equal((await page('/', cookie)).status, 200);
  assert.equal((await follow()).status, 401, 'used up');
});

test('forms need the session CSRF token and this origin', async () => {
  const { cookie } = await signIn(admin);
  const csrf = await csrfOf(await page('/t/demo/clusters/edge-frr', cookie));
  const post = (body: Record<string, string>, origin?: string) => h.app.request('/t/demo/clusters/edge-frr/enrollment-tokens', {
    method: 'POST', body: new URLSearchParams(body), headers: { ...FORM, cookie, ...(origin ? { origin } : {}) },
  });
  assert.equal((await post({ ttl: '1h' })).status, 403, 'no CSRF token');
  assert.equal((await post({ ttl: '1h', csrf: 'f'.repeat(64) })).status, 403, 'another session\'s token');
  assert.equal((await post({ ttl: '1h', csrf }, 'https://evil.example')).status, 403, 'another origin');
  const created = await post({ ttl: '1h', csrf }, 'http://localhost');
  assert.equal(created.status, 200);
  const html = await created.text();
  assert.match(html, /<pre id="new-token" class="secret">[A-Za-z0-9_-]{43}<\/pre>/);

  // Revoking it: the form the page shows, then the token is listed as revoked (and never shown again).
  const revoke = /action="(\/t\/demo\/clusters\/edge-frr\/enrollment-tokens\/[0-9a-f-]{36}\/revoke)"/.exec(html)![1]!;
  const revoked = await h.app.request(revoke, { method: 'POST', body: new URLSearchParams({ csrf }), headers: { ...FORM, cookie, origin: 'http://localhost' } });
  assert.equal(revoked.status, 200);
  const after = await revoked.text();
  assert.match(after, /Enrollment token revoked\./);
  assert.match(after, /<span class="muted">revoked<\/span>/);
  assert.doesNotMatch(after, /id="new-token"/);
  const again = await h.app.request(revoke, { method: 'POST', body: new URLSearchParams({ csrf }), headers: { ...FORM, cookie, origin: 'http://localhost' } });
  assert.equal(again.status, 409, 'the API\'s answer: already revoked');
});

test('roles and tenants as the API has them: a viewer reads but cannot write; another tenant is 404', async () => {
  const viewer = await h.token({ sub: 'viewer', role: 'tenant-viewer', tenant: 'demo' });
  const { cookie } = await signIn(viewer);
  const cluster = await page('/t/demo/clusters/edge-frr', cookie);
  assert.equal(cluster.status, 200);
  const text = await cluster.text();
  assert.doesNotMatch(text, /Create enrollment token|Roll back to|>Revoke</);
  const csrf = /name="csrf" value="([0-9a-f]{64})"/.exec(text)![1]!;
  const forged = await h.app.request('/t/demo/clusters/edge-frr/rollback', { method: 'POST', body: new URLSearchParams({ csrf, revision: '1' }), headers: { ...FORM, cookie } });
  assert.equal(forged.status, 403);
  for (const path of ['/t/demo-native', '/t/demo-native/clusters/k8s-native', '/t/demo-native/change', '/t/demo/clusters/k8s-native']) {
    assert.equal((await page(path, cookie)).status, 404, path);
  }
  assert.equal((await page('/', cookie)).headers.get('location'), '/t/demo', 'a tenant token starts at its tenant');
  const fleetApi = await h.app.request('/t/demo-native/sessions', { headers: { cookie } });
  assert.equal(fleetApi.status, 404);
});

test('pages carry a Content-Security-Policy with no inline script', async () => {
  const { cookie } = await signIn(admin);
  const res = await page('/', cookie);
  assert.match(res.headers.get('content-security-policy')!, /script-src 'self'/);
  assert.equal(res.headers.get('x-frame-options'), 'DENY');
  assert.doesNotMatch(await res.text(), /<script>(?!<\/script>)/);
});

test('maintenance deletes sessions and links past their expiry, and only those', async () => {
  const { runMaintenance } = await import('../../worker/jobs.ts');
  const { cookie } = await signIn(admin);
  const created = await h.app.request('/sign-in/links', { method: 'POST', headers: { authorization: `Bearer ${admin}` } });
  const link = new URL((await created.json() as { url: string }).url).searchParams.get('code')!;
  const soon = await runMaintenance(h.database.db, { revisionsKept: 100, now: new Date(Date.now() + 60_000) });
  assert.equal(soon.consoleSessionsDeleted, 0);
  const later = await runMaintenance(h.database.db, { revisionsKept: 100, now: new Date(Date.now() + 20 * 60_000) });
  assert.ok(later.consoleSessionsDeleted >= 1, 'the link is gone after 15 minutes');
  assert.equal((await h.app.request('/sign-in/link', { method: 'POST', body: new URLSearchParams({ link }), headers: FORM })).status, 401);
  assert.equal((await page('/', cookie)).status, 200, 'a 12-hour session stays');
});

test('the tenant scope cannot read console sessions at all (they hold sealed credentials)', async () => {
  const { withTenant } = await import('../../db/tenant.ts');
  const { pgErrorInfo, resultRows } = await import('../../db/client.ts');
  const { sql } = await import('drizzle-orm');
  await signIn(admin);
  const tenantId = resultRows<{ id: string }>(await h.database.db.execute(sql`select id from tenants where slug = 'demo'`))[0]!.id;
  await assert.rejects(withTenant(h.database.db, tenantId, (tx) => tx.execute(sql`select * from console_sessions`)),
    (err) => pgErrorInfo(err)?.code === '42501');
});

test('bad input is answered, never a 500: a form that is no form, a document that is no document', async () => {
  const { cookie } = await signIn(admin);
  const csrf = await csrfOf(await page('/t/demo/change', cookie));
  const post = (path: string, body: BodyInit, type: string) => h.app.request(path, { method: 'POST', body, headers: { 'content-type': type, cookie } });
  assert.equal((await post('/t/demo/change/plan', '--x\r\nnonsense', 'multipart/form-data; boundary=x')).status, 400);
  assert.equal((await post('/t/demo/change/apply', new URLSearchParams({ csrf, document: '{not json', etag: '*' }).toString(), FORM['content-type'])).status, 422);
  const plan = await post('/t/demo/change/plan', new URLSearchParams({ csrf, document: 'pools: [unclosed' }).toString(), FORM['content-type']);
  assert.equal(plan.status, 422);
  assert.match(await plan.text(), /Not a YAML or JSON document/);
  const wrongShape = await post('/t/demo/change/plan', new URLSearchParams({ csrf, document: 'pools: 7' }).toString(), FORM['content-type']);
  assert.equal(wrongShape.status, 422, 'the API refuses it and the page says why');
});

test('an uploaded intent document is planned like a pasted one', async () => {
  const { cookie } = await signIn(admin);
  const current = await (await h.call('GET', '/v1/tenants/demo-native/intent?format=yaml', { token: admin, headers: {} })).text;
  const csrf = await csrfOf(await page('/t/demo-native/change', cookie));
  const form = new FormData();
  form.set('csrf', csrf);
  form.set('document', '');
  form.set('file', new File([current.replace('203.0.113.0/28', '203.0.113.16/28')], 'intent.yaml', { type: 'application/yaml' }));
  const res = await h.app.request('/t/demo-native/change/plan', { method: 'POST', body: form, headers: { cookie } });
  assert.equal(res.status, 200);
  const html = await res.text();
  assert.match(html, /<th scope="row">legacy<\/th><td>update<\/td>/);
  assert.match(html, /203\.0\.113\.16\/28/);
  assert.match(html, /Apply this plan/);
});

test('a session sealed with a secret key the server no longer has is no session (sign in again), not an error', async () => {
  const { generateSecretKeyText, importSecretKey } = await import('../../db/secrets.ts');
  const { cookie } = await signIn(admin);
  const rotated = createApp({ db: h.database.db, secretKey: await importSecretKey(generateSecretKeyText()), auth: h.auth, publicUrl: 'http://metalfleet.test', log: () => {} });
  const res = await rotated.request('/t/demo', { headers: { cookie } });
  assert.equal(res.status, 303);
  assert.equal(res.headers.get('location'), '/sign-in');
});
