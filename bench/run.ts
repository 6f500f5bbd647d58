// `npm run bench`: poll, fan-out, status ingest, render and memory, each compared with a baseline
// measured in the same run (these machines are shared and noisy), written to bench/RESULTS.md.
//
// Defaults (environment): DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres (a scratch
// database is created on that server and dropped afterwards), BENCH_AGENTS=10000,
// BENCH_SECONDS=10, BENCH_CONNECTIONS=50, BENCH_FANOUT_CLUSTERS=10000, BENCH_INGEST_AGENTS=1000,
// BENCH_FLEET_SECONDS=30 (the poll interval of the restart under load), BENCH_RESULTS=bench/RESULTS.md.
// An API process that dies is reported (exit code or signal, its last stderr lines) and restarted.
// Every missed target is profiled (bench/profile.ts): the API under the poll or ingest load, a second
// restart under load, one more fan-out write, five more one-cluster writes; BENCH_PROFILE=1 profiles all.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import { eq, sql } from 'drizzle-orm';
import { createApp } from '../api/app.ts';
import { AgentVerifier } from '../api/agent-auth.ts';
import { issueAgentTicket } from '../api/agent-tickets.ts';
import { TtlCache } from '../api/caches.ts';
import { generateSigningKeyJwk, importSigningKey, type AuthConfig } from '../api/auth.ts';
import { issueToken } from '../api/routes/tokens.ts';
import { revisionContext, signConfig } from '../api/rendering.ts';
import { openPostgres, resultRows } from '../db/client.ts';
import { migrate } from '../db/migrate.ts';
import { agents, clusters, configRevisions, tenants } from '../db/schema.ts';
import { generateSecretKeyText, importSecretKey, sealSecret } from '../db/secrets.ts';
import { withAgent, withPlatform, withTenant } from '../db/tenant.ts';
import { recordStatusesInOneTrip } from '../db/queries/agents.ts';
import { renderCluster } from '../render/index.ts';
import { freePort } from '../test/helpers/process.ts';
import { FakeKube } from '../test/helpers/fake-kube.ts';
import { profileInProcess, summarizeProfileFile } from './profile.ts';
import type { Backend } from '../render/policy.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
// What production runs: the bundle (built at the start of the run).
const BIN = here('../dist/metalfleet.mjs');
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const ADMIN_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const AGENTS = env('BENCH_AGENTS', 10_000);
const SECONDS = env('BENCH_SECONDS', 10);
const CONNECTIONS = env('BENCH_CONNECTIONS', 50);
const FANOUT = env('BENCH_FANOUT_CLUSTERS', 10_000);
const INGEST_AGENTS = Math.min(env('BENCH_INGEST_AGENTS', 1000), AGENTS);
const FLEET_INTERVAL_S = env('BENCH_FLEET_SECONDS', 30);
const RESULTS_FILE = process.env.BENCH_RESULTS ?? fileURLToPath(new URL('./RESULTS.md', import.meta.url));
const AGENT_BIN = fileURLToPath(new URL('../dist/metalfleet-agent.mjs', import.meta.url));

const PROFILED_SECONDS = 6;
const ALWAYS_PROFILE = process.env.BENCH_PROFILE === '1';
// Issue #19's targets. Ingest: every agent reports once per poll interval (agents/agent.ts), 30 s by default.
const TARGETS = {
  pollRatio: 0.5, pollP99Ms: 25, restartRecoverS: 30, fanoutMs: 5000, oneClusterWriteMs: 50,
  ingestPerSecond: Math.ceil(AGENTS / 30), renderMs: 20, apiRssMb: 400, agentRssMb: 80,
};

const log = (msg: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


function spawnNode(args: string[], envExtra: Record<string, string> = {}, nodeFlags: string[] = []): ChildProcess {
  return spawn(process.execPath, [...nodeFlags, ...args], { env: { ...process.env, ...envExtra }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * Waits for a line on the child's output, then stops listening and keeps draining its stdout unread.
 * Listening on (and keeping) all of it was the bench's own bottleneck: the API writes an access log
 * line per request, and matching the whole growing string on every chunk took this process's CPU,
 * until the pipe filled and the API's log writes blocked it (a restart at 100,000 agents took
 * minutes to become ready).
 */
async function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs = 60_000): Promise<string> {
  let out = '';
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.stderr!.off('data', onData);
      child.stdout!.resume();
      child.stderr!.resume();
    };
    const timer = setTimeout(() => { done(); reject(new Error(`timed out waiting for ${pattern}:\n${out.slice(-4000)}`)); }, timeoutMs);
    const onData = (d: Buffer) => {
      out = (out + d).slice(-16_384); // a line is short: the tail is enough
      const m = pattern.exec(out);
      if (m) { done(); resolve(m[0]); }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => { done(); reject(new Error(`exited ${code} before ${pattern}:\n${out.slice(-4000)}`)); });
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}

/** A process's RSS; NaN once it is gone (a dead API is reported, not a crash of the bench). */
function rssMb(pid: number): number {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return NaN;
  }
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) / 1024 : NaN;
}

/** An API process, with its last stderr lines kept and how it ended if it did on its own. */
interface ApiProcess { child: ChildProcess; stderrTail: string[]; death?: string; stopping: boolean }

function watchApi(child: ChildProcess): ApiProcess {
  const api: ApiProcess = { child, stderrTail: [], stopping: false };
  child.stderr!.on('data', (d: Buffer) => {
    api.stderrTail.push(...String(d).split('\n').filter(Boolean));
    api.stderrTail.splice(0, Math.max(0, api.stderrTail.length - 15));
  });
  child.stdout!.resume();
  child.once('exit', (code, signal) => {
    if (!api.stopping) api.death = signal ? `killed by ${signal}` : `exited with code ${code}`;
  });
  return api;
}

interface LoadResult { requestsPerSecond: number; p50: number; p99: number; max: number; total: number; errors: number; timeouts: number; non2xx: number; statusCodes: Record<string, { count: number }> }

async function load(mode: 'poll' | 'poll-each' | 'ingest' | 'plain', url: string, file: string, seconds: number, sampleRssOf?: number, amount?: number): Promise<LoadResult & { peakRssMb?: number }> {
  const child = spawnNode(['--import', 'tsx', here('./loadgen.ts'), mode, url, file, String(CONNECTIONS), String(seconds), ...(amount ? [String(amount)] : [])]);
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  let peak = 0;
  const sampler = sampleRssOf ? setInterval(() => { peak = Math.max(peak, rssMb(sampleRssOf)); }, 200) : undefined;
  await new Promise((r) => child.once('exit', r));
  if (sampler) clearInterval(sampler);
  const result = JSON.parse(out.trim().split('\n').at(-1)!) as LoadResult;
  return { ...result, ...(sampleRssOf ? { peakRssMb: peak } : {}) };
}

/** Times `fn` over `n` runs; the median in milliseconds. */
async function median(n: number, fn: () => unknown | Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[Math.floor(n / 2)]!;
}

/** µs per operation over `n` sequential operations. */
async function perOp(n: number, fn: (i: number) => unknown | Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn(i);
  return ((performance.now() - t0) * 1000) / n;
}

function hostIntent(backend: Backend, pools: number, peers: number) {
  return {
    cluster: { name: 'bench', backend, namespace: 'metallb-system', capabilities: { frrVersion: '9.1.0', metallbVersion: '0.16.1' } },
    policy: { allowedASNs: [{ from: 64512, to: 65534 }], allowedPeerCIDRs: ['10.0.0.0/8', 'fd00::/8'] },
    pools: Array.from({ length: pools }, (_, i) => ({ name: `pool-${i}`, cidrs: [`100.${64 + Math.floor(i / 256)}.${i % 256}.0/28`] })),
    peers: Array.from({ length: peers }, (_, i) => ({ name: `peer-${i}`, myASN: 64512, peerASN: 64600, peerAddress: `10.9.${Math.floor(i / 250)}.${(i % 250) + 1}`, holdTime: 90 })),
    advertisements: [{ name: 'all', type: 'bgp' as const, communities: ['64512:100'], localPref: 100 }],
  };
}

async function main() {
  const started = new Date();
  const loadAtStart = loadavg();
  // The bundle the image runs, built by the one build command (package.json).
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: here('..'), stdio: ['ignore', 'ignore', 'inherit'] });
  const results: string[] = [];
  const verdicts: Array<[string, string, string, boolean]> = [];
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  const pgVersion = (await admin`select version()`)[0]!.version as string;
  const dbName = `mf_bench_${process.pid}`;
  await admin.unsafe(`create database "${dbName}"`);
  const dbUrl = new URL(ADMIN_URL);
  dbUrl.pathname = `/${dbName}`;
  const workDir = mkdtempSync(join(tmpdir(), 'mf-bench-'));
  const children: ChildProcess[] = [];
  const database = openPostgres(dbUrl.toString(), { max: 40 });

  try {
    await migrate(database);
    const secretText = generateSecretKeyText();
    const signingJwk = await generateSigningKeyJwk();
    const secretKey = await importSecretKey(secretText);
    const signingKey = await importSigningKey(signingJwk);
    const port = await freePort();
    const apiUrl = `http://127.0.0.1:${port}`;
    const auth: AuthConfig = { signingKey };
    const app = createApp({ db: database.db, secretKey, auth, publicUrl: apiUrl, log: () => {} });
    const adminToken = (await withPlatform(database.db, (tx) => issueToken(tx, {
      name: 'bench', role: 'platform-admin', ttlSeconds: 3600, createdBy: 'bench', now: new Date(),
    }))).token;
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await app.request(path, { method, headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      return res.status === 204 ? undefined : res.json() as Promise<any>;
    };

    // ---------------------------------------------------------------- render
    log('render');
    const renderRows: string[] = [];
    let worstRender = 0;
    for (const backend of ['metallb-native', 'metallb-frr', 'metallb-frr-k8s', 'frr'] as const) {
      const intent = hostIntent(backend, 500, 100);
      const first = renderCluster(intent);
      if (!first.ok) throw new Error(`render ${backend}: ${JSON.stringify(first.problems.slice(0, 3))}`);
      // A running API renders warm code (every write renders each cluster it targets); a render in a
      // process that has just started would measure the JIT instead. Five warm-up renders were not
      // enough: on this machine the time settles only after about 30 (87 ms, 61, 36, ... 8, 4).
      for (let i = 0; i < 50; i++) renderCluster(intent);
      const ms = await median(15, () => renderCluster(intent));
      worstRender = Math.max(worstRender, ms);
      renderRows.push(`| ${backend} | ${ms.toFixed(1)} ms | ${(first.content.length / 1024).toFixed(0)} KiB |`);
    }
    verdicts.push(['Render (500 pools, 100 peers), slowest backend', `${worstRender.toFixed(1)} ms`, `< ${TARGETS.renderMs} ms`, worstRender < TARGETS.renderMs]);

    // ---------------------------------------------------------------- seed the agents
    log(`seeding ${AGENTS} clusters and agents`);
    await call('POST', '/v1/tenants', { slug: 'poll', name: 'Poll bench' });
    const [pollTenant] = await withPlatform(database.db, (tx) => tx.select({ id: tenants.id }).from(tenants).where(eq(tenants.slug, 'poll')));
    const tenantId = pollTenant!.id;
    const rendered = renderCluster(hostIntent('frr', 4, 2));
    if (!rendered.ok) throw new Error('seed render failed');
    const etag = `"r1-${rendered.sha256.slice(0, 16)}"`;
    const agentKeys: Array<{ agentId: string; privateJwk: JWK }> = [];
    for (let start = 0; start < AGENTS; start += 1000) {
      const n = Math.min(1000, AGENTS - start);
      await withTenant(database.db, tenantId, async (tx) => {
        const created = await tx.insert(clusters).values(Array.from({ length: n }, (_, i) => ({ tenantId, name: `poll-${start + i}`, backend: 'frr' as const, desiredRevision: 1 })))
          .returning({ id: clusters.id });
        await tx.insert(configRevisions).values(await Promise.all(created.map(async ({ id }) => ({
          tenantId, clusterId: id, revision: 1, backend: 'frr' as const, sha256: rendered.sha256, cause: 'bench',
          signature: await signConfig(signingKey, { clusterId: id, revision: 1, sha256: rendered.sha256 }),
          content: await sealSecret(secretKey, rendered.content, revisionContext(id)),
        }))));
        const keys = await Promise.all(created.map(async () => exportJWK((await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true })).privateKey)));
        const rows = await tx.insert(agents).values(await Promise.all(created.map(async ({ id }, i) => {
          const publicJwk = { kty: 'OKP', crv: 'Ed25519', x: keys[i]!.x! };
          return { tenantId, clusterId: id, publicJwk, kid: await calculateJwkThumbprint(publicJwk) };
        }))).returning({ id: agents.id });
        rows.forEach((r, i) => agentKeys.push({ agentId: r.id, privateJwk: keys[i]! }));
      });
    }
    const assertions = async (count: number) => Promise.all(agentKeys.slice(0, count).map(async ({ agentId, privateJwk }) => ({
      token: await new SignJWT({}).setProtectedHeader({ alg: 'EdDSA', kid: await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: privateJwk.x! }) })
        .setIssuer(agentId).setSubject(agentId).setAudience(apiUrl).setIssuedAt().setExpirationTime('5m').setJti(crypto.randomUUID())
        .sign(await importJWK({ ...privateJwk, alg: 'EdDSA' }, 'EdDSA')),
      etag,
    })));
    // What an agent sends once an answer gave it a ticket (api/agent-tickets.ts): minted here with the
    // function and key the API uses, as the API would have after each agent's first poll.
    const tickets = async (count: number) => Promise.all(agentKeys.slice(0, count).map(async ({ agentId, privateJwk }) => ({
      token: issueAgentTicket(secretKey, { agentId, kid: await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: privateJwk.x! }) }, Date.now()),
      etag,
    })));

    // ---------------------------------------------------------------- cost split (in process)
    log('cost split');
    const sample = (await assertions(200));
    const agentRecord = (await withPlatform(database.db, (tx) => tx.select().from(agents).where(eq(agents.id, agentKeys[0]!.agentId))))[0]!;
    const publicKey = await importJWK({ ...agentRecord.publicJwk, alg: 'EdDSA' }, 'EdDSA');
    const verifyUs = await perOp(2000, () => jwtVerify(sample[0]!.token, publicKey, { algorithms: ['EdDSA'], audience: apiUrl }));
    const verifier = new AgentVerifier(database.db, apiUrl, new TtlCache(600_000), secretKey);
    await verifier.verify(`Bearer ${sample[0]!.token}`, new Date());
    const cachedUs = await perOp(100_000, () => verifier.verify(`Bearer ${sample[0]!.token}`, new Date()));
    const ticket = (await tickets(1))[0]!.token;
    const ticketUs = await perOp(100_000, () => verifier.verify(`Bearer ${ticket}`, new Date()));
    const clusterId = agentRecord.clusterId;
    const readOnce = () => withAgent(database.db, clusterId, (tx) => tx.select({ r: clusters.desiredRevision, s: configRevisions.sha256 }).from(clusters)
      .innerJoin(configRevisions, sql`${configRevisions.clusterId} = ${clusters.id} and ${configRevisions.revision} = ${clusters.desiredRevision}`).where(eq(clusters.id, clusterId)));
    const readUs = await perOp(2000, readOnce);
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 32 }, async () => { for (let i = 0; i < 200; i++) await readOnce(); }));
    const readsPerSecond = (32 * 200) / ((performance.now() - t0) / 1000);

    // ---------------------------------------------------------------- poll: baseline and API
    log('starting the baseline and the API');
    const basePort = await freePort();
    const baseline = spawnNode(['--import', 'tsx', here('./baseline-server.ts'), String(basePort)]);
    children.push(baseline);
    await waitForLine(baseline, /listening \d+/);
    const dataDir = join(workDir, 'api');
    const apiEnv = {
      DATABASE_URL: dbUrl.toString(), METALFLEET_SECRET_KEY: secretText, METALFLEET_SIGNING_KEY: JSON.stringify(signingJwk),
      HOST: '127.0.0.1', PORT: String(port), METALFLEET_PUBLIC_URL: apiUrl, METALFLEET_DATA_DIR: dataDir, METALFLEET_POLL_INTERVAL: '1',
      // The seeded configs are not the render of the seeded tenant's intent: the maintenance job's
      // self-check would "repair" a sample of them mid-run (new revisions, 200s among the 304s).
      METALFLEET_VERIFY_SAMPLE: '0',
      // The API as deployed (docs/configuration.md): the V8 heap capped for the
      // fleet size, so that it collects instead of growing. BENCH_API_NODE_OPTIONS tries others.
      // 128 MB holds 10,000 agents; the caches grow with the fleet (about 3 MB of heap per 1,000).
      NODE_OPTIONS: process.env.BENCH_API_NODE_OPTIONS ?? `--max-old-space-size=${Math.max(128, Math.ceil(AGENTS / 1000) * 3)}`,
    };
    const incidents: string[] = [];
    /** Where a missed target's time went: [what was profiled, which samples, the table]. */
    const profiles: Array<[string, string, string]> = [];
    const startApi = async (nodeFlags: string[] = []): Promise<ApiProcess> => {
      const child = spawnNode([BIN, 'serve'], apiEnv, nodeFlags);
      children.push(child);
      const started = watchApi(child);
      await waitForLine(child, /listening on http/, 300_000);
      return started;
    };
    /** Until /readyz answers 200: the instance has loaded its poll caches (api/warm.ts). */
    const waitReady = async () => {
      for (;;) {
        // Dead before it was ready: nothing to measure; say how it ended instead of waiting forever.
        if (api.death) throw new Error(`the API ${api.death} before /readyz said ready; its last stderr lines:\n${api.stderrTail.join('\n')}`);
        const res = await fetch(`${apiUrl}/readyz`).catch(() => undefined);
        if (res?.status === 200) return;
        await res?.body?.cancel();
        await sleep(100);
      }
    };
    // From the spawn: the port opens only once the caches are loaded (cli/serve.ts).
    const warmStart = performance.now();
    let api = await startApi();
    await waitReady();
    const warmUpMs = performance.now() - warmStart;
    /** After a phase: an API that died is reported (when, how, its last stderr lines) and started again. */
    const checkApi = async (phase: string) => {
      if (!api.death) return;
      incidents.push(`During ${phase} the API ${api.death}. Its last stderr lines:`, '', '```', ...api.stderrTail, '```', '');
      log(`the API ${api.death} during ${phase}; starting it again`);
      api = await startApi();
      await waitReady();
    };
    const pollFile = join(workDir, 'poll.json');
    writeFileSync(pollFile, JSON.stringify(await assertions(AGENTS)));

    log('first polls: every agent once (assertion verified, agent loaded, desired revision read)');
    const warm = await load('poll-each', apiUrl, pollFile, 0, api.child.pid, AGENTS);
    await checkApi('the first polls');
    // The steady state: every agent sends the ticket its first answer gave it.
    writeFileSync(pollFile, JSON.stringify(await tickets(AGENTS)));
    // Baseline and API in turns, three rounds: this machine is shared, a single pair is noise.
    await load('poll', `http://127.0.0.1:${basePort}`, pollFile, 2);
    const rounds: Array<{ base: LoadResult; api: LoadResult & { peakRssMb?: number } }> = [];
    for (let round = 1; round <= 3; round++) {
      log(`poll round ${round}: baseline, then API, ${SECONDS}s each`);
      const baseRound = await load('poll', `http://127.0.0.1:${basePort}`, pollFile, SECONDS);
      const apiRound = await load('poll', apiUrl, pollFile, SECONDS, api.child.pid);
      rounds.push({ base: baseRound, api: apiRound });
      await checkApi(`poll round ${round}`);
    }
    const byRatio = [...rounds].sort((x, y) => x.api.requestsPerSecond / x.base.requestsPerSecond - y.api.requestsPerSecond / y.base.requestsPerSecond);
    const { base, api: poll } = byRatio[1]!;
    poll.peakRssMb = Math.max(...rounds.map((r) => r.api.peakRssMb!));
    const ratio = poll.requestsPerSecond / base.requestsPerSecond;
    const unexpected = Object.entries(poll.statusCodes).filter(([code]) => code !== '304');
    verdicts.push(['Poll 304 throughput vs bare Hono', `${(ratio * 100).toFixed(0)} %`, `≥ ${TARGETS.pollRatio * 100} %`, ratio >= TARGETS.pollRatio]);
    verdicts.push([`Poll 304 p99 latency, ${AGENTS.toLocaleString('en')} agents`, `${poll.p99} ms`, `< ${TARGETS.pollP99Ms} ms`, poll.p99 < TARGETS.pollP99Ms]);

    // ---------------------------------------------------------------- status ingest
    log(`ingest: ${INGEST_AGENTS} agents, 8 sessions each`);
    const ingestFile = join(workDir, 'ingest.json');
    writeFileSync(ingestFile, JSON.stringify(await tickets(INGEST_AGENTS)));
    await load('ingest', apiUrl, ingestFile, 3); // first reports create the session rows
    const ingest = await load('ingest', apiUrl, ingestFile, SECONDS, api.child.pid);
    await checkApi('the status ingest');
    const ingestBad = Object.entries(ingest.statusCodes).filter(([code]) => code !== '204');
    // The database's own ceiling: the same statements (batches of 8, 10 connections), straight
    // from this process, with no HTTP and no load generator competing for the cores.
    const ingestTenant = (await withPlatform(database.db, (tx) => tx.select({ clusterId: agents.clusterId, id: agents.id }).from(agents).limit(INGEST_AGENTS)));
    let dbReports = 0;
    const dbStart = performance.now();
    await Promise.all(Array.from({ length: 10 }, async () => {
      while (performance.now() - dbStart < 4000) {
        const batch = Array.from({ length: 8 }, () => {
          const who = ingestTenant[dbReports++ % ingestTenant.length]!;
          return {
            agentId: who.id, clusterId: who.clusterId, appliedRevision: 1, applyError: null, agentVersion: null, capabilities: undefined,
            sessions: Array.from({ length: 8 }, (_, k) => ({ node: `node-${k % 2}`, peer: `10.1.${k}.1`, vrf: '', bgpState: 'Established', bfdState: 'up', uptimeSeconds: 3600,
              prefixesReceived: 0, prefixesSent: Math.random() < 0.1 ? Math.floor(Math.random() * 1000) + 1 : 1, lastResetReason: null })),
          };
        });
        await recordStatusesInOneTrip(database.simpleQuery!, batch);
      }
    }));
    const dbIngestPerSecond = dbReports / ((performance.now() - dbStart) / 1000);
    verdicts.push([`Status ingest (8 sessions, 1 in 10 changed) vs ${AGENTS.toLocaleString('en')} agents reporting every 30 s`, `${ingest.requestsPerSecond.toFixed(0)} reports/s`, `≥ ${TARGETS.ingestPerSecond}`, ingest.requestsPerSecond >= TARGETS.ingestPerSecond]);

    // ---------------------------------------------------------------- restart under load
    log(`restart under load: ${AGENTS} agents polling every ${FLEET_INTERVAL_S} s with jitter; the API killed, then started again`);
    /**
     * The fleet polls at its own pace for one interval (its steady state), the API is SIGKILLed
     * and started again at once (with `nodeFlags`), and the fleet goes on for two more intervals.
     */
    const restartUnderLoad = async (nodeFlags: string[] = []) => {
      const fleetFile = join(workDir, 'fleet.json');
      // A fleet in its steady state: every agent holds the ticket its last answer gave it (the fleet
      // then sends what each answer renews, as agents do).
      writeFileSync(fleetFile, JSON.stringify(await tickets(AGENTS)));
      const fleet = spawnNode(['--import', 'tsx', here('./fleet.ts'), apiUrl, fleetFile, String(FLEET_INTERVAL_S), String(CONNECTIONS)]);
      children.push(fleet);
      const windows: FleetWindow[] = [];
      let fleetOut = '';
      fleet.stdout!.on('data', (d: Buffer) => {
        fleetOut += d;
        const lines = fleetOut.split('\n');
        fleetOut = lines.pop()!;
        for (const line of lines) if (line.trim()) windows.push(JSON.parse(line) as FleetWindow);
      });
      let peakRss = 0;
      const sampler = setInterval(() => { peakRss = Math.max(peakRss, rssMb(api.child.pid!) || 0); }, 500);
      await sleep((FLEET_INTERVAL_S + 5) * 1000); // every agent has polled at least once: the steady state
      const steadyWindows = windows.slice(-FLEET_INTERVAL_S);
      const killedAt = Date.now();
      api.stopping = true;
      const killed = new Promise((r) => api.child.once('exit', r));
      api.child.kill('SIGKILL');
      await killed;
      api = await startApi(nodeFlags);
      const listeningAt = Date.now();
      await waitReady();
      const readyAt = Date.now();
      await sleep((2 * FLEET_INTERVAL_S + 10) * 1000);
      clearInterval(sampler);
      await stop(fleet);
      return { windows, steadyWindows, killedAt, listeningAt, readyAt, peakRss };
    };
    const { windows, steadyWindows, killedAt, listeningAt, readyAt, peakRss: fleetPeakRss } = await restartUnderLoad();
    await checkApi('the restart under load');
    const restart = restartOutcome(windows, { killedAt, readyAt, p99Ms: TARGETS.pollP99Ms });
    verdicts.push([`Restart under load: back to p99 < ${TARGETS.pollP99Ms} ms after the kill`, restart.recoveredAfterS === undefined ? 'never' : `${restart.recoveredAfterS} s`,
      `< ${TARGETS.restartRecoverS} s`, restart.recoveredAfterS !== undefined && restart.recoveredAfterS < TARGETS.restartRecoverS]);
    verdicts.push(['Restart under load: failed polls after the new instance was ready', String(restart.failedAfterReady), '0', restart.failedAfterReady === 0]);
    if (ALWAYS_PROFILE || restart.recoveredAfterS === undefined || restart.recoveredAfterS >= TARGETS.restartRecoverS || restart.failedAfterReady > 0) {
      // The same restart again, the new instance profiled: where its time goes while it warms up
      // under the fleet's retries, and in the first 20 s after it said it was ready.
      log('profiling a second restart under load (target missed)');
      const profDir = join(workDir, 'prof-restart');
      const again = await restartUnderLoad(['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
      api.stopping = true;
      await stop(api.child); // the profile is written as the process exits
      api = await startApi();
      await waitReady();
      const profile = join(profDir, readdirSync(profDir)[0]!);
      const readyS = (again.readyAt - again.killedAt) / 1000;
      profiles.push([`a restarted API under the fleet's load, from its start until ready (${readyS.toFixed(1)} s in this second run)`,
        'in the restarted API process, from its start until /readyz said ready', summarizeProfileFile(profile, { fromS: 0, toS: readyS })]);
      profiles.push(['the restarted API in the 20 s after it said ready', 'in the restarted API process, in the 20 s after /readyz said ready',
        summarizeProfileFile(profile, { fromS: readyS, toS: readyS + 20 })]);
    }
    const apiRss = Math.max(poll.peakRssMb!, warm.peakRssMb!, ingest.peakRssMb ?? 0, fleetPeakRss);
    verdicts.push([`API RSS, peak, ${AGENTS.toLocaleString('en')} agents (first polls, steady polls, ingest, restart under load)`, `${apiRss.toFixed(0)} MB`, `< ${TARGETS.apiRssMb} MB`, apiRss < TARGETS.apiRssMb]);

    // ---------------------------------------------------------------- agent memory
    // The agent's own bundle (dist/metalfleet-agent.mjs), as the chart and the systemd unit run it.
    const agentRss: Record<'frr' | 'kubernetes', number[]> = { frr: [], kubernetes: [] };
    const kube = new FakeKube();
    await kube.start();
    for (const mode of ['frr', 'kubernetes'] as const) {
      log(`agent RSS (${mode} mode, ${mode === 'frr' ? 'stub vtysh and frr-reload' : 'a fake Kubernetes API'}, 1 s polls, 30 s)`);
      const name = `agent-rss-${mode}`;
      await call('POST', '/v1/tenants/poll/clusters', { name, backend: mode === 'frr' ? 'frr' : 'metallb-frr-k8s' });
      const minted = await call('POST', `/v1/tenants/poll/clusters/${name}/enrollment-tokens`, {});
      const dir = join(workDir, name);
      mkdirSync(dir);
      writeFileSync(join(dir, 'token'), minted.token);
      writeFileSync(join(dir, 'frr.conf'), '');
      writeFileSync(join(dir, 'kubeconfig'), JSON.stringify({
        apiVersion: 'v1', kind: 'Config', clusters: [{ name: 'fake', cluster: { server: kube.url, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'agent', user: { token: 'fake' } }], contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'agent' } }], 'current-context': 'fake',
      }));
      const modeArgs = mode === 'frr'
        ? ['--mode', 'frr', '--frr-conf', join(dir, 'frr.conf'), '--frr-reload', here('./stubs/frr-reload'), '--vtysh', here('./stubs/vtysh')]
        : ['--mode', 'kubernetes', '--namespace', 'metalfleet-system'];
      const agentChild = spawnNode([AGENT_BIN, ...modeArgs, '--url', apiUrl, '--token-file', join(dir, 'token'), '--state-dir', join(dir, 'state'), '--listen', '127.0.0.1:0'],
        { KUBECONFIG: join(dir, 'kubeconfig') }, ['--max-semi-space-size=1']); // as the chart and the systemd unit run it
      children.push(agentChild);
      await waitForLine(agentChild, /"msg":"applied"/);
      for (let i = 0; i < 30; i++) { await sleep(1000); agentRss[mode].push(rssMb(agentChild.pid!)); }
      await stop(agentChild);
    }
    await kube.stop();
    // Steady state: the last 15 samples (the first seconds hold start-up garbage until the first full GC).
    const steadyAgentRss = (mode: 'frr' | 'kubernetes') => Math.max(...agentRss[mode].slice(-15));
    for (const mode of ['frr', 'kubernetes'] as const) {
      verdicts.push([`Agent RSS, steady state (${mode} mode)`, `${steadyAgentRss(mode).toFixed(0)} MB`, `< ${TARGETS.agentRssMb} MB`, steadyAgentRss(mode) < TARGETS.agentRssMb]);
    }

    // ---------------------------------------------------------------- fan-out
    log(`fan-out: one pool selected by ${FANOUT} clusters`);
    await call('POST', '/v1/tenants', { slug: 'fan', name: 'Fan-out bench' });
    await call('POST', '/v1/tenants/fan/grants', { cidr: '100.64.0.0/16' });
    await call('PUT', '/v1/tenants/fan/policy', { allowedASNs: [{ from: 64512, to: 65534 }], allowedPeerCIDRs: ['10.0.0.0/8'] });
    await call('POST', '/v1/tenants/fan/peers', { name: 'tor', myASN: 64512, peerASN: 64600, peerAddress: '10.9.0.1', clusterSelector: { matchLabels: { fan: 'yes' } } });
    await call('POST', '/v1/tenants/fan/bgp-advertisements', { name: 'all', clusterSelector: { matchLabels: { fan: 'yes' } } });
    const [fanTenant] = await withPlatform(database.db, (tx) => tx.select({ id: tenants.id }).from(tenants).where(eq(tenants.slug, 'fan')));
    await withTenant(database.db, fanTenant!.id, (tx) => tx.insert(clusters).values(Array.from({ length: FANOUT }, (_, i) => ({
      tenantId: fanTenant!.id, name: `fan-${i}`, backend: (['frr', 'metallb-frr-k8s', 'metallb-frr'] as const)[i % 3]!, labels: { fan: 'yes', cluster: `fan-${i}` },
    }))));
    const countRevisions = async () => Number(resultRows<{ n: string }>(await withPlatform(database.db, (tx) => tx.execute(sql`select count(*) as n from config_revisions where tenant_id = ${fanTenant!.id}`)))[0]!.n);
    const before = await countRevisions();
    let t = performance.now();
    await call('POST', '/v1/tenants/fan/pools', { name: 'web', cidrs: ['100.64.1.0/24'], clusterSelector: { matchLabels: { fan: 'yes' } } });
    const fanCreateMs = performance.now() - t;
    const afterCreate = await countRevisions();
    const etagRes = await app.request('/v1/tenants/fan/pools/web', { headers: { authorization: `Bearer ${adminToken}` } });
    t = performance.now();
    const patched = await app.request('/v1/tenants/fan/pools/web', { method: 'PATCH', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/merge-patch+json', 'if-match': etagRes.headers.get('etag')! }, body: JSON.stringify({ cidrs: ['100.64.1.0/24', '100.64.2.0/24'] }) });
    const fanPatchMs = performance.now() - t;
    if (patched.status !== 200) throw new Error(`fan-out patch: ${patched.status} ${await patched.text()}`);
    const afterPatch = await countRevisions();
    verdicts.push([`Fan-out: one pool change, ${FANOUT.toLocaleString('en')} clusters`, `${fanPatchMs.toFixed(0)} ms`, `< ${TARGETS.fanoutMs} ms`, fanPatchMs < TARGETS.fanoutMs]);
    // A write that affects one cluster of the same tenant: a pool only that cluster selects (the
    // advertisement already takes every pool). The median of five, each its own cluster.
    log(`one-cluster writes in the tenant of ${FANOUT} clusters`);
    const oneClusterTimes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const before1 = await countRevisions();
      t = performance.now();
      await call('POST', '/v1/tenants/fan/pools', { name: `own-${i}`, cidrs: [`100.64.${100 + i}.0/28`], clusterSelector: { matchLabels: { cluster: `fan-${7 + i}` } } });
      oneClusterTimes.push(performance.now() - t);
      if ((await countRevisions()) - before1 !== 1) throw new Error(`one-cluster write ${i}: not exactly one new revision`);
    }
    const oneClusterMs = oneClusterTimes.sort((a, b) => a - b)[2]!;
    verdicts.push([`One-cluster write in a tenant of ${FANOUT.toLocaleString('en')} clusters (median of 5)`, `${oneClusterMs.toFixed(0)} ms`, `< ${TARGETS.oneClusterWriteMs} ms`, oneClusterMs < TARGETS.oneClusterWriteMs]);
    // The writes run the app in this process: profiled here, each the same kind of write once more.
    if (ALWAYS_PROFILE || fanPatchMs >= TARGETS.fanoutMs) {
      log('profiling one more fan-out write (target missed)');
      const { table } = await profileInProcess(async () => {
        const current = await app.request('/v1/tenants/fan/pools/web', { headers: { authorization: `Bearer ${adminToken}` } });
        const res = await app.request('/v1/tenants/fan/pools/web', { method: 'PATCH', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/merge-patch+json', 'if-match': current.headers.get('etag')! }, body: JSON.stringify({ cidrs: ['100.64.1.0/24', '100.64.2.0/24', '100.64.3.0/24'] }) });
        if (res.status !== 200) throw new Error(`profiled fan-out patch: ${res.status} ${await res.text()}`);
      });
      profiles.push([`a fan-out write to ${FANOUT.toLocaleString('en')} clusters`, 'in the bench process, which runs the app for the fan-out writes (the database\'s time is `(idle)`)', table]);
    }
    if (ALWAYS_PROFILE || oneClusterMs >= TARGETS.oneClusterWriteMs) {
      log('profiling five more one-cluster writes (target missed)');
      const { table } = await profileInProcess(async () => {
        for (let i = 5; i < 10; i++) {
          await call('POST', '/v1/tenants/fan/pools', { name: `own-${i}`, cidrs: [`100.64.${100 + i}.0/28`], clusterSelector: { matchLabels: { cluster: `fan-${7 + i}` } } });
        }
      });
      profiles.push([`five one-cluster writes in the tenant of ${FANOUT.toLocaleString('en')} clusters`, 'in the bench process, which runs the app for these writes (the database\'s time is `(idle)`)', table]);
    }

    // ---------------------------------------------------------------- profiles where a target was missed
    const profileUnder = async (mode: 'poll' | 'ingest', file: string) => {
      log(`profiling the API under the ${mode} load${ALWAYS_PROFILE ? '' : ' (target missed)'}`);
      api.stopping = true;
      await stop(api.child);
      const profDir = join(workDir, `prof-${mode}`);
      const profiled = spawnNode([BIN, 'serve'], apiEnv, ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
      children.push(profiled);
      await waitForLine(profiled, /listening on http/, 300_000);
      // Ready, as the measured load was: before that, agent requests get 503 warming-up.
      for (let i = 0; i < 600 && (await fetch(`${apiUrl}/readyz`).then((r) => r.status, () => 0)) !== 200; i++) await sleep(500);
      // Fresh assertions: those written at the start of the run may have expired (5 minutes).
      file = join(workDir, `prof-${mode}.json`);
      // At most 20,000 agents: the path profiled is the same, and their first polls take seconds, not minutes.
      const profiledAgents = mode === 'poll' ? Math.min(AGENTS, 20_000) : INGEST_AGENTS;
      writeFileSync(file, JSON.stringify(await assertions(profiledAgents)));
      // Warm up as the measured run did (each agent's first poll), then profile the steady load.
      if (mode === 'poll') await load('poll-each', apiUrl, file, 0, undefined, profiledAgents);
      writeFileSync(file, JSON.stringify(await tickets(profiledAgents)));
      if (mode === 'ingest') await load(mode, apiUrl, file, 3);
      await load(mode, apiUrl, file, PROFILED_SECONDS);
      await stop(profiled);
      profiles.push([`the API under the ${mode} load`, `over the last ${PROFILED_SECONDS - 1} s of the same load, after the same warm-up`,
        summarizeProfileFile(join(profDir, readdirSync(profDir)[0]!), { lastSeconds: PROFILED_SECONDS - 1 })]);
    };
    if (ALWAYS_PROFILE || ratio < TARGETS.pollRatio || poll.p99 >= TARGETS.pollP99Ms) await profileUnder('poll', pollFile);
    if (ALWAYS_PROFILE || ingest.requestsPerSecond < TARGETS.ingestPerSecond) await profileUnder('ingest', ingestFile);

    // ---------------------------------------------------------------- report
    const cpu = cpus();
    const loadAtEnd = loadavg();
    results.push(
      '# Benchmark results', '',
      `Written by \`npm run bench\` on ${started.toISOString()}. Every figure comes from this one run; the poll figures are`,
      'compared with a bare Hono server measured with the same load generator in the same run.', '',
      '## Machine', '',
      `| | |`, `|---|---|`,
      `| CPU | ${cpu.length} × ${cpu[0]?.model ?? 'unknown'} |`,
      `| Memory | ${(totalmem() / 2 ** 30).toFixed(0)} GiB |`,
      `| Node.js | ${process.version} |`,
      `| PostgreSQL | ${pgVersion.split(' on ')[0]} (same machine) |`,
      `| Load | autocannon, ${CONNECTIONS} connections, ${SECONDS} s per measurement, in its own process |`,
      `| Load average (1, 5, 15 min) | at the start ${loadAtStart.map((l) => l.toFixed(1)).join(', ')}; at the end ${loadAtEnd.map((l) => l.toFixed(1)).join(', ')} (other work shares this machine) |`,
      `| API process | the production bundle (\`dist/metalfleet.mjs\`), NODE_OPTIONS=\`${apiEnv.NODE_OPTIONS || '(none)'}\` |`, '',
      ...(incidents.length ? ['## The API died', '', ...incidents] : []),
      '## Targets', '',
      '| what | measured | target | |', '|---|---|---|---|',
      ...verdicts.map(([what, measured, target, ok]) => `| ${what} | ${measured} | ${target} | ${ok ? 'met' : '**not met**'} |`), '',
      '## Poll', '',
      `${AGENTS.toLocaleString('en')} enrolled agents; each request is a conditional GET of \`/v1/agent/config\` for a random agent with its`,
      'current ETag (so the answer is 304): a first poll signed with the agent key (an assertion), later polls with the ticket the',
      'answer gave (api/agent-tickets.ts).', '',
      '| | req/s | p50 | p99 | max | answers |', '|---|---|---|---|---|---|',
      `| bare Hono (baseline), median round | ${base.requestsPerSecond.toFixed(0)} | ${base.p50} ms | ${base.p99} ms | ${base.max} ms | ${fmtCodes(base.statusCodes)} |`,
      `| metalfleet, first poll of each agent after the warm-up (${(warmUpMs / 1000).toFixed(1)} s from the spawn to /readyz: keys and desired revisions loaded; the poll verifies the assertion) | ${warm.requestsPerSecond.toFixed(0)} | ${warm.p50} ms | ${warm.p99} ms | ${warm.max} ms | ${fmtCodes(warm.statusCodes)} |`,
      `| metalfleet, steady state, median round | ${poll.requestsPerSecond.toFixed(0)} | ${poll.p50} ms | ${poll.p99} ms | ${poll.max} ms | ${fmtCodes(poll.statusCodes)} |`, '',
      `Ratio to the baseline: **${(ratio * 100).toFixed(1)} %** (median of three rounds, each a baseline measurement followed by the API's:`,
      `${rounds.map((r) => `${((r.api.requestsPerSecond / r.base.requestsPerSecond) * 100).toFixed(0)} %`).join(', ')}).${unexpected.length ? ` Unexpected answers: ${fmtCodes(Object.fromEntries(unexpected))}.` : ''}`, '',
      'Where a poll\'s time goes (measured in this process, one at a time unless said otherwise):', '',
      '| step | cost |', '|---|---|',
      `| EdDSA assertion verification (jose \`jwtVerify\`), a first poll only | ${verifyUs.toFixed(0)} µs |`,
      `| agent ticket (HMAC + lookups), every later poll of a current agent, on any instance, also after a restart | ${ticketUs.toFixed(1)} µs |`,
      `| verified-assertion cache hit (hash + lookups), every later poll of an agent without tickets | ${cachedUs.toFixed(1)} µs |`,
      `| one indexed read in the agent scope (transaction + \`set_config\` + SELECT), only on an index miss | ${readUs.toFixed(0)} µs; ${readsPerSecond.toFixed(0)}/s with 32 in flight |`,
      `| framework (bare Hono on @hono/node-server, from the baseline) | ${(1e6 / base.requestsPerSecond).toFixed(1)} µs per request at saturation |`, '',
      'In the steady state a 304 is a ticket check and an in-memory index lookup: no signature verification and no database.', '',
      '## Restart under load', '',
      `${AGENTS.toLocaleString('en')} agents poll every ${FLEET_INTERVAL_S} s ± 20 % (bench/fleet.ts: each on its own schedule, backing off as the agent does after a`,
      `failure; ${CONNECTIONS} connections). After one interval the API is killed (SIGKILL) and started again at once.`, '',
      '| | |', '|---|---|',
      `| steady state before the kill (last ${steadyWindows.length} s) | ${(steadyWindows.reduce((n, w) => n + w.ok, 0) / Math.max(1, steadyWindows.length)).toFixed(0)} polls/s, p99 of the 1 s windows ${Math.max(...steadyWindows.map((w) => w.p99))} ms at worst |`,
      `| kill → listening | ${((listeningAt - killedAt) / 1000).toFixed(1)} s |`,
      `| kill → ready (/readyz 200: caches loaded) | ${((readyAt - killedAt) / 1000).toFixed(1)} s |`,
      `| kill → p99 < ${TARGETS.pollP99Ms} ms in every later 1 s window | ${restart.recoveredAfterS === undefined ? 'never within the run' : `${restart.recoveredAfterS} s`} |`,
      `| worst 1 s p99 after the kill | ${restart.worstP99} ms |`,
      `| failed polls from the kill until ready (the restart window) | ${restart.failedInWindow} |`,
      `| failed polls after ready | ${restart.failedAfterReady} |`,
      `| API RSS, peak during this | ${fleetPeakRss.toFixed(0)} MB |`, '',
      'Per second after the kill (answered, failed, p99 ms): ' + windows.filter((w) => w.t > killedAt).slice(0, 45).map((w) => `${w.ok}/${w.failed}/${w.p99}`).join(' '), '',
      '## Fan-out', '',
      `One pool selected by ${FANOUT.toLocaleString('en')} clusters (frr, metallb-frr-k8s and metallb-frr in turn), rendered and committed in the write's transaction.`, '',
      '| write | time to commit | new revisions |', '|---|---|---|',
      `| create the pool | ${fanCreateMs.toFixed(0)} ms | ${afterCreate - before} |`,
      `| change the pool (add a CIDR) | ${fanPatchMs.toFixed(0)} ms | ${afterPatch - afterCreate} |`,
      `| create a pool one cluster selects (median of 5) | ${oneClusterMs.toFixed(0)} ms (${oneClusterTimes.map((x) => x.toFixed(0)).join(', ')}) | 1 each |`, '',
      '## Status ingest', '',
      `${INGEST_AGENTS.toLocaleString('en')} agents report in turn, 8 sessions each, one session in ten changed per report.`, '',
      '| | reports/s | p50 | p99 | answers |', '|---|---|---|---|---|',
      `| through the API (HTTP, agent assertions, group commit) | ${ingest.requestsPerSecond.toFixed(0)} | ${ingest.p50} ms | ${ingest.p99} ms | ${fmtCodes(ingest.statusCodes)}${ingestBad.length ? ' (unexpected)' : ''} |`,
      `| PostgreSQL alone: the same statements, batches of 8, 10 connections, no HTTP | ${dbIngestPerSecond.toFixed(0)} | | | |`, '',
      'The two share this machine\'s cores with each other and with the load generator; the second line is the database\'s own ceiling here.', '',
      '## Render', '',
      'One cluster with 500 pools and 100 peers, one advertisement of every pool to every peer (median of 15, after 50 warm-up renders).', '',
      '| backend | render + validate | output |', '|---|---|---|',
      ...renderRows, '',
      '## Memory', '',
      '| process | RSS |', '|---|---|',
      `| API, peak during the first polls (${AGENTS.toLocaleString('en')} agents verified and cached) | ${warm.peakRssMb!.toFixed(0)} MB |`,
      `| API, peak under the steady poll load | ${poll.peakRssMb!.toFixed(0)} MB |`,
      `| API, peak under the status ingest | ${(ingest.peakRssMb ?? NaN).toFixed(0)} MB |`,
      `| API, peak during the restart under load | ${fleetPeakRss.toFixed(0)} MB |`,
      `| agent, frr mode (\`dist/metalfleet-agent.mjs\`), 30 s of 1 s polls, each second | ${agentRss.frr.map((x) => x.toFixed(0)).join(' ')} MB |`,
      `| agent, kubernetes mode (fake API server), 30 s of 1 s polls, each second | ${agentRss.kubernetes.map((x) => x.toFixed(0)).join(' ')} MB |`, '',
      ...(verdicts.some(([, , , ok]) => !ok) ? ['What the profiles show for each missed target, and the next step: docs/scaling.md, "Where the bench misses".', ''] : []),
      ...profiles.flatMap(([what, samples, table]) => [`## Profile of ${what}${ALWAYS_PROFILE ? '' : ' (target missed)'}`, '',
        `Self time of the hottest functions ${samples} (V8 CPU profile; \`(idle)\` is time waiting for I/O: the database, or the next request; \`writeLatin1String\` and \`writeBuffer\` include the socket write system calls).`, '', table, '']),
    );
    writeFileSync(RESULTS_FILE, results.join('\n'));
    log(`wrote ${RESULTS_FILE}`);
    console.log(results.join('\n'));
  } finally {
    for (const child of children) await stop(child);
    await database.close();
    await admin.unsafe(`drop database if exists "${dbName}" with (force)`);
    await admin.end();
    rmSync(workDir, { recursive: true, force: true });
  }
}

interface FleetWindow { t: number; ok: number; failed: number; inFlight: number; p50: number; p99: number; max: number }

/**
 * What a restart under load came to, from the fleet's one-second windows: how long after the kill
 * the p99 of answered polls went below `p99Ms` for good (every later window too), and how many polls
 * failed once the new instance said it was ready (the restart window is from the kill until then).
 */
function restartOutcome(windows: FleetWindow[], { killedAt, readyAt, p99Ms }: { killedAt: number; readyAt: number; p99Ms: number }) {
  const after = windows.filter((w) => w.t > killedAt);
  let recoveredAt: number | undefined;
  for (let i = after.length - 1; i >= 0 && after[i]!.ok > 0 && after[i]!.p99 < p99Ms; i--) recoveredAt = after[i]!.t - 1000;
  // A window is reported at its end: one that ends within a second of readiness began before it.
  const failedAfterReady = windows.filter((w) => w.t > readyAt + 1000).reduce((n, w) => n + w.failed, 0);
  const failedInWindow = windows.filter((w) => w.t > killedAt && w.t <= readyAt + 1000).reduce((n, w) => n + w.failed, 0);
  return {
    recoveredAfterS: recoveredAt === undefined ? undefined : Math.max(0, Math.round((recoveredAt - killedAt) / 1000)),
    failedAfterReady, failedInWindow, worstP99: Math.max(...after.map((w) => w.p99)),
  };
}

function fmtCodes(codes: Record<string, { count: number }>): string {
  return Object.entries(codes).map(([code, { count }]) => `${code}×${count}`).join(', ') || '-';
}

await main();
