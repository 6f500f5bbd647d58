// The console's rollout view without a browser: a tenant with a rollout policy and a change that
// waits at its canary (whose in-process agent reports a session down, so the gates have evidence);
// the tenant page's policy section, the list and detail pages, pause through the form (CSRF), the
// buttons only a writer sees and only those the state allows, a viewer's forged form refused, a
// refusal shown as the API's problem, the fleet page's paused rollouts, and other tenants' 404s.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentClient, generateAgentKey } from '../../agents/client.ts';
import { seedApiTenant, startHarness, type Harness } from '../helpers/api.ts';

let h: Harness;
let t: Awaited<ReturnType<typeof seedApiTenant>>;
let other: Awaited<ReturnType<typeof seedApiTenant>>;
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const ORIGIN = 'http://localhost';

/**
 * Two clusters with a first config, a two-wave policy (canary by label, then the rest), then a
 * change: rollout 1, progressing at the canary. The canary's agent reports its session Active.
 */
async function stageRollout(tenant: typeof t): Promise<void> {
  const call = (method: string, path: string, body?: unknown) =>
    h.call(method, `/v1/tenants/${tenant.slug}/${path}`, { token: tenant.tenantAdmin, body });
  const ok = async (method: string, path: string, body?: unknown) => {
    const res = await call(method, path, body);
    assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
    return res.body;
  };
  for (const name of ['canary', 'main']) await ok('POST', 'clusters', { name, backend: 'frr', labels: { tier: name } });
  await ok('POST', 'pools', { name: 'p1', cidrs: [tenant.v4Grant.replace('.0.0/16', '.1.0/24')] });
  await ok('POST', 'peers', { name: 'tor', myASN: 64512, peerASN: 64600, peerAddress: '10.0.1.1' });
  await ok('POST', 'bgp-advertisements', { name: 'all', ipAddressPools: ['p1'] });
  const agent: AgentClient = h.agentClient();
  const minted = await ok('POST', 'clusters/canary/enrollment-tokens');
  await agent.enroll(minted.token, {
    privateJwk: await generateAgentKey(), agentVersion: '0.1.0-test', capabilities: { frrVersion: '10.3' },
  });
  await ok('PUT', 'rollout-policy', { policy: { waves: [
    { name: 'canary', selector: { matchLabels: { tier: 'canary' } }, bakeSeconds: 0, timeoutSeconds: 3600 },
    { name: 'rest', bakeSeconds: 60, timeoutSeconds: 3600 },
  ] } });
  await ok('POST', 'pools', { name: 'p2', cidrs: [tenant.v4Grant.replace('.0.0/16', '.2.0/24')] });
  await ok('POST', 'bgp-advertisements', { name: 'more', ipAddressPools: ['p2'] });
  for (let round = 0; round < 2; round++) {
    const polled = await agent.fetchConfig();
    await agent.reportStatus({
      appliedRevision: polled.status === 200 ? polled.config.revision : null, applyError: null,
      sessions: [{ node: 'n1', peer: '10.0.1.1', vrf: '', bgpState: 'Active', bfdState: null, uptimeSeconds: null,
        prefixesReceived: 0, prefixesSent: 0, lastResetReason: 'peer ASN mismatch' }],
    });
  }
}

before(async () => {
  h = await startHarness();
  t = await seedApiTenant(h, 'rollview');
  other = await seedApiTenant(h, 'elsewhere');
  await stageRollout(t);
  await stageRollout(other);
});
after(() => h.close());

async function signIn(token: string): Promise<string> {
  const res = await h.app.request('/sign-in', {
    method: 'POST', body: new URLSearchParams({ token }), headers: { ...FORM, origin: ORIGIN },
  });
  assert.equal(res.status, 303, await res.text());
  return res.headers.get('set-cookie')!.split(';')[0]!;
}

const page = async (path: string, cookie: string) => {
  const res = await h.app.request(path, { headers: { cookie } });
  return { status: res.status, html: await res.text(), location: res.headers.get('location') };
};
const csrfOf = (html: string) => /name="csrf" value="([0-9a-f]{64})"/.exec(html)![1]!;
const post = (path: string, cookie: string, body: Record<string, string>) =>
  h.app.request(path, { method: 'POST', body: new URLSearchParams(body), headers: { ...FORM, cookie, origin: ORIGIN } });
const apiRollout = async (n: number) =>
  (await h.call('GET', `/v1/tenants/${t.slug}/rollouts/${n}`, { token: t.tenantAdmin })).body;
/** The rollout action buttons a page shows, by the path their form posts to. */
const actionForms = (html: string) =>
  [...html.matchAll(/action="\/t\/rollview\/rollouts\/1\/(pause|resume|abort|promote)"/g)].map((m) => m[1]);

test('the tenant page shows the rollout policy, how to change it and what rollouts are; the nav links rollouts', async () => {
  const cookie = await signIn(t.tenantAdmin);
  const { status, html } = await page('/t/rollview', cookie);
  assert.equal(status, 200);
  assert.match(html, /<h2 id="rollout-policy">Rollout policy<\/h2>/);
  assert.match(html, /<th scope="row">canary<\/th><td class="mono">tier=canary<\/td>/);
  assert.match(html, /<th scope="row">rest<\/th><td class="mono">any cluster<\/td>/);
  assert.match(html, /PUT \/v1\/tenants\/rollview\/rollout-policy/);
  assert.match(html, /metalfleet rollout status\|pause\|resume\|abort\|promote/);
  assert.match(html, /a cluster is given it only when its <strong>wave<\/strong> starts/);
  assert.match(html, /<a href="\/t\/rollview\/rollouts">Rollouts<\/a>/);
});

test('the list shows each rollout\'s state, wave progress, creation and the change it carries', async () => {
  const cookie = await signIn(t.viewer);
  const { status, html } = await page('/t/rollview/rollouts', cookie);
  assert.equal(status, 200);
  assert.match(html, /<a href="\/t\/rollview\/rollouts\/1">Rollout 1<\/a>/);
  assert.match(html, /<span class="state-warn">progressing<\/span>/);
  assert.match(html, /wave 1 of 2 \(canary\); 1 of 2 clusters on the new revision/);
  assert.match(html, /create bgp-advertisement more by rollview-admin/);
});

test('the detail page: waves in order, clusters\' revisions and gate evidence; a writer gets valid buttons', async () => {
  const cookie = await signIn(t.tenantAdmin);
  const { status, html } = await page('/t/rollview/rollouts/1', cookie);
  assert.equal(status, 200);
  assert.ok(html.indexOf('Wave 1: canary') < html.indexOf('Wave 2: rest'), 'waves in order');
  assert.match(html, /Wave 1: canary \(current\)/);
  const canaryRow = /<th scope="row"><a href="\/t\/rollview\/clusters\/canary">canary<\/a><\/th>.*?<\/tr>/s.exec(html)![0];
  assert.match(canaryRow, /new: r\d+ \(was r\d+\)/);
  assert.match(canaryRow, /<span class="state-bad">fail<\/span> <code>sessions-established<\/code>: [^<]*10\.0\.1\.1: Active/);
  assert.match(canaryRow, /<span class="state-ok">pass<\/span> <code>applied<\/code>/);
  const mainRow = /<th scope="row"><a href="\/t\/rollview\/clusters\/main">main<\/a><\/th>.*?<\/tr>/s.exec(html)![0];
  assert.match(mainRow, /<span class="state-warn">pending<\/span>.*previous: r\d+ \(new: r\d+\)/s);
  assert.deepEqual(actionForms(html), ['pause', 'promote', 'abort'], 'a progressing rollout cannot be resumed');
});

test('a viewer reads the rollout without buttons; a forged form is 403 and changes nothing', async () => {
  const cookie = await signIn(t.viewer);
  const { status, html } = await page('/t/rollview/rollouts/1', cookie);
  assert.equal(status, 200);
  assert.deepEqual(actionForms(html), []);
  assert.doesNotMatch(html, />(Pause|Resume|Promote|Abort)<\/button>/);
  const forged = await post('/t/rollview/rollouts/1/pause', cookie, { csrf: csrfOf(html) });
  assert.equal(forged.status, 403);
  assert.equal((await apiRollout(1)).state, 'progressing');
});

test('pause through the form (CSRF, redirect), buttons follow the state, a refusal is the API\'s problem', async () => {
  const cookie = await signIn(t.tenantAdmin);
  const before = await page('/t/rollview/rollouts/1', cookie);
  assert.equal((await post('/t/rollview/rollouts/1/pause', cookie, {})).status, 403, 'no CSRF token');
  const paused = await post('/t/rollview/rollouts/1/pause', cookie, { csrf: csrfOf(before.html) });
  assert.equal(paused.status, 303);
  assert.equal(paused.headers.get('location'), '/t/rollview/rollouts/1?done=pause');
  assert.equal((await apiRollout(1)).state, 'paused');
  const after = await page('/t/rollview/rollouts/1?done=pause', cookie);
  assert.match(after.html, /<div class="notice" role="status">Paused: rollout 1 is paused\.<\/div>/);
  assert.match(after.html, /<dt>Paused because<\/dt><dd>paused by rollview-admin<\/dd>/);
  assert.deepEqual(actionForms(after.html), ['resume', 'promote', 'abort']);
  const again = await post('/t/rollview/rollouts/1/pause', cookie, { csrf: csrfOf(before.html) });
  assert.equal(again.status, 409);
  assert.match(await again.text(),
    /role="alert"><strong>Rollout cannot do that now<\/strong><p>rollout 1 is paused: it cannot be paused/);
});

test('the fleet page lists paused rollouts with a link', async () => {
  const cookie = await signIn(t.admin);
  const { status, html } = await page('/', cookie);
  assert.equal(status, 200);
  assert.match(html, /<a href="\/t\/rollview\/rollouts\/1">rollview: rollout 1<\/a>, paused by rollview-admin/);
  assert.doesNotMatch(html, /elsewhere: rollout 1/, 'the other tenant\'s rollout is not paused');
});

test('another tenant\'s rollouts are 404, as the API has it; so is a rollout that does not exist', async () => {
  const cookie = await signIn(t.tenantAdmin);
  for (const path of ['/t/elsewhere/rollouts', '/t/elsewhere/rollouts/1', '/t/rollview/rollouts/99']) {
    assert.equal((await page(path, cookie)).status, 404, path);
  }
  const csrf = csrfOf((await page('/t/rollview/rollouts', cookie)).html);
  assert.equal((await post('/t/elsewhere/rollouts/1/abort', cookie, { csrf })).status, 404);
  const theirs = (await h.call('GET', '/v1/tenants/elsewhere/rollouts/1', { token: other.tenantAdmin })).body;
  assert.equal(theirs.state, 'progressing', 'untouched');
});
