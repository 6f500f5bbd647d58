// Rollouts' rows: the tenant's policy, each rollout and its clusters (see api/rollouts.ts for the
// state machine that moves them). Desired revisions move here, one statement per wave.
import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import { resultRows } from '../client.ts';
import type { Tx } from '../tenant.ts';
import { clusters, rolloutClusters, rolloutPolicies, rollouts, type RolloutClusterState, type RolloutState } from '../schema.ts';
import { RolloutPolicy } from '../../render/rollout.ts';
import { holdDesiredPrefixes } from './holds.ts';
import { listRows } from './any-of.ts';

export const UNFINISHED: RolloutState[] = ['queued', 'progressing', 'paused'];
export type RolloutRecord = typeof rollouts.$inferSelect;
export type RolloutClusterRecord = typeof rolloutClusters.$inferSelect;

export async function getRolloutPolicy(tx: Tx, { tenantId }: { tenantId: string }): Promise<RolloutPolicy | undefined> {
  const [row] = await tx.select({ policy: rolloutPolicies.policy }).from(rolloutPolicies).where(eq(rolloutPolicies.tenantId, tenantId));
  return row ? RolloutPolicy.parse(row.policy) : undefined;
}

export async function putRolloutPolicy(tx: Tx, { tenantId, policy }: { tenantId: string; policy: RolloutPolicy | null }): Promise<void> {
  if (policy === null) {
    await tx.delete(rolloutPolicies).where(eq(rolloutPolicies.tenantId, tenantId));
    return;
  }
  await tx.insert(rolloutPolicies).values({ tenantId, policy })
    .onConflictDoUpdate({ target: rolloutPolicies.tenantId, set: { policy, updatedAt: new Date() } });
}

export function unfinishedRollouts(tx: Tx, { tenantId }: { tenantId: string }): Promise<RolloutRecord[]> {
  return tx.select().from(rollouts).where(and(eq(rollouts.tenantId, tenantId), inArray(rollouts.state, UNFINISHED))).orderBy(asc(rollouts.number));
}

export async function getRollout(tx: Tx, { tenantId, number }: { tenantId: string; number: number }): Promise<RolloutRecord | undefined> {
  const [row] = await tx.select().from(rollouts).where(and(eq(rollouts.tenantId, tenantId), eq(rollouts.number, number)));
  return row;
}

export function listRollouts(tx: Tx, { tenantId, before, limit }: { tenantId: string; before?: number; limit: number }): Promise<RolloutRecord[]> {
  return tx.select().from(rollouts)
    .where(and(eq(rollouts.tenantId, tenantId), before !== undefined ? sql`${rollouts.number} < ${before}` : undefined))
    .orderBy(desc(rollouts.number)).limit(limit);
}

export async function insertRollout(tx: Tx, row: {
  tenantId: string; state: RolloutState; cause: string; createdBy: string; waves: RolloutRecord['waves'];
  clusters: Array<{ clusterId: string; wave: number; fromRevision: number; toRevision: number }>;
}): Promise<RolloutRecord> {
  const [{ next }] = resultRows<{ next: number }>(await tx.execute(sql`
    select coalesce(max(number), 0) + 1 as next from rollouts where tenant_id = ${row.tenantId}::uuid`)) as [{ next: number }];
  const [created] = await tx.insert(rollouts).values({
    tenantId: row.tenantId, number: Number(next), state: row.state, cause: row.cause, createdBy: row.createdBy, waves: row.waves,
  }).returning();
  for (let i = 0; i < row.clusters.length; i += 5_000) {
    await tx.insert(rolloutClusters).values(row.clusters.slice(i, i + 5_000).map((c) => ({ ...c, rolloutId: created!.id, tenantId: row.tenantId })));
  }
  return created!;
}

export interface RolloutClusterView extends RolloutClusterRecord {
  name: string; labels: Record<string, string>; desiredRevision: number; appliedRevision: number | null; lastApplyError: string | null;
  lastSeenAt: Date | null;
}

export function rolloutClusterRows(tx: Tx, { rolloutId, wave }: { rolloutId: string; wave?: number }): Promise<RolloutClusterView[]> {
  return tx.select({
    rolloutId: rolloutClusters.rolloutId, tenantId: rolloutClusters.tenantId, clusterId: rolloutClusters.clusterId, wave: rolloutClusters.wave,
    state: rolloutClusters.state, fromRevision: rolloutClusters.fromRevision, toRevision: rolloutClusters.toRevision,
    baseline: rolloutClusters.baseline, gates: rolloutClusters.gates, updatedAt: rolloutClusters.updatedAt,
    name: clusters.name, labels: clusters.labels, desiredRevision: clusters.desiredRevision, appliedRevision: clusters.appliedRevision, lastApplyError: clusters.lastApplyError,
    lastSeenAt: clusters.lastSeenAt,
  }).from(rolloutClusters).innerJoin(clusters, eq(clusters.id, rolloutClusters.clusterId))
    .where(and(eq(rolloutClusters.rolloutId, rolloutId), wave !== undefined ? eq(rolloutClusters.wave, wave) : undefined))
    .orderBy(asc(rolloutClusters.wave), asc(clusters.name));
}

export async function updateRollout(tx: Tx, { id, ...set }: { id: string } & Partial<Pick<RolloutRecord, 'state' | 'currentWave' | 'waveStartedAt' | 'pausedReason'>>): Promise<void> {
  await tx.update(rollouts).set({ ...set, updatedAt: new Date() }).where(eq(rollouts.id, id));
}

export async function setClusterGates(tx: Tx, { rolloutId, clusterId, state, gates }: {
  rolloutId: string; clusterId: string; state: RolloutClusterState; gates: unknown;
}): Promise<void> {
  await tx.update(rolloutClusters).set({ state, gates, updatedAt: new Date() })
    .where(and(eq(rolloutClusters.rolloutId, rolloutId), eq(rolloutClusters.clusterId, clusterId)));
}

/**
 * Starts a wave: each of its clusters that waits (pending) or was moved back (rolled back)
 * remembers its sessions and is given the rollout's revision. A rollback pin ends (the cluster
 * now serves its intent). The first wave also takes, for every cluster of the rollout, the
 * revision it serves now as the one it goes back to: from then on only this rollout moves them.
 */
export async function moveWaveForward(tx: Tx, { rolloutId, wave }: { rolloutId: string; wave: number }): Promise<string[]> {
  if (wave === 0) {
    await tx.execute(sql`update rollout_clusters rc set from_revision = c.desired_revision
      from clusters c where c.id = rc.cluster_id and rc.rollout_id = ${rolloutId}::uuid and rc.state = 'pending'`);
  }
  const moved = resultRows<{ cluster_id: string }>(await tx.execute(sql`
    with started as (
      update rollout_clusters rc set state = 'progressing', gates = null, updated_at = now(),
        baseline = coalesce((select jsonb_agg(jsonb_build_object('node', s.node, 'peer', s.peer, 'vrf', s.vrf, 'bgpState', s.bgp_state,
          'bfdState', s.bfd_state, 'prefixesSent', s.prefixes_sent)) from session_states s where s.cluster_id = rc.cluster_id), '[]'::jsonb)
      from clusters c
      where c.id = rc.cluster_id and rc.rollout_id = ${rolloutId}::uuid and rc.wave = ${wave} and rc.state in ('pending', 'rolled-back')
      returning rc.cluster_id, rc.to_revision)
    update clusters c set desired_revision = started.to_revision, pinned_revision = null, updated_at = now()
    from started where c.id = started.cluster_id
    returning c.id as cluster_id`));
  const ids = moved.map((m) => m.cluster_id);
  await holdDesiredPrefixes(tx, { clusterIds: ids });
  await refreshWaitingFrom(tx, { clusterIds: ids });
  return ids;
}

/**
 * Rollouts that have not started yet (queued, or paused before their first wave) go back to what
 * their clusters serve when they start; until then their record says what the clusters serve now.
 * Called whenever a rollout moves clusters, so that a wave or an abort of one rollout does not
 * leave a stale `from` in the rollouts waiting behind it.
 */
async function refreshWaitingFrom(tx: Tx, { clusterIds }: { clusterIds: string[] }): Promise<void> {
  if (clusterIds.length === 0) return;
  await tx.execute(sql`update rollout_clusters rc set from_revision = c.desired_revision, updated_at = now()
    from clusters c, rollouts ro
    where c.id = rc.cluster_id and ro.id = rc.rollout_id and rc.state = 'pending'
      and ro.state in ('queued', 'paused') and ro.wave_started_at is null
      and rc.cluster_id in (${listRows(clusterIds, 'uuid')})`);
}

/** Moves the clusters of a rollout in `states` (those given its revision) back to the revision they served before. */
export async function moveBack(tx: Tx, { rolloutId, wave, states }: { rolloutId: string; wave?: number; states: RolloutClusterState[] }): Promise<string[]> {
  const moved = resultRows<{ cluster_id: string }>(await tx.execute(sql`
    with back as (
      update rollout_clusters rc set state = 'rolled-back', updated_at = now()
      where rc.rollout_id = ${rolloutId}::uuid and rc.state in (${sql.join(states.map((s) => sql`${s}`), sql`, `)})
        ${wave !== undefined ? sql`and rc.wave = ${wave}` : sql``} and rc.from_revision is not null
      returning rc.cluster_id, rc.from_revision)
    update clusters c set desired_revision = back.from_revision, updated_at = now()
    from back where c.id = back.cluster_id
    returning c.id as cluster_id`));
  const ids = moved.map((m) => m.cluster_id);
  await holdDesiredPrefixes(tx, { clusterIds: ids });
  await refreshWaitingFrom(tx, { clusterIds: ids });
  return ids;
}

/**
 * The clusters of an aborted rollout it never reached keep what they serve: that is their previous
 * revision (an older rollout may have moved them since this one was made).
 */
export async function settleUnreached(tx: Tx, { rolloutId }: { rolloutId: string }): Promise<void> {
  await tx.execute(sql`update rollout_clusters rc set from_revision = c.desired_revision, updated_at = now()
    from clusters c where c.id = rc.cluster_id and rc.rollout_id = ${rolloutId}::uuid and rc.state = 'pending'`);
}

/** Tenants with a rollout whose gates or bake time may have changed something (progressing). */
export async function tenantsWithProgressingRollouts(tx: Tx): Promise<string[]> {
  const rows = await tx.selectDistinct({ tenantId: rollouts.tenantId }).from(rollouts).where(eq(rollouts.state, 'progressing'));
  return rows.map((r) => r.tenantId);
}

/** Clusters in a started wave of a progressing rollout, fleet-wide (platform scope): whose reports can advance one. */
export async function clustersInProgressingWaves(tx: Tx): Promise<Array<{ clusterId: string; tenantId: string }>> {
  return tx.select({ clusterId: rolloutClusters.clusterId, tenantId: rolloutClusters.tenantId }).from(rolloutClusters)
    .innerJoin(rollouts, eq(rollouts.id, rolloutClusters.rolloutId))
    .where(and(eq(rollouts.state, 'progressing'), eq(rolloutClusters.state, 'progressing')));
}

/** Paused rollouts per tenant slug (platform scope): the fleet-health line and the metric. */
export async function pausedRollouts(tx: Tx): Promise<Array<{ tenantId: string; number: number; pausedReason: string | null }>> {
  return tx.select({ tenantId: rollouts.tenantId, number: rollouts.number, pausedReason: rollouts.pausedReason })
    .from(rollouts).where(eq(rollouts.state, 'paused')).orderBy(asc(rollouts.tenantId), asc(rollouts.number));
}

/** The unfinished rollout a cluster belongs to, if any (its number). */
export async function rolloutOfCluster(tx: Tx, { clusterId }: { clusterId: string }): Promise<number | undefined> {
  const [row] = await tx.select({ number: rollouts.number }).from(rolloutClusters).innerJoin(rollouts, eq(rollouts.id, rolloutClusters.rolloutId))
    .where(and(eq(rolloutClusters.clusterId, clusterId), inArray(rollouts.state, UNFINISHED))).orderBy(desc(rollouts.number)).limit(1);
  return row?.number;
}
