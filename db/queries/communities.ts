import { eq, sql } from 'drizzle-orm';
import type { Tx } from '../tenant.ts';
import { advertisements, communities } from '../schema.ts';
import { byName, pageByName, type Page } from './named.ts';

export interface CommunityFields { name: string; value: string }
export interface CommunityRecord extends CommunityFields { id: string; createdAt: Date; updatedAt: Date }

const columns = { id: communities.id, name: communities.name, value: communities.value, createdAt: communities.createdAt, updatedAt: communities.updatedAt };

export function listCommunities(tx: Tx, { tenantId, ...page }: { tenantId: string } & Page): Promise<CommunityRecord[]> {
  const { where, orderBy } = pageByName(communities, tenantId, page);
  return tx.select(columns).from(communities).where(where).orderBy(orderBy).limit(page.limit);
}

/** Every alias of the tenant (advertisements refer to them by name). */
export function allCommunities(tx: Tx, { tenantId }: { tenantId: string }): Promise<CommunityRecord[]> {
  return tx.select(columns).from(communities).where(eq(communities.tenantId, tenantId));
}

export async function getCommunity(tx: Tx, { tenantId, name, forUpdate }: { tenantId: string; name: string; forUpdate?: boolean }): Promise<CommunityRecord | undefined> {
  const query = tx.select(columns).from(communities).where(byName(communities, tenantId, name));
  const [row] = forUpdate ? await query.for('update') : await query;
  return row;
}

export async function createCommunity(tx: Tx, { tenantId, input }: { tenantId: string; input: CommunityFields }): Promise<CommunityRecord> {
  const [row] = await tx.insert(communities).values({ tenantId, ...input }).returning(columns);
  return row!;
}

export async function updateCommunity(tx: Tx, { id, input }: { id: string; input: CommunityFields }): Promise<CommunityRecord> {
  const [row] = await tx.update(communities).set({ ...input, updatedAt: new Date() }).where(eq(communities.id, id)).returning(columns);
  return row!;
}

export async function deleteCommunity(tx: Tx, { id }: { id: string }): Promise<void> {
  await tx.delete(communities).where(eq(communities.id, id));
}

/** Names of the advertisements that use an alias (aliases are referenced by name, not by key). */
export async function advertisementsUsingCommunity(tx: Tx, { tenantId, name }: { tenantId: string; name: string }): Promise<string[]> {
  const rows = await tx.select({ name: advertisements.name }).from(advertisements)
    .where(sql`${advertisements.tenantId} = ${tenantId} and ${advertisements.communities} @> ${JSON.stringify([name])}::jsonb`);
  return rows.map((r) => r.name);
}
