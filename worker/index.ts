// Cloudflare Workers entry: the same app as `metalfleet serve`, with the database reached through
// Hyperdrive. Workers forbid long-lived sockets across requests, so each request gets a small
// postgres.js client that is closed after the response (Hyperdrive pools the real connections).
import { createApp } from '../api/app.ts';
import { openPostgres } from '../db/client.ts';
import { importSecretKey, type SecretKey } from '../db/secrets.ts';

export interface Env {
  HYPERDRIVE: { connectionString: string };
  METALFLEET_SECRET_KEY: string;
}

interface ExecutionContextLike {
  waitUntil(promise: Promise<unknown>): void;
  passThroughOnException(): void;
}

let secretKey: Promise<SecretKey> | undefined;

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContextLike): Promise<Response> {
    secretKey ??= importSecretKey(env.METALFLEET_SECRET_KEY);
    const database = openPostgres(env.HYPERDRIVE.connectionString, { max: 5, fetchTypes: false, applicationName: 'metalfleet-worker' });
    try {
      const app = createApp({ db: database.db, secretKey: await secretKey });
      return await app.fetch(request, env, ctx as never);
    } finally {
      ctx.waitUntil(database.close());
    }
  },
};
