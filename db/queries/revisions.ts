import { anyOf, listRows } from './any-of.ts';
import { and, asc, desc, eq, gt, lt, sql } from 'drizzle-orm';
import { resultRows } from '../client.ts';
import type { Tx } from '../tenant.ts';
import { clusters, configRevisions } from '../schema.ts';
import type { Backend } from '../../render/policy.ts';
import { holdDesiredPrefixes } from './holds.ts';

export interface RevisionRecord {
  clusterId: string;
  revision: number;
  backend: Backend;
  /** Sealed (db/secrets.ts): revisions carry peer passwords. */
  content: string;
  sha256: string;
  signature: string;
  cause: string;
  /** The pool CIDRs the config gives the cluster. */
  prefixes: string[];
  /** Sealed cluster intent it was rendered from; null for revisions stored before migration 0009. */
  intent: string | null;
  createdAt: Date;
}

/** The current desired revision's sha256 of each cluster (none yet: absent). */
export async function desiredShas(tx: Tx, { clusterIds }: { clusterIds: string[] }): Promise<Map<string, { revision: number; sha256: string }>> {
  if (clusterIds.length === 0) return new Map();
  const rows = await tx.select({ clusterId: configRevisions.clusterId, revision: configRevisions.revision, sha256: configRevisions.sha256 })
    .from(configRevisions).innerJoin(clusters, and(eq(clusters.id, configRevisions.clusterId), eq(clusters.desiredRevision, configRevisions.revision)))
    .where(anyOf(clusters.id, clusterIds));
  return new Map(rows.map((r) => [r.clusterId, { revision: r.revision, sha256: r.sha256 }]));
}

/**
 * Every cluster's desired revision and its sha256 (clusters with none yet left out), in cluster id
 * order after `afterClusterId`, at most `limit`: one page of a keyset walk over all tenants.
 */
export function listDesiredAfter(tx: Tx, { afterClusterId, limit }: { afterClusterId?: string; limit: number }):
  Promise<Array<{ clusterId: string; revision: number; sha256: string }>> {
  return tx.select({ clusterId: clusters.id, revision: configRevisions.revision, sha256: configRevisions.sha256 })
    .from(clusters).innerJoin(configRevisions, and(eq(configRevisions.clusterId, clusters.id), eq(configRevisions.revision, clusters.desiredRevision)))
    .where(afterClusterId ? gt(clusters.id, afterClusterId) : undefined)
    .orderBy(asc(clusters.id)).limit(limit);
}

export interface NewRevision {
  tenantId: string;
  clusterId: string;
  /** The number it gets: nextRevision of the cluster (the signature covers it). */
  revision: number;
  backend: Backend;
  content: string;
  sha256: string;
  signature: string;
  cause: string;
  prefixes: string[];
  intent: string;
}

/** The number a cluster's next revision gets: after its desired and its newest (a rollout may stage one above the desired). */
export const nextRevision = (cluster: { desiredRevision: number; latestRevision: number }) => Math.max(cluster.desiredRevision, cluster.latestRevision) + 1;

/**
 * Stores one new revision per cluster (numbered by nextRevision, which the signature covers), moves each
 * cluster's desired revision to it, and holds its prefixes for the clusters that have an agent:
 * a statement per 2,000 clusters. `pin`: the cluster serves this revision's intent
 * until a write affects it (a rollback); without, any pin of these clusters ends.
 *
 * A cluster of an unfinished rollout (api/rollouts.ts) whose newest rollout has not moved it to
 * that rollout's revision (its wave has not started, or failed) keeps its desired revision: the
 * new revision becomes that rollout's revision for it and waits for its wave. Either way the
 * rollout's record names the revision the cluster is given.
 */
const REVISION_INSERT_BATCH = 2_000;

export async function storeRevisions(tx: Tx, revisions: NewRevision[], opts: { pin?: boolean } = {}): Promise<Map<string, number>> {
  if (revisions.length === 0) return new Map();
  const ids = revisions.map((r) => r.clusterId);
  const staged = await stagedByRollout(tx, { tenantId: revisions[0]!.tenantId, clusterIds: ids });
  const moving = ids.filter((id) => !staged.has(id));
  const next = sql`greatest(${clusters.desiredRevision}, ${clusters.latestRevision}) + 1`;
  const numbers = new Map<string, number>();
  if (moving.length > 0) {
    const moved = await tx.update(clusters).set({
      desiredRevision: next, latestRevision: next, updatedAt: new Date(), pinnedRevision: opts.pin ? next : null,
    }).where(anyOf(clusters.id, moving)).returning({ id: clusters.id, revision: clusters.desiredRevision });
    for (const m of moved) numbers.set(m.id, m.revision);
  }
  if (staged.size > 0) {
    const kept = await tx.update(clusters).set({ latestRevision: next, updatedAt: new Date() })
      .where(anyOf(clusters.id, [...staged])).returning({ id: clusters.id, revision: clusters.latestRevision });
    for (const k of kept) numbers.set(k.id, k.revision);
  }
  // The signature covers the number: one computed from a stale read would be refused by every agent.
  const stale = revisions.find((r) => numbers.get(r.clusterId) !== r.revision);
  if (stale) throw new Error(`revision ${stale.revision} of cluster ${stale.clusterId} was prepared, but the cluster's next is ${numbers.get(stale.clusterId)}`);
  // Rows as one JSON parameter per batch: building a statement with ten bound parameters per row
  // took the query builder over a second for 10,000 revisions (a tenth of a fan-out); batches keep
  // each message to tens of megabytes.
  for (let i = 0; i < revisions.length; i += REVISION_INSERT_BATCH) {
    const rows = JSON.stringify(revisions.slice(i, i + REVISION_INSERT_BATCH));
    await tx.execute(sql`
      insert into config_revisions (tenant_id, cluster_id, revision, backend, content, sha256, signature, cause, prefixes, intent)
      select r."tenantId", r."clusterId", r.revision, r.backend, r.content, r.sha256, r.signature, r.cause, r.prefixes, r.intent
      from jsonb_to_recordset(${rows}::jsonb) as r("tenantId" uuid, "clusterId" uuid, revision integer, backend text,
        content text, sha256 text, signature text, cause text, prefixes cidr[], intent text)`);
  }
  await holdDesiredPrefixes(tx, { clusterIds: moving });
  await retargetRollouts(tx, { tenantId: revisions[0]!.tenantId, numbers });
  return numbers;
}

/** Unfinished rollouts of the tenant that include a cluster: the newest row per cluster. */
const newestRolloutRows = (tenantId: string, clusterIds: string[]) => sql`
  select distinct on (rc.cluster_id) rc.rollout_id, rc.cluster_id, rc.state
  from rollout_clusters rc join rollouts ro on ro.id = rc.rollout_id
  where ro.tenant_id = ${tenantId}::uuid and ro.state in ('queued', 'progressing', 'paused') and rc.state <> 'skipped'
    and rc.cluster_id in (${listRows(clusterIds, 'uuid')})
  order by rc.cluster_id, ro.number desc`;

/** Which of the clusters wait for a rollout's wave (pending), or were moved back by one (rolled back). */
async function stagedByRollout(tx: Tx, { tenantId, clusterIds }: { tenantId: string; clusterIds: string[] }): Promise<Set<string>> {
  // Tenants without an unfinished rollout (every tenant without a rollout policy) pay one indexed probe.
  const [any] = resultRows<{ x: number }>(await tx.execute(sql`
    select 1 as x from rollouts where tenant_id = ${tenantId}::uuid and state in ('queued', 'progressing', 'paused') limit 1`));
  if (!any) return new Set();
  // A withdrawal never waits: the cluster leaves its rollouts (skipped) and gets its empty config at once.
  await tx.execute(sql`
    update rollout_clusters rc set state = 'skipped', updated_at = now()
    from rollouts ro, clusters c
    where ro.id = rc.rollout_id and c.id = rc.cluster_id and ro.tenant_id = ${tenantId}::uuid
      and ro.state in ('queued', 'progressing', 'paused') and c.withdrawing_since is not null
      and rc.cluster_id in (${listRows(clusterIds, 'uuid')})`);
  const rows = resultRows<{ cluster_id: string; state: string }>(await tx.execute(newestRolloutRows(tenantId, clusterIds)));
  return new Set(rows.filter((r) => r.state === 'pending' || r.state === 'rolled-back').map((r) => r.cluster_id));
}

/** The newest unfinished rollout of each cluster now gives it the revision just stored. */
async function retargetRollouts(tx: Tx, { tenantId, numbers }: { tenantId: string; numbers: Map<string, number> }): Promise<void> {
  const [any] = resultRows<{ x: number }>(await tx.execute(sql`
    select 1 as x from rollouts where tenant_id = ${tenantId}::uuid and state in ('queued', 'progressing', 'paused') limit 1`));
  if (!any) return;
  await tx.execute(sql`
    update rollout_clusters rc set to_revision = n.next, updated_at = now()
    from (${newestRolloutRows(tenantId, [...numbers.keys()])}) as newest,
      (select key::uuid as cluster_id, value::int as next from jsonb_each_text(${JSON.stringify(Object.fromEntries(numbers))}::jsonb)) as n
    where rc.rollout_id = newest.rollout_id and rc.cluster_id = newest.cluster_id and n.cluster_id = rc.cluster_id`);
}

/** One index probe per cluster (exported for the test that checks the plan keeps it so). */
export const latestShasQuery = (clusterIds: string[]) => sql`
    select r.cluster_id, r.revision, r.sha256 from (${listRows(clusterIds, 'uuid')}) as c
    join lateral (select cluster_id, revision, sha256 from config_revisions where cluster_id = c.value order by revision desc limit 1) r on true`;

/** The sha256 of each cluster's newest revision (desired, or staged by a rollout); none yet: absent. */
export async function latestShas(tx: Tx, { clusterIds }: { clusterIds: string[] }): Promise<Map<string, { revision: number; sha256: string }>> {
  if (clusterIds.length === 0) return new Map();
  const rows = resultRows<{ cluster_id: string; revision: number; sha256: string }>(await tx.execute(latestShasQuery(clusterIds)));
  return new Map(rows.map((r) => [r.cluster_id, { revision: Number(r.revision), sha256: r.sha256 }]));
}

/** Ends the pins of clusters a write re-rendered to the same content (their desired revision stays). */
export async function unpinClusters(tx: Tx, { clusterIds }: { clusterIds: string[] }): Promise<void> {
  if (clusterIds.length === 0) return;
  await tx.update(clusters).set({ pinnedRevision: null }).where(anyOf(clusters.id, clusterIds));
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
 * agent last applied, the one a rollback pinned (its intent is what the cluster serves), nor one an
 * unfinished rollout may move the cluster to or back to. One statement; returns how many went.
 */
export async function pruneRevisions(tx: Tx, { keep }: { keep: number }): Promise<number> {
  const gone = await tx.delete(configRevisions)
    .where(sql`exists (select 1 from ${clusters} c where c.id = ${configRevisions.clusterId}
      and ${configRevisions.revision} <= c.desired_revision - ${keep}
      and ${configRevisions.revision} is distinct from c.applied_revision
      and ${configRevisions.revision} is distinct from c.pinned_revision)
      and not exists (select 1 from rollout_clusters rc join rollouts ro on ro.id = rc.rollout_id
        where rc.cluster_id = ${configRevisions.clusterId} and ro.state in ('queued', 'progressing', 'paused')
          and ${configRevisions.revision} in (rc.from_revision, rc.to_revision))`)
    .returning({ revision: configRevisions.revision });
  return gone.length;
}
