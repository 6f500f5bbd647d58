// Configuration of the Node entry, from the environment. Everything has a default that works on
// a fresh clone (embedded PGlite under ./.metalfleet); production sets DATABASE_URL and keys.
import { mkdirSync, readFileSync, writeFileSync, existsSync, chmodSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateSecretKeyText } from '../db/secrets.ts';
import { API_AUDIENCE, generateSigningKeyJwk, importSigningKey, type AuthConfig, type OidcConfig } from '../api/auth.ts';
import { parseRevisionsKept } from '../worker/jobs.ts';

export interface NodeConfig {
  host: string;
  port: number;
  databaseUrl: string | undefined;
  dataDir: string;
  secretKeyText: string | undefined;
  signingKeyText: string | undefined;
  /** The URL clients and agents use (the agents' audience). */
  publicUrl: string;
  /** Issuer of API tokens: METALFLEET_PUBLIC_URL when set, else a constant, never HOST/PORT. */
  issuer: string;
  oidc: OidcConfig | undefined;
  /** What agents are told to poll at. */
  pollIntervalSeconds: number;
  /** Revisions each cluster keeps (worker/jobs.ts). */
  revisionsKept: number;
  /** Where /metrics is served (cli/metrics.ts); unset: no metrics. */
  metricsListen: { host: string; port: number } | undefined;
}

export const DEFAULT_ISSUER = 'metalfleet';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): NodeConfig {
  const port = Number(env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`PORT must be a port number, got ${JSON.stringify(env.PORT)}`);
  return {
    host: env.HOST ?? '127.0.0.1',
    port,
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: resolve(env.METALFLEET_DATA_DIR ?? '.metalfleet'),
    secretKeyText: env.METALFLEET_SECRET_KEY || undefined,
    signingKeyText: env.METALFLEET_SIGNING_KEY || undefined,
    publicUrl: (env.METALFLEET_PUBLIC_URL || `http://${env.HOST ?? '127.0.0.1'}:${port}`).replace(/\/+$/, ''),
    // Tokens minted by `metalfleet token create` in another shell (another PORT) must verify.
    issuer: env.METALFLEET_PUBLIC_URL ? env.METALFLEET_PUBLIC_URL.replace(/\/+$/, '') : DEFAULT_ISSUER,
    oidc: readOidc(env),
    pollIntervalSeconds: readPollInterval(env.METALFLEET_POLL_INTERVAL),
    revisionsKept: asConfigError(() => parseRevisionsKept(env.METALFLEET_REVISIONS_KEPT)),
    metricsListen: readListen('METALFLEET_METRICS_LISTEN', env.METALFLEET_METRICS_LISTEN),
  };
}

/** HOST:PORT (an IPv6 host in brackets), or unset. */
function readListen(name: string, text: string | undefined): { host: string; port: number } | undefined {
  if (!text) return undefined;
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ConfigError(`${name} must be HOST:PORT (e.g. 127.0.0.1:9465 or [::1]:9465), got ${JSON.stringify(text)}`);
  return { host: m[1] ?? m[2]!, port };
}

function asConfigError<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
}

function readPollInterval(text: string | undefined): number {
  if (!text) return 30;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 3600) throw new ConfigError(`METALFLEET_POLL_INTERVAL must be whole seconds from 1 to 3600, got ${JSON.stringify(text)}`);
  return n;
}

function readOidc(env: NodeJS.ProcessEnv): OidcConfig | undefined {
  const issuer = env.METALFLEET_OIDC_ISSUER;
  if (!issuer) return undefined;
  const audience = env.METALFLEET_OIDC_AUDIENCE;
  const jwksUrl = env.METALFLEET_OIDC_JWKS_URL;
  if (!audience || !jwksUrl) throw new ConfigError('METALFLEET_OIDC_ISSUER needs METALFLEET_OIDC_AUDIENCE and METALFLEET_OIDC_JWKS_URL');
  return {
    issuer, audience, jwksUrl,
    roleClaim: env.METALFLEET_OIDC_ROLE_CLAIM || 'metalfleet_role',
    tenantClaim: env.METALFLEET_OIDC_TENANT_CLAIM || 'metalfleet_tenant',
  };
}

export function ensureDataDir(config: NodeConfig): string {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  return config.dataDir;
}

/**
 * A value kept in a 0600 file of the data dir, created on first use. For embedded mode only:
 * with a shared DATABASE_URL every instance must be given the same value explicitly.
 */
export async function dataDirSecret(config: NodeConfig, file: string, create: () => string | Promise<string>): Promise<{ value: string; created: boolean }> {
  const path = join(ensureDataDir(config), file);
  if (existsSync(path)) return { value: readFileSync(path, 'utf8').trim(), created: false };
  const value = await create();
  writeFileSync(path, value + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return { value, created: true };
}

export async function secretKeyText(config: NodeConfig): Promise<string> {
  if (config.secretKeyText) return config.secretKeyText;
  if (config.databaseUrl) {
    throw new ConfigError('METALFLEET_SECRET_KEY is required with DATABASE_URL (every instance must share it): '
      + 'generate one with `openssl rand -base64 32`');
  }
  return (await dataDirSecret(config, 'secret.key', generateSecretKeyText)).value;
}

/** The server signing key: METALFLEET_SIGNING_KEY, or (embedded mode) generated once into the data dir. */
export async function signingKeyJwkText(config: NodeConfig): Promise<string> {
  if (config.signingKeyText) return config.signingKeyText;
  if (config.databaseUrl) {
    throw new ConfigError('METALFLEET_SIGNING_KEY is required with DATABASE_URL (every instance must share it): '
      + 'generate one with `npx metalfleet keys generate`');
  }
  return (await dataDirSecret(config, 'signing-key.jwk', async () => JSON.stringify(await generateSigningKeyJwk()))).value;
}

export async function authConfig(config: NodeConfig): Promise<AuthConfig> {
  let signingKey;
  try {
    signingKey = await importSigningKey(await signingKeyJwkText(config));
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`METALFLEET_SIGNING_KEY: ${(err as Error).message}`);
  }
  return { signingKey, issuer: config.issuer, audience: API_AUDIENCE, ...(config.oidc ? { oidc: config.oidc } : {}) };
}
