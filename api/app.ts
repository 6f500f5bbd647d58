// The Hono app factory. It takes every runtime dependency (database, keys, clock, config) as an
// argument so that the same app serves Node (`metalfleet serve`) and Cloudflare Workers.
// Nothing Node-only may be imported here.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { swaggerUI } from '@hono/swagger-ui';
import { HTTPException } from 'hono/http-exception';
import { matchedRoutes } from 'hono/route';
import { sql } from 'drizzle-orm';
import { pgErrorInfo } from '../db/client.ts';
import { findTenantBySlug } from '../db/queries/tenants.ts';
import { withPlatform } from '../db/tenant.ts';
import { TokenVerifier } from './auth.ts';
import { AgentVerifier } from './agent-auth.ts';
import { limitRequestBody } from './body.ts';
import { TtlCache } from './caches.ts';
import { registerAgentRoutes } from './routes/agent.ts';
import { registerClusterOpsRoutes } from './routes/cluster-ops.ts';
import { now, type AppDeps, type AppEnv, type Ctx } from './context.ts';
import { ApiError, httpExceptionToApiError, invalidRequest, mapDbError, notFound, problemResponse, zodIssuesToFieldErrors } from './errors.ts';
import { errorResponses, jsonContent } from './openapi.ts';
import { registerAdvertisementRoutes } from './routes/advertisements.ts';
import { registerBfdProfileRoutes } from './routes/bfd-profiles.ts';
import { registerClusterRoutes } from './routes/clusters.ts';
import { registerCommunityRoutes } from './routes/communities.ts';
import { registerPeerRoutes } from './routes/peers.ts';
import { registerPoolRoutes } from './routes/pools.ts';
import { registerTenantRoutes } from './routes/tenants.ts';

export type { AppDeps } from './context.ts';

export const BODY_LIMIT_BYTES = 1024 * 1024;
/** Where the app serves Swagger UI's files when the runtime provides them (AppDeps.docsAsset). */
const DOCS_ASSETS_PATH = '/docs/assets';

export function createApp(deps: AppDeps) {
  const log = deps.log ?? ((entry) => console.error(JSON.stringify(entry)));
  const app = new OpenAPIHono<AppEnv>({
    // Request validation failures (body, query, params) as 422 problem+json with field errors.
    defaultHook: (result, c) => {
      if (!result.success) return problemResponse(c as Ctx, invalidRequest(zodIssuesToFieldErrors(result.error.issues)));
    },
  });
  const verifier = new TokenVerifier(deps.auth);
  // Without notifications (Workers) agent records are only trusted for a short while.
  const agentVerifier = new AgentVerifier(deps.db, deps.publicUrl, deps.caches?.agents ?? new TtlCache(30_000));

  const observe = deps.metrics?.request;
  if (observe) {
    // Outermost, so errors are counted with the status they were answered with. The route is the
    // registered path (bounded label values), `(none)` when no route matched.
    app.use(async (c, next) => {
      const started = performance.now();
      await next();
      const handler = matchedRoutes(c).findLast((r) => r.method !== 'ALL');
      observe({ method: c.req.method, route: handler?.path ?? '(none)', status: c.res.status, seconds: (performance.now() - started) / 1000 });
    });
  }
  // Server-issued request ids only: a client-supplied X-Request-Id is not trusted. The header is
  // set before the handler runs, so every response built from the context carries it; setting a
  // header on a finished response makes Hono copy the whole response (a fifth of a poll's cost).
  app.use(async (c, next) => {
    const id = crypto.randomUUID();
    c.set('requestId', id);
    c.header('X-Request-Id', id);
    await next();
  });
  app.use('/v1/*', limitRequestBody(BODY_LIMIT_BYTES, () => { throw httpExceptionToApiError(413); }));

  // People's tokens everywhere under /v1 but the agent protocol, which agents sign themselves.
  app.use('/v1/*', async (c, next) => {
    if (c.req.path.startsWith('/v1/agent/')) return next();
    c.set('principal', await verifier.verify(c.req.header('authorization'), now(deps)));
    await next();
  });

  // Resolve the tenant of /v1/tenants/{tenant}/…: another tenant's URL answers 404, exactly as
  // a tenant that does not exist, so a token never learns which other tenants there are.
  const resolveTenant = async (c: Ctx, next: () => Promise<void>) => {
    const slug = c.req.param('tenant');
    if (slug === undefined || c.get('tenant')) return next();
    const principal = c.get('principal');
    if (principal.role !== 'platform-admin' && principal.tenant !== slug) throw notFound(`tenant ${JSON.stringify(slug)}`);
    const tenant = await withPlatform(deps.db, (tx) => findTenantBySlug(tx, slug));
    if (!tenant) throw notFound(`tenant ${JSON.stringify(slug)}`);
    c.set('tenant', tenant);
    return next();
  };
  app.use('/v1/tenants/:tenant', resolveTenant);
  app.use('/v1/tenants/:tenant/*', resolveTenant);

  app.openAPIRegistry.registerComponent('securitySchemes', 'agentAssertion', {
    type: 'http', scheme: 'bearer', bearerFormat: 'JWT',
    description: 'An assertion the agent signs with its own Ed25519 key: iss = sub = agent id, aud = the public URL, exp at most 5 minutes after iat, jti',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http', scheme: 'bearer', bearerFormat: 'JWT',
    description: 'A token from `metalfleet token create` (or the bootstrap token printed on first start), or from the configured OIDC provider',
  });

  app.openapi(createRoute({
    method: 'get', path: '/healthz', tags: ['System'], summary: 'Liveness: the process answers',
    responses: { 200: { description: 'Alive', content: jsonContent(z.object({ status: z.literal('ok') })) } },
  }), (c) => c.json({ status: 'ok' as const }, 200));

  app.openapi(createRoute({
    method: 'get', path: '/readyz', tags: ['System'], summary: 'Readiness: the database answers',
    responses: { 200: { description: 'Ready', content: jsonContent(z.object({ status: z.literal('ready'), database: z.literal('ok') })) }, ...errorResponses(503) },
  }), async (c) => {
    const timeoutMs = deps.readyTimeoutMs ?? 2000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        deps.db.execute(sql`select 1`),
        new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs); }),
      ]);
      return c.json({ status: 'ready' as const, database: 'ok' as const }, 200);
    } catch (err) {
      log({ msg: 'readiness check failed', error: String(err), requestId: c.get('requestId') });
      throw new ApiError(503, 'database-unavailable', 'Database unavailable', 'the database did not answer');
    } finally {
      clearTimeout(timer);
    }
  });

  app.openapi(createRoute({
    method: 'get', path: '/.well-known/jwks.json', tags: ['System'], summary: "The server's public signing key (tokens and signed configs)",
    responses: { 200: { description: 'JWK set', content: jsonContent(z.object({ keys: z.array(z.record(z.string(), z.unknown())) })) } },
  }), (c) => c.json({ keys: [deps.auth.signingKey.publicJwk as Record<string, unknown>] }, 200));

  registerTenantRoutes(app, deps);
  registerClusterRoutes(app, deps);
  registerPoolRoutes(app, deps);
  registerPeerRoutes(app, deps);
  registerBfdProfileRoutes(app, deps);
  registerCommunityRoutes(app, deps);
  registerAdvertisementRoutes(app, deps);
  registerClusterOpsRoutes(app, deps, agentVerifier);
  registerAgentRoutes(app, deps, agentVerifier);

  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'metalfleet API', version: '1',
      description: 'One source of truth for BGP load-balancing (MetalLB native/FRR/frr-k8s, host FRR) across many Kubernetes clusters. '
        + 'Errors are application/problem+json (RFC 9457) with a stable `code`.',
      license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
    },
  });
  const docsAsset = deps.docsAsset;
  if (docsAsset) {
    app.get(`${DOCS_ASSETS_PATH}/swagger-ui-dist/:file`, async (c) => {
      const asset = await docsAsset(c.req.param('file'));
      if (!asset) throw new ApiError(404, 'route-not-found', 'Not found', `no route for GET ${c.req.path}`);
      return c.body(asset.body as Uint8Array<ArrayBuffer>, 200, { 'content-type': asset.contentType, 'cache-control': 'public, max-age=86400' });
    });
  }
  app.get('/docs', swaggerUI({ url: '/openapi.json', title: 'metalfleet API', ...(docsAsset ? { baseUrl: DOCS_ASSETS_PATH } : {}) }));

  app.notFound((c) => problemResponse(c, new ApiError(404, 'route-not-found', 'Not found', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`)));

  app.onError((err, c) => {
    if (err instanceof ApiError) return problemResponse(c, err);
    const pg = pgErrorInfo(err);
    const mapped = pg && mapDbError(err, pg.code, pg.constraint);
    if (mapped) return problemResponse(c, mapped);
    if (err instanceof HTTPException) return problemResponse(c, httpExceptionToApiError(err.status));
    log({ msg: 'unhandled error', error: String(err), stack: (err as Error).stack, requestId: c.get('requestId') });
    return problemResponse(c, new ApiError(500, 'internal', 'Internal server error',
      'the server failed to handle the request; quote the requestId when reporting it'));
  });

  return app;
}
