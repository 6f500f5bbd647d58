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
import { publishedSigningKeys, TokenVerifier } from './auth.ts';
import { AgentVerifier } from './agent-auth.ts';
import { limitRequestBody } from './body.ts';
import { boundRequests } from './input.ts';
import { TtlCache } from './caches.ts';
import { registerAgentRoutes } from './routes/agent.ts';
import { registerClusterOpsRoutes } from './routes/cluster-ops.ts';
import { mayAccessTenant, now, type AppDeps, type AppEnv, type Ctx } from './context.ts';
import {
  ApiError, databaseUnavailable, httpExceptionToApiError, invalidRequest, isDatabaseUnavailable, mapDbError, notFound, problemResponse,
  secretUnavailable, warmingUp, zodIssuesToFieldErrors,
} from './errors.ts';
import { SecretKeyError } from '../db/secrets.ts';
import { errorResponses, jsonContent, PUBLIC } from './openapi.ts';
import { registerAdvertisementRoutes } from './routes/advertisements.ts';
import { registerBfdProfileRoutes } from './routes/bfd-profiles.ts';
import { registerClusterRoutes } from './routes/clusters.ts';
import { registerCommunityRoutes } from './routes/communities.ts';
import { registerPeerRoutes } from './routes/peers.ts';
import { registerPoolRoutes } from './routes/pools.ts';
import { registerTenantRoutes } from './routes/tenants.ts';
import { registerGrantRoutes } from './routes/grants.ts';
import { registerTokenRoutes } from './routes/tokens.ts';
import { registerImportRoutes } from './routes/imports.ts';
import { registerIntentRoutes } from './routes/intent.ts';
import { registerConsole } from '../console/routes.tsx';
import { registerRolloutRoutes } from './routes/rollouts.ts';

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
  // Without notifications (Workers) a verified token is trusted for 30 s at most.
  const verifier = new TokenVerifier(deps.auth, deps.db, deps.caches?.tokens ?? new TtlCache(30_000));
  // Without notifications (Workers) agent records are only trusted for a short while.
  const agentVerifier = new AgentVerifier(deps.db, deps.publicUrl, deps.caches?.agents ?? new TtlCache(30_000), deps.secretKey,
    () => deps.warming?.() ?? false);

  const observe = deps.metrics?.request;
  const accessLog = deps.accessLog;
  if (observe || accessLog) {
    // Outermost, so errors are counted and logged with the status they were answered with. The
    // route is the registered path (bounded label values), `(none)` when no route matched. The log
    // names who and which tenant (ids), never a token, password or body.
    app.use(async (c, next) => {
      const started = performance.now();
      await next();
      const route = matchedRoutes(c).findLast((r) => r.method !== 'ALL')?.path ?? '(none)';
      const seconds = (performance.now() - started) / 1000;
      observe?.({ method: c.req.method, route, status: c.res.status, seconds });
      if (accessLog) {
        const agent = c.get('agent');
        accessLog({
          requestId: c.get('requestId'), method: c.req.method, route, status: c.res.status, ms: Math.round(seconds * 10_000) / 10,
          tenantId: c.get('tenant')?.id ?? agent?.tenantId, actor: c.get('principal')?.sub ?? (agent ? `agent:${agent.agentId}` : undefined),
        });
      }
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
  app.use('/v1/*', limitRequestBody(BODY_LIMIT_BYTES, () => { throw httpExceptionToApiError(413); },
    () => new ApiError(400, 'client-closed-request', 'Client closed request', 'the client closed the connection before its request body ended')));
  app.use('*', boundRequests());
  const consoleBodyLimit = limitRequestBody(BODY_LIMIT_BYTES, () => { throw httpExceptionToApiError(413); },
    () => new ApiError(400, 'client-closed-request', 'Client closed request', 'the client closed the connection before its request body ended'));

  // People's tokens everywhere under /v1 but the agent protocol, which agents sign themselves.
  app.use('/v1/*', async (c, next) => {
    if (c.req.path.startsWith('/v1/agent/')) return next();
    c.set('principal', await verifier.verify(c.req.header('authorization'), now(deps)));
    await next();
  });

  // Resolve the tenant of /v1/tenants/{tenant}/…: another tenant's URL answers 404, exactly as
  // a tenant that does not exist, so a token never learns which other tenants there are. An API
  // token names its tenant by id: a tenant deleted and created again under the same slug is
  // another tenant, and the old token's tenant is gone.
  const resolveTenant = async (c: Ctx, next: () => Promise<void>) => {
    const slug = c.req.param('tenant');
    if (slug === undefined || c.get('tenant')) return next();
    const tenant = await withPlatform(deps.db, (tx) => findTenantBySlug(tx, slug));
    if (!tenant || !mayAccessTenant(c.get('principal'), tenant)) throw notFound(`tenant ${JSON.stringify(slug)}`);
    c.set('tenant', tenant);
    return next();
  };
  app.use('/v1/tenants/:tenant', resolveTenant);
  app.use('/v1/tenants/:tenant/*', resolveTenant);

  app.openAPIRegistry.registerComponent('securitySchemes', 'agentAssertion', {
    type: 'http', scheme: 'bearer', bearerFormat: 'JWT',
    description: 'An assertion the agent signs with its own Ed25519 key: iss = sub = agent id, aud = the public URL, exp at most 5 minutes after iat, jti; '
      + 'or the ticket (`mfat1.…`) the last answer gave in its Metalfleet-Agent-Ticket header, until it expires',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http', scheme: 'bearer', bearerFormat: 'mft_… API token, or OIDC JWT',
    description: 'An API token (`mft_…`) issued by POST /v1/tokens (the first one by `metalfleet token create` or printed on first start), or a token of the configured OIDC provider',
  });

  app.openapi(createRoute({
    operationId: 'getLiveness',
    method: 'get', path: '/healthz', tags: ['System'], summary: 'Liveness: the process answers', security: PUBLIC,
    responses: {
      200: { description: 'Alive', content: jsonContent(z.object({ status: z.literal('ok') })) }, ...errorResponses(400),
    },
  }), (c) => c.json({ status: 'ok' as const }, 200));

  app.openapi(createRoute({
    operationId: 'getReadiness',
    method: 'get', path: '/readyz', tags: ['System'], summary: 'Readiness: the database answers', security: PUBLIC,
    responses: {
      200: { description: 'Ready', content: jsonContent(z.object({ status: z.literal('ready'), database: z.literal('ok') })) },
      ...errorResponses(400, 503),
    },
  }), async (c) => {
    if (deps.shuttingDown?.()) throw new ApiError(503, 'shutting-down', 'Shutting down', 'this instance is shutting down; send requests to another one', { retryAfterSeconds: 1 });
    if (deps.warming?.()) throw warmingUp();
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
      throw databaseUnavailable(err);
    } finally {
      clearTimeout(timer);
    }
  });

  app.openapi(createRoute({
    operationId: 'getJwks',
    method: 'get', path: '/.well-known/jwks.json', tags: ['System'], summary: "The server's public signing keys: the current one and those it signed configs with before (rotation)",
    security: PUBLIC,
    responses: {
      200: { description: 'JWK set', content: jsonContent(z.object({ keys: z.array(z.record(z.string(), z.unknown())) })) },
      ...errorResponses(400),
    },
  }), (c) => c.json({ keys: publishedSigningKeys(deps.auth).map((k) => k.publicJwk as Record<string, unknown>) }, 200));

  registerTenantRoutes(app, deps);
  registerTokenRoutes(app, deps, verifier);
  registerGrantRoutes(app, deps);
  registerClusterRoutes(app, deps);
  registerPoolRoutes(app, deps);
  registerPeerRoutes(app, deps);
  registerBfdProfileRoutes(app, deps);
  registerCommunityRoutes(app, deps);
  registerAdvertisementRoutes(app, deps);
  registerImportRoutes(app, deps);
  registerIntentRoutes(app, deps);
  registerRolloutRoutes(app, deps);
  registerClusterOpsRoutes(app, deps, agentVerifier);
  registerAgentRoutes(app, deps, agentVerifier);

  // The document describes itself too (generators and clients fetch it), though it is no route of the registry.
  app.openAPIRegistry.registerPath({
    operationId: 'getOpenApiDocument',
    method: 'get', path: '/openapi.json', tags: ['System'], summary: 'This document (OpenAPI 3.1)', security: PUBLIC,
    responses: {
      200: { description: 'The OpenAPI document', content: jsonContent(z.record(z.string(), z.unknown())) },
      ...errorResponses(400),
    },
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    // Relative: the API that serves the document (a client of another deployment sets its own base URL).
    servers: [{ url: '/', description: 'The API that serves this document' }],
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
  // The web console at / (console/): pages over these same routes, called in-process.
  app.use('/sign-in', consoleBodyLimit);
  app.use('/sign-in/*', consoleBodyLimit);
  app.use('/sign-out', consoleBodyLimit);
  app.use('/t/*', consoleBodyLimit);
  registerConsole(app, deps, verifier);

  app.get('/docs', swaggerUI({ url: '/openapi.json', title: 'metalfleet API', ...(docsAsset ? { baseUrl: DOCS_ASSETS_PATH } : {}) }));

  app.notFound((c) => problemResponse(c, new ApiError(404, 'route-not-found', 'Not found', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`)));

  app.onError((err, c) => {
    if (err instanceof ApiError) return problemResponse(c, err);
    if (isDatabaseUnavailable(err)) {
      log({ msg: 'database unavailable', method: c.req.method, path: c.req.path, error: String(err), requestId: c.get('requestId') });
      return problemResponse(c, databaseUnavailable());
    }
    if (err instanceof SecretKeyError) {
      log({ msg: 'stored secret cannot be opened', failure: err.failure, keyId: err.keyId, method: c.req.method,
        route: c.req.routePath, requestId: c.get('requestId') });
      return problemResponse(c, secretUnavailable(err.failure, err.keyId));
    }
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
