// The audit trail as the API serves it: the event and page schemas, the filters a list takes
// (validated here, matched in db/queries/audit.ts) and the keyset cursor over (at, id).
import { z } from '@hono/zod-openapi';
import {
  AUDIT_ACTIONS, AUDIT_RESOURCES, instantOfMicros, listAudit, type AuditFilter, type AuditRecord,
} from '../db/queries/audit.ts';
import type { Tx } from '../db/tenant.ts';
import { ApiError } from './errors.ts';
import { decodeCursor, encodeCursor, pageLimit } from './http.ts';
import { PageQuery } from './openapi.ts';
import { Timestamp } from './routes/shared.ts';

export { AUDIT_ACTIONS, AUDIT_RESOURCES } from '../db/queries/audit.ts';

export const AuditEvent = z.object({
  id: z.string(), at: Timestamp, actor: z.string(), action: z.string(), resource: z.string(),
  resourceId: z.string().nullable(), before: z.unknown(), after: z.unknown(), requestId: z.string().nullable(),
}).openapi('AuditEvent');
export const AuditPage = z.object({ items: z.array(AuditEvent), nextCursor: z.string().nullable() })
  .openapi('AuditPage');

// The shared bound (api/input.ts) already refuses control characters anywhere in a query with 400
// invalid-query; the schema says so again so that it holds wherever the schema is used.
const NO_CONTROL = /^[^\u0000-\u001f\u007f-\u009f]*$/;
/** An actor is an API token's name or an OIDC subject: short, single-line text. */
export const MAX_ACTOR_FILTER = 200;
const RESOURCE_KIND = /^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$/;

/** RFC 3339 with seconds and an offset; year 0 is refused because PostgreSQL has none. */
const Instant = (name: string, description: string) => z.iso.datetime({ offset: true })
  .max(40)
  .refine((text) => !text.startsWith('0000-'), 'year 0 does not exist')
  .optional()
  .openapi({ param: { name, in: 'query' }, description, example: '2026-01-31T00:00:00Z' });

export const AuditQuery = PageQuery.extend({
  actor: z.string().min(1).max(MAX_ACTOR_FILTER).regex(NO_CONTROL, 'control characters are not allowed').optional()
    .openapi({ param: { name: 'actor', in: 'query' },
      description: 'Only events whose actor contains this text, in any case (ASCII letters); '
        + '%, _ and \\ match themselves' }),
  resource: z.string().max(64).regex(RESOURCE_KIND, 'must be a resource kind: lowercase, kebab-case').optional()
    .openapi({ param: { name: 'resource', in: 'query' },
      description: `Only events about this kind of resource (exactly). The API records: ${AUDIT_RESOURCES.join(', ')}`,
    }),
  action: z.enum(AUDIT_ACTIONS).optional()
    .openapi({ param: { name: 'action', in: 'query' }, description: 'Only events of this action' }),
  since: Instant('since', 'Only events at or after this instant (RFC 3339)'),
  until: Instant('until', 'Only events before this instant (RFC 3339)'),
});
export type AuditQuery = z.infer<typeof AuditQuery>;

/** One page of a trail (tenantId null: the platform's), as the list operations answer it. */
export async function auditPageOf(tx: Tx, tenantId: string | null, query: AuditQuery) {
  const limit = pageLimit(query.limit);
  const cursor = decodeCursor(query.cursor, ['micros', 'uuid']) as [string, string] | undefined;
  const at = cursor && instantOfMicros(cursor[0]);
  // A cursor of a time no timestamp holds was not one this API returned (decodeCursor's answer).
  if (cursor && !at) {
    throw new ApiError(400, 'invalid-cursor', 'Invalid cursor', 'the cursor is not one this API returned; start again without it');
  }
  const filter: AuditFilter = {
    actor: query.actor, resource: query.resource, action: query.action, since: query.since, until: query.until,
  };
  const before = cursor && at ? { at, id: cursor[1] } : undefined;
  const rows = await listAudit(tx, { tenantId, before, limit: limit + 1, filter });
  return presentPage(rows, limit);
}

function presentPage(rows: AuditRecord[], limit: number) {
  const items = rows.slice(0, limit)
    .map(({ tenantId: _t, atMicros: _m, at, ...e }) => ({ ...e, at: at.toISOString() }));
  const last = rows[limit - 1];
  return { items, nextCursor: rows.length > limit && last ? encodeCursor([last.atMicros, last.id]) : null };
}
