// Tenants (platform admins manage them), their address grants and peer policy, and the audit trail.
import { createRoute, z } from '@hono/zod-openapi';
import { listAudit, recordAudit, type AuditRecord } from '../../db/queries/audit.ts';
import {
  createGrant, createTenant, deleteGrant, deleteTenant, findGrant, findTenantBySlug, getPolicy, listGrants, listTenants,
  poolCidrsWithin, putPolicy, renameTenant, type TenantRecord,
} from '../../db/queries/tenants.ts';
import { withPlatform, withTenant } from '../../db/tenant.ts';
import { GrammarError, parseCidr } from '../../render/grammar.ts';
import { TenantPolicy } from '../../render/policy.ts';
import { parseInput } from '../collection.ts';
import type { App, AppDeps, Ctx } from '../context.ts';
import { platformAdminOnly, renderDeps } from '../context.ts';
import { renderClusters } from '../rendering.ts';
import { ApiError, notFound } from '../errors.ts';
import { checkIfMatch, decodeCursor, encodeCursor, etagOf, mergePatch, pageLimit } from '../http.ts';
import { errorResponses, jsonContent, mergePatchContent, PageQuery, SLUG, TenantParam } from '../openapi.ts';
import { refuse, Timestamp } from './shared.ts';

const TenantInput = z.strictObject({
  slug: z.string().regex(SLUG, 'must be a lowercase DNS label: [a-z0-9-], at most 63 characters').openapi({ example: 'acme' }),
  name: z.string().min(1).max(200).openapi({ example: 'ACME Corp' }),
}).openapi('TenantInput');
const TenantSchema = z.object({ slug: z.string(), name: z.string(), createdAt: Timestamp, updatedAt: Timestamp }).openapi('Tenant');
const TenantPage = z.object({ items: z.array(TenantSchema), nextCursor: z.string().nullable() }).openapi('TenantPage');

const GrantInput = z.strictObject({ cidr: z.string().openapi({ example: '203.0.113.0/24' }) }).openapi('GrantInput');
const GrantSchema = z.object({ id: z.string(), cidr: z.string(), createdAt: Timestamp }).openapi('Grant');
const GrantPage = z.object({ items: z.array(GrantSchema), nextCursor: z.string().nullable() }).openapi('GrantPage');
const GrantParam = TenantParam.extend({ grant: z.string().openapi({ param: { name: 'grant', in: 'path' }, description: 'Grant id' }) });

const PolicySchema = TenantPolicy.openapi('TenantPolicy');

const AuditEvent = z.object({
  id: z.string(), at: Timestamp, actor: z.string(), action: z.string(), resource: z.string(), resourceId: z.string().nullable(),
  before: z.unknown(), after: z.unknown(), requestId: z.string().nullable(),
}).openapi('AuditEvent');
const AuditPage = z.object({ items: z.array(AuditEvent), nextCursor: z.string().nullable() }).openapi('AuditPage');

const presentTenant = (t: TenantRecord) => ({ slug: t.slug, name: t.name, createdAt: t.createdAt.toISOString(), updatedAt: t.updatedAt.toISOString() });
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function auditPage(rows: AuditRecord[], limit: number) {
  const items = rows.slice(0, limit).map(({ tenantId: _t, atMicros: _m, ...e }) => e);
  const last = rows[limit - 1];
  return { items, nextCursor: rows.length > limit && last ? encodeCursor([last.atMicros, last.id]) : null };
}

export function registerTenantRoutes(app: App, deps: AppDeps) {
  const platformAudit = (c: Ctx, action: 'create' | 'update' | 'delete', slug: string, before: unknown, after: unknown) =>
    (tx: Parameters<Parameters<typeof withPlatform>[1]>[0]) => recordAudit(tx, {
      tenantId: null, actor: c.get('principal').sub, action, resource: 'tenant', resourceId: slug, before, after, requestId: c.get('requestId'),
    });

  app.openapi(createRoute({
    method: 'get', path: '/v1/tenants', tags: ['Tenants'], summary: 'List tenants (a tenant token sees its own)', security: [{ bearer: [] }],
    request: { query: PageQuery },
    responses: { 200: { description: 'One page of tenants, by slug', content: jsonContent(TenantPage) }, ...errorResponses(400, 401) },
  }), async (c) => {
    const principal = c.get('principal');
    const query = c.req.valid('query');
    const limit = pageLimit(query.limit);
    const after = decodeCursor(query.cursor, 1)?.[0] as string | undefined;
    const rows = await withPlatform(deps.db, async (tx) => {
      if (principal.role === 'platform-admin') return listTenants(tx, { after, limit: limit + 1 });
      const own = await findTenantBySlug(tx, principal.tenant!);
      return own && (after === undefined || own.slug > after) ? [own] : [];
    });
    const items = rows.slice(0, limit);
    return c.json({ items: items.map(presentTenant), nextCursor: rows.length > limit ? encodeCursor([items.at(-1)!.slug]) : null }, 200);
  });

  app.openapi(createRoute({
    method: 'post', path: '/v1/tenants', middleware: [platformAdminOnly] as const, tags: ['Tenants'], summary: 'Create a tenant', security: [{ bearer: [] }],
    request: { body: { required: true, content: jsonContent(TenantInput) } },
    responses: { 201: { description: 'Created', content: jsonContent(TenantSchema) }, ...errorResponses(401, 403, 409, 413, 422) },
  }), async (c) => {
    const input = c.req.valid('json');
    const tenant = await withPlatform(deps.db, async (tx) => {
      const created = await createTenant(tx, input);
      await platformAudit(c, 'create', created.slug, null, presentTenant(created))(tx);
      return created;
    });
    const body = presentTenant(tenant);
    c.header('Location', `/v1/tenants/${tenant.slug}`);
    c.header('ETag', etagOf(body));
    return c.json(body, 201);
  });

  app.openapi(createRoute({
    method: 'get', path: '/v1/tenants/{tenant}', tags: ['Tenants'], summary: 'Get a tenant', security: [{ bearer: [] }],
    request: { params: TenantParam },
    responses: { 200: { description: 'The tenant', content: jsonContent(TenantSchema) }, ...errorResponses(401, 404) },
  }), (c) => {
    const body = presentTenant(c.get('tenant'));
    c.header('ETag', etagOf(body));
    return c.json(body, 200);
  });

  app.openapi(createRoute({
    method: 'patch', path: '/v1/tenants/{tenant}', middleware: [platformAdminOnly] as const, tags: ['Tenants'], summary: 'Rename a tenant (merge patch; If-Match required)', security: [{ bearer: [] }],
    request: { params: TenantParam, body: { required: true, content: mergePatchContent(z.record(z.string(), z.unknown())) } },
    responses: { 200: { description: 'The tenant', content: jsonContent(TenantSchema) }, ...errorResponses(401, 403, 404, 412, 422, 428) },
  }), async (c) => {
    const current = c.get('tenant');
    const before = presentTenant(current);
    checkIfMatch(c.req.header('if-match'), etagOf(before));
    const merged = mergePatch({ slug: current.slug, name: current.name }, c.req.valid('json'));
    const input = parseInput(TenantInput, merged);
    if (input.slug !== current.slug) refuse([{ code: 'immutable', path: 'slug', message: 'slug cannot change', remedy: 'create a new tenant' }]);
    const updated = await withPlatform(deps.db, async (tx) => {
      const renamed = await renameTenant(tx, { tenantId: current.id, name: input.name });
      await platformAudit(c, 'update', current.slug, before, presentTenant(renamed))(tx);
      return renamed;
    });
    const body = presentTenant(updated);
    c.header('ETag', etagOf(body));
    return c.json(body, 200);
  });

  app.openapi(createRoute({
    method: 'delete', path: '/v1/tenants/{tenant}', middleware: [platformAdminOnly] as const, tags: ['Tenants'], summary: 'Delete a tenant and everything it owns', security: [{ bearer: [] }],
    request: { params: TenantParam },
    responses: { 204: { description: 'Deleted' }, ...errorResponses(401, 403, 404) },
  }), async (c) => {
    const tenant = c.get('tenant');
    await withPlatform(deps.db, async (tx) => {
      await deleteTenant(tx, { tenantId: tenant.id });
      await platformAudit(c, 'delete', tenant.slug, presentTenant(tenant), null)(tx);
    });
    return c.body(null, 204);
  });

  // Address grants: the space a tenant may carve pools from. Granted by platform admins.
  app.openapi(createRoute({
    method: 'get', path: '/v1/tenants/{tenant}/grants', tags: ['Grants'], summary: 'List address grants', security: [{ bearer: [] }],
    request: { params: TenantParam, query: PageQuery },
    responses: { 200: { description: 'One page of grants, by address', content: jsonContent(GrantPage) }, ...errorResponses(400, 401, 404) },
  }), async (c) => {
    const query = c.req.valid('query');
    const limit = pageLimit(query.limit);
    const after = decodeCursor(query.cursor, 1)?.[0] as string | undefined;
    const tenantId = c.get('tenant').id;
    const rows = await withTenant(deps.db, tenantId, (tx) => listGrants(tx, { tenantId, after, limit: limit + 1 }));
    const items = rows.slice(0, limit);
    return c.json({ items, nextCursor: rows.length > limit ? encodeCursor([items.at(-1)!.cidr]) : null }, 200);
  });

  app.openapi(createRoute({
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
    const tenantId = c.get('tenant').id;
    const grant = await withTenant(deps.db, tenantId, async (tx) => {
      const created = await createGrant(tx, { tenantId, cidr });
      await recordAudit(tx, { tenantId, actor: c.get('principal').sub, action: 'create', resource: 'grant', resourceId: created.id, before: null, after: created, requestId: c.get('requestId') });
      return created;
    });
    c.header('Location', `/v1/tenants/${c.get('tenant').slug}/grants/${grant.id}`);
    return c.json(grant, 201);
  });

  app.openapi(createRoute({
    method: 'delete', path: '/v1/tenants/{tenant}/grants/{grant}', middleware: [platformAdminOnly] as const, tags: ['Grants'], summary: 'Withdraw a grant (refused while pools use it)', security: [{ bearer: [] }],
    request: { params: GrantParam },
    responses: { 204: { description: 'Withdrawn' }, ...errorResponses(401, 403, 404, 409) },
  }), async (c) => {
    const { grant: id } = c.req.valid('param');
    const tenantId = c.get('tenant').id;
    if (!UUID.test(id)) throw notFound('grant');
    await withTenant(deps.db, tenantId, async (tx) => {
      const grant = await findGrant(tx, { tenantId, id });
      if (!grant) throw notFound('grant');
      const inUse = await poolCidrsWithin(tx, { tenantId, cidr: grant.cidr });
      if (inUse.length > 0) {
        throw new ApiError(409, 'in-use', 'In use', `pools use ${inUse.join(', ')} inside grant ${grant.cidr}; delete or move them first`);
      }
      await deleteGrant(tx, { tenantId, id });
      await recordAudit(tx, { tenantId, actor: c.get('principal').sub, action: 'delete', resource: 'grant', resourceId: id, before: grant, after: null, requestId: c.get('requestId') });
    });
    return c.body(null, 204);
  });

  // Peer policy.
  app.openapi(createRoute({
    method: 'get', path: '/v1/tenants/{tenant}/policy', tags: ['Policy'], summary: "Get the tenant's peer policy", security: [{ bearer: [] }],
    request: { params: TenantParam },
    responses: { 200: { description: 'The policy (the default one if none was set)', content: jsonContent(PolicySchema) }, ...errorResponses(401, 404) },
  }), async (c) => {
    const tenantId = c.get('tenant').id;
    const policy = await withTenant(deps.db, tenantId, (tx) => getPolicy(tx, { tenantId }));
    c.header('ETag', etagOf(policy));
    return c.json(policy, 200);
  });

  app.openapi(createRoute({
    method: 'put', path: '/v1/tenants/{tenant}/policy', middleware: [platformAdminOnly] as const, tags: ['Policy'], summary: "Replace the tenant's peer policy", security: [{ bearer: [] }],
    request: { params: TenantParam, body: { required: true, content: jsonContent(PolicySchema) } },
    responses: { 200: { description: 'The stored policy', content: jsonContent(PolicySchema) }, ...errorResponses(401, 403, 404, 412, 422) },
  }), async (c) => {
    const policy = c.req.valid('json');
    const tenantId = c.get('tenant').id;
    await withTenant(deps.db, tenantId, async (tx) => {
      const before = await getPolicy(tx, { tenantId });
      const ifMatch = c.req.header('if-match');
      if (ifMatch) checkIfMatch(ifMatch, etagOf(before));
      await putPolicy(tx, { tenantId, policy });
      await recordAudit(tx, { tenantId, actor: c.get('principal').sub, action: 'replace', resource: 'policy', resourceId: null, before, after: policy, requestId: c.get('requestId') });
      // The policy is part of every cluster's intent: a policy that existing intent breaks is refused.
      await renderClusters(tx, renderDeps(deps), { tenantId, filter: () => true, refuseOnProblems: true, cause: `replace policy by ${c.get('principal').sub}` });
    });
    c.header('ETag', etagOf(policy));
    return c.json(policy, 200);
  });

  app.openapi(createRoute({
    method: 'get', path: '/v1/tenants/{tenant}/audit', tags: ['Audit'], summary: "The tenant's audit trail, newest first", security: [{ bearer: [] }],
    request: { params: TenantParam, query: PageQuery },
    responses: { 200: { description: 'One page of audit events', content: jsonContent(AuditPage) }, ...errorResponses(400, 401, 404) },
  }), async (c) => {
    const query = c.req.valid('query');
    const limit = pageLimit(query.limit);
    const before = decodeCursor(query.cursor, 2) as [string, string] | undefined;
    const tenantId = c.get('tenant').id;
    const rows = await withTenant(deps.db, tenantId, (tx) => listAudit(tx, { tenantId, before, limit: limit + 1 }));
    return c.json(auditPage(rows, limit), 200);
  });

  app.openapi(createRoute({
    method: 'get', path: '/v1/audit', middleware: [platformAdminOnly] as const, tags: ['Audit'], summary: 'Platform-level audit trail (tenants created and deleted)', security: [{ bearer: [] }],
    request: { query: PageQuery },
    responses: { 200: { description: 'One page of audit events', content: jsonContent(AuditPage) }, ...errorResponses(400, 401, 403) },
  }), async (c) => {
    const query = c.req.valid('query');
    const limit = pageLimit(query.limit);
    const before = decodeCursor(query.cursor, 2) as [string, string] | undefined;
    const rows = await withPlatform(deps.db, (tx) => listAudit(tx, { tenantId: null, before, limit: limit + 1 }));
    return c.json(auditPage(rows, limit), 200);
  });
}
