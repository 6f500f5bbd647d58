// Opening the configured database from the Node entry.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openPostgres, type Database } from '../db/client.ts';
import { isDatabaseUnavailable } from '../api/errors.ts';
import { ConfigError, ensureDataDir, type NodeConfig } from './config.ts';

export async function openConfiguredDatabase(config: NodeConfig): Promise<Database> {
  if (config.databaseUrl) return openPostgres(config.databaseUrl, config.listenDatabaseUrl ? { listenUrl: config.listenDatabaseUrl } : {});
  // PGlite is loaded only in embedded mode: a server on PostgreSQL never pays for it.
  const { openPglite } = await import('../db/pglite.ts');
  const release = lockEmbedded(ensureDataDir(config));
  try {
    const database = await openPglite(join(config.dataDir, 'pgdata'));
    return { ...database, close: async () => { try { await database.close(); } finally { release(); } } };
  } catch (err) {
    release();
    throw err;
  }
}

/**
 * The embedded database is one process's: a second one opening the same files (say `metalfleet
 * token create` while `serve` runs) would corrupt them. A lock file names the holder; a holder that
 * no longer runs does not count.
 */
function lockEmbedded(dataDir: string): () => void {
  const path = join(dataDir, 'pgdata.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx', mode: 0o600 });
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && running(holder)) {
        throw new ConfigError(`the embedded database in ${dataDir} is in use by process ${holder} (a running \`metalfleet serve\`?): `
          + 'stop it first, or do this through the API');
      }
      rmSync(path, { force: true }); // left by a process that is gone
    }
  }
  throw new ConfigError(`could not lock the embedded database in ${dataDir}`);
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A database that does not answer, as the one line a person needs (the error itself otherwise). */
export function unreachable(config: NodeConfig, err: unknown): Error {
  if (!isDatabaseUnavailable(err)) return err as Error;
  const code = (err as { code?: string }).code ?? (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
  return new ConfigError(`cannot reach the database (${describeDatabase(config)}): ${code}; is it running, and is DATABASE_URL right?`);
}

export function describeDatabase(config: NodeConfig): string {
  if (!config.databaseUrl) return `embedded PGlite in ${join(config.dataDir, 'pgdata')}`;
  const url = new URL(config.databaseUrl);
  return `PostgreSQL ${url.hostname}:${url.port || 5432}${url.pathname}`;
}

/** Runs `fn` on the configured database once it answers and is fully migrated; closes it after. */
export async function withMigratedDatabase<T>(config: NodeConfig, fn: (database: Database) => Promise<T>): Promise<T> {
  const database = await openConfiguredDatabase(config);
  try {
    const { migrationStatus } = await import('../db/migrate.ts');
    const status = await migrationStatus(database).catch((err: unknown) => { throw unreachable(config, err); });
    if (status.pending.length > 0) throw new ConfigError(`the database is ${status.pending.length} migration(s) behind: run \`metalfleet migrate\` first`);
    return await fn(database);
  } finally {
    await database.close();
  }
}
