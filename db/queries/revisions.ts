import { and, desc, eq, inArray, lt, sql } from 'drizzle-orm';
import type { Tx } from '../tenant.ts';
import { clusters, configRevisions } from '../schema.ts';
import type { Backend } from '../../render/policy.ts';

export interface RevisionRecord {
  clusterId: string;
  revision: number;
  backend: Backend;
  /** Sealed (db/secrets.ts): revisions carry peer passwords. */
  content: string;
  sha256: string;
  signature: string;
  cause: string;
  createdAt: Date;
}

/** The current desired revision's sha256 of each cluster (none yet: absent). */
export async function desiredShas(tx: Tx, { clusterIds }: { clusterIds: string[] }): Promise<Map<string, { revision: number; sha256: string }>> {
  if (clusterIds.length === 0) return new Map();
  const rows = await tx.select({ clusterId: configRevisions.clusterId, revision: configRevisions.revision, sha256: configRevisions.sha256 })
    .from(configRevisions).innerJoin(clusters, and(eq(clusters.id, configRevisions.clusterId), eq(clusters.desiredRevision, configRevisions.revision)))
    .where(inArray(configRevisions.clusterId, clusterIds));
  return new Map(rows.map((r) => [r.clusterId, { revision: r.revision, sha256: r.sha256 }]));
}

export interface NewRevision {
  tenantId: string;
  clusterId: string;
  backend: Backend;
  content: string;
  sha256: string;
  signature: string;
  cause: string;
}

/**
 * Stores one new revision per cluster (numbered after the cluster's desired revision) and moves
 * each cluster's desired revision to it: two statements for any number of clusters.
 */
export async function storeRevisions(tx: Tx, revisions: NewRevision[]): Promise<Map<string, number>> {
  if (revisions.length === 0) return new Map();
  const ids = revisions.map((r) => r.clusterId);
  const moved = await tx.update(clusters).set({ desiredRevision: sql`${clusters.desiredRevision} + 1`, updatedAt: new Date() })
    .where(inArray(clusters.id, ids)).returning({ id: clusters.id, revision: clusters.desiredRevision });
  const numbers = new Map(moved.map((m) => [m.id, m.revision]));
  await tx.insert(configRevisions).values(revisions.map((r) => ({ ...r, revision: numbers.get(r.clusterId)! })));
  return numbers;
}

export async function getRevision(tx: Tx, { clusterId, revision }: { clusterId: string; revision?: number }): Promise<RevisionRecord | undefined> {
  const query = tx.select().from(configRevisions).where(and(eq(configRevisions.clusterId, clusterId),
    revision === undefined ? eq(configRevisions.revision, sql`(select desired_revision from clusters where id = ${clusterId})`) : eq(configRevisions.revision, revision)));
  const [row] = await query;
  return row as RevisionRecord | undefined;
}

export function listRevisions(tx: Tx, { clusterId, before, limit }: { clusterId: string; before?: number; limit: number }) {
  return tx.select({ revision: configRevisions.revision, backend: configRevisions.backend, sha256: configRevisions.sha256, cause: configRevisions.cause, createdAt: configRevisions.createdAt })
    .from(configRevisions).where(and(eq(configRevisions.clusterId, clusterId), before !== undefined ? lt(configRevisions.revision, before) : undefined))
    .orderBy(desc(configRevisions.revision)).limit(limit);
}

/**
 * Deletes the revisions of the scope's clusters that are older than each cluster's last `keep`
 * (numbers are consecutive per cluster, up to its desired revision), never the revision its
 * agent last applied. One statement; returns how many went.
 */
export async function pruneRevisions(tx: Tx, { keep }: { keep: number }): Promise<number> {
  const gone = await tx.delete(configRevisions)
    .where(sql`exists (select 1 from ${clusters} c where c.id = ${configRevisions.clusterId}
      and ${configRevisions.revision} <= c.desired_revision - ${keep}
      and ${configRevisions.revision} is distinct from c.applied_revision)`)
    .returning({ revision: configRevisions.revision });
  return gone.length;
}
