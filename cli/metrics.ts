// The API's Prometheus metrics (`metalfleet serve` with METALFLEET_METRICS_LISTEN): HTTP requests by
// route and status with their latency, what the app counts (renders, poll reads, session rows
// written), maintenance runs, the Node process, and at every scrape the fleet as
// GET /v1/fleet/health sees it (clusters by sync state and BGP sessions by state, per tenant).
// Served on a listener of its own, so the API port stays the API and nothing here needs a token.
import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AppDeps } from '../api/app.ts';
import type { TenantHealth } from '../api/fleet.ts';
import type { MaintenanceResult } from '../worker/jobs.ts';

/** What the app counts (AppDeps.metrics.count) and the series each becomes. */
const COUNTED = {
  'render': ['metalfleet_renders_total', 'Cluster configs rendered (every write renders each cluster it can affect)'],
  'poll-read': ['metalfleet_poll_database_reads_total', 'Polls that had to read the database (not answered from the in-memory index)'],
  'session-writes': ['metalfleet_session_rows_written_total', 'BGP/BFD session rows written by status reports (only changed ones are)'],
} as const;

const FLEET_READ_TIMEOUT_MS = 3_000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export class ApiMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({ name: 'metalfleet_http_requests_total', help: 'HTTP requests by method, route and status', labelNames: ['method', 'route', 'status'], registers: [this.registry] });
  private readonly latency = new Histogram({
    name: 'metalfleet_http_request_duration_seconds', help: 'Time to answer, by method and route', labelNames: ['method', 'route'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [this.registry],
  });
  private readonly counted = Object.fromEntries(Object.entries(COUNTED).map(([key, [name, help]]) => [key, new Counter({ name, help, registers: [this.registry] })])) as Record<keyof typeof COUNTED, Counter>;
  private readonly maintenanceRuns = new Counter({ name: 'metalfleet_maintenance_runs_total', help: 'Maintenance job runs by outcome', labelNames: ['outcome'], registers: [this.registry] });
  private readonly maintenanceDeleted = new Counter({ name: 'metalfleet_maintenance_deleted_total', help: 'Rows the maintenance job deleted', labelNames: ['what'], registers: [this.registry] });
  private readonly verified = new Counter({ name: 'metalfleet_verify_checked_total', help: 'Clusters the maintenance job checked against their intent', registers: [this.registry] });
  private readonly drift = new Counter({
    name: 'metalfleet_verify_drift_total', help: 'Clusters whose desired config was not the render of their intent (repaired), by kind',
    labelNames: ['kind'], registers: [this.registry],
  });
  private readonly clusters = new Gauge({ name: 'metalfleet_clusters', help: 'Clusters by tenant and sync state (read at scrape time)', labelNames: ['tenant', 'sync_state'], registers: [this.registry] });
  private readonly databaseUp = new Gauge({
    name: 'metalfleet_database_up', help: '1 when the fleet read of this scrape succeeded, 0 when the database did not answer (then the fleet gauges are absent)',
    registers: [this.registry],
  });
  /** Requests from arrival until their response is written: what a SIGTERM waits for. */
  readonly inFlight = new Gauge({
    name: 'metalfleet_http_requests_in_flight', help: 'Requests received and not yet answered', registers: [this.registry],
  });
  private readonly pausedRollouts = new Gauge({
    name: 'metalfleet_rollouts_paused', help: 'Rollouts paused by a failed gate or a person, by tenant (read at scrape time)', labelNames: ['tenant'], registers: [this.registry],
  });
  private readonly sessions = new Gauge({ name: 'metalfleet_bgp_sessions', help: 'BGP sessions by tenant and state, as agents last reported them (read at scrape time)', labelNames: ['tenant', 'state'], registers: [this.registry] });

  constructor(private readonly fleet: () => Promise<TenantHealth[]>) {
    collectDefaultMetrics({ register: this.registry, prefix: 'metalfleet_api_' });
  }

  /** For createApp: counters and a per-request observation. */
  readonly appHooks: NonNullable<AppDeps['metrics']> = {
    count: (name, by = 1) => { this.counted[name as keyof typeof COUNTED]?.inc(by); },
    request: ({ method, route, status, seconds }) => {
      // Label children kept by key: prom-client hashes the label set on every call otherwise,
      // which on the poll path cost a tenth of the throughput.
      const key = `${method} ${route}`;
      let children = this.children.get(key);
      if (!children) this.children.set(key, children = { latency: this.latency.labels({ method, route }), byStatus: new Map() });
      let count = children.byStatus.get(status);
      if (!count) children.byStatus.set(status, count = this.requests.labels({ method, route, status: String(status) }));
      count.inc();
      children.latency.observe(seconds);
    },
  };
  private readonly children = new Map<string, { latency: { observe(v: number): void }; byStatus: Map<number, { inc(): void }> }>();

  maintenance(result: MaintenanceResult | Error): void {
    if (result instanceof Error) {
      this.maintenanceRuns.inc({ outcome: 'failed' });
      return;
    }
    this.maintenanceRuns.inc({ outcome: 'ok' });
    this.maintenanceDeleted.inc({ what: 'revisions' }, result.revisionsDeleted);
    this.maintenanceDeleted.inc({ what: 'enrollment_tokens' }, result.tokensDeleted);
    this.maintenanceDeleted.inc({ what: 'withdrawn_clusters' }, result.withdrawalsFinished);
    this.verified.inc(result.verified);
    for (const finding of result.drift) this.drift.inc({ kind: finding.kind });
  }

  /**
   * The exposition, with the fleet read now. A database that does not answer (within
   * FLEET_READ_TIMEOUT_MS, under a scraper's timeout) leaves the rest of the exposition intact, with
   * metalfleet_database_up 0 and no fleet gauges: an outage is when these metrics matter most.
   */
  async scrape(): Promise<string> {
    this.clusters.reset();
    this.sessions.reset();
    this.pausedRollouts.reset();
    let health: TenantHealth[];
    try {
      health = await withTimeout(this.fleet(), FLEET_READ_TIMEOUT_MS);
      this.databaseUp.set(1);
    } catch {
      this.databaseUp.set(0);
      return this.registry.metrics();
    }
    for (const { tenant, clusters, sessions, pausedRollouts } of health) {
      this.pausedRollouts.set({ tenant }, pausedRollouts.length);
      for (const [state, n] of Object.entries(clusters)) this.clusters.set({ tenant, sync_state: state }, n);
      for (const [state, n] of Object.entries(sessions)) this.sessions.set({ tenant, state }, n);
    }
    return this.registry.metrics();
  }

  /** GET /metrics on `listen` (HOST:PORT); resolves once listening. */
  listen(listen: { host: string; port: number }, log: (entry: Record<string, unknown>) => void): Promise<Server> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || req.url !== '/metrics') {
        res.statusCode = 404;
        res.end();
        return;
      }
      this.scrape().then((text) => {
        res.setHeader('content-type', this.registry.contentType);
        res.end(text);
      }, (err: unknown) => {
        log({ msg: 'metrics scrape failed', error: String(err) });
        res.statusCode = 500;
        res.end();
      });
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(listen.port, listen.host, () => resolve(server));
    });
  }
}
