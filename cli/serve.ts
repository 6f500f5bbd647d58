// `metalfleet serve`: the API on Node.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { createApp } from '../api/app.ts';
import { listenForInvalidations, notifiedPollCaches } from '../api/caches.ts';
import { mintToken, parseTtl, type AuthConfig } from '../api/auth.ts';
import { importSecretKey } from '../db/secrets.ts';
import { migrate, migrationStatus } from '../db/migrate.ts';
import { authConfig, ConfigError, dataDirSecret, readConfig, secretKeyText, type NodeConfig } from './config.ts';
import { openConfiguredDatabase, describeDatabase } from './database.ts';
import { startMaintenance } from './maintenance.ts';
import { swaggerUiAssets } from './docs-assets.ts';
import { ApiMetrics } from './metrics.ts';
import { readFleetHealth } from '../api/fleet.ts';

export const BOOTSTRAP_TOKEN_FILE = 'admin.token';

/**
 * On first start, a platform-admin token is minted and kept in the data dir (0600) so that a new
 * user can call the API at once; later starts only say where it is.
 */
async function bootstrapToken(config: NodeConfig, auth: AuthConfig): Promise<void> {
  const path = join(config.dataDir, BOOTSTRAP_TOKEN_FILE);
  if (existsSync(path)) {
    console.log(`platform-admin token: ${path} (mint more with \`npx metalfleet token create --role platform-admin\`)`);
    return;
  }
  const { value } = await dataDirSecret(config, BOOTSTRAP_TOKEN_FILE,
    () => mintToken(auth, { sub: 'bootstrap-admin', role: 'platform-admin' }, parseTtl('30d')));
  console.log(`bootstrap platform-admin token (valid 30 days, saved in ${path}):\n${value}`);
}

export async function serveCommand(): Promise<void> {
  const config = readConfig();
  const secretKey = await importSecretKey(await secretKeyText(config));
  const auth = await authConfig(config);
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

  // Polls answer 304 from memory; Postgres tells every instance when a desired revision or an
  // agent changes.
  const caches = notifiedPollCaches();
  const stopListening = await listenForInvalidations(database, caches);
  const metrics = config.metricsListen
    ? new ApiMetrics(() => readFleetHealth(database.db, { nowMs: Date.now(), pollIntervalSeconds: config.pollIntervalSeconds }))
    : undefined;
  const app = createApp({ db: database.db, secretKey, auth, publicUrl: config.publicUrl, pollIntervalSeconds: config.pollIntervalSeconds, caches, simpleQuery: database.simpleQuery,
    docsAsset: swaggerUiAssets(), ...(metrics ? { metrics: metrics.appHooks } : {}) });
  const stopMaintenance = startMaintenance(database.db, { revisionsKept: config.revisionsKept, ...(metrics ? { onResult: (r) => metrics.maintenance(r) } : {}) });
  const metricsServer = metrics && config.metricsListen
    ? await metrics.listen(config.metricsListen, (entry) => console.error(JSON.stringify(entry)))
    : undefined;
  if (metricsServer) {
    const { host, port } = config.metricsListen!;
    console.log(`Prometheus metrics: http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics`);
  }
  const server = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, async (info) => {
    await bootstrapToken(config, auth);
    console.log(`API docs: http://${config.host}:${info.port}/docs`);
    console.log(`metalfleet listening on http://${config.host}:${info.port} (${describeDatabase(config)})`);
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: shutting down`);
    server.close();
    metricsServer?.close();
    await stopMaintenance();
    await stopListening?.();
    await database.close(); // PGlite flushes to disk on close
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

export function readBootstrapToken(config: NodeConfig): string | undefined {
  const path = join(config.dataDir, BOOTSTRAP_TOKEN_FILE);
  return existsSync(path) ? readFileSync(path, 'utf8').trim() : undefined;
}
