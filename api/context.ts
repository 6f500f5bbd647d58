// What every route can reach: the request's principal and tenant, and the app's dependencies.
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import type { Database, Db } from '../db/client.ts';
import type { SecretKey } from '../db/secrets.ts';
import type { TenantRecord } from '../db/queries/tenants.ts';
import type { AuthConfig, Principal } from './auth.ts';
import type { AgentPrincipal } from './agent-auth.ts';
import type { PollCaches } from './caches.ts';
import { forbidden } from './errors.ts';

export interface AppDeps {
  db: Db;
  secretKey: SecretKey;
  auth: AuthConfig;
  /** Injected so tests control time. */
  now?: () => Date;
  /** How long /readyz waits for the database. */
  readyTimeoutMs?: number;
  /** True once the instance is shutting down: /readyz answers 503 so that load balancers stop sending work. */
  shuttingDown?: () => boolean;
  /** True while the instance loads the poll caches at start (api/warm.ts): /readyz answers 503 until done. */
  warming?: () => boolean;
  log?: (entry: Record<string, unknown>) => void;
  /** The URL agents use: the audience of their assertions. */
  publicUrl: string;
  /** What agents are told to poll at (seconds). */
  pollIntervalSeconds?: number;
  /** The longest lifetime an API token may be issued with (seconds; default 90 days). */
  tokenMaxTtlSeconds?: number;
  /** Several statements in one round trip, where the driver can (status reports use it). */
  simpleQuery?: Database['simpleQuery'];
  /** The poll path's caches, where the runtime keeps them fresh (LISTEN/NOTIFY, see api/caches.ts). */
  caches?: PollCaches;
  /**
   * Counters for what must (not) happen: `render`, `poll-read`, `session-writes`; and, where the
   * runtime exports metrics (cli/metrics.ts), every request's route, status and duration.
   */
  metrics?: {
    count(name: string, by?: number): void;
    request?(observed: { method: string; route: string; status: number; seconds: number }): void;
  };
  /** One entry per request, after it was answered (the Node entry writes them as JSON lines). */
  accessLog?: (entry: AccessLogEntry) => void;
  /**
   * Swagger UI's own files (`swagger-ui.css`, `swagger-ui-bundle.js`), where the runtime can serve
   * them (Node: from the swagger-ui-dist package), so /docs works without the internet. Without it
   * the browser loads them from a CDN (Workers).
   */
  docsAsset?: (file: string) => Promise<{ body: Uint8Array; contentType: string } | undefined>;
}

export interface AccessLogEntry {
  requestId: string;
  method: string;
  /** The registered route, e.g. /v1/tenants/{tenant}/pools (never the concrete path: it may hold names). */
  route: string;
  status: number;
  ms: number;
  tenantId: string | undefined;
  /** The token's name or OIDC subject, or agent:<id>. */
  actor: string | undefined;
}

export const DEFAULT_POLL_INTERVAL_SECONDS = 30;

/** What write-time rendering needs from the app's dependencies. */
export const renderDeps = (deps: AppDeps) => ({
  secretKey: deps.secretKey,
  signingKey: deps.auth.signingKey,
  onRender: () => deps.metrics?.count('render'),
});

export type AppVariables = {
  requestId: string;
  principal: Principal;
  tenant: TenantRecord;
  agent: AgentPrincipal;
};

export type AppEnv = { Variables: AppVariables };
export type App = OpenAPIHono<AppEnv>;
export type Ctx = Context<AppEnv>;

export const now = (deps: AppDeps) => (deps.now ? deps.now() : new Date());

/**
 * Route middleware (it runs before request validation, so a refused caller learns nothing from
 * validation errors). Writes to a tenant's intent: its tenant-admin, or a platform admin.
 */
export const tenantWriterOnly: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.get('principal').role === 'tenant-viewer') throw forbidden('a tenant-viewer token can only read');
  await next();
};

/** Route middleware for platform-level actions (tenants, grants, policy, the platform audit trail). */
export const platformAdminOnly: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.get('principal').role !== 'platform-admin') throw forbidden('this action needs a platform-admin token');
  await next();
};

/** Whether a principal may see a tenant at all (platform admins: every one). */
export function mayAccessTenant(principal: Principal, tenant: Pick<TenantRecord, 'id' | 'slug'>): boolean {
  if (principal.role === 'platform-admin') return true;
  return principal.tenantId !== undefined ? principal.tenantId === tenant.id : principal.tenantSlug === tenant.slug;
}

/** Who did it, for the audit trail and write contexts. */
export interface WriteContext {
  deps: AppDeps;
  tenantId: string;
  actor: string;
  requestId: string;
}

export function writeContext(c: Ctx, deps: AppDeps): WriteContext {
  return { deps, tenantId: c.get('tenant').id, actor: c.get('principal').sub, requestId: c.get('requestId') };
}
