// Write-time rendering: inside the write's own transaction, every cluster the write can affect
// is rendered for its backend. If any of them cannot take the result, the whole write is refused
// (422, per cluster: code, path, message, remedy) and nothing is stored. Otherwise each cluster
// whose output changed gets a new revision, sealed at rest and signed by the server.
import { CompactSign } from 'jose';
import { loadTenantIntent } from '../db/queries/intent.ts';
import { desiredShas, storeRevisions, type NewRevision } from '../db/queries/revisions.ts';
import type { ClusterRecord } from '../db/queries/clusters.ts';
import { sealSecret, type SecretKey } from '../db/secrets.ts';
import type { Tx } from '../db/tenant.ts';
import { renderCluster, type Problem } from '../render/index.ts';
import { clusterIntent } from '../render/select.ts';
import type { SigningKey } from './auth.ts';
import { ApiError } from './errors.ts';

export interface RenderDeps {
  secretKey: SecretKey;
  signingKey: SigningKey;
  /** Counts renders: the poll path must never render (tests prove it). */
  onRender?: () => void;
}

/** Which of the tenant's clusters to render. */
export type ClusterFilter = (cluster: ClusterRecord) => boolean;

export interface ClusterProblems { cluster: string; backend: string; problems: Problem[] }

export interface RenderOutcome {
  rendered: number;
  /** Clusters that got a new revision, by id. */
  revisions: Map<string, number>;
  failed: ClusterProblems[];
}

/** The sealing context binds a revision's ciphertext to its cluster. */
export const revisionContext = (clusterId: string) => `config:${clusterId}`;

/** A compact JWS over the sha256 of a config: what agents verify against /.well-known/jwks.json. */
export function signDigest(signingKey: SigningKey, sha256: string): Promise<string> {
  return new CompactSign(new TextEncoder().encode(sha256))
    .setProtectedHeader({ alg: 'EdDSA', kid: signingKey.kid, typ: 'metalfleet-config+jws' })
    .sign(signingKey.privateKey);
}

/**
 * Renders the tenant's clusters selected by `filter`; stores a revision for each whose sha256
 * changed. With `refuseOnProblems`, any cluster that cannot be rendered fails the write (422);
 * without, those clusters are reported and keep their current revision.
 */
export async function renderClusters(tx: Tx, deps: RenderDeps, args: {
  tenantId: string; filter: ClusterFilter; cause: string; refuseOnProblems: boolean;
}): Promise<RenderOutcome> {
  const intent = await loadTenantIntent(tx, { tenantId: args.tenantId, secretKey: deps.secretKey });
  const targets = intent.clusters.filter(args.filter);
  const current = await desiredShas(tx, { clusterIds: targets.map((c) => c.id) });
  const failed: ClusterProblems[] = [];
  const changed: NewRevision[] = [];
  for (const cluster of targets) {
    deps.onRender?.();
    const result = renderCluster(clusterIntent(intent.objects, cluster));
    if (!result.ok) {
      failed.push({ cluster: cluster.name, backend: cluster.backend, problems: result.problems });
      continue;
    }
    if (current.get(cluster.id)?.sha256 === result.sha256) continue;
    changed.push({
      tenantId: args.tenantId, clusterId: cluster.id, backend: result.backend, sha256: result.sha256,
      content: await sealSecret(deps.secretKey, result.content, revisionContext(cluster.id)),
      signature: await signDigest(deps.signingKey, result.sha256),
      cause: args.cause,
    });
  }
  if (failed.length > 0 && args.refuseOnProblems) throw clustersRefuse(failed);
  const revisions = await storeRevisions(tx, changed);
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
