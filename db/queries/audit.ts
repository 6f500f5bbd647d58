import { and, desc, eq, isNull, lt, or, sql } from 'drizzle-orm';
import type { Tx } from '../tenant.ts';
import { auditEvents } from '../schema.ts';

export interface AuditInput {
  tenantId: string | null;
  actor: string;
  action: 'create' | 'update' | 'delete' | 'replace';
  resource: string;
  resourceId: string | null;
  before: unknown;
  after: unknown;
  requestId: string | null;
}

export async function recordAudit(tx: Tx, event: AuditInput): Promise<void> {
  await tx.insert(auditEvents).values({ ...event, before: event.before ?? null, after: event.after ?? null });
}

export interface AuditRecord extends AuditInput { id: string; at: Date; /** exact position, for the cursor */ atMicros: string }

// Postgres keeps microseconds and JavaScript dates milliseconds, so the cursor carries the exact
// epoch microseconds of the last event, not its Date.
const atMicros = sql<string>`(extract(epoch from ${auditEvents.at}) * 1000000)::bigint::text`;

/** Newest first; the cursor is the (atMicros, id) of the last event returned. */
export function listAudit(tx: Tx, { tenantId, before, limit }: { tenantId: string | null; before?: [string, string]; limit: number }): Promise<AuditRecord[]> {
  const scope = tenantId === null ? isNull(auditEvents.tenantId) : eq(auditEvents.tenantId, tenantId);
  const micros = sql`(extract(epoch from ${auditEvents.at}) * 1000000)::bigint`;
  const page = before
    ? or(sql`${micros} < ${before[0]}::bigint`, and(sql`${micros} = ${before[0]}::bigint`, lt(auditEvents.id, before[1])))
    : undefined;
  return tx.select({
    id: auditEvents.id, tenantId: auditEvents.tenantId, actor: auditEvents.actor, action: auditEvents.action, resource: auditEvents.resource,
    resourceId: auditEvents.resourceId, before: auditEvents.before, after: auditEvents.after, requestId: auditEvents.requestId,
    at: auditEvents.at, atMicros,
  }).from(auditEvents).where(and(scope, page)).orderBy(desc(micros), desc(auditEvents.id)).limit(limit) as Promise<AuditRecord[]>;
}
