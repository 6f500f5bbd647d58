// What every named, tenant-owned collection shares: keyset pages by name and name → id lookups.
import { anyOf } from './any-of.ts';
import { and, asc, eq, gt, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Tx } from '../tenant.ts';
import { advertisementPeers, advertisementPools, advertisements, peers } from '../schema.ts';

export interface NamedTable { id: PgColumn; tenantId: PgColumn; name: PgColumn }

export interface Page { after?: string; limit: number }

/** WHERE and ORDER BY for one page of a tenant's objects, by name. */
export function pageByName(t: NamedTable, tenantId: string, page: Page): { where: SQL; orderBy: SQL } {
  return {
    where: and(eq(t.tenantId, tenantId), page.after !== undefined ? gt(t.name, page.after) : undefined)!,
    orderBy: asc(t.name),
  };
}

export function byName(t: NamedTable, tenantId: string, name: string): SQL {
  return and(eq(t.tenantId, tenantId), eq(t.name, name))!;
}

/** Maps names to ids; names that do not exist are missing from the map. */
export async function idsByName(tx: Tx, table: PgTable & NamedTable, tenantId: string, names: string[]): Promise<Map<string, string>> {
  if (names.length === 0) return new Map();
  const rows = await tx.select({ id: table.id, name: table.name }).from(table as PgTable)
    .where(and(eq(table.tenantId, tenantId), anyOf(table.name, names, 'text')));
  return new Map(rows.map((r) => [r.name as string, r.id as string]));
}

/**
 * Who refers to an object the foreign keys keep from being deleted, by name: the advertisements
 * naming a pool or peer, the peers using a BFD profile (the same tenant's, so nothing leaks).
 */
export async function referrers(tx: Tx, ref: { pool: string } | { peer: string } | { bfdProfile: string }): Promise<Array<{ kind: string; name: string }>> {
  if ('bfdProfile' in ref) {
    const rows = await tx.select({ name: peers.name }).from(peers).where(eq(peers.bfdProfileId, ref.bfdProfile)).orderBy(asc(peers.name));
    return rows.map((r) => ({ kind: 'peer', name: r.name }));
  }
  const link = 'pool' in ref ? { table: advertisementPools, column: advertisementPools.poolId, id: ref.pool }
    : { table: advertisementPeers, column: advertisementPeers.peerId, id: ref.peer };
  const rows = await tx.select({ name: advertisements.name, type: advertisements.type }).from(link.table)
    .innerJoin(advertisements, eq(advertisements.id, link.table.advertisementId)).where(eq(link.column, link.id)).orderBy(asc(advertisements.name));
  return rows.map((r) => ({ kind: `${r.type}-advertisement`, name: r.name }));
}
