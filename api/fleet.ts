// Where the fleet stands: each cluster's sync state, and per tenant the clusters by sync state and
// the BGP sessions by state, and its paused rollouts. Read by GET /v1/fleet/health and by the API's /metrics (cli/metrics.ts).
import { sql } from 'drizzle-orm';
import { resultRows, type Db } from '../db/client.ts';
import type { ClusterRecord } from '../db/queries/clusters.ts';
import { withPlatform } from '../db/tenant.ts';

export const SYNC_STATES = ['in-sync', 'pending', 'failed', 'stale', 'never-seen'] as const;
export type SyncState = (typeof SYNC_STATES)[number];

/** Where a cluster stands: never-seen, stale (silent for 3 poll intervals), failed, pending, in-sync. */
export function syncState(cluster: Pick<ClusterRecord, 'lastSeenAt' | 'lastApplyError' | 'appliedRevision' | 'desiredRevision'>, nowMs: number, pollIntervalSeconds: number): SyncState {
  if (!cluster.lastSeenAt) return 'never-seen';
  if (nowMs - cluster.lastSeenAt.getTime() > Math.max(3 * pollIntervalSeconds, 90) * 1000) return 'stale';
  if (cluster.lastApplyError) return 'failed';
  if (cluster.appliedRevision !== cluster.desiredRevision) return 'pending';
  return 'in-sync';
}

export interface TenantHealth {
  tenant: string; clusters: Record<SyncState, number>; sessions: Record<string, number>;
  /** Rollouts stopped (a failed gate or a person) that hold changes back from the tenant's clusters. */
  pausedRollouts: Array<{ number: number; reason: string | null }>;
}

/** Per tenant (every tenant, also one without clusters): clusters by sync state, sessions by BGP state. */
export async function readFleetHealth(db: Db, { nowMs, pollIntervalSeconds }: { nowMs: number; pollIntervalSeconds: number }): Promise<TenantHealth[]> {
  return withPlatform(db, async (tx) => {
    const clusterRows = resultRows<{ slug: string; last_seen_at: string | Date | null; last_apply_error: string | null; applied_revision: number | null; desired_revision: number }>(await tx.execute(sql`
      select t.slug, c.last_seen_at, c.last_apply_error, c.applied_revision, c.desired_revision
      from tenants t left join clusters c on c.tenant_id = t.id order by t.slug`));
    const sessionRows = resultRows<{ slug: string; bgp_state: string; n: number | string }>(await tx.execute(sql`
      select t.slug, s.bgp_state, count(*) as n from session_states s join tenants t on t.id = s.tenant_id group by t.slug, s.bgp_state`));
    const pausedRows = resultRows<{ slug: string; number: number; paused_reason: string | null }>(await tx.execute(sql`
      select t.slug, r.number, r.paused_reason from rollouts r join tenants t on t.id = r.tenant_id where r.state = 'paused' order by t.slug, r.number`));
    const byTenant = new Map<string, TenantHealth>();
    const entry = (slug: string) => byTenant.get(slug) ?? byTenant.set(slug, { tenant: slug, clusters: Object.fromEntries(SYNC_STATES.map((s) => [s, 0])) as Record<SyncState, number>, sessions: {}, pausedRollouts: [] }).get(slug)!;
    for (const row of clusterRows) {
      const e = entry(row.slug);
      if (row.desired_revision === null || row.desired_revision === undefined) continue;
      const state = syncState({ lastSeenAt: row.last_seen_at ? new Date(row.last_seen_at) : null, lastApplyError: row.last_apply_error, appliedRevision: row.applied_revision, desiredRevision: row.desired_revision }, nowMs, pollIntervalSeconds);
      e.clusters[state] += 1;
    }
    for (const row of sessionRows) entry(row.slug).sessions[row.bgp_state] = Number(row.n);
    for (const row of pausedRows) entry(row.slug).pausedRollouts.push({ number: Number(row.number), reason: row.paused_reason });
    return [...byTenant.values()];
  });
}
