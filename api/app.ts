// The Hono app factory. It takes every runtime dependency (database, clock, config) as an
// argument so that the same app serves Node (`metalfleet serve`) and Cloudflare Workers.
// Nothing Node-only may be imported here.
import { OpenAPIHono } from '@hono/zod-openapi';
import { requestId, type RequestIdVariables } from 'hono/request-id';
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import type { SecretKey } from '../db/secrets.ts';
import { ApiError, problemResponse } from './errors.ts';

export interface AppDeps {
  db: Db;
  secretKey: SecretKey;
  /** Injected so tests and benchmarks control time. */
  now?: () => Date;
  /** How long /readyz waits for the database. */
  readyTimeoutMs?: number;
  log?: (entry: Record<string, unknown>) => void;
}

export type AppEnv = { Variables: RequestIdVariables };

export function createApp(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>();
  const log = deps.log ?? ((entry) => console.error(JSON.stringify(entry)));

  // Server-issued request ids only: a client-supplied X-Request-Id is not trusted.
  app.use(requestId({ generator: () => crypto.randomUUID(), headerName: '' }));
  app.use(async (c, next) => {
    await next();
    c.header('X-Request-Id', c.get('requestId'));
  });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.get('/readyz', async (c) => {
    const timeoutMs = deps.readyTimeoutMs ?? 2000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        deps.db.execute(sql`select 1`),
        new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs); }),
      ]);
      return c.json({ status: 'ready', database: 'ok' });
    } catch (err) {
      log({ msg: 'readiness check failed', error: String(err), requestId: c.get('requestId') });
      throw new ApiError(503, 'database-unavailable', 'Database unavailable', 'the database did not answer');
    } finally {
      clearTimeout(timer);
    }
  });

  app.notFound((c) => problemResponse(c, new ApiError(404, 'route-not-found', 'Not found',
    `no route for ${c.req.method} ${new URL(c.req.url).pathname}`)));

  app.onError((err, c) => {
    if (err instanceof ApiError) return problemResponse(c, err);
    log({ msg: 'unhandled error', error: String(err), stack: (err as Error).stack, requestId: c.get('requestId') });
    return problemResponse(c, new ApiError(500, 'internal', 'Internal server error',
      'the server failed to handle the request; quote the requestId when reporting it'));
  });

  return app;
}
