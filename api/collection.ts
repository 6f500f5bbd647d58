// A named, tenant-owned collection (clusters, pools, peers, BFD profiles, communities,
// advertisements) as five routes: list, create, get, merge-patch and delete. Each resource's
// routes/<resource>.ts declares its schemas and storage hooks; this module gives every collection
// the same contract: OpenAPI definitions, roles, strong ETags with If-Match, keyset pagination,
// audit events in the same transaction, and problem+json errors.
import { createRoute, z } from '@hono/zod-openapi';
import { withTenant, type Tx } from '../db/tenant.ts';
import { renderClusters, type ClusterFilter } from './rendering.ts';
import { recordAudit } from '../db/queries/audit.ts';
import type { App, AppDeps, Ctx, WriteContext } from './context.ts';
import { renderDeps, tenantWriterOnly, writeContext } from './context.ts';
import { ApiError, notFound } from './errors.ts';
import { checkIfMatch, decodeCursor, encodeCursor, etagOf, mergePatch, pageLimit } from './http.ts';
import { errorResponses, jsonContent, mergePatchContent, NameParam, PageQuery, TenantParam } from './openapi.ts';

export interface Stored { id: string; name: string }

export interface CollectionSpec<Input, Rec extends Stored> {
  /** URL segment: /v1/tenants/{tenant}/<path> */
  path: string;
  /** Singular, for messages and the audit trail. */
  resource: string;
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
  remove(tx: Tx, ctx: WriteContext, current: Rec): Promise<void>;
  /**
   * Which clusters a change can affect; they are re-rendered in the write's transaction and the
   * write is refused if any of them cannot take it. Default: every cluster of the tenant.
   */
  affects?: (change: { before?: Rec; after?: Rec }) => ClusterFilter;
}

/** Validates a value against `schema`, as a 422 with field errors. */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ApiError(422, 'validation-failed', 'Invalid request',
    result.error.issues.length === 1 ? `${result.error.issues[0]!.path.join('/') || 'body'}: ${result.error.issues[0]!.message}` : `${result.error.issues.length} fields are not valid; see errors`,
    { errors: result.error.issues.map((i) => ({ path: i.path.map(String).join('/'), message: i.message, code: i.code })) });
}

export function registerCollection<Input, Rec extends Stored>(app: App, deps: AppDeps, spec: CollectionSpec<Input, Rec>): void {
  const base = `/v1/tenants/{tenant}/${spec.path}`;
  const item = `${base}/{name}`;
  const Page = z.object({ items: z.array(spec.output), nextCursor: z.string().nullable() }).openapi(`${spec.tag}Page`);
  const scoped = <T>(c: Ctx, fn: (tx: Tx) => Promise<T>) => withTenant(deps.db, c.get('tenant').id, fn);
  const location = (c: Ctx, name: string) => `/v1/tenants/${c.get('tenant').slug}/${spec.path}/${encodeURIComponent(name)}`;
  const audit = (tx: Tx, ctx: WriteContext, action: 'create' | 'update' | 'delete', before: unknown, after: unknown, id: string) =>
    recordAudit(tx, { tenantId: ctx.tenantId, actor: ctx.actor, action, resource: spec.resource, resourceId: id, before, after, requestId: ctx.requestId });
  const rerender = (tx: Tx, ctx: WriteContext, action: string, change: { before?: Rec; after?: Rec }) => renderClusters(tx, renderDeps(deps), {
    tenantId: ctx.tenantId, filter: spec.affects?.(change) ?? (() => true), refuseOnProblems: true,
    cause: `${action} ${spec.resource} ${(change.after ?? change.before)!.name} by ${ctx.actor}`,
  });

  app.openapi(createRoute({
    method: 'get', path: base, tags: [spec.tag], summary: `List ${spec.path}`, security: [{ bearer: [] }],
    request: { params: TenantParam, query: PageQuery },
    responses: { 200: { description: `One page of ${spec.path}, by name`, content: jsonContent(Page) }, ...errorResponses(400, 401, 404) },
  }), async (c) => {
    const query = c.req.valid('query');
    const limit = pageLimit(query.limit);
    const after = decodeCursor(query.cursor, 1)?.[0] as string | undefined;
    const rows = await scoped(c, (tx) => spec.list(tx, { tenantId: c.get('tenant').id, after, limit: limit + 1 }));
    const items = rows.slice(0, limit);
    const nextCursor = rows.length > limit ? encodeCursor([items.at(-1)!.name]) : null;
    return c.json({ items: items.map(spec.present), nextCursor }, 200);
  });

  app.openapi(createRoute({
    method: 'post', path: base, middleware: [tenantWriterOnly] as const, tags: [spec.tag], summary: `Create a ${spec.resource}`, security: [{ bearer: [] }],
    request: { params: TenantParam, body: { required: true, content: jsonContent(spec.createInput ?? spec.input) } },
    responses: {
      201: { description: 'Created', headers: { Location: { schema: { type: 'string' } }, ETag: { schema: { type: 'string' } } }, content: jsonContent(spec.output) },
      ...errorResponses(401, 403, 404, 409, 413, 422),
    },
  }), async (c) => {
    const ctx = writeContext(c, deps);
    const body = c.req.valid('json');
    const created = await scoped(c, async (tx) => {
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
    method: 'patch', path: item, middleware: [tenantWriterOnly] as const, tags: [spec.tag], summary: `Change a ${spec.resource} (JSON merge patch; If-Match required)`, security: [{ bearer: [] }],
    request: {
      params: TenantParam.extend(NameParam.shape),
      headers: z.object({ 'if-match': z.string().optional().openapi({ description: 'The ETag you read' }) }),
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
    const updated = await scoped(c, async (tx) => {
      const current = await spec.get(tx, { tenantId: ctx.tenantId, name, forUpdate: true });
      if (!current) throw notFound(`${spec.resource} ${JSON.stringify(name)}`);
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

  app.openapi(createRoute({
    method: 'delete', path: item, middleware: [tenantWriterOnly] as const, tags: [spec.tag], summary: `Delete a ${spec.resource}`, security: [{ bearer: [] }],
    request: { params: TenantParam.extend(NameParam.shape) },
    responses: { 204: { description: 'Deleted' }, ...errorResponses(401, 403, 404, 409) },
  }), async (c) => {
    const { name } = c.req.valid('param');
    const ctx = writeContext(c, deps);
    await scoped(c, async (tx) => {
      const current = await spec.get(tx, { tenantId: ctx.tenantId, name, forUpdate: true });
      if (!current) throw notFound(`${spec.resource} ${JSON.stringify(name)}`);
      await spec.remove(tx, ctx, current);
      await audit(tx, ctx, 'delete', spec.present(current), null, current.id);
      await rerender(tx, ctx, 'delete', { before: current });
    });
    return c.body(null, 204);
  });
}
