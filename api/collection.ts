// A named, tenant-owned collection (clusters, pools, peers, BFD profiles, communities,
// advertisements) as five routes: list, create, get, merge-patch and delete. Each resource's
// routes/<resource>.ts declares its schemas and storage hooks; this module gives every collection
// the same contract: OpenAPI definitions, roles, strong ETags with If-Match, keyset pagination,
// audit events in the same transaction, and problem+json errors.
import { createRoute, z } from '@hono/zod-openapi';
import { withTenant, type Tx } from '../db/tenant.ts';
import { writeTenant } from './writes.ts';
import { renderClusters } from './rendering.ts';
import { EVERY_CLUSTER, type ClusterScope } from '../render/scope.ts';
import { recordAudit, type AuditResource } from '../db/queries/audit.ts';
import type { App, AppDeps, Ctx, WriteContext } from './context.ts';
import { now, renderDeps, tenantWriterOnly, writeContext } from './context.ts';
import { ApiError, forbidden, invalidRequest, notFound, zodIssuesToFieldErrors } from './errors.ts';
import { checkIfMatch, decodeCursor, encodeCursor, etagOf, mergePatch, pageLimit } from './http.ts';
import { errorResponses, IfMatchHeader, jsonContent, mergePatchContent, NameParam, PageQuery, TenantParam } from './openapi.ts';

export interface Stored { id: string; name: string }

export interface RemoveOutcome<Rec> {
  withdrawing?: { after: Rec; accepted: Record<string, unknown> };
  audit?: Record<string, unknown>;
}

export interface CollectionSpec<Input, Rec extends Stored> {
  /** URL segment: /v1/tenants/{tenant}/<path> */
  path: string;
  /** Singular, kebab-case, for messages, the audit trail and operationIds (`bfd-profile`: getBfdProfile). */
  resource: AuditResource;
  /** Plural, PascalCase: the OpenAPI tag, the page schema's name and operationIds (`BfdProfiles`: listBfdProfiles). */
  tag: string;
  /** The writable fields (create body, and the result of a merge patch). */
  input: z.ZodType<Input>;
  /** Create body, when it differs from `input` (e.g. pool allocation). */
  createInput?: z.ZodType<unknown>;
  /** The representation returned. */
  output: z.ZodType<unknown>;
  present(record: Rec): Record<string, unknown>;
  /** The writable form of a stored object, the base a merge patch applies to. */
  writable(record: Rec): Record<string, unknown>;
  list(tx: Tx, args: { tenantId: string; after?: string; limit: number }): Promise<Rec[]>;
  get(tx: Tx, args: { tenantId: string; name: string; forUpdate?: boolean }): Promise<Rec | undefined>;
  create(tx: Tx, ctx: WriteContext, body: unknown): Promise<Rec>;
  update(tx: Tx, ctx: WriteContext, current: Rec, input: Input, patch: Record<string, unknown>): Promise<Rec>;
  /**
   * Deletes `current`, or starts its withdrawal: then it returns the record as it now stands (it
   * is re-rendered as the write's `after`) and the answer is 202 with `accepted`. `audit`: what
   * the audit event records as the state after.
   */
  remove(tx: Tx, ctx: WriteContext, current: Rec, opts: { force: boolean }): Promise<void | RemoveOutcome<Rec>>;
  /** Refuses a change of `current` before anything else (e.g. a cluster that is withdrawing). */
  beforeUpdate?(current: Rec): void;
  /**
   * DELETE may withdraw first (answered 202 with `accepted`) and takes ?force=true (platform
   * admins; `force` describes what it does).
   */
  withdrawal?: { force: string; accepted: z.ZodType };
  /**
   * Which clusters a change can affect; they are re-rendered in the write's transaction and the
   * write is refused if any of them cannot take it. Default: every cluster of the tenant.
   */
  affects?: (change: { before?: Rec; after?: Rec }) => ClusterScope;
}

/** Validates a value against `schema`, as a 422 with field errors (as request validation does). */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw invalidRequest(zodIssuesToFieldErrors(result.error.issues));
}

/**
 * The operationIds of a collection's five routes: list + the plural tag, and create, get, update
 * (the merge patch) and delete + the singular resource in PascalCase (pools: listPools, createPool,
 * getPool, updatePool, deletePool). They name the generated client's operations: never change one.
 */
export function collectionOperationIds(spec: Pick<CollectionSpec<unknown, Stored>, 'resource' | 'tag'>) {
  const singular = spec.resource.split('-').map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join('');
  return {
    list: `list${spec.tag}`, create: `create${singular}`, get: `get${singular}`,
    update: `update${singular}`, delete: `delete${singular}`,
  };
}

export function registerCollection<Input, Rec extends Stored>(app: App, deps: AppDeps, spec: CollectionSpec<Input, Rec>): void {
  const base = `/v1/tenants/{tenant}/${spec.path}`;
  const item = `${base}/{name}`;
  const ids = collectionOperationIds(spec);
  const Page = z.object({ items: z.array(spec.output), nextCursor: z.string().nullable() }).openapi(`${spec.tag}Page`);
  const scoped = <T>(c: Ctx, fn: (tx: Tx) => Promise<T>) => withTenant(deps.db, c.get('tenant').id, fn);
  const writing = <T>(c: Ctx, fn: (tx: Tx) => Promise<T>) => writeTenant(deps, c.get('tenant').id, fn);
  const location = (c: Ctx, name: string) => `/v1/tenants/${c.get('tenant').slug}/${spec.path}/${encodeURIComponent(name)}`;
  const audit = (tx: Tx, ctx: WriteContext, action: 'create' | 'update' | 'delete', before: unknown, after: unknown, id: string) =>
    recordAudit(tx, { tenantId: ctx.tenantId, actor: ctx.actor, action, resource: spec.resource, resourceId: id, before, after, requestId: ctx.requestId });
  const rerender = (tx: Tx, ctx: WriteContext, action: string, change: { before?: Rec; after?: Rec }) => renderClusters(tx, renderDeps(deps), {
    tenantId: ctx.tenantId, scope: spec.affects?.(change) ?? EVERY_CLUSTER, refuseOnProblems: true,
    cause: `${action} ${spec.resource} ${(change.after ?? change.before)!.name} by ${ctx.actor}`,
    rollout: { actor: ctx.actor, requestId: ctx.requestId, now: now(deps) },
  });

  app.openapi(createRoute({
    operationId: ids.list,
    method: 'get', path: base, tags: [spec.tag], summary: `List ${spec.path}`, security: [{ bearer: [] }],
    request: { params: TenantParam, query: PageQuery },
    responses: { 200: { description: `One page of ${spec.path}, by name`, content: jsonContent(Page) }, ...errorResponses(400, 401, 404) },
  }), async (c) => {
    const query = c.req.valid('query');
    const limit = pageLimit(query.limit);
    const after = decodeCursor(query.cursor, ['text'])?.[0] as string | undefined;
    const rows = await scoped(c, (tx) => spec.list(tx, { tenantId: c.get('tenant').id, after, limit: limit + 1 }));
    const items = rows.slice(0, limit);
    const nextCursor = rows.length > limit ? encodeCursor([items.at(-1)!.name]) : null;
    return c.json({ items: items.map(spec.present), nextCursor }, 200);
  });

  app.openapi(createRoute({
    operationId: ids.create,
    method: 'post', path: base, middleware: [tenantWriterOnly] as const, tags: [spec.tag], summary: `Create a ${spec.resource}`, security: [{ bearer: [] }],
    request: { params: TenantParam, body: { required: true, content: jsonContent(spec.createInput ?? spec.input) } },
    responses: {
      201: { description: 'Created', headers: { Location: { schema: { type: 'string' } }, ETag: { schema: { type: 'string' } } }, content: jsonContent(spec.output) },
      ...errorResponses(401, 403, 404, 409, 413, 422),
    },
  }), async (c) => {
    const ctx = writeContext(c, deps);
    const body = c.req.valid('json');
    const created = await writing(c, async (tx) => {
      const record = await spec.create(tx, ctx, body);
      await audit(tx, ctx, 'create', null, spec.present(record), record.id);
      await rerender(tx, ctx, 'create', { after: record });
      // Rendering can move state the answer shows (a cluster's desired revision): read it back.
      return (await spec.get(tx, { tenantId: ctx.tenantId, name: record.name }))!;
    });
    const representation = spec.present(created);
    c.header('Location', location(c, created.name));
    c.header('ETag', etagOf(representation));
    return c.json(representation, 201);
  });

  app.openapi(createRoute({
    operationId: ids.get,
    method: 'get', path: item, tags: [spec.tag], summary: `Get a ${spec.resource}`, security: [{ bearer: [] }],
    request: { params: TenantParam.extend(NameParam.shape) },
    responses: { 200: { description: 'The object', headers: { ETag: { schema: { type: 'string' } } }, content: jsonContent(spec.output) }, ...errorResponses(401, 404) },
  }), async (c) => {
    const { name } = c.req.valid('param');
    const record = await scoped(c, (tx) => spec.get(tx, { tenantId: c.get('tenant').id, name }));
    if (!record) throw notFound(`${spec.resource} ${JSON.stringify(name)}`);
    const representation = spec.present(record);
    c.header('ETag', etagOf(representation));
    return c.json(representation, 200);
  });

  app.openapi(createRoute({
    operationId: ids.update,
    method: 'patch', path: item, middleware: [tenantWriterOnly] as const, tags: [spec.tag], summary: `Change a ${spec.resource} (JSON merge patch; If-Match required)`, security: [{ bearer: [] }],
    request: {
      params: TenantParam.extend(NameParam.shape),
      headers: IfMatchHeader,
      body: { required: true, content: mergePatchContent(z.record(z.string(), z.unknown())) },
    },
    responses: {
      200: { description: 'The changed object', headers: { ETag: { schema: { type: 'string' } } }, content: jsonContent(spec.output) },
      ...errorResponses(401, 403, 404, 409, 412, 413, 422, 428),
    },
  }), async (c) => {
    const { name } = c.req.valid('param');
    const patch = c.req.valid('json');
    const ctx = writeContext(c, deps);
    const updated = await writing(c, async (tx) => {
      const current = await spec.get(tx, { tenantId: ctx.tenantId, name, forUpdate: true });
      if (!current) throw notFound(`${spec.resource} ${JSON.stringify(name)}`);
      spec.beforeUpdate?.(current);
      const before = spec.present(current);
      checkIfMatch(c.req.header('if-match'), etagOf(before));
      const merged = mergePatch(spec.writable(current), patch) as Record<string, unknown>;
      if (merged.name !== current.name) {
        throw new ApiError(422, 'validation-failed', 'Invalid request', 'name cannot change; create a new object instead',
          { errors: [{ path: 'name', code: 'immutable', message: 'name cannot change' }] });
      }
      const input = parseInput(spec.input, merged);
      const record = await spec.update(tx, ctx, current, input, patch);
      await audit(tx, ctx, 'update', before, spec.present(record), record.id);
      await rerender(tx, ctx, 'update', { before: current, after: record });
      return (await spec.get(tx, { tenantId: ctx.tenantId, name: record.name }))!;
    });
    const representation = spec.present(updated);
    c.header('ETag', etagOf(representation));
    return c.json(representation, 200);
  });

  const DeleteQuery = z.object(spec.withdrawal ? {
    force: z.enum(['true', 'false']).optional().openapi({ param: { name: 'force', in: 'query' }, description: spec.withdrawal.force }),
  } : {});
  app.openapi(createRoute({
    operationId: ids.delete,
    method: 'delete', path: item, middleware: [tenantWriterOnly] as const, tags: [spec.tag], summary: `Delete a ${spec.resource}`, security: [{ bearer: [] }],
    request: { params: TenantParam.extend(NameParam.shape), query: DeleteQuery },
    responses: {
      204: { description: 'Deleted' },
      ...(spec.withdrawal ? { 202: { description: 'Withdrawing: deleted once its agent applied the withdrawal', content: jsonContent(spec.withdrawal.accepted) } } : {}),
      ...errorResponses(401, 403, 404, 409),
    },
  }), async (c) => {
    const { name } = c.req.valid('param');
    const force = (c.req.valid('query') as { force?: string }).force === 'true';
    if (force && c.get('principal').role !== 'platform-admin') throw forbidden('force needs a platform-admin token');
    const ctx = writeContext(c, deps);
    const outcome = await writing(c, async (tx) => {
      const current = await spec.get(tx, { tenantId: ctx.tenantId, name, forUpdate: true });
      if (!current) throw notFound(`${spec.resource} ${JSON.stringify(name)}`);
      const removed = (await spec.remove(tx, ctx, current, { force })) ?? {};
      await audit(tx, ctx, 'delete', spec.present(current), removed.audit ?? null, current.id);
      await rerender(tx, ctx, 'delete', { before: current, ...(removed.withdrawing ? { after: removed.withdrawing.after } : {}) });
      return removed;
    });
    if (outcome.withdrawing) return c.json(outcome.withdrawing.accepted, 202);
    return c.body(null, 204);
  });
}
