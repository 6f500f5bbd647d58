// Address grants (the space a tenant may carve pools from, given by platform admins) and the
// address space held back from reuse ("quarantine"): CIDRs that left a tenant's intent while an
// agent may still announce them (db/queries/holds.ts). Grants are given and withdrawn in the
// platform scope, which alone sees every tenant's held space, under the tenant's write lock.
import { createRoute, z } from '@hono/zod-openapi';
import { recordAudit } from '../../db/queries/audit.ts';
import { listQuarantine, type HoldRecord } from '../../db/queries/holds.ts';
import { createGrant, deleteGrant, findGrant, getTenant, listGrants, poolCidrsWithin } from '../../db/queries/tenants.ts';
import { lockTenantWrites, withPlatform, withTenant, type Tx } from '../../db/tenant.ts';
import { cidrContains, GrammarError, parseCidr } from '../../render/grammar.ts';
import type { App, AppDeps, Ctx } from '../context.ts';
import { platformAdminOnly } from '../context.ts';
import { ApiError, notFound } from '../errors.ts';
import { decodeCursor, encodeCursor, pageLimit } from '../http.ts';
import { errorResponses, jsonContent, PageQuery, TenantParam } from '../openapi.ts';
import { tenantDeleting } from '../writes.ts';
import { refuse, Timestamp } from './shared.ts';

const QuarantinedSpace = z.object({
  cidr: z.string(),
  clusters: z.array(z.object({ cluster: z.string(), tenant: z.string(), lastRevision: z.number().int() }))
    .openapi({ description: 'Clusters whose agents may still announce it: it is released once each applied a revision after lastRevision' }),
}).openapi('QuarantinedSpace');
const GrantInput = z.strictObject({ cidr: z.string().openapi({ example: '203.0.113.0/24' }) }).openapi('GrantInput');
const GrantSchema = z.object({
  id: z.string(), cidr: z.string(), createdAt: Timestamp,
  quarantined: z.array(QuarantinedSpace).openapi({ description: 'Space inside the grant that no pool has any more but an agent may still announce: not carvable until released' }),
}).openapi('Grant');
const GrantPage = z.object({ items: z.array(GrantSchema), nextCursor: z.string().nullable() }).openapi('GrantPage');
const GrantParam = TenantParam.extend({ grant: z.string().openapi({ param: { name: 'grant', in: 'path' }, description: 'Grant id' }) });
const QuarantinePage = z.object({ items: z.array(QuarantinedSpace) }).openapi('Quarantine');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Holds grouped by CIDR, as the API shows quarantined space. */
export function presentQuarantine(holds: HoldRecord[]): Array<z.infer<typeof QuarantinedSpace>> {
  const byCidr = new Map<string, z.infer<typeof QuarantinedSpace>>();
  for (const h of holds) {
    const entry = byCidr.get(h.cidr) ?? { cidr: h.cidr, clusters: [] };
    entry.clusters.push({ cluster: h.clusterName, tenant: h.tenantSlug, lastRevision: h.lastRevision });
    byCidr.set(h.cidr, entry);
  }
  return [...byCidr.values()];
}

/** 409 naming the held space (and, for a tenant's own space, the clusters holding it). */
export function addressQuarantined(holds: HoldRecord[], what: string): ApiError {
  const cidrs = [...new Set(holds.map((h) => h.cidr))];
  return new ApiError(409, 'address-quarantined', 'Address space is held back',
    `${what} overlaps ${cidrs.join(', ')}, which agents may still announce; it is released once they applied a config without it`, {
      errors: [{ path: 'cidr', code: 'address-quarantined', message: 'wait for the agents to apply (see the quarantine), or ask a platform admin to delete a cluster that is gone with force=true' }],
      extensions: { quarantined: presentQuarantine(holds) },
    });
}

export function registerGrantRoutes(app: App, deps: AppDeps) {
  /** A platform change of a tenant's grants: under the tenant's write lock, refused while it is being deleted. */
  const grantChange = <T>(c: Ctx, fn: (tx: Tx, tenantId: string) => Promise<T>) => withPlatform(deps.db, async (tx) => {
    const tenantId = c.get('tenant').id;
    await lockTenantWrites(tx, tenantId);
    const tenant = await getTenant(tx, { tenantId });
    if (!tenant) throw notFound(`tenant ${JSON.stringify(c.get('tenant').slug)}`);
    if (tenant.deletingSince) throw tenantDeleting(tenant.slug);
    return fn(tx, tenantId);
  });
  const audit = (tx: Tx, c: Ctx, action: 'create' | 'delete', id: string, before: unknown, after: unknown) =>
    recordAudit(tx, { tenantId: c.get('tenant').id, actor: c.get('principal').sub, action, resource: 'grant', resourceId: id, before, after, requestId: c.get('requestId') });

  app.openapi(createRoute({
    operationId: 'listGrants',
    method: 'get', path: '/v1/tenants/{tenant}/grants', tags: ['Grants'], summary: 'List address grants (with the quarantined space inside each)', security: [{ bearer: [] }],
    request: { params: TenantParam, query: PageQuery },
    responses: { 200: { description: 'One page of grants, by address', content: jsonContent(GrantPage) }, ...errorResponses(400, 401, 404) },
  }), async (c) => {
    const query = c.req.valid('query');
    const limit = pageLimit(query.limit);
    const after = decodeCursor(query.cursor, ['text'])?.[0] as string | undefined;
    const tenantId = c.get('tenant').id;
    const { rows, held } = await withTenant(deps.db, tenantId, async (tx) => ({
      rows: await listGrants(tx, { tenantId, after, limit: limit + 1 }),
      held: await listQuarantine(tx, { tenantId }),
    }));
    const items = rows.slice(0, limit).map((g) => ({
      ...g, quarantined: presentQuarantine(held.filter((h) => cidrContains(parseCidr(g.cidr), parseCidr(h.cidr)))),
    }));
    return c.json({ items, nextCursor: rows.length > limit ? encodeCursor([items.at(-1)!.cidr]) : null }, 200);
  });

  app.openapi(createRoute({
    operationId: 'createGrant',
    method: 'post', path: '/v1/tenants/{tenant}/grants', middleware: [platformAdminOnly] as const, tags: ['Grants'], summary: 'Grant address space to a tenant', security: [{ bearer: [] }],
    request: { params: TenantParam, body: { required: true, content: jsonContent(GrantInput) } },
    responses: { 201: { description: 'Granted', content: jsonContent(GrantSchema) }, ...errorResponses(401, 403, 404, 409, 422) },
  }), async (c) => {
    let cidr: string;
    try {
      cidr = parseCidr(c.req.valid('json').cidr).text;
    } catch (err) {
      if (!(err instanceof GrammarError)) throw err;
      refuse([{ code: 'invalid-cidr', path: 'cidr', message: err.message, remedy: 'write the CIDR as network/prefix-length' }]);
      throw err;
    }
    const grant = await grantChange(c, async (tx, tenantId) => {
      // Space another tenant's (or a deleted tenant's) agents may still announce is not given away.
      const held = await listQuarantine(tx, { exceptTenantId: tenantId, overlapping: [cidr] });
      if (held.length > 0) throw addressQuarantined(held, `grant ${cidr}`);
      const created = await createGrant(tx, { tenantId, cidr });
      await audit(tx, c, 'create', created.id, null, created);
      return created;
    });
    c.header('Location', `/v1/tenants/${c.get('tenant').slug}/grants/${grant.id}`);
    return c.json({ ...grant, quarantined: [] }, 201);
  });

  app.openapi(createRoute({
    operationId: 'deleteGrant',
    method: 'delete', path: '/v1/tenants/{tenant}/grants/{grant}', middleware: [platformAdminOnly] as const, tags: ['Grants'],
    summary: 'Withdraw a grant (refused while pools use it; space agents may still announce stays held)', security: [{ bearer: [] }],
    request: { params: GrantParam },
    responses: { 204: { description: 'Withdrawn' }, ...errorResponses(401, 403, 404, 409) },
  }), async (c) => {
    const { grant: id } = c.req.valid('param');
    if (!UUID.test(id)) throw notFound('grant');
    await grantChange(c, async (tx, tenantId) => {
      const grant = await findGrant(tx, { tenantId, id });
      if (!grant) throw notFound('grant');
      const inUse = await poolCidrsWithin(tx, { tenantId, cidr: grant.cidr });
      if (inUse.length > 0) {
        throw new ApiError(409, 'in-use', 'In use', `pools use ${inUse.join(', ')} inside grant ${grant.cidr}; delete or move them first`);
      }
      await deleteGrant(tx, { tenantId, id });
      await audit(tx, c, 'delete', id, grant, null);
    });
    return c.body(null, 204);
  });

  app.openapi(createRoute({
    operationId: 'listQuarantine',
    method: 'get', path: '/v1/tenants/{tenant}/quarantine', tags: ['Grants'],
    summary: "The tenant's quarantined address space: CIDRs no pool has any more that its clusters' agents may still announce",
    security: [{ bearer: [] }], request: { params: TenantParam },
    responses: { 200: { description: 'Held space, by CIDR', content: jsonContent(QuarantinePage) }, ...errorResponses(401, 404) },
  }), async (c) => {
    const tenantId = c.get('tenant').id;
    const held = await withTenant(deps.db, tenantId, (tx) => listQuarantine(tx, { tenantId }));
    return c.json({ items: presentQuarantine(held) }, 200);
  });

  app.openapi(createRoute({
    operationId: 'listFleetQuarantine',
    method: 'get', path: '/v1/quarantine', middleware: [platformAdminOnly] as const, tags: ['Grants'],
    summary: 'Quarantined address space fleet-wide, also of deleted clusters and tenants', security: [{ bearer: [] }],
    responses: { 200: { description: 'Held space, by CIDR', content: jsonContent(QuarantinePage) }, ...errorResponses(401, 403) },
  }), async (c) => {
    const held = await withPlatform(deps.db, (tx) => listQuarantine(tx));
    return c.json({ items: presentQuarantine(held) }, 200);
  });
}

