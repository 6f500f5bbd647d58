// `metalfleet agent`: enroll once, then poll, apply and report until stopped.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { JWK } from 'jose';
import { Agent, AgentMetrics, FileState, type Applier, type Health, type HealthSource } from './agent.ts';
import { AgentClient, generateAgentKey, type AgentIdentity } from './client.ts';
import { FrrHost } from './frr.ts';
import { UsageError } from './errors.ts';
import { fetchTrusting } from './tls.ts';
import { BirdHost } from './bird.ts';
import { GobgpHost } from './gobgp.ts';
import { runCommand, type HostDaemonApplier } from './host-daemon.ts';
import { nodeAddresses } from './node.ts';

export const AGENT_VERSION = '0.2.0';

export const AGENT_USAGE = `usage: metalfleet agent --url URL --mode frr|bird|gobgp|kubernetes [options]

  --url URL               the control plane (env METALFLEET_URL)
  --audience URL          what the control plane calls itself (its METALFLEET_PUBLIC_URL; default --url)
  --mode MODE             frr, bird or gobgp: the host's BGP daemon (its config file, reloaded with
                          rollback); kubernetes: MetalLB objects (server-side apply)
  --token-file FILE       enrollment token, needed once (or env METALFLEET_ENROLLMENT_TOKEN)
  --state-dir DIR         key, identity, last-known-good (default /var/lib/metalfleet-agent)
  --listen HOST:PORT      /healthz and /metrics (default 127.0.0.1:9464)
  --node-name NAME        node name in session reports (default the hostname)
  --backoff-max SECONDS   longest wait between retries while the control plane is away (default 300)
  --ca-file FILE          PEM bundle of the CAs that may sign the control plane's certificate (replaces
                          the system's; env METALFLEET_CA_FILE)

 host modes (frr, bird, gobgp):
  --node-address ADDR     the node's address (repeat for IPv4 and IPv6): the next hop host FRR gives a
                          127.0.0.0/8 local peer, the router ID of BIRD and GoBGP when no peer sets one
                          (default: the source address of the node's default route, per family)

 frr mode:
  --frr-conf FILE         default /etc/frr/frr.conf
  --frr-reload FILE       default /usr/lib/frr/frr-reload.py
  --vtysh FILE            default vtysh; a path ending in /vtysh is also frr-reload.py's --bindir
  --vty-socket DIR        the daemons' vty socket directory, for a private FRR instance
  --frr-confdir DIR, --frr-rundir DIR   passed to frr-reload.py

 bird mode (BIRD 2):
  --bird-conf FILE        default /etc/bird/bird.conf
  --birdc FILE            default birdc
  --bird-socket FILE      BIRD's control socket (default birdc's, /run/bird/bird.ctl)

 gobgp mode (GoBGP 3):
  --gobgp-conf FILE       the file gobgpd runs from (-f), default /etc/gobgpd.conf
  --gobgpd FILE, --gobgp FILE   default gobgpd and gobgp
  --gobgp-api TARGET      gobgpd's API: HOST:PORT (default 127.0.0.1:50051) or unix:///PATH
  --gobgpd-pid-file FILE  gobgpd's PID, for SIGHUP (default: the gobgpd process running from --gobgp-conf)

 kubernetes mode (in-cluster config, or KUBECONFIG):
  --metallb-namespace NS  where the MetalLB objects go (default metallb-system)
  --namespace NS          the agent's own namespace, for its identity Secret (env POD_NAMESPACE)
  --metallb-version V     reported as a capability (env METALLB_VERSION)
  --speaker-metrics NODE=URL,...   native mode: speaker metrics endpoints for session health
`;

const MODES = ['frr', 'bird', 'gobgp', 'kubernetes'] as const;

type Values = Record<string, string | string[] | boolean | undefined>;

/** The daemon of a host mode, and the capability its version is reported as. */
function hostDaemon(mode: 'frr' | 'bird' | 'gobgp', v: Values, stateDir: string, node: string):
  { daemon: HostDaemonApplier; versionKey: 'frrVersion' | 'birdVersion' | 'gobgpVersion' } {
  const opt = (name: string) => (typeof v[name] === 'string' ? (v[name] as string) : undefined);
  if (mode === 'bird') {
    return {
      versionKey: 'birdVersion',
      daemon: new BirdHost({ confFile: opt('bird-conf')!, birdc: opt('birdc')!, stateDir, node,
        ...(opt('bird-socket') ? { socket: opt('bird-socket') } : {}) }),
    };
  }
  if (mode === 'gobgp') {
    return {
      versionKey: 'gobgpVersion',
      daemon: new GobgpHost({ confFile: opt('gobgp-conf')!, gobgpd: opt('gobgpd')!, gobgp: opt('gobgp')!, stateDir, node,
        ...(opt('gobgp-api') ? { target: opt('gobgp-api') } : {}),
        ...(opt('gobgpd-pid-file') ? { pidFile: opt('gobgpd-pid-file') } : {}) }),
    };
  }
  return {
    versionKey: 'frrVersion',
    daemon: new FrrHost({
      confFile: opt('frr-conf')!, reloadScript: opt('frr-reload')!, vtysh: opt('vtysh')!, stateDir, node,
      ...(opt('vty-socket') ? { vtySocket: opt('vty-socket') } : {}),
      ...(opt('frr-confdir') ? { confdir: opt('frr-confdir') } : {}),
      ...(opt('frr-rundir') ? { rundir: opt('frr-rundir') } : {}),
    }),
  };
}

/** Identity on disk: the private key (0600) never leaves the state dir. */
export class FileIdentityStore {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
  async load(): Promise<Record<string, string> | undefined> {
    const key = join(this.dir, 'agent-key.jwk');
    const identity = join(this.dir, 'identity.json');
    if (!existsSync(key)) return undefined;
    return { 'agent-key.jwk': readFileSync(key, 'utf8'), ...(existsSync(identity) ? { 'identity.json': readFileSync(identity, 'utf8') } : {}) };
  }
  async save(values: Record<string, string>): Promise<void> {
    for (const [name, value] of Object.entries(values)) {
      const path = join(this.dir, name);
      writeFileSync(path, value, { mode: 0o600 });
      chmodSync(path, 0o600);
    }
  }
}

interface IdentityStore {
  load(): Promise<Record<string, string> | undefined>;
  save(values: Record<string, string>): Promise<void>;
}

/** The stored identity; without one, a key is made (once) and the agent enrolls with the token. */
export async function ensureIdentity(store: IdentityStore, client: AgentClient, token: () => string | undefined,
  capabilities?: () => Promise<Health['capabilities']>): Promise<AgentIdentity> {
  let stored = await store.load();
  if (!stored?.['agent-key.jwk']) {
    stored = { 'agent-key.jwk': JSON.stringify(await generateAgentKey()) };
    await store.save(stored);
  }
  const privateJwk = JSON.parse(stored['agent-key.jwk']!) as JWK;
  if (stored['identity.json']) {
    const identity = JSON.parse(stored['identity.json']) as { agentId: string; clusterId: string };
    client.identity = { ...identity, privateJwk };
    return client.identity;
  }
  const enrollmentToken = token()?.trim();
  if (!enrollmentToken) throw new Error('not enrolled yet: give --token-file or METALFLEET_ENROLLMENT_TOKEN');
  const identity = await client.enroll(enrollmentToken, { privateJwk, agentVersion: AGENT_VERSION, ...(capabilities ? { capabilities: await capabilities() } : {}) });
  await store.save({ ...stored, 'identity.json': JSON.stringify({ agentId: identity.agentId, clusterId: identity.clusterId }) });
  return identity;
}

function serveHealth(listen: string, agent: Agent, metrics: AgentMetrics, maxQuietMs: () => number): Promise<Server> {
  const [host, port] = listen.includes(':') ? [listen.slice(0, listen.lastIndexOf(':')), Number(listen.slice(listen.lastIndexOf(':') + 1))] : ['127.0.0.1', Number(listen)];
  const server = createServer(async (req, res) => {
    if (req.url === '/metrics') {
      res.setHeader('content-type', metrics.registry.contentType);
      res.end(await metrics.registry.metrics());
    } else if (req.url === '/healthz') {
      // Alive while rounds keep happening; a control-plane outage is not the agent's ill health.
      const quiet = Date.now() - agent.lastRoundAt;
      const healthy = agent.lastRoundAt > 0 && quiet < maxQuietMs();
      res.statusCode = healthy ? 200 : 503;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ status: healthy ? 'ok' : 'stuck', lastRoundOk: agent.lastRoundOk, secondsSinceLastRound: Math.round(quiet / 1000) }));
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  return new Promise((resolveListen) => server.listen(port, host.replace(/^\[|\]$/g, ''), () => resolveListen(server)));
}

export async function agentCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string' }, audience: { type: 'string' }, mode: { type: 'string' }, 'token-file': { type: 'string' }, 'state-dir': { type: 'string' },
      listen: { type: 'string', default: '127.0.0.1:9464' }, 'node-name': { type: 'string' }, 'backoff-max': { type: 'string', default: '300' },
      'backoff-base': { type: 'string', default: '1' },
      'frr-conf': { type: 'string', default: '/etc/frr/frr.conf' }, 'frr-reload': { type: 'string', default: '/usr/lib/frr/frr-reload.py' },
      vtysh: { type: 'string', default: 'vtysh' }, 'vty-socket': { type: 'string' }, 'frr-confdir': { type: 'string' }, 'frr-rundir': { type: 'string' },
      'metallb-namespace': { type: 'string', default: 'metallb-system' }, namespace: { type: 'string' }, 'metallb-version': { type: 'string' },
      'speaker-metrics': { type: 'string' }, 'ca-file': { type: 'string' }, help: { type: 'boolean' },
      'node-address': { type: 'string', multiple: true, default: [] },
      'bird-conf': { type: 'string', default: '/etc/bird/bird.conf' }, birdc: { type: 'string', default: 'birdc' },
      'bird-socket': { type: 'string' },
      'gobgp-conf': { type: 'string', default: '/etc/gobgpd.conf' }, gobgpd: { type: 'string', default: 'gobgpd' },
      gobgp: { type: 'string', default: 'gobgp' }, 'gobgp-api': { type: 'string' }, 'gobgpd-pid-file': { type: 'string' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(AGENT_USAGE);
    return;
  }
  const url = values.url ?? process.env.METALFLEET_URL;
  if (!url) throw new UsageError('--url (or METALFLEET_URL) is required');
  const mode = MODES.find((m) => m === values.mode);
  if (!mode) throw new UsageError(`--mode must be one of ${MODES.join(', ')}`);
  const stateDir = resolve(values['state-dir'] ?? '/var/lib/metalfleet-agent');
  const node = values['node-name'] ?? hostname();
  const token = () => (values['token-file'] ? readFileSync(values['token-file'], 'utf8') : process.env.METALFLEET_ENROLLMENT_TOKEN);
  const caFile = values['ca-file'] ?? process.env.METALFLEET_CA_FILE;
  const client = new AgentClient({
    baseUrl: url, ...(values.audience ? { audience: values.audience } : {}), ...(caFile ? { fetch: fetchTrusting(caFile) } : {}),
  });
  const log = (entry: Record<string, unknown>) => console.log(JSON.stringify({ at: new Date().toISOString(), ...entry }));

  let applier: Applier;
  let health: HealthSource;
  let identityStore: IdentityStore;
  if (mode !== 'kubernetes') {
    const { daemon, versionKey } = hostDaemon(mode, values, stateDir, node);
    applier = daemon;
    const given = values['node-address']!;
    health = {
      async collect() {
        const [version, sessions, addresses] = await Promise.all([
          daemon.version(), daemon.sessions(), nodeAddresses(runCommand, given),
        ]);
        return {
          sessions,
          capabilities: { ...(version ? { [versionKey]: version } : {}), nodes: [{ name: node, labels: {} }],
            ...(addresses.length > 0 ? { nodeAddresses: addresses } : {}) },
        };
      },
    };
    identityStore = new FileIdentityStore(stateDir);
  } else {
    // Only kubernetes mode loads the Kubernetes client (a chunk of its own in the agent's bundle).
    const { KubernetesApplier, KubernetesHealth, SecretIdentityStore, loadKubeConfig } = await import('./kubernetes.ts');
    const kubeConfig = loadKubeConfig();
    const ownNamespace = values.namespace ?? process.env.POD_NAMESPACE;
    if (!ownNamespace) throw new UsageError('--namespace (or POD_NAMESPACE) is required in kubernetes mode');
    applier = new KubernetesApplier({ kubeConfig, namespace: values['metallb-namespace']! });
    let backend: 'metallb-native' | 'metallb-frr' | 'metallb-frr-k8s' = 'metallb-frr-k8s';
    const apply = applier.apply.bind(applier);
    applier = { apply: (config) => { backend = config.backend as typeof backend; return apply(config); } };
    const speakerMetrics = (values['speaker-metrics'] ?? '').split(',').filter(Boolean).map((pair) => {
      const [speakerNode, speakerUrl] = pair.split('=');
      return { node: speakerNode!, url: speakerUrl! };
    });
    const tokenPath = '/var/run/secrets/kubernetes.io/serviceaccount/token';
    health = new KubernetesHealth({
      kubeConfig, backend: () => backend, namespace: values['metallb-namespace']!, speakerMetrics,
      metallbVersion: values['metallb-version'] ?? process.env.METALLB_VERSION,
      bearerToken: () => (existsSync(tokenPath) ? readFileSync(tokenPath, 'utf8').trim() : undefined),
    });
    identityStore = new SecretIdentityStore(kubeConfig, ownNamespace);
  }

  const identity = await ensureIdentity(identityStore, client, token, async () => (await health.collect().catch(() => ({ sessions: [] } as Health))).capabilities);
  log({ msg: 'enrolled', agentId: identity.agentId, clusterId: identity.clusterId, mode });
  const metrics = new AgentMetrics();
  const agent = new Agent({
    client, applier, health, metrics, log, agentVersion: AGENT_VERSION, state: new FileState(stateDir),
    backoffBaseMs: Number(values['backoff-base']) * 1000, backoffMaxMs: Number(values['backoff-max']) * 1000,
  });
  const server = await serveHealth(values.listen!, agent, metrics, () => Math.max(10 * 60_000, 3 * Number(values['backoff-max']) * 1000));
  const address = server.address() as { address: string; port: number };
  log({ msg: 'serving /healthz and /metrics', listen: `${address.address}:${address.port}` });
  const stop = new AbortController();
  process.on('SIGTERM', () => stop.abort());
  process.on('SIGINT', () => stop.abort());
  await agent.run(stop.signal);
  server.close();
  log({ msg: 'stopped' });
}

