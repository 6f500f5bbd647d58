// Opening the configured database from the Node entry.
import { join } from 'node:path';
import { openPostgres, type Database } from '../db/client.ts';
import { ensureDataDir, type NodeConfig } from './config.ts';

export async function openConfiguredDatabase(config: NodeConfig): Promise<Database> {
  if (config.databaseUrl) return openPostgres(config.databaseUrl);
  // PGlite is loaded only in embedded mode: a server on PostgreSQL never pays for it.
  const { openPglite } = await import('../db/pglite.ts');
  return openPglite(join(ensureDataDir(config), 'pgdata'));
}

export function describeDatabase(config: NodeConfig): string {
  if (!config.databaseUrl) return `embedded PGlite in ${join(config.dataDir, 'pgdata')}`;
  const url = new URL(config.databaseUrl);
  return `PostgreSQL ${url.hostname}:${url.port || 5432}${url.pathname}`;
}
