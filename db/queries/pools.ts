import { anyOf } from './any-of.ts';
import { and, count, eq, ne, sql } from 'drizzle-orm';
import type { Tx } from '../tenant.ts';
import { addressGrants, poolCidrs, pools, type ServiceAllocation } from '../schema.ts';
import type { LabelSelector, Labels } from '../../render/policy.ts';
import { byName, pageByName, type Page } from './named.ts';

export interface PoolInput {
  name: string;
  /** Entries, canonical: CIDRs or address ranges `first-last`. */
  cidrs: string[];
  autoAssign: boolean;
  avoidBuggyIPs: boolean;
  serviceAllocation?: ServiceAllocation;
  labels?: Labels;
  clusterSelector?: LabelSelector;
}

/** The CIDRs that cover exactly one entry (a CIDR: itself); the caller parses (render/ranges.ts). */
export type CoverEntry = (entry: string) => string[];
export interface PoolRecord extends PoolInput { id: string; createdAt: Date; updatedAt: Date }

async function withCidrs(tx: Tx, rows: Array<typeof pools.$inferSelect>): Promise<PoolRecord[]> {
  if (rows.length === 0) return [];
  const cidrRows = await tx.select({ poolId: poolCidrs.poolId, entry: poolCidrs.entry }).from(poolCidrs)
    .where(anyOf(poolCidrs.poolId, rows.map((r) => r.id))).orderBy(poolCidrs.createdAt, poolCidrs.cidr);
  const entries = new Map<string, Set<string>>();
  for (const c of cidrRows) (entries.get(c.poolId) ?? entries.set(c.poolId, new Set()).get(c.poolId)!).add(c.entry);
  return rows.map((r) => ({
    id: r.id, name: r.name, autoAssign: r.autoAssign, avoidBuggyIPs: r.avoidBuggyIPs,
    ...(r.serviceAllocation ? { serviceAllocation: r.serviceAllocation } : {}),
    ...(Object.keys(r.labels).length > 0 ? { labels: r.labels } : {}),
    ...(r.clusterSelector ? { clusterSelector: r.clusterSelector } : {}),
    cidrs: [...(entries.get(r.id) ?? [])],
    createdAt: r.createdAt, updatedAt: r.updatedAt,
  }));
}

export async function listPools(tx: Tx, { tenantId, ...page }: { tenantId: string } & Page): Promise<PoolRecord[]> {
  const { where, orderBy } = pageByName(pools, tenantId, page);
  return withCidrs(tx, await tx.select().from(pools).where(where).orderBy(orderBy).limit(page.limit));
}

export async function getPool(tx: Tx, { tenantId, name, forUpdate }: { tenantId: string; name: string; forUpdate?: boolean }): Promise<PoolRecord | undefined> {
  const query = tx.select().from(pools).where(byName(pools, tenantId, name));
  const rows = forUpdate ? await query.for('update') : await query;
  return (await withCidrs(tx, rows))[0];
}

export async function countPools(tx: Tx, { tenantId }: { tenantId: string }): Promise<number> {
  const [row] = await tx.select({ n: count() }).from(pools).where(eq(pools.tenantId, tenantId));
  return Number(row?.n ?? 0);
}

function poolColumns(input: PoolInput) {
  return {
    name: input.name, autoAssign: input.autoAssign, avoidBuggyIPs: input.avoidBuggyIPs,
    serviceAllocation: input.serviceAllocation ?? null, labels: input.labels ?? {}, clusterSelector: input.clusterSelector ?? null,
  };
}

async function insertEntries(tx: Tx, tenantId: string, poolId: string, entries: string[], cover: CoverEntry) {
  // One row per covering CIDR: the exclusion constraint judges each against the whole fleet.
  for (const entry of entries) {
    for (const cidr of cover(entry)) await tx.insert(poolCidrs).values({ tenantId, poolId, cidr, entry });
  }
}

export async function createPool(tx: Tx, { tenantId, input, cover }: { tenantId: string; input: PoolInput; cover: CoverEntry }): Promise<PoolRecord> {
  const [row] = await tx.insert(pools).values({ tenantId, ...poolColumns(input) }).returning();
  await insertEntries(tx, tenantId, row!.id, input.cidrs, cover);
  return (await withCidrs(tx, [row!]))[0]!;
}

export async function updatePool(tx: Tx, { tenantId, id, input, cover }: { tenantId: string; id: string; input: PoolInput; cover: CoverEntry }): Promise<PoolRecord> {
  const [row] = await tx.update(pools).set({ ...poolColumns(input), updatedAt: new Date() }).where(eq(pools.id, id)).returning();
  const existing = await tx.select({ id: poolCidrs.id, entry: poolCidrs.entry }).from(poolCidrs).where(eq(poolCidrs.poolId, id));
  const gone = existing.filter((e) => !input.cidrs.includes(e.entry));
  if (gone.length > 0) await tx.delete(poolCidrs).where(anyOf(poolCidrs.id, gone.map((g) => g.id)));
  await insertEntries(tx, tenantId, id, input.cidrs.filter((c) => !existing.some((e) => e.entry === c)), cover);
  return (await withCidrs(tx, [row!]))[0]!;
}

export async function deletePool(tx: Tx, { id }: { id: string }): Promise<void> {
  await tx.delete(pools).where(eq(pools.id, id));
}

export async function tenantGrantCidrs(tx: Tx, { tenantId }: { tenantId: string }): Promise<string[]> {
  const rows = await tx.select({ cidr: addressGrants.cidr }).from(addressGrants).where(eq(addressGrants.tenantId, tenantId));
  return rows.map((r) => r.cidr);
}

/** The tenant's own pool CIDRs overlapping any of `cidrs` (but the pool `exceptPoolId`), with their pools' names. */
export async function ownOverlaps(tx: Tx, { tenantId, cidrs, exceptPoolId }: { tenantId: string; cidrs: string[]; exceptPoolId?: string }): Promise<Array<{ cidr: string; pool: string }>> {
  if (cidrs.length === 0) return [];
  return tx.selectDistinct({ cidr: poolCidrs.entry, pool: pools.name }).from(poolCidrs).innerJoin(pools, eq(pools.id, poolCidrs.poolId))
    .where(and(eq(poolCidrs.tenantId, tenantId), exceptPoolId ? ne(poolCidrs.poolId, exceptPoolId) : undefined,
      sql`${poolCidrs.cidr} && any(array[${sql.join(cidrs.map((c) => sql`${c}::cidr`), sql`, `)}])`));
}

/** Every pool CIDR the tenant holds (the only ones inside its grants, since grants are exclusive). */
export async function tenantPoolCidrs(tx: Tx, { tenantId, exceptPoolId }: { tenantId: string; exceptPoolId?: string }): Promise<string[]> {
  const rows = await tx.select({ cidr: poolCidrs.cidr, poolId: poolCidrs.poolId }).from(poolCidrs).where(and(eq(poolCidrs.tenantId, tenantId)));
  return rows.filter((r) => r.poolId !== exceptPoolId).map((r) => r.cidr);
}
