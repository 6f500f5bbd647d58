import { and, count, eq, inArray, sql } from 'drizzle-orm';
import type { Tx } from '../tenant.ts';
import { addressGrants, poolCidrs, pools, type ServiceAllocation } from '../schema.ts';
import type { LabelSelector } from '../../render/policy.ts';
import { byName, pageByName, type Page } from './named.ts';

export interface PoolInput {
  name: string;
  cidrs: string[];
  autoAssign: boolean;
  avoidBuggyIPs: boolean;
  serviceAllocation?: ServiceAllocation;
  clusterSelector?: LabelSelector;
}
export interface PoolRecord extends PoolInput { id: string; createdAt: Date; updatedAt: Date }

async function withCidrs(tx: Tx, rows: Array<typeof pools.$inferSelect>): Promise<PoolRecord[]> {
  if (rows.length === 0) return [];
  const cidrRows = await tx.select({ poolId: poolCidrs.poolId, cidr: poolCidrs.cidr }).from(poolCidrs)
    .where(inArray(poolCidrs.poolId, rows.map((r) => r.id))).orderBy(poolCidrs.createdAt, poolCidrs.cidr);
  return rows.map((r) => ({
    id: r.id, name: r.name, autoAssign: r.autoAssign, avoidBuggyIPs: r.avoidBuggyIPs,
    ...(r.serviceAllocation ? { serviceAllocation: r.serviceAllocation } : {}),
    ...(r.clusterSelector ? { clusterSelector: r.clusterSelector } : {}),
    cidrs: cidrRows.filter((c) => c.poolId === r.id).map((c) => c.cidr),
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
    serviceAllocation: input.serviceAllocation ?? null, clusterSelector: input.clusterSelector ?? null,
  };
}

async function insertCidrs(tx: Tx, tenantId: string, poolId: string, cidrs: string[]) {
  // One row per CIDR: the exclusion constraint judges each against the whole fleet.
  for (const cidr of cidrs) await tx.insert(poolCidrs).values({ tenantId, poolId, cidr });
}

export async function createPool(tx: Tx, { tenantId, input }: { tenantId: string; input: PoolInput }): Promise<PoolRecord> {
  const [row] = await tx.insert(pools).values({ tenantId, ...poolColumns(input) }).returning();
  await insertCidrs(tx, tenantId, row!.id, input.cidrs);
  return (await withCidrs(tx, [row!]))[0]!;
}

export async function updatePool(tx: Tx, { tenantId, id, input }: { tenantId: string; id: string; input: PoolInput }): Promise<PoolRecord> {
  const [row] = await tx.update(pools).set({ ...poolColumns(input), updatedAt: new Date() }).where(eq(pools.id, id)).returning();
  const existing = await tx.select({ id: poolCidrs.id, cidr: poolCidrs.cidr }).from(poolCidrs).where(eq(poolCidrs.poolId, id));
  const gone = existing.filter((e) => !input.cidrs.includes(e.cidr));
  if (gone.length > 0) await tx.delete(poolCidrs).where(inArray(poolCidrs.id, gone.map((g) => g.id)));
  await insertCidrs(tx, tenantId, id, input.cidrs.filter((c) => !existing.some((e) => e.cidr === c)));
  return (await withCidrs(tx, [row!]))[0]!;
}

export async function deletePool(tx: Tx, { id }: { id: string }): Promise<void> {
  await tx.delete(pools).where(eq(pools.id, id));
}

export async function tenantGrantCidrs(tx: Tx, { tenantId }: { tenantId: string }): Promise<string[]> {
  const rows = await tx.select({ cidr: addressGrants.cidr }).from(addressGrants).where(eq(addressGrants.tenantId, tenantId));
  return rows.map((r) => r.cidr);
}

/** Every pool CIDR the tenant holds (the only ones inside its grants, since grants are exclusive). */
export async function tenantPoolCidrs(tx: Tx, { tenantId, exceptPoolId }: { tenantId: string; exceptPoolId?: string }): Promise<string[]> {
  const rows = await tx.select({ cidr: poolCidrs.cidr, poolId: poolCidrs.poolId }).from(poolCidrs).where(and(eq(poolCidrs.tenantId, tenantId)));
  return rows.filter((r) => r.poolId !== exceptPoolId).map((r) => r.cidr);
}

/**
 * Serialises address allocation within one tenant until the transaction ends, so that concurrent
 * allocations pick different blocks instead of colliding and retrying. Transaction-scoped, so it
 * is safe behind transaction-mode poolers (Hyperdrive).
 */
export async function lockTenantAllocation(tx: Tx, { tenantId }: { tenantId: string }): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext('metalfleet:allocate'), hashtext(${tenantId}))`);
}
