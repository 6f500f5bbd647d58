// Kubernetes: apply the rendered MetalLB / frr-k8s objects with server-side apply (field manager
// `metalfleet-agent`) in dependency order, prune the objects metalfleet manages that a revision no
// longer has, and read health from the cluster (BGPSessionState, ConfigurationState, speakers).
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import type { SessionReport, VerifiedConfig } from './client.ts';
import type { ApplyOutcome, Health, HealthSource } from './agent.ts';
import { SetupError } from './errors.ts';
import { configurationErrors, sessionsFromBgpSessionStates, sessionsFromSpeakerMetrics } from './health.ts';

export const FIELD_MANAGER = 'metalfleet-agent';
export const MANAGED_BY_SELECTOR = 'app.kubernetes.io/managed-by=metalfleet';

/**
 * What the agent manages, in apply order: what others reference first (Secrets, BFD profiles
 * and communities before peers; pools before advertisements). Pruning goes in reverse.
 */
export const MANAGED_KINDS: ReadonlyArray<{ apiVersion: string; kind: string }> = [
  { apiVersion: 'v1', kind: 'Secret' },
  { apiVersion: 'v1', kind: 'ConfigMap' },
  { apiVersion: 'metallb.io/v1beta1', kind: 'BFDProfile' },
  { apiVersion: 'metallb.io/v1beta1', kind: 'Community' },
  { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool' },
  { apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer' },
  { apiVersion: 'metallb.io/v1beta1', kind: 'BGPAdvertisement' },
  { apiVersion: 'metallb.io/v1beta1', kind: 'L2Advertisement' },
  { apiVersion: 'frrk8s.metallb.io/v1beta1', kind: 'FRRConfiguration' },
];

const rank = (kind: string) => {
  const i = MANAGED_KINDS.findIndex((k) => k.kind === kind);
  return i === -1 ? MANAGED_KINDS.length : i;
};

export function parseObjects(content: string): k8s.KubernetesObject[] {
  return parseAllDocuments(content).map((d) => d.toJS() as k8s.KubernetesObject).filter((o) => o && o.kind);
}

function describe(err: unknown): string {
  const e = err as { code?: number; body?: unknown; message?: string };
  let detail = e.message ?? String(err);
  if (typeof e.body === 'string') {
    try { detail = (JSON.parse(e.body) as { message?: string }).message ?? detail; } catch { detail = e.body; }
  } else if (e.body && typeof e.body === 'object' && 'message' in e.body) {
    detail = String((e.body as { message: unknown }).message);
  }
  return e.code ? `${e.code} ${detail}` : detail;
}

/**
 * The in-cluster config (the service account), or KUBECONFIG's. Here rather than in main.ts: the
 * agent's bundle then imports the Kubernetes client in this one module, by name, so esbuild keeps only
 * what the agent uses of it and only kubernetes mode loads it.
 */
export function loadKubeConfig(): k8s.KubeConfig {
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromDefault();
  // Found nothing: client-node then falls back to http://localhost:8080, and the first request
  // fails with a TLS or connection error far from the cause.
  if (kubeConfig.getCurrentContext() === 'loaded-context' && kubeConfig.getCurrentCluster()?.server === 'http://localhost:8080') {
    throw new SetupError('no kubeconfig: run the agent in a cluster (its service account), or set KUBECONFIG');
  }
  return kubeConfig;
}

export interface KubernetesApplierOptions {
  kubeConfig: k8s.KubeConfig;
  /** Namespaces the rendered objects live in (the MetalLB namespace); pruned there. */
  namespace: string;
}

export class KubernetesApplier {
  private readonly client: k8s.KubernetesObjectApi;

  constructor(private readonly opts: KubernetesApplierOptions) {
    this.client = k8s.KubernetesObjectApi.makeApiClient(opts.kubeConfig);
  }

  async apply(config: VerifiedConfig): Promise<ApplyOutcome> {
    const objects = parseObjects(config.content).sort((a, b) => rank(a.kind!) - rank(b.kind!));
    const errors: string[] = [];
    for (const object of objects) {
      try {
        await this.client.patch(object, undefined, undefined, FIELD_MANAGER, true, k8s.PatchStrategy.ServerSideApply);
      } catch (err) {
        errors.push(`${object.kind}/${object.metadata?.name}: ${describe(err)}`);
      }
    }
    // Prune only after everything applied: a failed object may still be needed by the old ones.
    if (errors.length === 0) {
      const wanted = new Set(objects.map((o) => `${o.kind}/${o.metadata?.namespace ?? this.opts.namespace}/${o.metadata?.name}`));
      for (const { apiVersion, kind } of [...MANAGED_KINDS].reverse()) {
        let existing: k8s.KubernetesObject[];
        try {
          existing = (await this.client.list(apiVersion, kind, this.opts.namespace, undefined, undefined, undefined, undefined, MANAGED_BY_SELECTOR)).items;
        } catch (err) {
          // A kind the cluster does not serve (frr-k8s absent in FRR mode) has nothing to prune.
          if ((err as { code?: number }).code === 404) continue;
          errors.push(`list ${kind}: ${describe(err)}`);
          continue;
        }
        for (const object of existing) {
          const key = `${kind}/${object.metadata?.namespace ?? this.opts.namespace}/${object.metadata?.name}`;
          if (wanted.has(key)) continue;
          try {
            await this.client.delete({ apiVersion, kind, metadata: { name: object.metadata!.name!, namespace: object.metadata?.namespace ?? this.opts.namespace } });
          } catch (err) {
            if ((err as { code?: number }).code !== 404) errors.push(`delete ${key}: ${describe(err)}`);
          }
        }
      }
    }
    return errors.length === 0 ? { ok: true } : { ok: false, error: `revision ${config.revision}: ${errors.join('; ')}` };
  }
}

export type KubernetesBackend = 'metallb-native' | 'metallb-frr' | 'metallb-frr-k8s';

export interface KubernetesHealthOptions {
  kubeConfig: k8s.KubeConfig;
  /** The backend of the applied config, or how to learn it each round (it can change with a revision). */
  backend: KubernetesBackend | (() => KubernetesBackend);
  /** Where MetalLB (and frr-k8s) run. */
  namespace: string;
  metallbVersion?: string;
  /** Native mode: the speakers' metrics endpoints, and how to authenticate (RBAC-protected since 0.16). */
  speakerMetrics?: Array<{ node: string; url: string }>;
  bearerToken?: () => string | undefined;
  fetch?: typeof fetch;
}

/**
 * Session health and MetalLB's verdict on the applied config, from the cluster itself. One for the
 * agent's life: its client keeps the API discovery it did (a new one each round would do it again).
 */
export class KubernetesHealth implements HealthSource {
  private readonly client: k8s.KubernetesObjectApi;

  constructor(private readonly opts: KubernetesHealthOptions) {
    this.client = k8s.KubernetesObjectApi.makeApiClient(opts.kubeConfig);
  }

  private async listOrEmpty(apiVersion: string, kind: string, namespace?: string): Promise<k8s.KubernetesObject[]> {
    try {
      return (await this.client.list(apiVersion, kind, namespace)).items;
    } catch (err) {
      if ((err as { code?: number }).code === 404) return [];
      throw err;
    }
  }

  async collect(): Promise<Health> {
    let sessions: SessionReport[] = [];
    const backend = typeof this.opts.backend === 'function' ? this.opts.backend() : this.opts.backend;
    if (backend === 'metallb-native') {
      for (const speaker of this.opts.speakerMetrics ?? []) {
        const token = this.opts.bearerToken?.();
        const res = await (this.opts.fetch ?? fetch)(speaker.url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(5000) });
        if (res.ok) sessions.push(...sessionsFromSpeakerMetrics(speaker.node, await res.text()));
      }
    } else {
      // frr-k8s (also behind MetalLB's FRR-K8s mode) publishes one BGPSessionState per node × peer × VRF.
      sessions = sessionsFromBgpSessionStates(await this.listOrEmpty('frrk8s.metallb.io/v1beta1', 'BGPSessionState', this.opts.namespace) as never);
    }
    const states = await this.listOrEmpty('metallb.io/v1beta1', 'ConfigurationState', this.opts.namespace);
    const nodes = await this.listOrEmpty('v1', 'Node');
    return {
      sessions,
      applyErrors: configurationErrors(states as never),
      capabilities: {
        ...(this.opts.metallbVersion ? { metallbVersion: this.opts.metallbVersion } : {}),
        nodes: nodes.map((n) => ({ name: n.metadata!.name!, labels: (n.metadata?.labels ?? {}) as Record<string, string> })),
      },
    };
  }
}

/** Keeps the agent's key and identity in a Secret of its own namespace. */
export class SecretIdentityStore {
  private readonly client: k8s.KubernetesObjectApi;

  constructor(kubeConfig: k8s.KubeConfig, private readonly namespace: string, private readonly name = 'metalfleet-agent-identity') {
    this.client = k8s.KubernetesObjectApi.makeApiClient(kubeConfig);
  }

  async load(): Promise<Record<string, string> | undefined> {
    try {
      const secret = await this.client.read<k8s.V1Secret>({ apiVersion: 'v1', kind: 'Secret', metadata: { name: this.name, namespace: this.namespace } });
      return Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  }

  async save(values: Record<string, string>): Promise<void> {
    const secret: k8s.V1Secret = {
      apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
      metadata: { name: this.name, namespace: this.namespace, labels: { 'app.kubernetes.io/name': 'metalfleet-agent' } },
      data: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')])),
    };
    await this.client.patch(secret, undefined, undefined, FIELD_MANAGER, true, k8s.PatchStrategy.ServerSideApply);
  }
}
