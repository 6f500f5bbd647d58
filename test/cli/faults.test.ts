// The API survives its database. A real `metalfleet serve` on a PostgreSQL this test starts itself
// (never the shared server), under a steady load of writes, reads, polls and status reports, while
// the database restarts (fast and immediate), stops for 10 s, and has its backends killed. The
// process stays up; meanwhile it answers 503 database-unavailable with Retry-After (never a 500),
// polls holding the current ETag get 304 from memory; it recovers within 5 s of the database, and
// nothing it committed is lost or half-written (every 201 is there; `metalfleet verify` finds every
// served config equal to the render of the intent).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentClient, generateAgentKey } from '../../agents/client.ts';
import { freePort, runMetalfleet } from '../helpers/process.ts';
import { ownPostgresSkip, startOwnPostgres, type OwnPostgres } from '../helpers/postgres-server.ts';
import { fleetEnv, observe, prepareDatabase, startApi, type Observed } from '../helpers/servers.ts';

const skip = ownPostgresSkip();
let pg: OwnPostgres;
let env: Record<string, string>;
let api: Awaited<ReturnType<typeof startApi>>;
let admin: string;
let databaseUrl: string;
let metricsPort: number;

before(async () => {
  if (skip) return;
  // Commits are durable (the harness's default is the fastest, not the safest): an immediate
  // shutdown must not lose what the API acknowledged.
  pg = await startOwnPostgres({ settings: { synchronous_commit: true } });
  databaseUrl = await pg.createDatabase('faults');
  const port = await freePort();
  metricsPort = await freePort();
  env = await fleetEnv(`http://127.0.0.1:${port}`);
  admin = await prepareDatabase(databaseUrl, env);
  api = await startApi(databaseUrl, { ...env, METALFLEET_METRICS_LISTEN: `127.0.0.1:${metricsPort}` }, port);
});
after(async () => {
  if (skip) return;
  await api?.stop();
  await pg?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('the API stays up through PostgreSQL restarts, a 10 s outage and killed backends, and loses nothing', { skip }, async () => {
  const base = `http://127.0.0.1:${api.port}`;
  const json = (method: string, path: string, body?: unknown) => observe(`${method} ${path}`, `${base}${path}`, {
    method, headers: { authorization: `Bearer ${admin}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const setup = async (method: string, path: string, body?: unknown) => {
    const res = await json(method, path, body);
    assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  await setup('POST', '/v1/tenants', { slug: 'acme', name: 'ACME' });
  await setup('POST', '/v1/tenants/acme/grants', { cidr: '198.18.0.0/16' });
  await setup('POST', '/v1/tenants/acme/clusters', { name: 'edge', backend: 'metallb-frr-k8s' });
  const token = (await setup('POST', '/v1/tenants/acme/clusters/edge/enrollment-tokens', {})).token;
  const agent = new AgentClient({ baseUrl: base });
  await agent.enroll(token, { privateJwk: await generateAgentKey() });

  // The load: four loops until stopped, every answer recorded.
  const seen: Observed[] = [];
  const committed: string[] = [];
  let etag: string | undefined;
  let running = true;
  let n = 0;
  const loop = async (step: () => Promise<void>) => { while (running) { await step(); await sleep(20); } };
  const writer = loop(async () => {
    const i = n++;
    const res = await json('POST', '/v1/tenants/acme/pools', { name: `p-${i}`, cidrs: [`198.18.${Math.floor(i / 16)}.${(i % 16) * 16}/28`] });
    seen.push(res);
    if (res.status === 201) committed.push(`p-${i}`);
  });
  const reader = loop(async () => { seen.push(await json('GET', '/v1/tenants/acme/pools?limit=5')); });
  const poller = loop(async () => {
    const res = await observe('poll', `${base}/v1/agent/config`, { headers: { authorization: `Bearer ${await agent.assertion()}`, ...(etag ? { 'if-none-match': etag } : {}) } });
    seen.push(res);
    if (res.status === 200) etag = res.headers!.get('etag')!;
  });
  const reporter = loop(async () => {
    seen.push(await observe('status', `${base}/v1/agent/status`, {
      method: 'POST', headers: { authorization: `Bearer ${await agent.assertion()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ appliedRevision: null, sessions: [{ node: 'n1', peer: '10.0.0.1', bgpState: 'Established' }] }),
    }));
  });

  /** After the database is back: a write succeeds within 5 s. */
  const recovered = async (label: string) => {
    const since = Date.now();
    for (;;) {
      const probe = await json('GET', '/v1/tenants/acme/pools?limit=1');
      if (probe.status === 200) break;
      assert.ok(Date.now() - since < 5_000, `${label}: not recovered 5 s after the database came back (${probe.status} ${probe.code ?? probe.error})\n${api.output().slice(-2000)}`);
      await sleep(100);
    }
    return Date.now() - since;
  };

  const timings: Record<string, number> = {};
  const marks: Record<string, number> = {};
  const outage = { from: 0, to: 0 };
  let metricsDuringOutage = '';
  const faults = async () => {
    await sleep(1_500);
    marks.fast = Date.now();
    await pg.restart({ mode: 'fast' });
    timings['restart fast'] = await recovered('restart fast');
    await sleep(1_000);
    marks.immediate = Date.now();
    await pg.restart({ mode: 'immediate' });
    timings['restart immediate'] = await recovered('restart immediate');
    await sleep(1_000);
    marks.killed = Date.now();
    const killed = await pg.terminateBackends();
    assert.ok(killed > 0, 'the API had connections to kill');
    timings['backends killed'] = await recovered('backends killed');
    await sleep(1_000);
    // Only the LISTEN connection dies: the poll caches must not keep answering from entries that no
    // notification can evict any more. A write's new revision reaches a poll within a second or two.
    const listeners = await pg.terminateBackends("query ilike 'listen%'");
    assert.ok(listeners >= 1, 'the API listens');
    const before = etag;
    const since = Date.now();
    while (etag === before) {
      assert.ok(Date.now() - since < 3_000, 'a poll kept getting 304 for a superseded revision after the listener was killed');
      await sleep(50);
    }
    timings['listener killed → new revision polled'] = Date.now() - since;
    // Ten seconds without a database: polls with the current ETag keep getting 304 from memory.
    await pg.stop('fast');
    outage.from = Date.now();
    await sleep(1_000);
    // The metrics listener keeps answering, and says the database is down.
    metricsDuringOutage = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { signal: AbortSignal.timeout(8_000) })
      .then((res) => (res.status === 200 ? res.text() : `status ${res.status}`), (err: unknown) => String(err));
    await sleep(9_000);
    outage.to = Date.now();
    await pg.start();
    timings['stopped 10 s'] = await recovered('stopped 10 s');
    await sleep(1_000);
  };
  try {
    await faults();
  } finally {
    running = false; // also when an assertion failed: the loops must end for the process to end
    await Promise.all([writer, reader, poller, reporter]);
  }

  assert.equal(api.child.exitCode, null, `the API process died:\n${api.output().slice(-3000)}`);
  assert.doesNotMatch(api.output(), /TypeError|unhandled error|Cannot read properties/, 'no crash and no unhandled error in the log');
  const phase = (at: number) => Object.entries({ ...marks, outageFrom: outage.from, outageTo: outage.to })
    .map(([k, v]) => `${k}${at - v >= 0 ? '+' : ''}${at - v}ms`).join(' ');
  for (const r of seen) {
    assert.notEqual(r.status, 0, `the API stopped answering: ${r.what} ${r.error} (sent at ${phase(r.at)}, failed after ${r.done - r.at} ms)`);
    assert.ok(r.done - r.at < 12_000, `${r.what} took ${r.done - r.at} ms (sent at ${phase(r.at)})`);
    assert.ok(r.status < 500 || r.status === 503, `${r.what}: ${r.status} ${r.code}`);
    if (r.status === 503) {
      assert.ok(r.code === 'database-unavailable' || r.code === 'conflict-retry', `${r.what}: 503 ${r.code}`);
      assert.ok(r.retryAfter && Number(r.retryAfter) > 0, `${r.what}: 503 without Retry-After`);
    }
  }
  assert.match(metricsDuringOutage, /^metalfleet_database_up 0$/m, metricsDuringOutage.slice(0, 500));
  assert.match(metricsDuringOutage, /^metalfleet_http_requests_total\{/m, 'the process and HTTP metrics are still there');
  assert.doesNotMatch(metricsDuringOutage, /^metalfleet_clusters\{/m, 'no fleet gauges from a database that did not answer');
  const duringOutage = seen.filter((r) => r.at > outage.from + 500 && r.done < outage.to);
  const polls = duringOutage.filter((r) => r.what === 'poll');
  assert.ok(polls.length > 10 && polls.every((r) => r.status === 304), `polls during the outage: ${polls.map((r) => `${r.status} ${r.code ?? ''}`).join(', ')}\n`
    + api.output().split('\n').filter((l) => l.includes('/v1/agent/config')).slice(-3).join('\n'));
  assert.ok(duringOutage.filter((r) => r.what !== 'poll').every((r) => r.status === 503), 'everything that needs the database: 503');
  const writes = seen.filter((r) => r.what.startsWith('POST'));
  const outcomes = new Map<string, number>();
  for (const r of writes) outcomes.set(`${r.status} ${r.code ?? r.error ?? ''}`, (outcomes.get(`${r.status} ${r.code ?? r.error ?? ''}`) ?? 0) + 1);
  // Writes go through between the faults. How many depends on the machine (CI saw 20 to 60 in the
  // same 30 s); what matters is that some do after each fault, and below that none of them is lost.
  const writtenBetween = (from: number, to: number) => writes.some((r) => r.status === 201 && r.at > from && r.done < to);
  const between = [[marks.fast!, marks.immediate!], [marks.immediate!, marks.killed!], [marks.killed!, outage.from]] as const;
  assert.ok(between.every(([from, to]) => writtenBetween(from, to)) && writes.filter((r) => r.status === 201).length >= 10,
    `writes went through between the faults: ${[...outcomes].map(([k, v]) => `${k}×${v}`).join(', ')}`);

  // Nothing committed was lost, nothing half-written.
  const names = new Set<string>();
  for (let cursor: string | null = null; ;) {
    const page: any = await setup('GET', `/v1/tenants/acme/pools?limit=500${cursor ? `&cursor=${cursor}` : ''}`);
    for (const p of page.items) names.add(p.name);
    if (!(cursor = page.nextCursor)) break;
  }
  for (const name of committed) assert.ok(names.has(name), `pool ${name} was acknowledged (201) and is gone`);
  const verify = await runMetalfleet(['verify', '--no-repair'], { ...env, DATABASE_URL: databaseUrl });
  assert.equal(verify.code, 0, `served configs differ from their intent:\n${verify.stdout}\n${verify.stderr}`);
  const config = await agent.fetchConfig();
  assert.ok(config.status === 200 && committed.every((name, i) => i < committed.length - 5 || config.config.content.includes(`name: ${name}`)),
    'the agent is served the newest pools');
  console.log(`# recovery after the database came back (ms): ${JSON.stringify(timings)}; answers: ${seen.length}, committed writes: ${committed.length}`);
});
