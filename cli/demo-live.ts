// The live part of `metalfleet demo` (root, FRR and BIRD installed): in network namespaces of
// its own (cli/lab.ts), host FRR for the demo cluster edge-frr, driven by the real agent
// (`metalfleet agent --mode frr`), peers over BGP and BFD with a BIRD router, which receives the
// pools as routes. Everything goes at teardown: the agent, the daemons, the namespaces, the files.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import type { ApiCall } from './demo-seed.ts';
import { DEMO_ROUTER } from './demo-seed.ts';
import { DEBIAN_FRR, Lab, missingTools } from './lab.ts';

/** The cluster whose agent is the real one. */
export const LIVE_CLUSTER = { tenant: 'demo', name: 'edge-frr' };
const TOOLS = ['ip', 'frr', 'vtysh', 'frr-reload', 'bird', 'birdc'];

/** What the live demo needs that this host lacks (empty: it can run). */
export function liveDemoMissing(): string[] {
  return [...(userInfo().uid === 0 ? [] : ['root (network namespaces)']), ...missingTools(TOOLS, DEBIAN_FRR)];
}

// The router: BGP with the FRR host over IPv4 (with BFD) and IPv6; it takes the pools, sends nothing.
const birdConfig = (iface: string) => `
router id ${DEMO_ROUTER.v4};
protocol device { scan time 1; }
protocol bfd { interface "${iface}" { min rx interval 300 ms; min tx interval 300 ms; }; }
template bgp edge { local as ${DEMO_ROUTER.asn}; connect delay time 1; connect retry time 1; error wait time 1,5; }
protocol bgp edge_frr_v4 from edge { local ${DEMO_ROUTER.v4}; neighbor 10.250.0.1 as 64512; bfd on; ipv4 { import all; export none; }; }
protocol bgp edge_frr_v6 from edge { local ${DEMO_ROUTER.v6}; neighbor fd00:250::1 as 64512; ipv6 { import all; export none; }; }
`;

export interface LiveDemo {
  namespaces: string[];
  /** The routes BIRD holds from the FRR host (what the pools became). */
  routes(): Promise<string[]>;
  stop(): Promise<void>;
}

/** Starts the live demo in `lab` (the caller tears the lab down, also when this fails half way). */
export async function startLiveDemo(lab: Lab, url: string, call: ApiCall, stateDir: string): Promise<LiveDemo> {
  const install = DEBIAN_FRR.install!;
  const { frrNs, peerNs, peerIf } = await lab.twoHosts();
  const bird = await lab.startBird(peerNs, 'bird', birdConfig(peerIf));
  const frr = await lab.startFrr(frrNs, 'frr', { frr: install, config: 'hostname edge-frr\n' });
  const base = `/v1/tenants/${LIVE_CLUSTER.tenant}/clusters/${LIVE_CLUSTER.name}`;
  const { token } = await call('POST', `${base}/enrollment-tokens`, { ttl: '15m' }) as { token: string };
  const agentDir = join(stateDir, 'agent-edge-frr');
  mkdirSync(agentDir, { recursive: true, mode: 0o700 });
  writeFileSync(join(agentDir, 'token'), token, { mode: 0o600 });
  let output = '';
  const agent: ChildProcess = spawn(process.execPath, [...process.execArgv, process.argv[1]!, 'agent', '--url', url,
    '--token-file', join(agentDir, 'token'), '--state-dir', join(agentDir, 'state'), '--listen', '127.0.0.1:0', '--backoff-max', '4',
    '--mode', 'frr', '--node-name', 'host-1', '--frr-conf', join(frr.dir, 'frr.conf'), '--vtysh', install.vtysh,
    '--frr-reload', install.reload, '--vty-socket', frr.dir, '--frr-confdir', frr.dir, '--frr-rundir', frr.dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  agent.stdout!.on('data', (d) => { output = (output + d).slice(-20_000); });
  agent.stderr!.on('data', (d) => { output = (output + d).slice(-20_000); });
  agent.once('exit', (code, signal) => { if (code !== null && code !== 0) console.error(`the edge-frr agent exited with ${code ?? signal}:\n${output}`); });
  return {
    namespaces: [frrNs, peerNs],
    routes: async () => [...await bird.routesFrom('edge_frr_v4'), ...await bird.routesFrom('edge_frr_v6')],
    stop: async () => {
      if (agent.exitCode !== null || agent.signalCode !== null) return;
      const exited = new Promise((r) => agent.once('exit', r));
      agent.kill('SIGTERM');
      await exited;
    },
  };
}
