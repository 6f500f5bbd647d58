import { anyOf } from './any-of.ts';
import { and, eq, or, sql, type SQL } from 'drizzle-orm';
import type { Tx } from '../tenant.ts';
import { clusters, type ClusterCapabilities } from '../schema.ts';
import type { Backend, Labels } from '../../render/policy.ts';
import { inScope, type ClusterScope } from '../../render/scope.ts';
import { byName, pageByName, type Page } from './named.ts';

export interface ClusterInput { name: string; backend: Backend; namespace: string; labels: Labels }
export interface ClusterRecord extends ClusterInput {
  id: string;
  capabilities: ClusterCapabilities;
  desiredRevision: number;
  appliedRevision: number | null;
  lastSeenAt: Date | null;
  lastApplyError: string | null;
  renderProblems: Array<{ code: string; path: string; message: string; remedy: string }> | null;
  /** Being deleted: its config withdraws everything; the row goes once its agent applied that. */
  withdrawingSince: Date | null;
  /** A rollback's revision, served until a write affects the cluster. */
  pinnedRevision: number | null;
  /** The newest revision stored, when above the desired one (a rollout stages it); see nextRevision. */
  latestRevision: number;
  createdAt: Date;
  updatedAt: Date;
}

const columns = {
  id: clusters.id, name: clusters.name, backend: clusters.backend, namespace: clusters.namespace, labels: clusters.labels,
  capabilities: clusters.capabilities, desiredRevision: clusters.desiredRevision, appliedRevision: clusters.appliedRevision,
  lastSeenAt: clusters.lastSeenAt, lastApplyError: clusters.lastApplyError, renderProblems: clusters.renderProblems,
  withdrawingSince: clusters.withdrawingSince, pinnedRevision: clusters.pinnedRevision, latestRevision: clusters.latestRevision, createdAt: clusters.createdAt, updatedAt: clusters.updatedAt,
};

export function listClusters(tx: Tx, { tenantId, ...page }: { tenantId: string } & Page): Promise<ClusterRecord[]> {
  const { where, orderBy } = pageByName(clusters, tenantId, page);
  return tx.select(columns).from(clusters).where(where).orderBy(orderBy).limit(page.limit);
}

/** Every cluster of the tenant (by name). */
export const ALL_ROWS = 1_000_000;

/**
 * The tenant's clusters in `scope` (render/scope.ts), asking the database for no more than it must:
 * ids by key, selectors by their matchLabels (`labels @> …`); expressions are checked here, after.
 */
export async function listClustersInScope(tx: Tx, { tenantId, scope }: { tenantId: string; scope: ClusterScope }): Promise<ClusterRecord[]> {
  if (scope.all) return listClusters(tx, { tenantId, limit: ALL_ROWS });
  const wanted: SQL[] = [];
  if (scope.ids?.length) wanted.push(anyOf(clusters.id, scope.ids));
  for (const selector of scope.selectors ?? []) {
    const labels = selector.matchLabels ?? {};
    // A selector of expressions only narrows nothing here: every cluster, exactly filtered below.
    wanted.push(Object.keys(labels).length > 0 ? sql`${clusters.labels} @> ${JSON.stringify(labels)}::jsonb` : sql`true`);
  }
  if (wanted.length === 0) return [];
  const rows = await tx.select(columns).from(clusters).where(and(eq(clusters.tenantId, tenantId), or(...wanted))).orderBy(clusters.name);
  return rows.filter((row) => inScope(scope, row));
}

export async function getCluster(tx: Tx, { tenantId, name, forUpdate }: { tenantId: string; name: string; forUpdate?: boolean }): Promise<ClusterRecord | undefined> {
  const query = tx.select(columns).from(clusters).where(byName(clusters, tenantId, name));
  const [row] = forUpdate ? await query.for('update') : await query;
  return row;
}

export async function createCluster(tx: Tx, { tenantId, input }: { tenantId: string; input: ClusterInput }): Promise<ClusterRecord> {
  const [row] = await tx.insert(clusters).values({ tenantId, ...input }).returning(columns);
  return row!;
}

export async function updateCluster(tx: Tx, { id, input }: { id: string; input: ClusterInput }): Promise<ClusterRecord> {
  const [row] = await tx.update(clusters).set({ ...input, updatedAt: new Date() }).where(eq(clusters.id, id)).returning(columns);
  return row!;
}

export async function deleteCluster(tx: Tx, { id }: { id: string }): Promise<void> {
  await tx.delete(clusters).where(eq(clusters.id, id));
}

/** Marks clusters as withdrawing (their next render is empty); those already withdrawing keep their time. */
export async function markWithdrawing(tx: Tx, { clusterIds }: { clusterIds: string[] }): Promise<void> {
  if (clusterIds.length === 0) return;
  await tx.update(clusters).set({ withdrawingSince: sql`coalesce(${clusters.withdrawingSince}, now())` }).where(anyOf(clusters.id, clusterIds));
}

/** Deletes the withdrawing clusters among `clusterIds` that hold no address space any more; returns their names. */
export async function deleteWithdrawnClusters(tx: Tx, { clusterIds }: { clusterIds: string[] }): Promise<string[]> {
  if (clusterIds.length === 0) return [];
  const gone = await tx.delete(clusters).where(sql`${anyOf(clusters.id, clusterIds)}
    and ${clusters.withdrawingSince} is not null
    and not exists (select 1 from address_holds h where h.cluster_id = ${clusters.id})`).returning({ name: clusters.name });
  return gone.map((g) => g.name);
}

/** Whether each cluster has (had) an agent: only those can be announcing anything. */
export async function clustersWithAgents(tx: Tx, { tenantId }: { tenantId: string }): Promise<Array<{ id: string; name: string }>> {
  return tx.select({ id: clusters.id, name: clusters.name }).from(clusters)
    .where(sql`${clusters.tenantId} = ${tenantId} and exists (select 1 from agents a where a.cluster_id = ${clusters.id})`).orderBy(clusters.name);
}
