// `metalfleet agent`: enroll once, then poll, apply and report until stopped.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { JWK } from 'jose';
import { Agent, AgentMetrics, FileState, type ApplyOutcome, type Health, type HealthSource } from './agent.ts';
import { AgentClient, generateAgentKey, type AgentIdentity, type VerifiedConfig } from './client.ts';
import { FrrHost } from './frr.ts';

export const AGENT_VERSION = '0.1.0';

export const AGENT_USAGE = `usage: metalfleet agent --url URL --mode frr|kubernetes [options]

  --url URL               the control plane (env METALFLEET_URL)
  --audience URL          what the control plane calls itself (its METALFLEET_PUBLIC_URL; default --url)
  --mode frr|kubernetes   host FRR (frr-reload.py) or MetalLB objects (server-side apply)
  --token-file FILE       enrollment token, needed once (or env METALFLEET_ENROLLMENT_TOKEN)
  --state-dir DIR         key, identity, last-known-good (default /var/lib/metalfleet-agent)
  --listen HOST:PORT      /healthz and /metrics (default 127.0.0.1:9464)
  --node-name NAME        node name in session reports (default the hostname)
  --backoff-max SECONDS   longest wait between retries while the control plane is away (default 300)

 frr mode:
  --frr-conf FILE         default /etc/frr/frr.conf
  --frr-reload FILE       default /usr/lib/frr/frr-reload.py
  --vtysh FILE            default vtysh
  --vty-socket DIR        the daemons' vty socket directory, for a private FRR instance
  --frr-confdir DIR, --frr-rundir DIR   passed to frr-reload.py

 kubernetes mode (in-cluster config, or KUBECONFIG):
  --metallb-namespace NS  where the MetalLB objects go (default metallb-system)
  --namespace NS          the agent's own namespace, for its identity Secret (env POD_NAMESPACE)
  --metallb-version V     reported as a capability (env METALLB_VERSION)
  --speaker-metrics NODE=URL,...   native mode: speaker metrics endpoints for session health
`;

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
      'speaker-metrics': { type: 'string' }, help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(AGENT_USAGE);
    return;
  }
  const url = values.url ?? process.env.METALFLEET_URL;
  if (!url) throw new UsageError('--url (or METALFLEET_URL) is required');
  if (values.mode !== 'frr' && values.mode !== 'kubernetes') throw new UsageError('--mode must be frr or kubernetes');
  const stateDir = resolve(values['state-dir'] ?? '/var/lib/metalfleet-agent');
  const node = values['node-name'] ?? hostname();
  const token = () => (values['token-file'] ? readFileSync(values['token-file'], 'utf8') : process.env.METALFLEET_ENROLLMENT_TOKEN);
  const client = new AgentClient({ baseUrl: url, ...(values.audience ? { audience: values.audience } : {}) });
  const log = (entry: Record<string, unknown>) => console.log(JSON.stringify({ at: new Date().toISOString(), ...entry }));

  let applier: { apply(config: VerifiedConfig): Promise<ApplyOutcome> };
  let health: HealthSource;
  let identityStore: IdentityStore;
  if (values.mode === 'frr') {
    const frr = new FrrHost({
      confFile: values['frr-conf']!, reloadScript: values['frr-reload']!, vtysh: values.vtysh!, stateDir, node,
      ...(values['vty-socket'] ? { vtySocket: values['vty-socket'] } : {}),
      ...(values['frr-confdir'] ? { confdir: values['frr-confdir'] } : {}), ...(values['frr-rundir'] ? { rundir: values['frr-rundir'] } : {}),
    });
    applier = frr;
    health = {
      async collect() {
        const frrVersion = await frr.version();
        return { sessions: await frr.sessions(), capabilities: { ...(frrVersion ? { frrVersion } : {}), nodes: [{ name: node, labels: {} }] } };
      },
    };
    identityStore = new FileIdentityStore(stateDir);
  } else {
    const k8s = await import('@kubernetes/client-node');
    const { KubernetesApplier, KubernetesHealth, SecretIdentityStore } = await import('./kubernetes.ts');
    const kubeConfig = new k8s.KubeConfig();
    kubeConfig.loadFromDefault();
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
    health = {
      collect: () => new KubernetesHealth({
        kubeConfig, backend, namespace: values['metallb-namespace']!, speakerMetrics,
        metallbVersion: values['metallb-version'] ?? process.env.METALLB_VERSION,
        bearerToken: () => (existsSync(tokenPath) ? readFileSync(tokenPath, 'utf8').trim() : undefined),
      }).collect(),
    };
    identityStore = new SecretIdentityStore(kubeConfig, ownNamespace);
  }

  const identity = await ensureIdentity(identityStore, client, token, async () => (await health.collect().catch(() => ({ sessions: [] } as Health))).capabilities);
  log({ msg: 'enrolled', agentId: identity.agentId, clusterId: identity.clusterId, mode: values.mode });
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

export class UsageError extends Error {
  override name = 'UsageError';
}
