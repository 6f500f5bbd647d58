// `metalfleet serve` processes on a PostgreSQL database of the test's choosing (e.g. one the test
// started itself, test/helpers/postgres-server.ts): shared keys, a known port and public URL (the
// agents' audience), the first platform-admin token as a deployment issues it, and a small HTTP
// helper that records what every request got.
import { generateSigningKeyJwk } from '../../api/auth.ts';
import { generateSecretKeyText } from '../../db/secrets.ts';
import { freePort, runMetalfleet, startServer, type RunningServer } from './process.ts';

/** The environment every instance shares: keys and the public URL they are reached at. */
export async function fleetEnv(publicUrl: string): Promise<Record<string, string>> {
  return { METALFLEET_SIGNING_KEY: JSON.stringify(await generateSigningKeyJwk()), METALFLEET_SECRET_KEY: generateSecretKeyText(), METALFLEET_PUBLIC_URL: publicUrl };
}

/** Migrates `databaseUrl` (as a deploy step does) and issues the first platform-admin token. */
export async function prepareDatabase(databaseUrl: string, env: Record<string, string>): Promise<string> {
  const migrated = await runMetalfleet(['migrate'], { ...env, DATABASE_URL: databaseUrl });
  if (migrated.code !== 0) throw new Error(`migrate failed:\n${migrated.stdout}\n${migrated.stderr}`);
  const issued = await runMetalfleet(['token', 'create', '--role', 'platform-admin', '--name', 'ops', '--ttl', '1d'], { ...env, DATABASE_URL: databaseUrl });
  if (issued.code !== 0) throw new Error(`token create failed:\n${issued.stdout}\n${issued.stderr}`);
  return issued.stdout.trim();
}

/** `metalfleet serve` on `port` (a fresh free one by default) against `databaseUrl`. */
export async function startApi(databaseUrl: string, env: Record<string, string>, port?: number): Promise<RunningServer & { port: number }> {
  const listen = port ?? await freePort();
  const server = await startServer({ ...env, DATABASE_URL: databaseUrl, PORT: String(listen), METALFLEET_DATA_DIR: `/tmp/mf-api-${process.pid}-${listen}` });
  return { ...server, port: listen };
}

/** What one request got: `at` when it was sent, `done` when it was answered (or failed). */
export interface Observed { what: string; status: number; code?: string; retryAfter?: string | null; error?: string; at: number; done: number }

/** fetch that never throws: a network error is recorded as status 0. */
export async function observe(what: string, url: string, init: RequestInit = {}): Promise<Observed & { body?: any; headers?: Headers }> {
  const at = Date.now();
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
    const text = await res.text();
    let body: any;
    try { body = text ? JSON.parse(text) : undefined; } catch { body = undefined; }
    return { what, status: res.status, code: body?.code, retryAfter: res.headers.get('retry-after'), at, done: Date.now(), body, headers: res.headers };
  } catch (err) {
    return { what, status: 0, error: String((err as Error).cause ?? err), at, done: Date.now() };
  }
}
