// Configuration of the Node entry, from the environment. Everything has a default that works on
// a fresh clone (embedded PGlite under ./.metalfleet); production sets DATABASE_URL and keys.
import { mkdirSync, readFileSync, writeFileSync, existsSync, chmodSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateSecretKeyText } from '../db/secrets.ts';

export interface NodeConfig {
  host: string;
  port: number;
  databaseUrl: string | undefined;
  dataDir: string;
  secretKeyText: string | undefined;
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
    dataDir: resolve(env.METALFLEET_DATA_DIR ?? '.metalfleet'),
    secretKeyText: env.METALFLEET_SECRET_KEY || undefined,
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
export function dataDirSecret(config: NodeConfig, file: string, create: () => string): { value: string; created: boolean } {
  const path = join(ensureDataDir(config), file);
  if (existsSync(path)) return { value: readFileSync(path, 'utf8').trim(), created: false };
  const value = create();
  writeFileSync(path, value + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return { value, created: true };
}

export function secretKeyText(config: NodeConfig): string {
  if (config.secretKeyText) return config.secretKeyText;
  if (config.databaseUrl) {
    throw new ConfigError('METALFLEET_SECRET_KEY is required with DATABASE_URL (every instance must share it): '
      + 'generate one with `openssl rand -base64 32`');
  }
  return dataDirSecret(config, 'secret.key', generateSecretKeyText).value;
}
