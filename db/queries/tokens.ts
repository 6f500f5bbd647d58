// API tokens (db/schema.ts apiTokens): issued, listed, looked up, revoked. Platform scope, but
// for listing a tenant's own tokens, which its scope may do.
import { and, count, desc, eq, gt, isNull, lt, or, sql } from 'drizzle-orm';
import type { Tx } from '../tenant.ts';
import { apiTokens, tenants } from '../schema.ts';

export type TokenRole = 'platform-admin' | 'tenant-admin' | 'tenant-viewer';

export interface TokenRecord {
  id: string;
  tenantId: string | null;
  /** The tenant's slug, for display (null for platform-admin tokens). */
  tenantSlug: string | null;
  name: string;
  role: TokenRole;
  tokenSha256: string;
  createdBy: string;
  createdAt: Date;
  expiresAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

const columns = {
  id: apiTokens.id, tenantId: apiTokens.tenantId, tenantSlug: tenants.slug, name: apiTokens.name, role: apiTokens.role,
  tokenSha256: apiTokens.tokenSha256, createdBy: apiTokens.createdBy, createdAt: apiTokens.createdAt, expiresAt: apiTokens.expiresAt,
  lastUsedAt: apiTokens.lastUsedAt, revokedAt: apiTokens.revokedAt,
};

export async function insertToken(tx: Tx, args: {
  id: string; tenantId: string | null; name: string; role: TokenRole; tokenSha256: string; createdBy: string; expiresAt: Date;
}): Promise<TokenRecord> {
  await tx.insert(apiTokens).values(args);
  return (await findToken(tx, { id: args.id }))!;
}

export async function findToken(tx: Tx, { id }: { id: string }): Promise<TokenRecord | undefined> {
  const [row] = await tx.select(columns).from(apiTokens).leftJoin(tenants, eq(tenants.id, apiTokens.tenantId)).where(eq(apiTokens.id, id));
  return row;
}

/**
 * Newest first; `before`: the cursor of the last one returned (exact creation microseconds and
 * id: JavaScript dates keep milliseconds only).
 */
export function listTokens(tx: Tx, { tenantId, before, limit }: { tenantId?: string; before?: [string, string]; limit: number }): Promise<Array<TokenRecord & { atMicros: string }>> {
  const micros = sql`(extract(epoch from ${apiTokens.createdAt}) * 1000000)::bigint`;
  const page = before ? or(sql`${micros} < ${before[0]}::bigint`, and(sql`${micros} = ${before[0]}::bigint`, lt(apiTokens.id, before[1]))) : undefined;
  return tx.select({ ...columns, atMicros: sql<string>`${micros}::text` }).from(apiTokens).leftJoin(tenants, eq(tenants.id, apiTokens.tenantId))
    .where(and(tenantId ? eq(apiTokens.tenantId, tenantId) : undefined, page))
    .orderBy(desc(micros), desc(apiTokens.id)).limit(limit);
}

/** Revokes a token that is not revoked yet (compare-and-set); whether it was. */
export async function revokeToken(tx: Tx, { id }: { id: string }): Promise<boolean> {
  const rows = await tx.update(apiTokens).set({ revokedAt: new Date() }).where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt)))
    .returning({ id: apiTokens.id });
  return rows.length > 0;
}

/** Records a use, at most once a minute per token (no write on most requests). */
export async function touchToken(tx: Tx, { id }: { id: string }): Promise<void> {
  await tx.update(apiTokens).set({ lastUsedAt: new Date() })
    .where(and(eq(apiTokens.id, id), or(isNull(apiTokens.lastUsedAt), lt(apiTokens.lastUsedAt, sql`now() - interval '1 minute'`))));
}

/** Active (unexpired, unrevoked) platform-admin tokens: whether a fresh database needs a bootstrap one. */
export async function countActivePlatformTokens(tx: Tx): Promise<number> {
  const [row] = await tx.select({ n: count() }).from(apiTokens)
    .where(and(eq(apiTokens.role, 'platform-admin'), isNull(apiTokens.revokedAt), gt(apiTokens.expiresAt, sql`now()`)));
  return Number(row?.n ?? 0);
}
