// The Worker itself, served by `wrangler dev` (workerd, offline) with Hyperdrive's local
// connection pointing at this file's PostgreSQL database: a tenant is set up over HTTP, an agent
// enrolls, fetches its signed config, gets 304 on the next poll and reports sessions, which the
// API then shows; the Cron Trigger prunes old revisions. Everything the Node tests prove about one app, run in the Workers runtime.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { API_AUDIENCE, generateSigningKeyJwk, importSigningKey, mintToken } from '../../api/auth.ts';
import { generateSecretKeyText } from '../../db/secrets.ts';
import { AgentClient, generateAgentKey } from '../../agents/client.ts';
import { onRealPostgres, openTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { freePort } from '../helpers/process.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const skip = onRealPostgres ? false : 'needs a PostgreSQL server for Hyperdrive: set DATABASE_URL (CI does)';

let database: TestDatabase;
let dir: string;
let wrangler: ChildProcess | undefined;
let url: string;
let admin: string;
let output = '';

/** wrangler's own config with this test's database, URL and secrets, in a folder of the test's. */
function writeConfig(port: number, dbUrl: string, secrets: Record<string, string>) {
  const config = readFileSync(join(root, 'wrangler.toml'), 'utf8')
    .replace(/^main = .*$/m, `main = ${JSON.stringify(join(root, 'worker/index.ts'))}`)
    .replace(/^localConnectionString = .*$/m, `localConnectionString = ${JSON.stringify(dbUrl)}`)
    .replace(/^METALFLEET_PUBLIC_URL = .*$/m, `METALFLEET_PUBLIC_URL = ${JSON.stringify(`http://127.0.0.1:${port}`)}`)
    .replace(/^METALFLEET_REVISIONS_KEPT = .*$/m, 'METALFLEET_REVISIONS_KEPT = "2"');
  assert.ok(config.includes(dbUrl) && config.includes(`127.0.0.1:${port}`) && config.includes('KEPT = "2"'), 'wrangler.toml still has the keys this test sets');
  writeFileSync(join(dir, 'wrangler.toml'), config);
  // Secrets come from .dev.vars next to the config, as for a developer running `wrangler dev`
  // (single-quoted, as `metalfleet keys generate` prints them).
  writeFileSync(join(dir, '.dev.vars'), Object.entries(secrets).map(([k, v]) => `${k}='${v}'`).join('\n'));
}

async function waitReady(timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (wrangler!.exitCode !== null) throw new Error(`wrangler dev exited:\n${output}`);
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.status === 200) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`wrangler dev did not become ready:\n${output}`);
}

before(async () => {
  if (skip) return;
  database = await openTestDatabase();
  dir = mkdtempSync(join(tmpdir(), 'mf-wrangler-'));
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  const signingJwk = await generateSigningKeyJwk();
  // Hyperdrive's local connection needs a password in its URL; the server trusts local clients.
  const dbUrl = new URL(database.url!);
  dbUrl.password ||= 'unused';
  writeConfig(port, dbUrl.toString(), { METALFLEET_SECRET_KEY: generateSecretKeyText(), METALFLEET_SIGNING_KEY: JSON.stringify(signingJwk) });
  wrangler = spawn(join(root, 'node_modules/.bin/wrangler'), ['dev', '--config', join(dir, 'wrangler.toml'), '--ip', '127.0.0.1', '--port', String(port),
    '--inspector-port', String(await freePort()), '--show-interactive-dev-session=false', '--test-scheduled'], {
    cwd: dir, env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
  });
  wrangler.stdout!.on('data', (d) => { output += d; });
  wrangler.stderr!.on('data', (d) => { output += d; });
  await waitReady(90_000);
  admin = await mintToken({ signingKey: await importSigningKey(signingJwk), issuer: url, audience: API_AUDIENCE }, { sub: 'worker-test', role: 'platform-admin' }, 600);
});

after(async () => {
  if (wrangler && wrangler.exitCode === null) {
    const exited = new Promise((r) => wrangler!.once('exit', r));
    process.kill(-wrangler.pid!, 'SIGTERM'); // wrangler and the workerd it started
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
  await database?.close();
});

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method, headers: { authorization: `Bearer ${admin}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

describe('the Worker under wrangler dev', { skip }, () => {
  test('a tenant is set up, an agent enrolls, polls with 304 and reports sessions the API then shows', async () => {
    assert.equal((await call('POST', '/v1/tenants', { slug: 'edge', name: 'Edge' })).status, 201);
    assert.equal((await call('POST', '/v1/tenants/edge/grants', { cidr: '198.51.100.0/24' })).status, 201);
    assert.equal((await call('PUT', '/v1/tenants/edge/policy', { allowedASNs: [{ from: 64512, to: 65534 }], allowedPeerCIDRs: ['10.0.0.0/8'] })).status, 200);
    assert.equal((await call('POST', '/v1/tenants/edge/clusters', { name: 'rack-1', backend: 'frr', labels: { site: 'a' } })).status, 201);
    assert.equal((await call('POST', '/v1/tenants/edge/pools', { name: 'web', cidrs: ['198.51.100.0/28'] })).status, 201);
    assert.equal((await call('POST', '/v1/tenants/edge/peers', { name: 'tor', myASN: 64512, peerASN: 64600, peerAddress: '10.250.0.1' })).status, 201);
    assert.equal((await call('POST', '/v1/tenants/edge/advertisements', { name: 'all', type: 'bgp' })).status, 201);

    // A write the cluster cannot take is refused by the Worker as by Node, and changes nothing.
    const refused = await call('POST', '/v1/tenants/edge/peers', { name: 'bad', myASN: 64512, peerASN: 70000, peerAddress: '192.0.2.1' });
    assert.equal(refused.status, 422);
    assert.equal(refused.headers.get('content-type'), 'application/problem+json');
    assert.equal(refused.headers.get('x-request-id'), refused.body.requestId);

    const minted = await call('POST', '/v1/tenants/edge/clusters/rack-1/enrollment-tokens', {});
    assert.equal(minted.status, 201);
    const agent = new AgentClient({ baseUrl: url, timeoutMs: 10_000 });
    await agent.enroll(minted.body.token, { privateJwk: await generateAgentKey(), capabilities: { frrVersion: '9.1.0' } });

    const first = await agent.fetchConfig();
    assert.equal(first.status, 200);
    if (first.status !== 200) return;
    assert.match(first.config.content, /^router bgp 64512$/m, 'the signed frr.conf, verified by the agent');
    assert.match(first.config.content, /neighbor 10\.250\.0\.1 remote-as 64600/);
    assert.match(first.config.content, /198\.51\.100\.0\/28/);
    assert.equal((await agent.fetchConfig(first.etag)).status, 304);

    await agent.reportStatus({
      appliedRevision: first.config.revision,
      sessions: [{ node: 'rack-1', peer: '10.250.0.1', vrf: '', bgpState: 'Established', bfdState: null, uptimeSeconds: 42, prefixesReceived: 3, prefixesSent: 1, lastResetReason: null }],
    });
    const status = await call('GET', '/v1/tenants/edge/clusters/rack-1/status');
    assert.equal(status.body.syncState, 'in-sync', JSON.stringify(status.body));
    assert.equal(status.body.appliedRevision, first.config.revision);
    const sessions = await call('GET', '/v1/tenants/edge/clusters/rack-1/sessions');
    assert.deepEqual(sessions.body.items.map((s: { peer: string; bgpState: string }) => [s.peer, s.bgpState]), [['10.250.0.1', 'Established']]);

    // The Cron Trigger's maintenance: the cluster keeps its last two revisions (the applied one among them).
    const numbers = async () => (await call('GET', '/v1/tenants/edge/clusters/rack-1/revisions')).body.items.map((r: { revision: number }) => r.revision);
    const before = await numbers();
    assert.ok(before.length > 2, `revisions before: ${before}`);
    const cron = await fetch(`${url}/__scheduled?cron=${encodeURIComponent('17 * * * *')}`);
    assert.equal(cron.status, 200, await cron.text());
    assert.deepEqual(await numbers(), before.slice(0, 2));
    assert.equal((await agent.fetchConfig(first.etag)).status, 304, 'the agent is unaffected');

    // Revoked: the agent's next poll is refused, though its assertion verified a moment ago.
    assert.equal((await call('DELETE', `/v1/tenants/edge/clusters/rack-1/agents/${agent.identity!.agentId}`)).status, 204);
    await assert.rejects(agent.fetchConfig(first.etag), (err: { status?: number }) => err.status === 401);
  });
});
