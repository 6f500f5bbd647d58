import { eq } from 'drizzle-orm';
import type { Tx } from '../tenant.ts';
import { clusters, type ClusterCapabilities } from '../schema.ts';
import type { Backend, Labels } from '../../render/policy.ts';
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
  createdAt: Date;
  updatedAt: Date;
}

const columns = {
  id: clusters.id, name: clusters.name, backend: clusters.backend, namespace: clusters.namespace, labels: clusters.labels,
  capabilities: clusters.capabilities, desiredRevision: clusters.desiredRevision, appliedRevision: clusters.appliedRevision,
  lastSeenAt: clusters.lastSeenAt, lastApplyError: clusters.lastApplyError, renderProblems: clusters.renderProblems, createdAt: clusters.createdAt, updatedAt: clusters.updatedAt,
};

export function listClusters(tx: Tx, { tenantId, ...page }: { tenantId: string } & Page): Promise<ClusterRecord[]> {
  const { where, orderBy } = pageByName(clusters, tenantId, page);
  return tx.select(columns).from(clusters).where(where).orderBy(orderBy).limit(page.limit);
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
