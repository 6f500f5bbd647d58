// The Worker itself, served by `wrangler dev` (workerd, offline) with Hyperdrive's local
// connection pointing at this file's PostgreSQL database: a tenant is set up over HTTP, an agent
// enrolls, fetches its signed config, gets 304 on the next poll and reports sessions, which the
// API then shows; the Cron Trigger prunes old revisions; the console's OIDC sign-in (openid-client in
// workerd) against a real OpenID Provider. Everything the Node tests prove about one app, run in the Workers runtime.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JWK } from 'jose';
import { generateSigningKeyJwk, importPreviousSigningKeys } from '../../api/auth.ts';
import { issueToken } from '../../api/routes/tokens.ts';
import { withPlatform } from '../../db/tenant.ts';
import { generateSecretKeyText } from '../../db/secrets.ts';
import { AgentClient, generateAgentKey } from '../../agents/client.ts';
import { onRealPostgres, openTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { freePort } from '../helpers/process.ts';
import { Jar, loginAtProvider, OIDC_CLIENT_ID, startOidcProvider, type TestProvider } from '../helpers/oidc-provider.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const skip = onRealPostgres ? false : 'needs a PostgreSQL server for Hyperdrive: set DATABASE_URL (CI does)';

let database: TestDatabase;
let dir: string;
let wrangler: ChildProcess | undefined;
let url: string;
let admin: string;
let output = '';
let previousSigningJwk: JWK;
let idp: TestProvider | undefined;

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
  // A key rotation in progress (docs/operations.md): previous keys beside the current ones, as on Node.
  previousSigningJwk = await generateSigningKeyJwk();
  idp = await startOidcProvider(`${url}/sign-in/oidc/callback`);
  writeConfig(port, dbUrl.toString(), {
    METALFLEET_OIDC_ISSUER: idp.issuer, METALFLEET_OIDC_AUDIENCE: OIDC_CLIENT_ID, METALFLEET_OIDC_JWKS_URL: `${idp.issuer}/jwks`,
    METALFLEET_OIDC_CLIENT_ID: OIDC_CLIENT_ID,
    METALFLEET_SECRET_KEY: generateSecretKeyText(), METALFLEET_SIGNING_KEY: JSON.stringify(signingJwk),
    METALFLEET_SECRET_KEY_PREVIOUS: generateSecretKeyText(), METALFLEET_SIGNING_KEYS_PREVIOUS: JSON.stringify([previousSigningJwk]),
  });
  wrangler = spawn(join(root, 'node_modules/.bin/wrangler'), ['dev', '--config', join(dir, 'wrangler.toml'), '--ip', '127.0.0.1', '--port', String(port),
    '--inspector-port', String(await freePort()), '--show-interactive-dev-session=false', '--test-scheduled'], {
    cwd: dir, env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
  });
  wrangler.stdout!.on('data', (d) => { output += d; });
  wrangler.stderr!.on('data', (d) => { output += d; });
  await waitReady(90_000);
  // The first platform-admin token, issued into the database as a deployment does it.
  admin = (await withPlatform(database.db, (tx) => issueToken(tx, {
    name: 'worker-test', role: 'platform-admin', ttlSeconds: 600, createdBy: 'test', now: new Date(),
  }))).token;
});

after(async () => {
  if (wrangler && wrangler.exitCode === null) {
    const exited = new Promise((r) => wrangler!.once('exit', r));
    process.kill(-wrangler.pid!, 'SIGTERM'); // wrangler and the workerd it started
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
  await idp?.close();
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
    assert.equal((await call('POST', '/v1/tenants/edge/bgp-advertisements', { name: 'all' })).status, 201);

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
    // The every-minute trigger advances rollouts (none here) and leaves revisions alone.
    const rolloutCron = await fetch(`${url}/__scheduled?cron=${encodeURIComponent('* * * * *')}`);
    assert.equal(rolloutCron.status, 200, await rolloutCron.text());
    assert.deepEqual(await numbers(), before.slice(0, 2));

    // Revoked: the agent's next poll is refused, though its assertion verified a moment ago.
    assert.equal((await call('DELETE', `/v1/tenants/edge/clusters/rack-1/agents/${agent.identity!.agentId}`)).status, 204);
    await assert.rejects(agent.fetchConfig(first.etag), (err: { status?: number }) => err.status === 401);
  });

  test('the JWKS publishes the current signing key, then the previous one (key rotation)', async () => {
    const { keys } = (await (await fetch(`${url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string; d?: string }> };
    const [previous] = await importPreviousSigningKeys(JSON.stringify(previousSigningJwk));
    assert.equal(keys.length, 2);
    assert.equal(keys[1]!.kid, previous!.kid);
    assert.notEqual(keys[0]!.kid, previous!.kid);
    assert.ok(keys.every((k) => k.d === undefined));
  });

  test('the console signs in with the OIDC provider: the code flow with PKCE, in workerd', async () => {
    const jar = new Jar();
    const get = async (path: string) => {
      const res = await fetch(`${url}${path}`, { redirect: 'manual', headers: { cookie: jar.header() } });
      jar.take(res);
      return res;
    };
    const start = await get('/sign-in/oidc');
    assert.equal(start.status, 302, output.slice(-2000));
    const callback = await loginAtProvider(start.headers.get('location')!, 'alice', url);
    const done = await get(`${callback.pathname}${callback.search}`);
    assert.equal(done.status, 200, await done.text());
    assert.ok(jar.has('metalfleet-session'));
    const fleet = await get('/');
    assert.equal(fleet.status, 200);
    assert.match(await fleet.text(), /alice \(platform-admin\)/);
  });
});
