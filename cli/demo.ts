// `metalfleet demo`: a control plane on a throw-away embedded database, seeded with demo tenants
// (cli/demo-seed.ts), agents for every demo cluster, the console's URL and a one-time sign-in
// link. As root with FRR and BIRD installed, the cluster edge-frr is live (cli/demo-live.ts): host
// FRR driven by the real agent peers with a BIRD router in network namespaces the demo creates.
// The other clusters' agents are scripted (agents/client.ts, the real protocol: enrollment, signed
// configs, status reports) and report the sessions their config asks for as Established.
// Everything it created (the server, the namespaces and daemons, the data directory) goes when it
// exits, also on Ctrl-C and SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentClient, generateAgentKey } from '../agents/client.ts';
import { DEMO_CLUSTERS, demoSelection, seedDemo, type ApiCall } from './demo-seed.ts';
import { BOOTSTRAP_TOKEN_FILE } from './bootstrap.ts';
import { LIVE_CLUSTER, liveDemoMissing, startLiveDemo, type LiveDemo } from './demo-live.ts';
import { Lab } from './lab.ts';

const REPORT_EVERY_MS = 10_000;

function startServer(dataDir: string, host: string, port: number): Promise<{ child: ChildProcess; url: string }> {
  // The running entry (bin/metalfleet.js or the bundle) serves: the same build as this command.
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, 'serve'], {
    env: {
      ...process.env, METALFLEET_DATA_DIR: dataDir, HOST: host, PORT: String(port), DATABASE_URL: '', METALFLEET_SECRET_KEY: '',
      METALFLEET_SIGNING_KEY: '', METALFLEET_PUBLIC_URL: '', METALFLEET_LOG_LEVEL: 'warn',
      // Agents pick up a change within seconds: the demo is for watching.
      METALFLEET_POLL_INTERVAL: '5',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (d: Buffer) => {
      output += d;
      const m = /listening on (https?:\/\/\S+)/.exec(output);
      if (m) resolve({ child, url: m[1]! });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the server exited with ${code}:\n${output}`)));
  });
}

export async function demoCommand(opts: { port: string; host: string }): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'metalfleet-demo-'));
  let server: ChildProcess | undefined;
  let lab: Lab | undefined;
  let live: LiveDemo | undefined;
  let stopping = false;
  const timers: Array<ReturnType<typeof setInterval>> = [];
  const cleanUp = async () => {
    if (stopping) return;
    stopping = true;
    for (const t of timers) clearInterval(t);
    await live?.stop();
    await lab?.teardown();
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server!.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  const onSignal = () => { void cleanUp().then(() => { console.log('demo stopped; its server and data are gone'); process.exit(0); }); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const started = await startServer(dataDir, opts.host, Number(opts.port));
    server = started.child;
    const url = started.url;
    const admin = readFileSync(join(dataDir, BOOTSTRAP_TOKEN_FILE), 'utf8').trim();
    const call: ApiCall = async (method, path, body, headers) => {
      const res = await fetch(`${url}${path}`, {
        method, headers: { authorization: `Bearer ${admin}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${text}`);
      return text ? JSON.parse(text) : undefined;
    };
    await seedDemo(call);
    const missing = liveDemoMissing();
    if (missing.length > 0) {
      console.log(`live BGP sessions need ${missing.join(', ')}; running scripted agents for every cluster instead`);
    } else {
      lab = new Lab();
      live = await startLiveDemo(lab, url, call, dataDir);
      console.log(`live: ${LIVE_CLUSTER.name} is host FRR (namespace ${live.namespaces[0]}) driven by the real agent, peering with BIRD `
        + `(namespace ${live.namespaces[1]}); the other clusters' agents are scripted`);
    }
    for (const cluster of DEMO_CLUSTERS) {
      if (live && cluster.name === LIVE_CLUSTER.name) continue;
      timers.push(await runScriptedAgent(url, call, cluster));
    }
    const link = await call('POST', '/sign-in/links') as { url: string };
    console.log(`console: ${url}/`);
    console.log(`sign in (one-time link, 15 minutes): ${link.url}`);
    console.log(`or with the platform-admin token: ${admin}`);
    console.log(`data (removed on exit): ${dataDir}`);
    console.log('Ctrl-C stops the demo and removes everything it created.');
    await new Promise<void>((resolve) => server!.once('exit', () => resolve()));
    if (!stopping) throw new Error('the demo server stopped');
  } catch (err) {
    await cleanUp();
    throw err;
  }
}

/** Enrolls a scripted agent for a demo cluster and keeps it reporting; returns its timer. */
async function runScriptedAgent(url: string, call: ApiCall, cluster: (typeof DEMO_CLUSTERS)[number]): Promise<ReturnType<typeof setInterval>> {
  const base = `/v1/tenants/${cluster.tenant}/clusters/${cluster.name}`;
  const { token } = await call('POST', `${base}/enrollment-tokens`, { ttl: '15m' }) as { token: string };
  const host = ['frr', 'bird', 'gobgp'].includes(cluster.backend);
  const nodes = host ? ['host-1'] : ['node-a', 'node-b'];
  const capabilities = {
    ...(cluster.backend === 'frr' || cluster.backend.startsWith('metallb') ? { frrVersion: '8.4.4' } : {}),
    ...(cluster.backend.startsWith('metallb') ? { metallbVersion: '0.15.2' } : {}),
    ...(cluster.backend === 'bird' ? { birdVersion: '2.0.12' } : {}),
    ...(cluster.backend === 'gobgp' ? { gobgpVersion: '3.10.0' } : {}),
    nodes: nodes.map((name) => ({ name, labels: {} })),
  };
  const agent = new AgentClient({ baseUrl: url });
  await agent.enroll(token, { privateJwk: await generateAgentKey(), agentVersion: 'demo-scripted', capabilities });
  const { peers, pools } = demoSelection(cluster);
  const startedAt = Date.now();
  let etag: string | undefined;
  let applied: number | null = null;
  const round = async () => {
    const polled = await agent.fetchConfig(etag);
    etag = polled.etag;
    if (polled.status === 200) applied = polled.config.revision;
    const uptime = Math.floor((Date.now() - startedAt) / 1000);
    await agent.reportStatus({
      appliedRevision: applied, capabilities,
      sessions: nodes.flatMap((node) => peers.map((p) => ({
        node, peer: p.peerAddress, bgpState: 'Established', bfdState: p.bfd ? 'up' : null, uptimeSeconds: uptime, prefixesReceived: 0,
        prefixesSent: pools.flatMap((pool) => pool.cidrs).filter((c) => c.includes(':') === p.peerAddress.includes(':')).length,
      }))),
    });
  };
  await round();
  return setInterval(() => { round().catch((err) => console.error(`agent of ${cluster.name}: ${(err as Error).message}`)); }, REPORT_EVERY_MS);
}
