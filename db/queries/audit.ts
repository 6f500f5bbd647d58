import { and, desc, eq, isNull, sql, type SQL } from 'drizzle-orm';
import type { Tx } from '../tenant.ts';
import { auditEvents } from '../schema.ts';

/** What an audit event says was done. */
export const AUDIT_ACTIONS = ['create', 'update', 'delete', 'replace'] as const;
export type AuditAction = typeof AUDIT_ACTIONS[number];

/**
 * The kinds of thing the code records events about (singular, kebab-case). recordAudit takes only
 * these, so a new kind is added here or does not compile; the console's filter lists them. Older
 * databases may hold other kinds (the trail outlives renames), so a filter by resource is a
 * pattern, not this enum.
 */
export const AUDIT_RESOURCES = [
  'agent', 'bfd-profile', 'bgp-advertisement', 'cluster', 'community', 'enrollment-token', 'grant', 'import', 'intent',
  'l2-advertisement', 'peer', 'policy', 'pool', 'rollback', 'rollout', 'rollout-policy', 'tenant', 'token',
] as const;
export type AuditResource = typeof AUDIT_RESOURCES[number];

export interface AuditInput {
  tenantId: string | null;
  actor: string;
  action: AuditAction;
  resource: AuditResource;
  resourceId: string | null;
  before: unknown;
  after: unknown;
  requestId: string | null;
}

export async function recordAudit(tx: Tx, event: AuditInput): Promise<void> {
  await tx.insert(auditEvents).values({ ...event, before: event.before ?? null, after: event.after ?? null });
}

/** A stored event: its action and resource are whatever was recorded (see AUDIT_RESOURCES). */
export interface AuditRecord extends Omit<AuditInput, 'action' | 'resource'> {
  id: string; action: string; resource: string; at: Date;
  /** exact position, for the cursor */ atMicros: string;
}

/** Which events a page holds; every part is optional and they combine with AND. */
export interface AuditFilter {
  /** A substring of the actor, any case; LIKE's wildcards in it match themselves. */
  actor?: string;
  resource?: string;
  action?: string;
  /** RFC 3339 instants (validated by the route): since ≤ at < until. */
  since?: string;
  until?: string;
}

// Postgres keeps microseconds and JavaScript dates milliseconds, so the cursor carries the exact
// epoch microseconds of the last event, not its Date.
const atMicros = sql<string>`(extract(epoch from ${auditEvents.at}) * 1000000)::bigint::text`;

/**
 * Epoch microseconds (a cursor's) as an exact RFC 3339 instant in UTC, for comparing with `at`
 * itself (which keeps the index usable); undefined beyond what a timestamp holds.
 */
export function instantOfMicros(micros: string): string | undefined {
  if (!/^[0-9]{1,19}$/.test(micros)) return undefined;
  const total = BigInt(micros);
  const date = new Date(Number(total / 1_000_000n) * 1000);
  if (Number.isNaN(date.getTime()) || date.getUTCFullYear() > 9999) return undefined;
  return `${date.toISOString().slice(0, 19)}.${(total % 1_000_000n).toString().padStart(6, '0')}Z`;
}

/** A LIKE pattern matching `text` anywhere, its own %, _ and \ taken literally (escape character \). */
export const containsPattern = (text: string) => `%${text.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;

function filterConditions(filter: AuditFilter): SQL[] {
  const conditions: SQL[] = [];
  // The escape character is spelled out: it must not depend on a server default.
  if (filter.actor !== undefined) {
    conditions.push(sql`${auditEvents.actor} ilike ${containsPattern(filter.actor)} escape '\\'`);
  }
  if (filter.resource !== undefined) conditions.push(eq(auditEvents.resource, filter.resource));
  if (filter.action !== undefined) conditions.push(eq(auditEvents.action, filter.action));
  if (filter.since !== undefined) conditions.push(sql`${auditEvents.at} >= ${filter.since}::timestamptz`);
  if (filter.until !== undefined) conditions.push(sql`${auditEvents.at} < ${filter.until}::timestamptz`);
  return conditions;
}

/**
 * Newest first, filtered; the cursor is the (at, id) of the last event returned, `before.at` an
 * exact RFC 3339 instant (instantOfMicros). Ordering by `at` itself, not an expression of it, lets
 * the (tenant_id, at) and (tenant_id, resource, at) indexes give the order.
 */
export function listAudit(tx: Tx, { tenantId, before, limit, filter = {} }: {
  tenantId: string | null; before?: { at: string; id: string }; limit: number; filter?: AuditFilter;
}): Promise<AuditRecord[]> {
  const scope = tenantId === null ? isNull(auditEvents.tenantId) : eq(auditEvents.tenantId, tenantId);
  const page = before
    ? sql`(${auditEvents.at}, ${auditEvents.id}) < (${before.at}::timestamptz, ${before.id}::uuid)`
    : undefined;
  return tx.select({
    id: auditEvents.id, tenantId: auditEvents.tenantId, actor: auditEvents.actor, action: auditEvents.action,
    resource: auditEvents.resource, resourceId: auditEvents.resourceId, before: auditEvents.before, after: auditEvents.after,
    requestId: auditEvents.requestId, at: auditEvents.at, atMicros,
  }).from(auditEvents).where(and(scope, page, ...filterConditions(filter)))
    .orderBy(desc(auditEvents.at), desc(auditEvents.id)).limit(limit);
}
