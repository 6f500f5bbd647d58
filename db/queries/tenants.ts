import { and, asc, eq, gt, sql } from 'drizzle-orm';
import type { Tx } from '../tenant.ts';
import {
  addressGrants, advertisements, bfdProfiles, communities, enrollmentTokens, peers, poolCidrs, pools, tenantPolicies, tenants,
} from '../schema.ts';
import { DEFAULT_POLICY, TenantPolicy } from '../../render/policy.ts';

export interface TenantRecord { id: string; slug: string; name: string; deletingSince: Date | null; createdAt: Date; updatedAt: Date }

/** Platform scope: every tenant; tenant scope: its own (RLS decides). Keyset-paginated by slug. */
export function listTenants(tx: Tx, opts: { after?: string; limit: number }): Promise<TenantRecord[]> {
  return tx.select().from(tenants).where(opts.after ? gt(tenants.slug, opts.after) : undefined).orderBy(asc(tenants.slug)).limit(opts.limit);
}

export async function findTenantBySlug(tx: Tx, slug: string): Promise<TenantRecord | undefined> {
  const [row] = await tx.select().from(tenants).where(eq(tenants.slug, slug));
  return row;
}

export async function createTenant(tx: Tx, input: { slug: string; name: string }): Promise<TenantRecord> {
  const [row] = await tx.insert(tenants).values(input).returning();
  return row!;
}

/** The tenant row, locked against concurrent changes of it until the transaction ends (platform scope). */
export async function lockTenantRow(tx: Tx, { tenantId }: { tenantId: string }): Promise<TenantRecord | undefined> {
  const [row] = await tx.select().from(tenants).where(eq(tenants.id, tenantId)).for('update');
  return row;
}

/** The tenant as its own scope sees it (undefined once it is gone). */
export async function getTenant(tx: Tx, { tenantId }: { tenantId: string }): Promise<TenantRecord | undefined> {
  const [row] = await tx.select().from(tenants).where(eq(tenants.id, tenantId));
  return row;
}

export async function markTenantDeleting(tx: Tx, { tenantId }: { tenantId: string }): Promise<void> {
  await tx.update(tenants).set({ deletingSince: sql`coalesce(${tenants.deletingSince}, now())`, updatedAt: new Date() }).where(eq(tenants.id, tenantId));
}

/**
 * Deletes every intent object and grant of the tenant (its scope), referrers first: what is left
 * renders to empty configs, which withdraw everything its clusters announced.
 */
export async function deleteTenantIntent(tx: Tx, { tenantId }: { tenantId: string }): Promise<void> {
  for (const table of [advertisements, peers, pools, bfdProfiles, communities, tenantPolicies, addressGrants, enrollmentTokens]) {
    await tx.delete(table).where(eq(table.tenantId, tenantId));
  }
}

export async function renameTenant(tx: Tx, { tenantId, name }: { tenantId: string; name: string }): Promise<TenantRecord> {
  const [row] = await tx.update(tenants).set({ name }).where(eq(tenants.id, tenantId)).returning();
  return row!;
}

export async function deleteTenant(tx: Tx, { tenantId }: { tenantId: string }): Promise<void> {
  await tx.delete(tenants).where(eq(tenants.id, tenantId));
}

/** Deletes a deleting tenant once none of its clusters is left (platform scope); whether it went. */
export async function deleteWithdrawnTenant(tx: Tx, { tenantId }: { tenantId: string }): Promise<boolean> {
  const gone = await tx.delete(tenants).where(sql`${tenants.id} = ${tenantId} and ${tenants.deletingSince} is not null
    and not exists (select 1 from clusters c where c.tenant_id = ${tenants.id})`).returning({ id: tenants.id });
  return gone.length > 0;
}

export interface GrantRecord { id: string; cidr: string; createdAt: Date }

export function listGrants(tx: Tx, { tenantId, after, limit }: { tenantId: string; after?: string; limit: number }): Promise<GrantRecord[]> {
  return tx.select({ id: addressGrants.id, cidr: addressGrants.cidr, createdAt: addressGrants.createdAt }).from(addressGrants)
    .where(and(eq(addressGrants.tenantId, tenantId), after ? sql`${addressGrants.cidr} > ${after}::cidr` : undefined))
    .orderBy(asc(addressGrants.cidr)).limit(limit);
}

export async function findGrant(tx: Tx, { tenantId, id }: { tenantId: string; id: string }): Promise<GrantRecord | undefined> {
  const [row] = await tx.select({ id: addressGrants.id, cidr: addressGrants.cidr, createdAt: addressGrants.createdAt }).from(addressGrants)
    .where(and(eq(addressGrants.tenantId, tenantId), eq(addressGrants.id, id)));
  return row;
}

export async function createGrant(tx: Tx, { tenantId, cidr }: { tenantId: string; cidr: string }): Promise<GrantRecord> {
  const [row] = await tx.insert(addressGrants).values({ tenantId, cidr })
    .returning({ id: addressGrants.id, cidr: addressGrants.cidr, createdAt: addressGrants.createdAt });
  return row!;
}

/** Pool CIDRs of the tenant that lie inside the grant. */
export async function poolCidrsWithin(tx: Tx, { tenantId, cidr }: { tenantId: string; cidr: string }): Promise<string[]> {
  const rows = await tx.select({ cidr: poolCidrs.cidr }).from(poolCidrs)
    .where(and(eq(poolCidrs.tenantId, tenantId), sql`${poolCidrs.cidr} <<= ${cidr}::cidr`));
  return rows.map((r) => r.cidr);
}

export async function deleteGrant(tx: Tx, { tenantId, id }: { tenantId: string; id: string }): Promise<void> {
  await tx.delete(addressGrants).where(and(eq(addressGrants.tenantId, tenantId), eq(addressGrants.id, id)));
}

/** The stored policy, or the default (deny peers until granted) when none was set. */
export async function getPolicy(tx: Tx, { tenantId }: { tenantId: string }): Promise<TenantPolicy> {
  const [row] = await tx.select({ policy: tenantPolicies.policy }).from(tenantPolicies).where(eq(tenantPolicies.tenantId, tenantId));
  return row ? TenantPolicy.parse(row.policy) : DEFAULT_POLICY;
}

export async function putPolicy(tx: Tx, { tenantId, policy }: { tenantId: string; policy: TenantPolicy }): Promise<void> {
  await tx.insert(tenantPolicies).values({ tenantId, policy })
    .onConflictDoUpdate({ target: tenantPolicies.tenantId, set: { policy, updatedAt: new Date() } });
}
