// `metalfleet serve` with METALFLEET_METRICS_LISTEN: Prometheus metrics on a listener of their own,
// with requests by route and status, what the app counts, and the fleet as /v1/fleet/health has it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startServer } from '../helpers/process.ts';

/** The value of one series in a Prometheus text exposition (undefined when absent). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('/metrics: requests by route and status, renders, the fleet per tenant, the process', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'metalfleet-metrics-'));
  const metricsPort = await freePort();
  const server = await startServer({ METALFLEET_DATA_DIR: dir, DATABASE_URL: '', METALFLEET_SECRET_KEY: '', METALFLEET_SIGNING_KEY: '', METALFLEET_PUBLIC_URL: '',
    METALFLEET_METRICS_LISTEN: `127.0.0.1:${metricsPort}` });
  try {
    const admin = readFileSync(join(dir, 'admin.token'), 'utf8').trim();
    const call = (method: string, path: string, body?: unknown) => fetch(`${server.url}${path}`, {
      method, headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const scrape = async () => {
      const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type')!, /^text\/plain/);
      return res.text();
    };
    const before = await scrape();
    assert.equal((await call('POST', '/v1/tenants', { slug: 'acme', name: 'ACME' })).status, 201);
    assert.equal((await call('POST', '/v1/tenants', { slug: 'acme', name: 'again' })).status, 409);
    assert.equal((await call('POST', '/v1/tenants/acme/clusters', { name: 'edge-1', backend: 'frr' })).status, 201);
    assert.equal((await call('GET', '/v1/no/such/route')).status, 404);
    const fleet = await (await call('GET', '/v1/fleet/health')).json() as { tenants: Array<{ tenant: string; clusters: Record<string, number>; sessions: Record<string, number> }> };

    const text = await scrape();
    assert.equal(sample(text, 'metalfleet_http_requests_total{method="POST",route="/v1/tenants",status="201"}'), 1);
    assert.equal(sample(text, 'metalfleet_http_requests_total{method="POST",route="/v1/tenants",status="409"}'), 1);
    assert.equal(sample(text, 'metalfleet_http_requests_total{method="POST",route="/v1/tenants/:tenant/clusters",status="201"}'), 1);
    assert.equal(sample(text, 'metalfleet_http_requests_total{method="GET",route="(none)",status="404"}'), 1, 'an unknown URL is not a label value');
    assert.equal(sample(text, 'metalfleet_http_request_duration_seconds_count{method="POST",route="/v1/tenants"}'), 2);
    assert.ok(sample(text, 'metalfleet_renders_total')! > (sample(before, 'metalfleet_renders_total') ?? 0), 'creating a cluster rendered it');
    const acme = fleet.tenants.find((t) => t.tenant === 'acme')!;
    for (const [state, n] of Object.entries(acme.clusters)) assert.equal(sample(text, `metalfleet_clusters{tenant="acme",sync_state="${state}"}`), n, state);
    assert.ok(sample(text, 'metalfleet_api_process_cpu_user_seconds_total')! > 0);
    assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/other`)).status, 404);
    assert.equal((await fetch(`${server.url}/metrics`)).status, 404, 'not on the API port');
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('maintenance runs and what they deleted are counted', async () => {
  const { ApiMetrics } = await import('../../cli/metrics.ts');
  const metrics = new ApiMetrics(async () => [{ tenant: 't1', clusters: { 'in-sync': 2, pending: 0, failed: 1, stale: 0, 'never-seen': 0 }, sessions: { Established: 5, Active: 1 },
    pausedRollouts: [{ number: 2, reason: 'wave canary failed its gates' }] }]);
  const drifted = { tenantId: 't', cluster: 'c', kind: 'drift' as const, desiredRevision: 3, desiredSha256: 'a', expectedSha256: 'b', repairedRevision: 4 };
  metrics.maintenance({ tenants: 3, revisionsDeleted: 7, tokensDeleted: 2, consoleSessionsDeleted: 0, withdrawalsFinished: 1, verified: 10, drift: [drifted] });
  metrics.maintenance({ tenants: 3, revisionsDeleted: 1, tokensDeleted: 0, consoleSessionsDeleted: 0, withdrawalsFinished: 0, verified: 5, drift: [] });
  metrics.maintenance(new Error('database unavailable'));
  const text = await metrics.scrape();
  assert.equal(sample(text, 'metalfleet_maintenance_runs_total{outcome="ok"}'), 2);
  assert.equal(sample(text, 'metalfleet_maintenance_runs_total{outcome="failed"}'), 1);
  assert.equal(sample(text, 'metalfleet_maintenance_deleted_total{what="revisions"}'), 8);
  assert.equal(sample(text, 'metalfleet_maintenance_deleted_total{what="enrollment_tokens"}'), 2);
  assert.equal(sample(text, 'metalfleet_maintenance_deleted_total{what="withdrawn_clusters"}'), 1);
  assert.equal(sample(text, 'metalfleet_verify_checked_total'), 15);
  assert.equal(sample(text, 'metalfleet_verify_drift_total{kind="drift"}'), 1);
  assert.equal(sample(text, 'metalfleet_clusters{tenant="t1",sync_state="failed"}'), 1);
  assert.equal(sample(text, 'metalfleet_database_up'), 1);
  assert.equal(sample(text, 'metalfleet_bgp_sessions{tenant="t1",state="Active"}'), 1);
  assert.equal(sample(text, 'metalfleet_rollouts_paused{tenant="t1"}'), 1);
});

test('a fleet read that fails or hangs: the rest is served, metalfleet_database_up 0, no stale fleet gauges', async () => {
  const { ApiMetrics } = await import('../../cli/metrics.ts');
  let fleet: () => Promise<never> = async () => { throw new Error('connect ECONNREFUSED'); };
  let healthy = true;
  const metrics = new ApiMetrics(() => (healthy
    ? Promise.resolve([{ tenant: 't1', clusters: { 'in-sync': 2, pending: 0, failed: 0, stale: 0, 'never-seen': 0 }, sessions: {}, pausedRollouts: [] }])
    : fleet()));
  metrics.appHooks.request!({ method: 'GET', route: '/v1/agent/config', status: 304, seconds: 0.001 });
  assert.equal(sample(await metrics.scrape(), 'metalfleet_clusters{tenant="t1",sync_state="in-sync"}'), 2);
  healthy = false;
  const refused = await metrics.scrape();
  assert.equal(sample(refused, 'metalfleet_database_up'), 0);
  assert.equal(sample(refused, 'metalfleet_clusters{tenant="t1",sync_state="in-sync"}'), undefined, 'the last read is not served as current');
  assert.equal(sample(refused, 'metalfleet_http_requests_total{method="GET",route="/v1/agent/config",status="304"}'), 1);
  fleet = () => new Promise<never>(() => {}); // a database that never answers
  assert.equal(sample(await metrics.scrape(), 'metalfleet_database_up'), 0);
});
