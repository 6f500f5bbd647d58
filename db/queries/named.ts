// What every named, tenant-owned collection shares: keyset pages by name and name → id lookups.
import { and, asc, eq, gt, inArray, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Tx } from '../tenant.ts';

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
    .where(and(eq(table.tenantId, tenantId), inArray(table.name, names)));
  return new Map(rows.map((r) => [r.name as string, r.id as string]));
}
