// Write-time rendering: inside the write's own transaction (which holds the tenant's write lock,
// db/tenant.ts withTenantWrite), every cluster the write can affect is rendered for its backend.
// If any of them cannot take the result, the whole write is refused (422, per cluster: code, path,
// message, remedy) and nothing is stored. Otherwise each cluster whose output changed gets a new
// revision, sealed at rest and signed by the server, with the prefixes it announces and the
// intent it was rendered from.
//
// What a cluster must be given is one function of the stored state (expectedClusterIntent): its
// selected objects; nothing when it is withdrawing; the pinned objects of a rollback, under
// today's policy and facts. Writes, capability re-renders, rollbacks and `metalfleet verify` all
// render through it, so the served config is always the render of the committed intent.
import { CompactSign } from 'jose';
import { loadTenantIntent, type TenantIntent } from '../db/queries/intent.ts';
import { getRevision, latestShas, nextRevision, storeRevisions, unpinClusters, type NewRevision } from '../db/queries/revisions.ts';
import { openRollout, startWave, type RolloutActor } from './rollouts.ts';
import type { ClusterRecord } from '../db/queries/clusters.ts';
import { openSecret, sealSecret, type SecretKey } from '../db/secrets.ts';
import type { Tx } from '../db/tenant.ts';
import { renderCluster, type Problem, type RenderResult } from '../render/index.ts';
import type { ClusterIntentInput } from '../render/model.ts';
import { clusterIntent, intentPrefixes, pinnedIntent } from '../render/select.ts';
import type { ClusterScope } from '../render/scope.ts';
import type { SigningKey } from './auth.ts';
import { ApiError } from './errors.ts';

export interface RenderDeps {
  secretKey: SecretKey;
  signingKey: SigningKey;
  /** Counts renders: the poll path must never render (tests prove it). */
  onRender?: () => void;
}

export interface ClusterProblems { cluster: string; backend: string; problems: Problem[] }

export interface RenderOutcome {
  rendered: number;
  /** Clusters that got a new revision, by id. */
  revisions: Map<string, number>;
  failed: ClusterProblems[];
}

/** The sealing context binds a revision's ciphertext (content and intent) to its cluster. */
export const revisionContext = (clusterId: string) => `config:${clusterId}`;

/**
 * What a config signature covers. Version 1 (typ `metalfleet-config+jws`, stored before this one)
 * covered the sha256 alone, so a man in the middle could hand one cluster's signed config to
 * another cluster's agent, or an old revision as a new one. Version 2 binds the cluster and the
 * revision number too; agents check all three (agents/client.ts). `metalfleet keys resign`
 * re-signs version 1 signatures as version 2.
 */
export const CONFIG_SIGNATURE_TYPE = 'metalfleet-config-v2+jws';
export interface SignedConfigClaims { clusterId: string; revision: number; sha256: string }

/** The signed payload: canonical JSON, keys in this order. */
export const configSignaturePayload = (claims: SignedConfigClaims) =>
  JSON.stringify({ v: 2, cluster: claims.clusterId, revision: claims.revision, sha256: claims.sha256 });

/** A compact JWS over a config's cluster, revision and sha256: what agents verify against /.well-known/jwks.json. */
export function signConfig(signingKey: SigningKey, claims: SignedConfigClaims): Promise<string> {
  return new CompactSign(new TextEncoder().encode(configSignaturePayload(claims)))
    .setProtectedHeader({ alg: 'EdDSA', kid: signingKey.kid, typ: CONFIG_SIGNATURE_TYPE })
    .sign(signingKey.privateKey);
}

/** What the pure selection needs of a stored cluster. */
export const clusterRef = (cluster: ClusterRecord) => ({
  name: cluster.name, backend: cluster.backend, namespace: cluster.namespace, labels: cluster.labels,
  capabilities: cluster.capabilities, withdrawing: cluster.withdrawingSince !== null,
});

/** The intent a revision was rendered from (undefined for revisions stored before migration 0009). */
export async function revisionIntent(tx: Tx, deps: Pick<RenderDeps, 'secretKey'>, clusterId: string, revision: number): Promise<ClusterIntentInput | undefined> {
  const row = await getRevision(tx, { clusterId, revision });
  if (!row?.intent) return undefined;
  return JSON.parse(await openSecret(deps.secretKey, row.intent, revisionContext(clusterId))) as ClusterIntentInput;
}

/**
 * What `cluster` must be given now. `keepPin`: a pinned cluster (rollback) keeps its pinned
 * objects (capability re-renders, verification); otherwise (a write that affects it) the pin ends
 * and the cluster gets today's intent.
 */
export async function expectedClusterIntent(tx: Tx, deps: Pick<RenderDeps, 'secretKey'>, tenant: TenantIntent, cluster: ClusterRecord,
  opts: { keepPin: boolean }): Promise<{ intent: ClusterIntentInput; pinned: boolean; problems: Problem[] }> {
  const current = clusterIntent(tenant.objects, clusterRef(cluster));
  if (!opts.keepPin || cluster.pinnedRevision === null || cluster.withdrawingSince !== null) return { intent: current, pinned: false, problems: [] };
  const pinned = await revisionIntent(tx, deps, cluster.id, cluster.pinnedRevision);
  if (!pinned) return { intent: current, pinned: false, problems: [] };
  return { ...pinnedIntent(pinned, current, cluster.pinnedRevision), pinned: true };
}

/** Renders one cluster's intent, counted. */
export function renderIntent(deps: RenderDeps, intent: ClusterIntentInput): RenderResult {
  deps.onRender?.();
  return renderCluster(intent);
}

/**
 * A rendered config as a revision to store: content and intent sealed; the cluster, revision number
 * and sha256 signed. The number is nextRevision of the cluster as read in this transaction:
 * every caller holds the tenant's write lock, and storeRevisions refuses any other number.
 */
export async function newRevision(deps: RenderDeps, args: {
  tenantId: string; cluster: ClusterRecord; intent: ClusterIntentInput; result: Extract<RenderResult, { ok: true }>; cause: string;
}): Promise<NewRevision> {
  const context = revisionContext(args.cluster.id);
  const revision = nextRevision(args.cluster);
  // Three WebCrypto jobs at once: each is a round trip to the thread pool.
  const [content, intent, signature] = await Promise.all([
    sealSecret(deps.secretKey, args.result.content, context),
    sealSecret(deps.secretKey, JSON.stringify(args.intent), context),
    signConfig(deps.signingKey, { clusterId: args.cluster.id, revision, sha256: args.result.sha256 }),
  ]);
  return {
    tenantId: args.tenantId, clusterId: args.cluster.id, revision, backend: args.result.backend, sha256: args.result.sha256, cause: args.cause,
    content, intent, signature, prefixes: intentPrefixes(args.intent),
  };
}

/** Clusters sealed and signed at once (their rendered configs are held meanwhile). */
const SEAL_BATCH = 64;

/**
 * Renders the tenant's clusters in `scope`; stores a revision for each whose sha256
 * changed. With `refuseOnProblems`, any cluster that cannot be rendered fails the write (422);
 * without, those clusters are reported and keep their current revision. `keepPins`: see
 * expectedClusterIntent (false for intent writes).
 */
export async function renderClusters(tx: Tx, deps: RenderDeps, args: {
  tenantId: string; scope: ClusterScope; cause: string; refuseOnProblems: boolean; keepPins?: boolean;
  /** A change to intent: staged by the tenant's rollout policy, if it has one (api/rollouts.ts). */
  rollout?: RolloutActor;
}): Promise<RenderOutcome> {
  // Only the clusters in scope are read (a one-cluster write in a tenant of 10,000 reads one).
  const tenant = await loadTenantIntent(tx, { tenantId: args.tenantId, secretKey: deps.secretKey, scope: args.scope });
  const targets = tenant.clusters;
  // Against the newest revision: one a rollout stages counts as given (it is what the cluster will serve).
  const current = await latestShas(tx, { clusterIds: targets.map((c) => c.id) });
  const failed: ClusterProblems[] = [];
  const changed: NewRevision[] = [];
  const pinnedChanged: NewRevision[] = [];
  const unpinned: string[] = [];
  // Sealing and signing are WebCrypto jobs on the thread pool: a batch of clusters at a time keeps
  // both cores busy, where one cluster at a time left the event loop waiting on each (10,000
  // clusters: ~30,000 round trips in a row).
  let sealing: Array<{ pinned: boolean; revision: Promise<NewRevision> }> = [];
  const flush = async () => {
    const done = await Promise.all(sealing.map((s) => s.revision)); // every rejection handled
    done.forEach((revision, i) => (sealing[i]!.pinned ? pinnedChanged : changed).push(revision));
    sealing = [];
  };
  for (const cluster of targets) {
    const expected = await expectedClusterIntent(tx, deps, tenant, cluster, { keepPin: args.keepPins ?? false });
    const result = renderIntent(deps, expected.intent);
    if (!result.ok || expected.problems.length > 0) {
      failed.push({ cluster: cluster.name, backend: cluster.backend, problems: [...expected.problems, ...(result.ok ? [] : result.problems)] });
      continue;
    }
    if (current.get(cluster.id)?.sha256 === result.sha256) {
      if (cluster.pinnedRevision !== null && !expected.pinned) unpinned.push(cluster.id);
      continue;
    }
    sealing.push({ pinned: expected.pinned, revision: newRevision(deps, { tenantId: args.tenantId, cluster, intent: expected.intent, result, cause: args.cause }) });
    if (sealing.length >= SEAL_BATCH) await flush();
  }
  await flush();
  if (failed.length > 0 && args.refuseOnProblems) throw clustersRefuse(failed);
  const changedIds = new Set(changed.map((r) => r.clusterId));
  const rollout = args.rollout && changed.length > 0
    ? await openRollout(tx, { tenantId: args.tenantId, cause: args.cause, clusters: targets.filter((c) => changedIds.has(c.id)), by: args.rollout })
    : undefined;
  const revisions = new Map([...await storeRevisions(tx, changed), ...await storeRevisions(tx, pinnedChanged, { pin: true })]);
  if (rollout) await startWave(tx, rollout, 0, args.rollout!);
  await unpinClusters(tx, { clusterIds: unpinned });
  return { rendered: targets.length, revisions, failed };
}

export function clustersRefuse(failed: ClusterProblems[]): ApiError {
  const names = failed.map((f) => f.cluster).join(', ');
  return new ApiError(422, 'cluster-config-invalid', 'A targeted cluster cannot take this change',
    `the change would break cluster(s) ${names}; nothing was stored`, {
      errors: failed.flatMap((f) => f.problems.map((p) => ({ path: `clusters/${f.cluster}/${p.path}`, code: p.code, message: `${p.message}; ${p.remedy}` }))),
      extensions: { clusters: failed },
    });
}
