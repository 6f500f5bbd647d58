// Cloudflare Workers entry: the same app as `metalfleet serve`, with the database reached through
// Hyperdrive. Workers forbid long-lived sockets across requests, so each request gets a small
// postgres.js client that is closed after the response (Hyperdrive pools the real connections).
import { createApp } from '../api/app.ts';
import { openPostgres } from '../db/client.ts';
import { importSecretKey, type SecretKey } from '../db/secrets.ts';
import { API_AUDIENCE, importSigningKey, type AuthConfig } from '../api/auth.ts';

export interface Env {
  HYPERDRIVE: { connectionString: string };
  METALFLEET_SECRET_KEY: string;
  /** Private Ed25519 JWK (a Workers secret). */
  METALFLEET_SIGNING_KEY: string;
  /** The URL clients use: the token issuer. */
  METALFLEET_PUBLIC_URL: string;
}

interface ExecutionContextLike {
  waitUntil(promise: Promise<unknown>): void;
  passThroughOnException(): void;
}

let secretKey: Promise<SecretKey> | undefined;
let auth: Promise<AuthConfig> | undefined;

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContextLike): Promise<Response> {
    secretKey ??= importSecretKey(env.METALFLEET_SECRET_KEY);
    auth ??= importSigningKey(env.METALFLEET_SIGNING_KEY).then((signingKey) => ({ signingKey, issuer: env.METALFLEET_PUBLIC_URL, audience: API_AUDIENCE }));
    const database = openPostgres(env.HYPERDRIVE.connectionString, { max: 5, fetchTypes: false, applicationName: 'metalfleet-worker' });
    try {
      const app = createApp({ db: database.db, secretKey: await secretKey, auth: await auth, publicUrl: env.METALFLEET_PUBLIC_URL });
      return await app.fetch(request, env, ctx as never);
    } finally {
      ctx.waitUntil(database.close());
    }
  },
};
