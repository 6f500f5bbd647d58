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
  private readonly clusters = new Gauge({ name: 'metalfleet_clusters', help: 'Clusters by tenant and sync state (read at scrape time)', labelNames: ['tenant', 'sync_state'], registers: [this.registry] });
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
  }

  /** The exposition, with the fleet read now. */
  async scrape(): Promise<string> {
    const health = await this.fleet();
    this.clusters.reset();
    this.sessions.reset();
    for (const { tenant, clusters, sessions } of health) {
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
