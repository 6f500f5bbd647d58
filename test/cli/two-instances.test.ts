// Two API instances on one database, as a load balancer would put them: a write on one reaches a
// poll on the other at once (LISTEN/NOTIFY), and SIGTERM of one under load fails no request the
// other could serve: /readyz turns 503 first, requests in flight finish, new connections are
// refused (the client, like a load balancer, sends them to the other instance).
import { after, before, test } from 'node:test';
import { request } from 'node:http';
import assert from 'node:assert/strict';
import { AgentClient, generateAgentKey } from '../../agents/client.ts';
import { createScratchDatabase, onRealPostgres } from '../helpers/db.ts';
import { freePort } from '../helpers/process.ts';
import { fleetEnv, observe, prepareDatabase, startApi, type Observed } from '../helpers/servers.ts';

const skip = onRealPostgres ? false : 'needs a PostgreSQL server: set DATABASE_URL (CI does)';
const PUBLIC_URL = 'http://lb.metalfleet.test';
let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
let env: Record<string, string>;
let a: Awaited<ReturnType<typeof startApi>>;
let b: Awaited<ReturnType<typeof startApi>>;
let admin: string;

before(async () => {
  if (skip) return;
  scratch = await createScratchDatabase('mf_twins');
  env = await fleetEnv(PUBLIC_URL);
  admin = await prepareDatabase(scratch.url, env);
  [a, b] = await Promise.all([startApi(scratch.url, env), startApi(scratch.url, { ...env, METALFLEET_SHUTDOWN_DELAY: '1' })]);
});
after(async () => {
  if (skip) return;
  await a?.stop();
  if (b?.child.exitCode === null) await b.stop();
  await scratch?.drop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** POST on a new connection (no keep-alive pool); resolves to the status, or 0 if the connection failed. */
function postOnOwnConnection(url: string, token: string, body: unknown): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'POST', agent: false, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end(JSON.stringify(body));
  });
}
const baseOf = (s: { port: number }) => `http://127.0.0.1:${s.port}`;

test('a write on one instance reaches a poll on the other at once; SIGTERM of one under load fails nothing the other could serve', { skip }, async () => {
  const call = async (server: { port: number }, method: string, path: string, body?: unknown) => {
    const res = await observe(`${method} ${path}`, `${baseOf(server)}${path}`, {
      method, headers: { authorization: `Bearer ${admin}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    assert.ok(res.status > 0 && res.status < 300, `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  await call(a, 'POST', '/v1/tenants', { slug: 'twin', name: 'Twin' });
  await call(a, 'POST', '/v1/tenants/twin/grants', { cidr: '198.19.0.0/16' });
  await call(a, 'PUT', '/v1/tenants/twin/policy', { allowedASNs: [{ from: 64512, to: 65534 }], allowedPeerCIDRs: ['192.0.2.0/24'] });
  await call(a, 'POST', '/v1/tenants/twin/clusters', { name: 'edge', backend: 'frr' });
  const token = (await call(a, 'POST', '/v1/tenants/twin/clusters/edge/enrollment-tokens', {})).token;
  // The agent talks to B (its audience is the load balancer's URL, as in production).
  const agent = new AgentClient({ baseUrl: baseOf(b), audience: PUBLIC_URL });
  await agent.enroll(token, { privateJwk: await generateAgentKey() });
  const first = await agent.fetchConfig();
  assert.equal(first.status, 200);
  let etag = first.status === 200 ? first.etag : '';
  assert.equal((await agent.fetchConfig(etag)).status, 304, 'B answers from its cache');

  // Writes on A, polls on B: each new revision is visible on B within milliseconds.
  const delays: number[] = [];
  for (let i = 0; i < 5; i++) {
    await call(a, 'POST', '/v1/tenants/twin/peers', { name: `tor-${i}`, myASN: 64512, peerASN: 64600, peerAddress: `192.0.2.${i + 1}` });
    const since = Date.now();
    for (;;) {
      const polled = await agent.fetchConfig(etag);
      if (polled.status === 200) {
        assert.ok(polled.config.content.includes(`192.0.2.${i + 1}`));
        etag = polled.etag;
        break;
      }
      assert.ok(Date.now() - since < 2_000, 'the write on A did not reach a poll on B within 2 s');
      await sleep(5);
    }
    delays.push(Date.now() - since);
  }

  // SIGTERM B under load; clients (like a load balancer) send what B refuses to connect to, to A.
  const seen: Observed[] = [];
  let running = true;
  const viaEither = async (path: string, init: RequestInit) => {
    let res = await observe(path, `${baseOf(b)}${path}`, init);
    if (res.status === 0 && /ECONNREFUSED|ECONNRESET|other side closed|SocketError/.test(res.error ?? '')) res = await observe(`${path} (retried on A)`, `${baseOf(a)}${path}`, init);
    seen.push(res);
  };
  const loops = Array.from({ length: 8 }, (_, i) => (async () => {
    while (running) {
      if (i % 2 === 0) {
        await viaEither('/v1/agent/config', { headers: { authorization: `Bearer ${await agent.assertion()}`, 'if-none-match': etag } });
      } else {
        await viaEither('/v1/tenants/twin/pools?limit=1', { headers: { authorization: `Bearer ${admin}` } });
      }
    }
  })());
  await sleep(300);
  const stopped = b.stop();
  // /readyz of B turns 503 at once (METALFLEET_SHUTDOWN_DELAY=1 keeps B listening meanwhile).
  await sleep(100);
  const ready = await observe('readyz', `${baseOf(b)}/readyz`);
  assert.equal(ready.status, 503);
  assert.equal(ready.code, 'shutting-down');
  assert.equal(await stopped, 0, 'B exits cleanly');
  await sleep(300);
  running = false;
  await Promise.all(loops);

  const failed = seen.filter((r) => r.status !== 200 && r.status !== 304);
  assert.deepEqual(failed, [], 'no request failed that A could serve');
  assert.ok(seen.some((r) => r.what.endsWith('(retried on A)')), 'B stopped taking connections');
  assert.ok(seen.length > 50, `load: ${seen.length} requests`);

  // Requests in flight when SIGTERM arrives finish: slow writes (each renders 60 clusters, one
  // after the other under the tenant's write lock), then SIGTERM at once, no delay.
  for (let i = 0; i < 60; i++) await call(a, 'POST', '/v1/tenants/twin/clusters', { name: `fan-${i}`, backend: 'metallb-frr-k8s' });
  const metricsPort = await freePort();
  const c = await startApi(scratch.url, { ...env, METALFLEET_METRICS_LISTEN: `127.0.0.1:${metricsPort}` });
  // Each on a connection of its own (no client-side queue); SIGTERM once C counts all six in flight
  // (its in-flight gauge), not after a guess at how long that takes on a loaded machine.
  const writes = Array.from({ length: 6 }, (_, i) => postOnOwnConnection(`${baseOf(c)}/v1/tenants/twin/pools`, admin,
    { name: `drain-${i}`, cidrs: [`198.19.${i}.0/24`] }));
  const inFlight = async () => Number(/^metalfleet_http_requests_in_flight (\d+)$/m
    .exec(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text())?.[1] ?? -1);
  for (const started = Date.now(); await inFlight() < 6;) {
    assert.ok(Date.now() - started < 20_000, `C never had six writes in flight (${await inFlight()})`);
    await sleep(20);
  }
  const exited = c.stop();
  const answers = await Promise.all(writes);
  assert.deepEqual(answers, Array(6).fill(201), `in-flight writes:\n${c.output()}`);
  assert.equal(await exited, 0);
  assert.match(c.output(), /SIGTERM: shutting down \(readiness off; 6 request\(s\) in flight\)/, 'SIGTERM arrived while all six were in flight');
  console.log(`# write on A → poll on B (ms): ${delays.join(', ')}; requests during the shutdown: ${seen.length}`);
});
