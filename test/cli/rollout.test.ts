// `metalfleet rollout status|pause|resume|abort|promote` as a process against a running API: what
// people read, what they do, and refusals as one line with exit code 1.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { seedApiTenant } from '../helpers/api.ts';
import { startControlPlane, type ControlPlane } from '../helpers/agent-e2e.ts';
import { runMetalfleet } from '../helpers/process.ts';

let cp: ControlPlane;
let t: Awaited<ReturnType<typeof seedApiTenant>>;
const cli = (args: string[], token = t.tenantAdmin) =>
  runMetalfleet(['rollout', ...args], { METALFLEET_SERVER: cp.url, METALFLEET_TOKEN: token, METALFLEET_TENANT: t.slug });

before(async () => {
  cp = await startControlPlane();
  t = await seedApiTenant(cp.h, 'clirollout');
  const call = (method: string, path: string, body: unknown) => cp.h.call(method, `/v1/tenants/${t.slug}/${path}`, { token: t.tenantAdmin, body });
  for (const name of ['canary', 'later']) assert.equal((await call('POST', 'clusters', { name, backend: 'frr', labels: { tier: name } })).status, 201);
  assert.equal((await call('POST', 'pools', { name: 'p', cidrs: [t.v4Grant.replace('.0.0/16', '.1.0/24')] })).status, 201);
  assert.equal((await call('POST', 'peers', { name: 'tor', myASN: 64512, peerASN: 64600, peerAddress: '10.0.1.1' })).status, 201);
  assert.equal((await call('PUT', 'rollout-policy', { policy: { waves: [
    { name: 'canary', selector: { matchLabels: { tier: 'canary' } }, bakeSeconds: 60, timeoutSeconds: 600 }, { name: 'rest' },
  ] } })).status, 200);
  assert.equal((await call('POST', 'bgp-advertisements', { name: 'all' })).status, 201);
});
after(() => cp.close());

test('status shows the newest rollout, its wave and each cluster; -o json is the API\'s view', async () => {
  const status = await cli(['status']);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /^rollout 1 {2}progressing {2}wave canary {2}create bgp-advertisement all/);
  assert.match(status.stdout, /canary +canary +progressing +new /);
  assert.match(status.stdout, /rest +later +pending +previous /);
  const json = await cli(['status', '1', '-o', 'json']);
  assert.equal(JSON.parse(json.stdout).waves.length, 2);
});

test('pause, resume, promote and abort; refusals are one line and exit code 1', async () => {
  const paused = await cli(['pause', '1']);
  assert.equal(paused.code, 0, paused.stderr);
  assert.match(paused.stdout, /^rollout 1 {2}paused/);
  assert.match(paused.stdout, /paused: paused by clirollout-admin/);
  assert.match((await cli(['resume', '1'])).stdout, /^rollout 1 {2}progressing {2}wave canary/);
  assert.match((await cli(['promote', '1'])).stdout, /^rollout 1 {2}progressing {2}wave rest/);
  const viewer = await cli(['abort', '1'], t.viewer);
  assert.equal(viewer.code, 1);
  assert.match(viewer.stderr, /^metalfleet: 403 forbidden/);
  assert.match((await cli(['abort', '1'])).stdout, /^rollout 1 {2}aborted/);
  const again = await cli(['resume', '1']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /409 rollout-action-refused: rollout 1 is aborted/);
  assert.equal((await cli(['status', '7'])).code, 1);
  assert.equal((await cli(['pause', 'x'])).code, 2, 'a number that is none is a usage error');
});
