// Concurrent writes that collide on the fleet-wide address exclusion, through the API: exactly one
// wins, every other gets a problem it can act on (409 overlap, or 503 retry when PostgreSQL broke a
// deadlock between the waiting writers), never a 500, and nothing of the losers is stored.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { seedApiTenant, startHarness, type Harness } from '../helpers/api.ts';

let h: Harness;
let t: Awaited<ReturnType<typeof seedApiTenant>>;
before(async () => {
  h = await startHarness();
  t = await seedApiTenant(h, 'racer');
});
after(() => h.close());

test('12 concurrent overlapping pools: one 201, the rest 409 address-overlap or 503 conflict-retry', async () => {
  const base = t.v4Grant.replace('.0.0/16', '.0.0');
  // Every CIDR contains the first address of the grant, so every pair overlaps.
  const results = await Promise.all(Array.from({ length: 12 }, (_, i) => h.call('POST', `/v1/tenants/${t.slug}/pools`, {
    token: t.tenantAdmin, body: { name: `race-${i}`, cidrs: [`${base}/${16 + i}`] },
  })));
  const statuses = results.map((r) => r.status);
  assert.equal(statuses.filter((s) => s === 201).length, 1, JSON.stringify(statuses));
  for (const r of results.filter((x) => x.status !== 201)) {
    assert.ok((r.status === 409 && r.body.code === 'address-overlap') || (r.status === 503 && r.body.code === 'conflict-retry'), r.text);
    assert.equal(r.headers.get('content-type'), 'application/problem+json');
  }
  const pools = await h.call('GET', `/v1/tenants/${t.slug}/pools?limit=500`, { token: t.tenantAdmin });
  assert.equal(pools.body.items.filter((p: { name: string }) => p.name.startsWith('race-')).length, 1);
});
