// Configuration of the Node entry, from the environment. Everything has a default that works on
// a fresh clone (embedded PGlite under ./.metalfleet); production sets DATABASE_URL and keys.
import { mkdirSync, readFileSync, writeFileSync, existsSync, chmodSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateSecretKeyText, importSecretKeys, type SecretKey } from '../db/secrets.ts';
import { generateSigningKeyJwk, importPreviousSigningKeys, importSigningKey, parseTtl, type AuthConfig, type OidcConfig } from '../api/auth.ts';
import { readOidcEnv } from '../api/oidc-login.ts';
import { DEFAULT_TOKEN_MAX_TTL_SECONDS } from '../api/routes/tokens.ts';
import { parseRevisionsKept, parseVerifySample } from '../worker/jobs.ts';

export interface NodeConfig {
  host: string;
  port: number;
  databaseUrl: string | undefined;
  /** LISTEN's own direct connection where DATABASE_URL goes through a transaction pooler. */
  listenDatabaseUrl: string | undefined;
  dataDir: string;
  secretKeyText: string | undefined;
  /** Older secret keys that open (never seal) what they sealed, until `metalfleet secrets reseal` ran. */
  previousSecretKeysText: string | undefined;
  signingKeyText: string | undefined;
  /** Older signing keys, published at /.well-known/jwks.json until `metalfleet keys resign` ran. */
  previousSigningKeysText: string | undefined;
  /** The URL clients and agents use (the agents' audience). */
  publicUrl: string;
  oidc: OidcConfig | undefined;
  /** The longest lifetime an API token may be issued with (seconds). */
  tokenMaxTtlSeconds: number;
  /** What agents are told to poll at. */
  pollIntervalSeconds: number;
  /** Revisions each cluster keeps (worker/jobs.ts). */
  revisionsKept: number;
  /** Where /metrics is served (cli/metrics.ts); unset: no metrics. */
  metricsListen: { host: string; port: number } | undefined;
  /** Clusters each maintenance run checks against their intent (api/verify.ts). */
  verifySample: number;
  /** On SIGTERM: how long /readyz says 503 before the listener closes, so load balancers stop sending. */
  shutdownDelayMs: number;
  /** On SIGTERM: how long requests in flight may take before their connections are cut. */
  shutdownTimeoutMs: number;
  /** pino's level for the JSON lines on stdout (cli/log.ts). */
  logLevel: LogLevel;
  /** HTTPS: PEM certificate (chain) and key files; unset: plain HTTP (behind an ingress that terminates TLS). */
  tls: { cert: string; key: string } | undefined;
}

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
    listenDatabaseUrl: readListenDatabaseUrl(env),
    dataDir: resolve(env.METALFLEET_DATA_DIR ?? '.metalfleet'),
    secretKeyText: env.METALFLEET_SECRET_KEY || undefined,
    previousSecretKeysText: env.METALFLEET_SECRET_KEY_PREVIOUS || undefined,
    signingKeyText: env.METALFLEET_SIGNING_KEY || undefined,
    previousSigningKeysText: env.METALFLEET_SIGNING_KEYS_PREVIOUS || undefined,
    publicUrl: (env.METALFLEET_PUBLIC_URL || `${env.METALFLEET_TLS_CERT ? 'https' : 'http'}://${env.HOST ?? '127.0.0.1'}:${port}`).replace(/\/+$/, ''),
    // Named one by one (the Worker reads the same names): the help and chart tests find here every variable serve reads.
    oidc: asConfigError(() => readOidcEnv({
      METALFLEET_OIDC_ISSUER: env.METALFLEET_OIDC_ISSUER, METALFLEET_OIDC_AUDIENCE: env.METALFLEET_OIDC_AUDIENCE,
      METALFLEET_OIDC_JWKS_URL: env.METALFLEET_OIDC_JWKS_URL, METALFLEET_OIDC_ROLE_CLAIM: env.METALFLEET_OIDC_ROLE_CLAIM,
      METALFLEET_OIDC_TENANT_CLAIM: env.METALFLEET_OIDC_TENANT_CLAIM, METALFLEET_OIDC_CLIENT_ID: env.METALFLEET_OIDC_CLIENT_ID,
      METALFLEET_OIDC_CLIENT_SECRET: env.METALFLEET_OIDC_CLIENT_SECRET, METALFLEET_OIDC_SCOPES: env.METALFLEET_OIDC_SCOPES,
    })),
    tokenMaxTtlSeconds: readTokenMaxTtl(env.METALFLEET_TOKEN_MAX_TTL),
    pollIntervalSeconds: readPollInterval(env.METALFLEET_POLL_INTERVAL),
    revisionsKept: asConfigError(() => parseRevisionsKept(env.METALFLEET_REVISIONS_KEPT)),
    metricsListen: readListen('METALFLEET_METRICS_LISTEN', env.METALFLEET_METRICS_LISTEN),
    verifySample: asConfigError(() => parseVerifySample(env.METALFLEET_VERIFY_SAMPLE)),
    shutdownDelayMs: readSeconds('METALFLEET_SHUTDOWN_DELAY', env.METALFLEET_SHUTDOWN_DELAY, 0) * 1000,
    shutdownTimeoutMs: readSeconds('METALFLEET_SHUTDOWN_TIMEOUT', env.METALFLEET_SHUTDOWN_TIMEOUT, 10) * 1000,
    tls: readTls(env),
    logLevel: readLogLevel(env.METALFLEET_LOG_LEVEL),
  };
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

function readLogLevel(text: string | undefined): LogLevel {
  if (!text) return 'info';
  const level = LOG_LEVELS.find((l) => l === text);
  if (!level) throw new ConfigError(`METALFLEET_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(text)}`);
  return level;
}

function readListenDatabaseUrl(env: NodeJS.ProcessEnv): string | undefined {
  const url = env.METALFLEET_LISTEN_DATABASE_URL || undefined;
  if (url && !env.DATABASE_URL) throw new ConfigError('METALFLEET_LISTEN_DATABASE_URL needs DATABASE_URL (the embedded database has no listener)');
  if (url && !/^postgres(ql)?:\/\//.test(url)) throw new ConfigError('METALFLEET_LISTEN_DATABASE_URL must be a postgres:// URL');
  return url;
}

function readTls(env: NodeJS.ProcessEnv): NodeConfig['tls'] {
  const cert = env.METALFLEET_TLS_CERT || undefined;
  const key = env.METALFLEET_TLS_KEY || undefined;
  if (!cert && !key) return undefined;
  if (!cert || !key) throw new ConfigError('METALFLEET_TLS_CERT and METALFLEET_TLS_KEY go together: set both (PEM files) or neither');
  return { cert, key };
}

function readTokenMaxTtl(text: string | undefined): number {
  if (!text) return DEFAULT_TOKEN_MAX_TTL_SECONDS;
  try {
    return parseTtl(text);
  } catch (err) {
    throw new ConfigError(`METALFLEET_TOKEN_MAX_TTL: ${(err as Error).message}`);
  }
}

/** Whole seconds from 0 to 600, or the default. */
function readSeconds(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 600) throw new ConfigError(`${name} must be whole seconds from 0 to 600, got ${JSON.stringify(text)}`);
  return n;
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

/** METALFLEET_SECRET_KEY (or the data dir's) with METALFLEET_SECRET_KEY_PREVIOUS. */
export async function loadSecretKey(config: NodeConfig): Promise<SecretKey> {
  const current = await secretKeyText(config);
  try {
    return await importSecretKeys(current, config.previousSecretKeysText);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
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
  const previousSigningKeys = config.previousSigningKeysText
    ? await importPreviousSigningKeys(config.previousSigningKeysText).catch((err: unknown) => {
      throw new ConfigError(`METALFLEET_SIGNING_KEYS_PREVIOUS: ${(err as Error).message}`);
    })
    : undefined;
  return { signingKey, ...(previousSigningKeys ? { previousSigningKeys } : {}), ...(config.oidc ? { oidc: config.oidc } : {}) };
}
