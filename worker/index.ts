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
import { importSecretKeys } from '../db/secrets.ts';
import { importPreviousSigningKeys, importSigningKey } from '../api/auth.ts';
import { readOidcEnv } from '../api/oidc-login.ts';
import { parseRevisionsKept, parseVerifySample, runMaintenance } from './jobs.ts';
import { advanceRollouts } from '../api/rollouts.ts';

/**
 * The Cron Trigger that advances rollouts (wrangler.toml); any other runs the maintenance job.
 * Not exported: every named export of a Worker's entry module must be a handler.
 */
const ROLLOUT_CRON = '* * * * *';

export interface Env {
  HYPERDRIVE: { connectionString: string };
  METALFLEET_SECRET_KEY: string;
  /** Older secret keys, comma-separated: they open what they sealed, never seal (rotation; a Workers secret). */
  METALFLEET_SECRET_KEY_PREVIOUS?: string;
  /** Private Ed25519 JWK (a Workers secret). */
  METALFLEET_SIGNING_KEY: string;
  /** Older signing keys (a JWK, a JSON array or a JWK set): published in the JWKS, never used to sign (rotation). */
  METALFLEET_SIGNING_KEYS_PREVIOUS?: string;
  /** The URL agents use: the audience of their assertions. */
  METALFLEET_PUBLIC_URL: string;
  /** Revisions each cluster keeps (worker/jobs.ts); default 100. */
  METALFLEET_REVISIONS_KEPT?: string;
  /** Clusters each maintenance run checks against their intent (api/verify.ts); default 200. */
  METALFLEET_VERIFY_SAMPLE?: string;
  /**
   * The OpenID Connect provider, as for `metalfleet serve` (docs/configuration.md): _ISSUER,
   * _AUDIENCE, _JWKS_URL, _ROLE_CLAIM, _TENANT_CLAIM; the console's redirect sign-in with
   * _CLIENT_ID, _SCOPES and _CLIENT_SECRET (a Workers secret).
   */
  METALFLEET_OIDC_ISSUER?: string;
  METALFLEET_OIDC_AUDIENCE?: string;
  METALFLEET_OIDC_JWKS_URL?: string;
  METALFLEET_OIDC_ROLE_CLAIM?: string;
  METALFLEET_OIDC_TENANT_CLAIM?: string;
  METALFLEET_OIDC_CLIENT_ID?: string;
  METALFLEET_OIDC_CLIENT_SECRET?: string;
  METALFLEET_OIDC_SCOPES?: string;
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

/** The keys of `metalfleet serve`, from the Worker's secrets (same names, same formats). */
async function importKeys(env: Env) {
  const [secretKey, signingKey, previousSigningKeys] = await Promise.all([
    importSecretKeys(env.METALFLEET_SECRET_KEY, env.METALFLEET_SECRET_KEY_PREVIOUS),
    importSigningKey(env.METALFLEET_SIGNING_KEY),
    env.METALFLEET_SIGNING_KEYS_PREVIOUS ? importPreviousSigningKeys(env.METALFLEET_SIGNING_KEYS_PREVIOUS) : undefined,
  ]);
  const oidc = readOidcEnv(env as unknown as Record<string, string | undefined>);
  return { secretKey, auth: { signingKey, ...(previousSigningKeys ? { previousSigningKeys } : {}), ...(oidc ? { oidc } : {}) } };
}

async function buildApp(env: Env) {
  const { secretKey, auth } = await importKeys(env);
  return createApp({ db: currentDb, secretKey, auth, publicUrl: env.METALFLEET_PUBLIC_URL });
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

  /**
   * Cron Triggers (wrangler.toml [triggers]): the maintenance job, as `metalfleet serve` runs it
   * hourly, and every minute (ROLLOUT_CRON) the rollouts' bake times and timeouts.
   */
  async scheduled(controller: { cron: string; scheduledTime: number }, env: Env): Promise<void> {
    const database = openDatabase(env);
    try {
      const { secretKey, auth: { signingKey } } = await importKeys(env);
      if (controller.cron === ROLLOUT_CRON) {
        const tenants = await advanceRollouts(database.db, { secretKey }, new Date(controller.scheduledTime));
        console.log(JSON.stringify({ msg: 'rollouts advanced', cron: controller.cron, tenants }));
        return;
      }
      const sample = parseVerifySample(env.METALFLEET_VERIFY_SAMPLE);
      const { drift, ...result } = await runMaintenance(database.db, {
        revisionsKept: parseRevisionsKept(env.METALFLEET_REVISIONS_KEPT), now: new Date(controller.scheduledTime),
        ...(sample > 0 ? { verify: { deps: { secretKey, signingKey }, sample } } : {}),
      });
      for (const finding of drift) console.error(JSON.stringify({ msg: 'config drift repaired', level: 'error', ...finding }));
      console.log(JSON.stringify({ msg: 'maintenance', cron: controller.cron, ...result, drift: drift.length }));
    } finally {
      await database.close();
    }
  },
};
