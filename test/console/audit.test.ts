// The console's audit log without a browser: the filter form narrows what the API returns (over
// every event, not only the latest), one page of 100 newest first with an Older link that keeps the
// filter and a Newest link back, the resource select lists the kinds the API records (not the
// loaded events'), a refused filter is shown above the form, and another tenant's log is 404.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eq, sql } from 'drizzle-orm';
import { AUDIT_RESOURCES } from '../../api/audit.ts';
import { auditEvents, tenants } from '../../db/schema.ts';
import { withPlatform } from '../../db/tenant.ts';
import { seedApiTenant, startHarness, type Harness } from '../helpers/api.ts';

let h: Harness;
let t: Awaited<ReturnType<typeof seedApiTenant>>;
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const ORIGIN = 'http://localhost';

before(async () => {
  h = await startHarness();
  t = await seedApiTenant(h, 'auditview');
  await seedApiTenant(h, 'elsewhere');
  const [row] = await withPlatform(h.database.db, (tx) => tx.select({ id: tenants.id }).from(tenants).where(eq(tenants.slug, 'auditview')));
  // 150 old events by alice, one a minute, older than everything seedApiTenant recorded; then 5 by bob.
  await withPlatform(h.database.db, (tx) => tx.insert(auditEvents).values([
    ...Array.from({ length: 150 }, (_, i) => ({
      tenantId: row!.id, actor: 'alice@example.com', action: 'update', resource: 'pool', resourceId: `p-${String(i).padStart(3, '0')}`,
      at: sql`timestamptz '2026-01-01T00:00:00Z' + ${i} * interval '1 minute'`,
    })),
    ...Array.from({ length: 5 }, (_, i) => ({
      tenantId: row!.id, actor: 'bob@example.com', action: 'delete', resource: 'peer', resourceId: `peer-${i}`,
      at: sql`timestamptz '2026-02-01T00:00:00Z' + ${i} * interval '1 minute'`,
    })),
  ]));
});
after(() => h.close());

async function signIn(token: string): Promise<string> {
  const res = await h.app.request('/sign-in', { method: 'POST', body: new URLSearchParams({ token }), headers: { ...FORM, origin: ORIGIN } });
  assert.equal(res.status, 303, await res.text());
  return res.headers.get('set-cookie')!.split(';')[0]!;
}
const page = async (path: string, cookie: string) => {
  const res = await h.app.request(path, { headers: { cookie } });
  return { status: res.status, html: await res.text() };
};
const rows = (html: string) => [...html.matchAll(/<tr><td>[^<]*<\/td><td>([^<]*)<\/td><td>([^<]*)<\/td><td>([^<]*)<\/td><td class="mono">([^<]*)<\/td><\/tr>/g)]
  .map((m) => ({ actor: m[1]!, action: m[2]!, resource: m[3]!, id: m[4]! }));
const link = (html: string, label: string) => {
  const m = new RegExp(`<a href="([^"]*)">${label}</a>`).exec(html);
  return m ? m[1]!.replace(/&amp;/g, '&') : undefined;
};

test('the filter form narrows the events on the API, and Older pages through every match with the filter kept', async () => {
  const cookie = await signIn(t.viewer);
  const first = await page('/t/auditview/audit?actor=ALICE&resource=pool&action=update', cookie);
  assert.equal(first.status, 200, first.html);
  const one = rows(first.html);
  assert.equal(one.length, 100);
  assert.ok(one.every((r) => r.actor === 'alice@example.com' && r.resource === 'pool' && r.action === 'update'));
  assert.equal(one[0]!.id, 'p-149', 'newest first');
  assert.equal(link(first.html, 'Newest'), undefined, 'the first page has no Newest link');
  const older = link(first.html, 'Older');
  assert.ok(older, 'an Older link');
  const params = new URL(older, 'http://x').searchParams;
  assert.deepEqual([params.get('actor'), params.get('resource'), params.get('action')], ['ALICE', 'pool', 'update']);
  const second = await page(older, cookie);
  const two = rows(second.html);
  assert.equal(two.length, 50);
  assert.equal(two.at(-1)!.id, 'p-000');
  assert.deepEqual(new Set([...one, ...two].map((r) => r.id)).size, 150, 'every event once');
  assert.equal(link(second.html, 'Older'), undefined, 'the last page has no Older link');
  assert.equal(link(second.html, 'Newest'), '/t/auditview/audit?actor=ALICE&resource=pool&action=update');
});

test('without a filter the first page is the newest 100 of all; a filter that matches nothing says so', async () => {
  const cookie = await signIn(t.viewer);
  const all = await page('/t/auditview/audit', cookie);
  const shown = rows(all.html);
  assert.equal(shown.length, 100);
  assert.ok(shown.some((r) => r.resource === 'policy'), 'the tenant\'s own recent events');
  assert.deepEqual(rows((await page('/t/auditview/audit?actor=bob&action=delete', cookie)).html).map((r) => r.id),
    ['peer-4', 'peer-3', 'peer-2', 'peer-1', 'peer-0']);
  const none = await page('/t/auditview/audit?actor=carol', cookie);
  assert.match(none.html, /No events match the filter\./);
  assert.equal(link(none.html, 'Older'), undefined);
});

test('the resource select lists every kind the API records, whether or not an event of it is loaded', async () => {
  const cookie = await signIn(t.viewer);
  const { html } = await page('/t/auditview/audit?resource=peer', cookie);
  const select = /<select id="resource" name="resource">(.*?)<\/select>/s.exec(html)![1]!;
  const options = [...select.matchAll(/<option value="([^"]*)"/g)].map((m) => m[1]);
  assert.deepEqual(options, ['', ...AUDIT_RESOURCES]);
  assert.match(select, /<option value="peer" selected="">peer<\/option>/);
  const actions = /<select id="action" name="action">(.*?)<\/select>/s.exec(html)![1]!;
  assert.match(actions, /<option value="replace">replace<\/option>/);
});

test('a filter the API refuses is shown with the form; another tenant\'s log is 404', async () => {
  const cookie = await signIn(t.viewer);
  const refused = await page(`/t/auditview/audit?actor=${'x'.repeat(201)}`, cookie);
  assert.equal(refused.status, 422);
  assert.match(refused.html, /role="alert"><strong>Invalid request<\/strong>/);
  assert.match(refused.html, /<form class="filters"/);
  assert.equal((await page('/t/auditview/audit?resource=Not_A_Kind', cookie)).status, 422);
  assert.equal((await page('/t/elsewhere/audit', cookie)).status, 404);
  assert.equal((await page('/t/elsewhere/audit?actor=alice', cookie)).status, 404);
});
