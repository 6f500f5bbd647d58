// Keyset pagination: walking the pages while rows are inserted returns every row that existed
// when the walk began exactly once, in order.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { seedApiTenant, startHarness, type Harness } from '../helpers/api.ts';

let h: Harness;
let t: Awaited<ReturnType<typeof seedApiTenant>>;
before(async () => {
  h = await startHarness();
  t = await seedApiTenant(h, 'pages');
});
after(() => h.close());

test('pages are stable while rows are inserted before, between and after the cursor', async () => {
  const names = Array.from({ length: 25 }, (_, i) => `c-${String(i * 2).padStart(3, '0')}`);
  for (const name of names) assert.equal((await h.call('POST', `/v1/tenants/${t.slug}/communities`, { token: t.tenantAdmin, body: { name, value: '64512:1' } })).status, 201);
  const seen: string[] = [];
  let cursor: string | null = null;
  let inserted = 0;
  do {
    const page: any = await h.call('GET', `/v1/tenants/${t.slug}/communities?limit=4${cursor ? `&cursor=${cursor}` : ''}`, { token: t.viewer });
    assert.equal(page.status, 200);
    seen.push(...page.body.items.map((i: { name: string }) => i.name));
    cursor = page.body.nextCursor;
    // Insert one row sorting before everything seen and one between existing rows.
    const odd = `c-${String(inserted * 2 + 1).padStart(3, '0')}`;
    await h.call('POST', `/v1/tenants/${t.slug}/communities`, { token: t.tenantAdmin, body: { name: odd, value: '64512:2' } });
    await h.call('POST', `/v1/tenants/${t.slug}/communities`, { token: t.tenantAdmin, body: { name: `a-${inserted}`, value: '64512:3' } });
    inserted++;
  } while (cursor);
  for (const name of names) assert.equal(seen.filter((s) => s === name).length, 1, name);
  assert.deepEqual(seen, [...seen].sort(), 'in order');
  assert.ok(!seen.some((s) => s.startsWith('a-')), 'rows inserted before the cursor do not appear');
});

test('the audit trail pages newest first without gaps or repeats', async () => {
  const all: string[] = [];
  let cursor: string | null = null;
  do {
    const page: any = await h.call('GET', `/v1/tenants/${t.slug}/audit?limit=7${cursor ? `&cursor=${cursor}` : ''}`, { token: t.viewer });
    all.push(...page.body.items.map((e: { id: string }) => e.id));
    cursor = page.body.nextCursor;
  } while (cursor);
  const full: any = await h.call('GET', `/v1/tenants/${t.slug}/audit?limit=500`, { token: t.viewer });
  assert.deepEqual(all, full.body.items.map((e: { id: string }) => e.id));
  assert.equal(new Set(all).size, all.length);
  assert.ok(all.length > 30, `${all.length} events`);
});
