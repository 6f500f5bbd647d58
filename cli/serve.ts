// `metalfleet serve`: the API on Node. Startup lines for people go to stderr; everything the
// server logs while it runs (requests, errors, maintenance) is JSON lines on stdout (cli/log.ts).
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server as HttpsServer } from 'node:https';
import { createAdaptorServer } from '@hono/node-server';
import { createApp } from '../api/app.ts';
import { listenForInvalidations, notifiedPollCaches } from '../api/caches.ts';
import { readFleetHealth } from '../api/fleet.ts';
import { warmPollCaches } from '../api/warm.ts';
import { migrate, migrationStatus } from '../db/migrate.ts';
import type { Database } from '../db/client.ts';
import { bootstrapToken } from './bootstrap.ts';
import { authConfig, ConfigError, readConfig, loadSecretKey, type NodeConfig } from './config.ts';
import { openConfiguredDatabase, describeDatabase, unreachable } from './database.ts';
import { swaggerUiAssets } from './docs-assets.ts';
import { accessLogger, createLogger } from './log.ts';
import { startMaintenance } from './maintenance.ts';
import { ApiMetrics } from './metrics.ts';
import { guardUnhandledRejections } from './process-guard.ts';
import { tlsServerOptions } from './tls.ts';

const say = (line: string) => process.stderr.write(`${line}\n`);

/** A shared database must be reachable and migrated (a deploy step migrates it, never a server). */
export async function checkDatabase(config: NodeConfig, database: Database): Promise<void> {
  if (database.kind === 'pglite') {
    await migrate(database); // embedded mode owns its database: bring it up to date
    return;
  }
  let pending: string[];
  try {
    pending = (await migrationStatus(database)).pending;
  } catch (err) {
    await database.close().catch(() => {});
    throw unreachable(config, err);
  }
  if (pending.length > 0) {
    await database.close();
    throw new ConfigError(`the database is ${pending.length} migration(s) behind this code (${pending.join(', ')}): `
      + 'run `metalfleet migrate` (npm run migrate) with the same DATABASE_URL, then start again');
  }
}

export async function serveCommand(): Promise<void> {
  const config = readConfig();
  const log = createLogger(config.logLevel);
  guardUnhandledRejections(log);
  const secretKey = await loadSecretKey(config);
  const auth = await authConfig(config);
  const tls = tlsServerOptions(config);
  const database = await openConfiguredDatabase(config);
  await checkDatabase(config, database);

  // Polls answer 304 from memory; Postgres tells every instance when a desired revision or an
  // agent changes.
  const caches = notifiedPollCaches();
  const stopListening = await listenForInvalidations(database, caches);
  const metrics = config.metricsListen
    ? new ApiMetrics(() => readFleetHealth(database.db, { nowMs: Date.now(), pollIntervalSeconds: config.pollIntervalSeconds }))
    : undefined;
  let stopping = false;
  // Ready only once the poll caches hold every agent's keys and desired revision (api/warm.ts). The
  // port opens when they are loaded (see below); should that take longer than WARM_LISTEN_LIMIT_MS,
  // agent requests its caches cannot answer get 503 warming-up (api/errors.ts). A failed warm-up is
  // logged and the instance becomes ready anyway: the caches then fill poll by poll.
  let warming = true;
  const warmed = warmPollCaches(database.db, caches)
    .then((result) => log.info({ msg: 'poll caches warmed', agents: result.agents, desiredRevisions: result.desired, ms: Math.round(result.ms) }))
    .catch((err: unknown) => log.error({ msg: 'warming the poll caches failed; they fill poll by poll', error: String(err) }))
    .finally(() => { warming = false; });
  // Dropped caches (the listener resubscribed, or was heard again after a silence) are loaded again
  // in bulk, one load at a time; polls meanwhile read the database, as after any miss.
  let rewarming = false;
  caches.afterClear = () => {
    if (warming || rewarming || stopping) return;
    rewarming = true;
    void warmPollCaches(database.db, caches)
      .then((warmed) => log.info({ msg: 'poll caches loaded again after they were dropped', agents: warmed.agents, ms: Math.round(warmed.ms) }))
      .catch((err: unknown) => log.warn({ msg: 'loading the dropped poll caches failed; they fill poll by poll', error: String(err) }))
      .finally(() => { rewarming = false; });
  };
  const app = createApp({
    db: database.db, secretKey, auth, publicUrl: config.publicUrl, pollIntervalSeconds: config.pollIntervalSeconds, caches,
    simpleQuery: database.simpleQuery, tokenMaxTtlSeconds: config.tokenMaxTtlSeconds, docsAsset: swaggerUiAssets(),
    shuttingDown: () => stopping, warming: () => warming, log: (entry) => log.error(entry), accessLog: accessLogger(log),
    ...(metrics ? { metrics: metrics.appHooks } : {}),
  });
  const stopMaintenance = startMaintenance(database.db, {
    revisionsKept: config.revisionsKept, log: (entry) => log.info(entry),
    ...(config.verifySample > 0 ? { verify: { deps: { secretKey, signingKey: auth.signingKey }, sample: config.verifySample } } : {}),
    ...(metrics ? { onResult: (r) => metrics.maintenance(r) } : {}),
    rollouts: { deps: { secretKey } },
  });
  const metricsServer = metrics && config.metricsListen ? await metrics.listen(config.metricsListen, (entry) => log.error(entry)) : undefined;
  if (metricsServer) {
    const { host, port } = config.metricsListen!;
    say(`Prometheus metrics: http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics`);
  }

  const scheme = tls ? 'https' : 'http';
  // http, or https with METALFLEET_TLS_CERT (tlsServerOptions); created now, listening once warm.
  const server = createAdaptorServer({ fetch: app.fetch, hostname: config.host, port: config.port, ...(tls?.options ?? {}) }) as Server | HttpsServer;
  server.once('error', (err: NodeJS.ErrnoException) => {
    // Before it listens: a port taken or not ours to bind is a configuration problem, said in one line.
    if (err.code !== 'EADDRINUSE' && err.code !== 'EACCES' && err.code !== 'EADDRNOTAVAIL') throw err;
    const why = err.code === 'EADDRINUSE' ? 'is in use' : err.code === 'EACCES' ? 'needs privileges' : 'is not an address of this host';
    process.stderr.write(`metalfleet: ${config.host}:${config.port} ${why}: set HOST and PORT to a free address\n`);
    process.exit(1);
  });
  const stopWatchingTls = tls && 'setSecureContext' in server ? tls.watch(server, (entry) => log.info(entry)) : undefined;
  drainOnSignals(server, config, log, metrics?.inFlight, async () => {
    stopping = true;
    stopWatchingTls?.();
    metricsServer?.close();
  }, async () => {
    await stopMaintenance();
    await stopListening?.();
    await database.close(); // PGlite flushes to disk on close
  });

  const address = await listenWhenWarm(server, warmed, { port: config.port, host: config.host, limitMs: WARM_LISTEN_LIMIT_MS, stopped: () => stopping });
  if (!address) return;
  await bootstrapToken(config, database, say);
  say(`API docs: ${scheme}://${config.host}:${address.port}/docs`);
  say(`metalfleet listening on ${scheme}://${config.host}:${address.port} (${describeDatabase(config)})`);
  log.info({ msg: 'listening', url: `${scheme}://${config.host}:${address.port}`, database: describeDatabase(config), warming });
}

/**
 * Opens the port once the poll caches are loaded (`warmed` settles), or after `limitMs` at most;
 * not at all if the instance is stopping by then. An instance that listened at once spent its
 * warm-up answering 503 to a restarted fleet's retries: at 100,000 agents ready took 78 s instead
 * of 10 (bench/RESULTS.md). A closed port costs it nothing, and the agents back off as they do for
 * any unreachable control plane; behind a load balancer nothing changes (not ready either way).
 */
export async function listenWhenWarm(server: Server | HttpsServer, warmed: Promise<unknown>,
  opts: { port: number; host: string; limitMs: number; stopped: () => boolean }): Promise<AddressInfo | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([warmed, new Promise((resolve) => { timer = setTimeout(resolve, opts.limitMs); })]);
  clearTimeout(timer);
  if (opts.stopped()) return undefined;
  await new Promise<void>((resolve) => server.listen(opts.port, opts.host, resolve));
  return server.address() as AddressInfo;
}

/**
 * The longest the port stays closed for the warm-up: within the chart's startup probe (60 s), and
 * an instance whose database hangs still answers /healthz, and people, meanwhile.
 */
export const WARM_LISTEN_LIMIT_MS = 30_000;

/**
 * SIGTERM (or SIGINT): `onStop` turns /readyz to 503 at once (load balancers stop sending); after
 * METALFLEET_SHUTDOWN_DELAY the listener closes, requests in flight get up to
 * METALFLEET_SHUTDOWN_TIMEOUT to finish (and with them any status report waiting in the batcher),
 * then `release` closes the pool. A second instance on the same database takes the traffic.
 */
function drainOnSignals(server: Server | HttpsServer, config: NodeConfig, log: { info(entry: Record<string, unknown>): void },
  gauge: { inc(): void; dec(): void } | undefined, onStop: () => Promise<void>, release: () => Promise<void>): void {
  // From arrival until the response is written (or the client went away): a handler's return is
  // not the end of a request, its response still has to be written.
  let inFlight = 0;
  let drained: (() => void) | undefined;
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    inFlight++;
    gauge?.inc();
    res.once('close', () => {
      gauge?.dec();
      if (--inFlight === 0) drained?.();
    });
  });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    await onStop();
    say(`${signal}: shutting down (readiness off; ${inFlight} request(s) in flight)`);
    log.info({ msg: 'shutting down', signal, inFlight });
    await new Promise((resolve) => setTimeout(resolve, config.shutdownDelayMs));
    server.close();
    server.closeIdleConnections();
    if (inFlight > 0) {
      await new Promise<void>((resolve) => {
        drained = resolve;
        setTimeout(resolve, config.shutdownTimeoutMs).unref();
      });
    }
    server.closeAllConnections();
    await release();
    say(`${signal}: stopped`);
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}
