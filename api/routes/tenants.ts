// Tenants (platform admins manage them), their address grants and peer policy, and the audit trail
// (its schemas, filters and cursor: api/audit.ts).
import { createRoute, z } from '@hono/zod-openapi';
import { recordAudit } from '../../db/queries/audit.ts';
import { AuditPage, auditPageOf, AuditQuery } from '../audit.ts';
import {
  createTenant, findTenantBySlug, getPolicy, getTenant, listTenants, lockTenantRow, putPolicy, renameTenant, type TenantRecord,
} from '../../db/queries/tenants.ts';
import { withPlatform, withTenant } from '../../db/tenant.ts';
import { TenantPolicy } from '../../render/policy.ts';
import { deleteTenantAtOnce, deleteTenantWithdrawing } from '../tenant-deletion.ts';
import { writeTenant } from '../writes.ts';
import { parseInput } from '../collection.ts';
import type { App, AppDeps, Ctx } from '../context.ts';
import { now, platformAdminOnly, renderDeps } from '../context.ts';
import { renderClusters } from '../rendering.ts';
import { notFound } from '../errors.ts';
import { checkIfMatch, decodeCursor, encodeCursor, etagOf, mergePatch, pageLimit } from '../http.ts';
import {
  errorResponses, ETagHeader, IfMatchHeader, jsonContent, mergePatchContent, OptionalIfMatchHeader, PageQuery, SLUG,
  TenantParam,
} from '../openapi.ts';
import { refuse, Timestamp } from './shared.ts';
import { EVERY_CLUSTER } from '../../render/scope.ts';

const TenantInput = z.strictObject({
  slug: z.string().regex(SLUG, 'must be a lowercase DNS label: [a-z0-9-], at most 63 characters').openapi({ example: 'acme' }),
  name: z.string().min(1).max(200).openapi({ example: 'ACME Corp' }),
}).openapi('TenantInput');
const TenantSchema = z.object({
  slug: z.string(), name: z.string(),
  deletingSince: Timestamp.nullable().openapi({ description: 'A forced deletion in progress: its clusters are withdrawing; the tenant goes once they have' }),
  createdAt: Timestamp, updatedAt: Timestamp,
}).openapi('Tenant');
const TenantDeletion = z.object({
  tenant: z.string(), state: z.literal('deleting'), deletingSince: Timestamp,
  waitingFor: z.array(z.object({ cluster: z.string(), cidrs: z.array(z.string()) }))
    .openapi({ description: 'Clusters whose agents may still announce these CIDRs; held from everyone else until they applied the withdrawal' }),
}).openapi('TenantDeletion');
const TenantPage = z.object({ items: z.array(TenantSchema), nextCursor: z.string().nullable() }).openapi('TenantPage');


const PolicySchema = TenantPolicy.meta({ id: 'TenantPolicy' }); // .meta, not .openapi: see routes/shared.ts

const presentTenant = (t: TenantRecord) => ({
  slug: t.slug, name: t.name, deletingSince: t.deletingSince?.toISOString() ?? null, createdAt: t.createdAt.toISOString(), updatedAt: t.updatedAt.toISOString(),
});

export function registerTenantRoutes(app: App, deps: AppDeps) {
  const platformAudit = (c: Ctx, action: 'create' | 'update' | 'delete', slug: string, before: unknown, after: unknown) =>
    (tx: Parameters<Parameters<typeof withPlatform>[1]>[0]) => recordAudit(tx, {
      tenantId: null, actor: c.get('principal').sub, action, resource: 'tenant', resourceId: slug, before, after, requestId: c.get('requestId'),
    });

  app.openapi(createRoute({
    operationId: 'listTenants',
    method: 'get', path: '/v1/tenants', tags: ['Tenants'], summary: 'List tenants (a tenant token sees its own)', security: [{ bearer: [] }],
    request: { query: PageQuery },
    responses: { 200: { description: 'One page of tenants, by slug', content: jsonContent(TenantPage) }, ...errorResponses(400, 401) },
  }), async (c) => {
    const principal = c.get('principal');
    const query = c.req.valid('query');
    const limit = pageLimit(query.limit);
    const after = decodeCursor(query.cursor, ['text'])?.[0] as string | undefined;
    const rows = await withPlatform(deps.db, async (tx) => {
      if (principal.role === 'platform-admin') return listTenants(tx, { after, limit: limit + 1 });
      const own = principal.tenantId ? await getTenant(tx, { tenantId: principal.tenantId }) : await findTenantBySlug(tx, principal.tenantSlug!);
      return own && (after === undefined || own.slug > after) ? [own] : [];
    });
    const items = rows.slice(0, limit);
    return c.json({ items: items.map(presentTenant), nextCursor: rows.length > limit ? encodeCursor([items.at(-1)!.slug]) : null }, 200);
  });

  app.openapi(createRoute({
    operationId: 'createTenant',
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
    operationId: 'getTenant',
    method: 'get', path: '/v1/tenants/{tenant}', tags: ['Tenants'], summary: 'Get a tenant', security: [{ bearer: [] }],
    request: { params: TenantParam },
    responses: {
      200: { description: 'The tenant', headers: ETagHeader, content: jsonContent(TenantSchema) }, ...errorResponses(401, 404),
    },
  }), (c) => {
    const body = presentTenant(c.get('tenant'));
    c.header('ETag', etagOf(body));
    return c.json(body, 200);
  });

  app.openapi(createRoute({
    operationId: 'updateTenant',
    method: 'patch', path: '/v1/tenants/{tenant}', middleware: [platformAdminOnly] as const, tags: ['Tenants'], summary: 'Rename a tenant (merge patch; If-Match required)', security: [{ bearer: [] }],
    request: {
      params: TenantParam, headers: IfMatchHeader,
      body: { required: true, content: mergePatchContent(z.record(z.string(), z.unknown())) },
    },
    responses: {
      200: { description: 'The tenant', headers: ETagHeader, content: jsonContent(TenantSchema) },
      ...errorResponses(401, 403, 404, 412, 422, 428),
    },
  }), async (c) => {
    const updated = await withPlatform(deps.db, async (tx) => {
      // The row is locked before If-Match is compared: of concurrent PATCHes holding one ETag,
      // exactly one matches; the others see the changed row and get 412.
      const current = await lockTenantRow(tx, { tenantId: c.get('tenant').id });
      if (!current) throw notFound(`tenant ${JSON.stringify(c.get('tenant').slug)}`);
      const before = presentTenant(current);
      checkIfMatch(c.req.header('if-match'), etagOf(before));
      const merged = mergePatch({ slug: current.slug, name: current.name }, c.req.valid('json'));
      const input = parseInput(TenantInput, merged);
      if (input.slug !== current.slug) refuse([{ code: 'immutable', path: 'slug', message: 'slug cannot change', remedy: 'create a new tenant' }]);
      const renamed = await renameTenant(tx, { tenantId: current.id, name: input.name });
      await platformAudit(c, 'update', current.slug, before, presentTenant(renamed))(tx);
      return renamed;
    });
    const body = presentTenant(updated);
    c.header('ETag', etagOf(body));
    return c.json(body, 200);
  });

  app.openapi(createRoute({
    operationId: 'deleteTenant',
    method: 'delete', path: '/v1/tenants/{tenant}', middleware: [platformAdminOnly] as const, tags: ['Tenants'],
    summary: 'Delete a tenant and everything it owns (refused while its clusters have agents, unless force=true withdraws them first)',
    security: [{ bearer: [] }],
    request: {
      params: TenantParam,
      query: z.object({
        force: z.enum(['true', 'false']).optional().openapi({ param: { name: 'force', in: 'query' },
          description: 'Delete the tenant\'s intent and grants now and withdraw its clusters: each gets an empty config; the tenant goes once every agent applied it. Its address space stays held from everyone else until then.' }),
      }),
    },
    responses: {
      204: { description: 'Deleted' },
      202: { description: 'Deleting: waiting for its clusters to withdraw', content: jsonContent(TenantDeletion) },
      ...errorResponses(401, 403, 404, 409),
    },
  }), async (c) => {
    const tenant = c.get('tenant');
    const force = c.req.valid('query').force === 'true';
    const outcome = force
      ? await deleteTenantWithdrawing(deps, c, tenant)
      : await deleteTenantAtOnce(deps, c, tenant);
    if (outcome) return c.json(outcome, 202);
    return c.body(null, 204);
  });

  // Peer policy.
  app.openapi(createRoute({
    operationId: 'getPolicy',
    method: 'get', path: '/v1/tenants/{tenant}/policy', tags: ['Policy'], summary: "Get the tenant's peer policy", security: [{ bearer: [] }],
    request: { params: TenantParam },
    responses: {
      200: {
        description: 'The policy (the default one if none was set)', headers: ETagHeader, content: jsonContent(PolicySchema),
      },
      ...errorResponses(401, 404),
    },
  }), async (c) => {
    const tenantId = c.get('tenant').id;
    const policy = await withTenant(deps.db, tenantId, (tx) => getPolicy(tx, { tenantId }));
    c.header('ETag', etagOf(policy));
    return c.json(policy, 200);
  });

  app.openapi(createRoute({
    operationId: 'replacePolicy',
    method: 'put', path: '/v1/tenants/{tenant}/policy', middleware: [platformAdminOnly] as const, tags: ['Policy'], summary: "Replace the tenant's peer policy", security: [{ bearer: [] }],
    request: {
      params: TenantParam, headers: OptionalIfMatchHeader, body: { required: true, content: jsonContent(PolicySchema) },
    },
    responses: {
      200: { description: 'The stored policy', headers: ETagHeader, content: jsonContent(PolicySchema) },
      ...errorResponses(401, 403, 404, 409, 412, 422),
    },
  }), async (c) => {
    const policy = c.req.valid('json');
    const tenantId = c.get('tenant').id;
    await writeTenant(deps, tenantId, async (tx) => {
      // Read under the tenant's write lock: If-Match compares with the policy no other write can change meanwhile.
      const before = await getPolicy(tx, { tenantId });
      const ifMatch = c.req.header('if-match');
      if (ifMatch) checkIfMatch(ifMatch, etagOf(before));
      await putPolicy(tx, { tenantId, policy });
      await recordAudit(tx, { tenantId, actor: c.get('principal').sub, action: 'replace', resource: 'policy', resourceId: null, before, after: policy, requestId: c.get('requestId') });
      // The policy is part of every cluster's intent: a policy that existing intent breaks is refused.
      await renderClusters(tx, renderDeps(deps), {
        tenantId, scope: EVERY_CLUSTER, refuseOnProblems: true, cause: `replace policy by ${c.get('principal').sub}`,
        rollout: { actor: c.get('principal').sub, requestId: c.get('requestId'), now: now(deps) },
      });
    });
    c.header('ETag', etagOf(policy));
    return c.json(policy, 200);
  });

  app.openapi(createRoute({
    operationId: 'listAuditEvents',
    method: 'get', path: '/v1/tenants/{tenant}/audit', tags: ['Audit'], security: [{ bearer: [] }],
    summary: "The tenant's audit trail, newest first, filtered by actor, resource, action and time",
    request: { params: TenantParam, query: AuditQuery },
    responses: {
      200: { description: 'One page of the matching audit events', content: jsonContent(AuditPage) }, ...errorResponses(400, 401, 404, 422),
    },
  }), async (c) => {
    const tenantId = c.get('tenant').id;
    const page = await withTenant(deps.db, tenantId, (tx) => auditPageOf(tx, tenantId, c.req.valid('query')));
    return c.json(page, 200);
  });

  app.openapi(createRoute({
    operationId: 'listPlatformAuditEvents',
    method: 'get', path: '/v1/audit', middleware: [platformAdminOnly] as const, tags: ['Audit'], security: [{ bearer: [] }],
    summary: 'Platform-level audit trail (tenants created and deleted), filtered as a tenant\'s is',
    request: { query: AuditQuery },
    responses: {
      200: { description: 'One page of the matching audit events', content: jsonContent(AuditPage) }, ...errorResponses(400, 401, 403, 422),
    },
  }), async (c) => {
    const page = await withPlatform(deps.db, (tx) => auditPageOf(tx, null, c.req.valid('query')));
    return c.json(page, 200);
  });
}
