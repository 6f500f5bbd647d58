// `metalfleet serve`: the API on Node.
import { serve } from '@hono/node-server';
import { createApp } from '../api/app.ts';
import { importSecretKey } from '../db/secrets.ts';
import { migrate, migrationStatus } from '../db/migrate.ts';
import { readConfig, secretKeyText, ConfigError } from './config.ts';
import { openConfiguredDatabase, describeDatabase } from './database.ts';

export async function serveCommand(): Promise<void> {
  const config = readConfig();
  const secretKey = await importSecretKey(secretKeyText(config));
  const database = await openConfiguredDatabase(config);

  if (database.kind === 'pglite') {
    // Embedded mode owns its database: bring it up to date.
    await migrate(database);
  } else {
    // A shared database is migrated by a deploy step, never implicitly by an API instance.
    const status = await migrationStatus(database);
    if (status.pending.length > 0) {
      await database.close();
      throw new ConfigError(`the database is ${status.pending.length} migration(s) behind this code `
        + `(${status.pending.join(', ')}): run \`metalfleet migrate\` (npm run migrate) with the same DATABASE_URL, then start again`);
    }
  }

  const app = createApp({ db: database.db, secretKey });
  const server = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, (info) => {
    console.log(`metalfleet listening on http://${config.host}:${info.port} (${describeDatabase(config)})`);
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: shutting down`);
    server.close();
    await database.close(); // PGlite flushes to disk on close
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}
