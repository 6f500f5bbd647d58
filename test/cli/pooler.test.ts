// Behind PgBouncer in transaction mode (a real one, started by this test): every request works
// through it (prepare=false), and METALFLEET_LISTEN_DATABASE_URL gives LISTEN a direct connection,
// so polls answer from memory and a write reaches the next poll at once. The same instance without
// it stays correct (the heartbeat goes unheard through the pooler, so every poll reads the
// database): that difference is what the setting is for.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentClient, generateAgentKey } from '../../agents/client.ts';
import { createScratchDatabase, onRealPostgres } from '../helpers/db.ts';
import { freePort } from '../helpers/process.ts';
import { fleetEnv, observe, prepareDatabase, startApi } from '../helpers/servers.ts';

const hasPgbouncer = spawnSync('pgbouncer', ['--version']).status === 0;
const skip = !onRealPostgres ? 'needs a PostgreSQL server: set DATABASE_URL (CI does)'
  : !hasPgbouncer && !process.env.METALFLEET_REQUIRE_DATAPLANE ? 'needs pgbouncer (apt install pgbouncer; CI installs it)' : false;

let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
let bouncer: ChildProcess | undefined;
let dir: string;
let pooledUrl: string;

/** PgBouncer in transaction mode in front of the scratch database, on a free port. */
async function startPgbouncer(directUrl: string): Promise<string> {
  const direct = new URL(directUrl);
  const port = await freePort();
  dir = mkdtempSync(join(tmpdir(), 'mf-pgbouncer-'));
  chmodSync(dir, 0o777);
  writeFileSync(join(dir, 'userlist.txt'), `"${direct.username}" ""\n`);
  writeFileSync(join(dir, 'pgbouncer.ini'), [
    '[databases]',
    `mf = host=${direct.hostname} port=${direct.port || 5432} dbname=${direct.pathname.slice(1)} user=${direct.username}`,
    '[pgbouncer]',
    'listen_addr = 127.0.0.1', `listen_port = ${port}`, 'unix_socket_dir =',
    'auth_type = trust', `auth_file = ${join(dir, 'userlist.txt')}`,
    'pool_mode = transaction', 'default_pool_size = 8', 'max_client_conn = 200',
    'ignore_startup_parameters = extra_float_digits,options',
    `logfile = ${join(dir, 'pgbouncer.log')}`, `pidfile = ${join(dir, 'pgbouncer.pid')}`,
  ].join('\n'));
  // PgBouncer refuses to run as root; -u drops to an unprivileged user when started as root.
  const asRoot = process.getuid?.() === 0;
  bouncer = spawn('pgbouncer', [...(asRoot ? ['-u', 'nobody'] : []), join(dir, 'pgbouncer.ini')], { stdio: 'ignore' });
  const url = `postgres://${direct.username}@127.0.0.1:${port}/mf`;
  for (let i = 0; i < 100; i++) {
    if (spawnSync('psql', [url, '-Atc', 'select 1']).status === 0) return url;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('pgbouncer did not start');
}

before(async () => {
  if (skip) return;
  scratch = await createScratchDatabase('mf_pooler');
  pooledUrl = `${await startPgbouncer(scratch.url)}?prepare=false`;
});
after(async () => {
  if (skip) return;
  bouncer?.kill('SIGTERM');
  await scratch?.drop();
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function pollReads(metricsPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  return Number(/^metalfleet_poll_database_reads_total (\d+)/m.exec(text)?.[1] ?? 0);
}

test('through PgBouncer in transaction mode: writes and polls work; a direct listener keeps polls in memory', { skip }, async () => {
  const env = await fleetEnv('http://metalfleet.test');
  const admin = await prepareDatabase(scratch.url, env);
  const [directPort, pooledPort] = [await freePort(), await freePort()];
  const withListener = await startApi(pooledUrl, {
    ...env, METALFLEET_LISTEN_DATABASE_URL: scratch.url, METALFLEET_METRICS_LISTEN: `127.0.0.1:${directPort}`,
  });
  const pooledOnly = await startApi(pooledUrl, { ...env, METALFLEET_METRICS_LISTEN: `127.0.0.1:${pooledPort}` });
  try {
    const base = `http://127.0.0.1:${withListener.port}`;
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await observe(`${method} ${path}`, `${base}${path}`, {
        method, headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}),
      });
      assert.ok(res.status > 0 && res.status < 300, `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    };
    await call('POST', '/v1/tenants', { slug: 'acme', name: 'ACME' });
    await call('POST', '/v1/tenants/acme/grants', { cidr: '198.19.0.0/16' });
    await call('PUT', '/v1/tenants/acme/policy', { allowedASNs: [{ from: 64512, to: 65534 }], allowedPeerCIDRs: ['192.0.2.0/24'] });
    await call('POST', '/v1/tenants/acme/clusters', { name: 'edge-1', backend: 'frr' });
    await call('POST', '/v1/tenants/acme/pools', { name: 'web', cidrs: ['198.19.0.0/28'] });
    await call('POST', '/v1/tenants/acme/peers', { name: 'tor', myASN: 64512, peerASN: 64600, peerAddress: '192.0.2.1' });
    await call('POST', '/v1/tenants/acme/bgp-advertisements', { name: 'out' });
    const { token } = await call('POST', '/v1/tenants/acme/clusters/edge-1/enrollment-tokens', {});
    const agent = new AgentClient({ baseUrl: 'http://metalfleet.test', fetch: (input, init) => fetch(String(input).replace('http://metalfleet.test', base), init) });
    await agent.enroll(token, { privateJwk: await generateAgentKey() });
    // Past the listener's tolerance (3 heartbeats of 2 s): the pooled-only instance has heard none.
    await sleep(7_000);

    for (const [server, metricsPort, inMemory] of [[withListener, directPort, true], [pooledOnly, pooledPort, false]] as const) {
      const polls = new AgentClient({
        baseUrl: 'http://metalfleet.test', identity: agent.identity!,
        fetch: (input, init) => fetch(String(input).replace('http://metalfleet.test', `http://127.0.0.1:${server.port}`), init),
      });
      const first = await polls.fetchConfig();
      assert.equal(first.status, 200);
      const before = await pollReads(metricsPort);
      for (let i = 0; i < 20; i++) assert.equal((await polls.fetchConfig(first.etag)).status, 304);
      const reads = (await pollReads(metricsPort)) - before;
      if (inMemory) assert.equal(reads, 0, 'with a direct listener, 304s come from memory');
      else assert.ok(reads >= 20, `through the pooler alone every poll reads the database (${reads} reads)`);
      // A write reaches the next poll at once either way.
      await call('POST', `/v1/tenants/acme/pools`, { name: `more-${metricsPort}`, cidrs: [`198.19.${inMemory ? 1 : 2}.0/28`] });
      const next = await polls.fetchConfig(first.etag);
      assert.equal(next.status, 200, 'the new revision, on the first poll after the write');
    }
    assert.doesNotMatch(withListener.output() + pooledOnly.output(), /unhandled error|prepared statement/);
  } finally {
    await withListener.stop();
    await pooledOnly.stop();
  }
});
