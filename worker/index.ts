// Cloudflare Workers entry: the same app as `metalfleet serve`, with the database reached through
// Hyperdrive. Workers forbid long-lived sockets across requests, so each request gets a small
// postgres.js client that is closed after the response (Hyperdrive pools the real connections).
//
// The app itself is built once per isolate: building it (every route, its schemas, the router)
// costs milliseconds of CPU, which every request, every agent poll included, would pay. The app
// reaches the request's client through AsyncLocalStorage. Being built once also keeps the verified
// agent assertions and agent keys cached between requests (30 s for agent records: Workers get no
// change notifications, see api/caches.ts).
import { AsyncLocalStorage } from 'node:async_hooks';
import { createApp } from '../api/app.ts';
import { openPostgres, type Database, type Db } from '../db/client.ts';
import { importSecretKey } from '../db/secrets.ts';
import { API_AUDIENCE, importSigningKey } from '../api/auth.ts';
import { parseRevisionsKept, runMaintenance } from './jobs.ts';

export interface Env {
  HYPERDRIVE: { connectionString: string };
  METALFLEET_SECRET_KEY: string;
  /** Private Ed25519 JWK (a Workers secret). */
  METALFLEET_SIGNING_KEY: string;
  /** The URL clients use: the token issuer. */
  METALFLEET_PUBLIC_URL: string;
  /** Revisions each cluster keeps (worker/jobs.ts); default 100. */
  METALFLEET_REVISIONS_KEPT?: string;
}

interface ExecutionContextLike {
  waitUntil(promise: Promise<unknown>): void;
  passThroughOnException(): void;
}

const openDatabase = (env: Env) => openPostgres(env.HYPERDRIVE.connectionString, { max: 5, fetchTypes: false, applicationName: 'metalfleet-worker' });

const requestDatabase = new AsyncLocalStorage<Database>();

/** The database of the request being handled, wherever the app asks for it. */
const currentDb = new Proxy({} as Db, {
  get(_, property) {
    const database = requestDatabase.getStore();
    if (!database) throw new Error('no database outside a request');
    const value = Reflect.get(database.db, property, database.db) as unknown;
    return typeof value === 'function' ? value.bind(database.db) : value;
  },
});

let app: Promise<ReturnType<typeof createApp>> | undefined;

async function buildApp(env: Env) {
  const [secretKey, signingKey] = await Promise.all([importSecretKey(env.METALFLEET_SECRET_KEY), importSigningKey(env.METALFLEET_SIGNING_KEY)]);
  return createApp({ db: currentDb, secretKey, auth: { signingKey, issuer: env.METALFLEET_PUBLIC_URL, audience: API_AUDIENCE }, publicUrl: env.METALFLEET_PUBLIC_URL });
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContextLike): Promise<Response> {
    // A failed build (say, a malformed secret) is not kept: the next request tries again.
    app ??= buildApp(env).catch((err: unknown) => { app = undefined; throw err; });
    const built = await app;
    const database = openDatabase(env);
    try {
      return await requestDatabase.run(database, () => built.fetch(request, env, ctx as never));
    } finally {
      ctx.waitUntil(database.close());
    }
  },

  /** Cron Triggers (wrangler.toml [triggers]): the maintenance job, as `metalfleet serve` runs it hourly. */
  async scheduled(controller: { cron: string; scheduledTime: number }, env: Env): Promise<void> {
    const database = openDatabase(env);
    try {
      const result = await runMaintenance(database.db, { revisionsKept: parseRevisionsKept(env.METALFLEET_REVISIONS_KEPT), now: new Date(controller.scheduledTime) });
      console.log(JSON.stringify({ msg: 'maintenance', cron: controller.cron, ...result }));
    } finally {
      await database.close();
    }
  },
};
