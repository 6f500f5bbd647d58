// Address holds: what each cluster's agent may still announce (db/schema.ts addressHolds). Written
// when a revision is stored for a cluster that has an agent and when an agent enrolls, released by
// status reports (metalfleet_record_status) and by a platform admin's forced cluster deletion.
// Held space that no pool of its tenant has any more is "quarantined": nobody may be granted it or
// carve a pool from it until it is released.
import { anyOf, listRows } from './any-of.ts';
import { and, asc, eq, sql } from 'drizzle-orm';
import { resultRows } from '../client.ts';
import type { Tx } from '../tenant.ts';
import { addressHolds } from '../schema.ts';

/**
 * Holds for the desired revision of each of `clusterIds` that has an agent (one statement): the
 * revision's prefixes are what that agent may fetch and announce from now on. A cluster without
 * an agent announces nothing: an agent that enrolls later gets the holds of the then desired
 * revision (holdsForEnrollment), under the same tenant write lock.
 */
export async function holdDesiredPrefixes(tx: Tx, { clusterIds }: { clusterIds: string[] }): Promise<void> {
  if (clusterIds.length === 0) return;
  await tx.execute(sql`
    insert into address_holds (tenant_id, cluster_id, cidr, last_revision, tenant_slug, cluster_name)
    select r.tenant_id, r.cluster_id, p.cidr, r.revision, t.slug, c.name
    from clusters c
    join config_revisions r on r.cluster_id = c.id and r.revision = c.desired_revision
    join tenants t on t.id = c.tenant_id
    cross join lateral unnest(r.prefixes) as p(cidr)
    where c.id in (${listRows(clusterIds, 'uuid')})
      and exists (select 1 from agents a where a.cluster_id = c.id)
    on conflict (cluster_id, cidr) do update set last_revision = greatest(address_holds.last_revision, excluded.last_revision), updated_at = now()`);
}

export interface HoldRecord {
  tenantId: string;
  tenantSlug: string;
  clusterId: string;
  clusterName: string;
  cidr: string;
  lastRevision: number;
  createdAt: Date;
}

const holdColumns = {
  tenantId: addressHolds.tenantId, tenantSlug: addressHolds.tenantSlug, clusterId: addressHolds.clusterId, clusterName: addressHolds.clusterName,
  cidr: addressHolds.cidr, lastRevision: addressHolds.lastRevision, createdAt: addressHolds.createdAt,
};

/** A hold no pool of its tenant covers any more: the space is quarantined. */
const quarantined = sql`not exists (select 1 from pool_cidrs pc where pc.tenant_id = ${addressHolds.tenantId} and pc.cidr = ${addressHolds.cidr})`;

/**
 * Quarantined holds in the scope (a tenant's own, or every tenant's in the platform scope),
 * optionally only those inside `within` or overlapping one of `overlapping`, and not of `exceptTenantId`.
 */
export async function listQuarantine(tx: Tx, opts: { tenantId?: string; exceptTenantId?: string; within?: string; overlapping?: string[] } = {}): Promise<HoldRecord[]> {
  if (opts.overlapping && opts.overlapping.length === 0) return [];
  return tx.select(holdColumns).from(addressHolds).where(and(
    quarantined,
    opts.tenantId ? eq(addressHolds.tenantId, opts.tenantId) : undefined,
    opts.exceptTenantId ? sql`${addressHolds.tenantId} <> ${opts.exceptTenantId}::uuid` : undefined,
    opts.within ? sql`${addressHolds.cidr} <<= ${opts.within}::cidr` : undefined,
    opts.overlapping ? sql`${addressHolds.cidr} && any(${sql`array[${sql.join(opts.overlapping.map((c) => sql`${c}::cidr`), sql`, `)}]`})` : undefined,
  )).orderBy(asc(addressHolds.cidr), asc(addressHolds.clusterName)) as Promise<HoldRecord[]>;
}

/** Every hold of some clusters (quarantined or not). */
export function clusterHolds(tx: Tx, { clusterIds }: { clusterIds: string[] }): Promise<HoldRecord[]> {
  if (clusterIds.length === 0) return Promise.resolve([]);
  return tx.select(holdColumns).from(addressHolds).where(anyOf(addressHolds.clusterId, clusterIds))
    .orderBy(asc(addressHolds.clusterName), asc(addressHolds.cidr)) as Promise<HoldRecord[]>;
}

/** Drops a cluster's holds (a platform admin's forced deletion); returns the CIDRs released. */
export async function releaseClusterHolds(tx: Tx, { clusterId }: { clusterId: string }): Promise<string[]> {
  const gone = await tx.delete(addressHolds).where(eq(addressHolds.clusterId, clusterId)).returning({ cidr: addressHolds.cidr });
  return gone.map((g) => g.cidr);
}

/** Which of `clusterIds` hold nothing any more. */
export async function clustersWithoutHolds(tx: Tx, { clusterIds }: { clusterIds: string[] }): Promise<string[]> {
  if (clusterIds.length === 0) return [];
  const rows = resultRows<{ id: string }>(await tx.execute(sql`
    select c.value as id from (${listRows(clusterIds, 'uuid')}) as c
    where not exists (select 1 from address_holds h where h.cluster_id = c.value)`));
  return rows.map((r) => r.id);
}
