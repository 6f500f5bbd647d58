// The audit trail's filters (actor, resource, action, since/until) on GET …/audit and /v1/audit:
// each alone and combined, LIKE's wildcards taken literally, the cursor walking every matching
// event exactly once (a property over random event sets, with timestamps a microsecond apart and
// equal ones), hostile values answered 4xx problem+json and never 500, and tenant isolation.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { eq, sql } from 'drizzle-orm';
import { auditEvents, tenants } from '../../db/schema.ts';
import { withPlatform } from '../../db/tenant.ts';
import { encodeCursor } from '../../api/http.ts';
import { seedApiTenant, startHarness, type Harness } from '../helpers/api.ts';

let h: Harness;
let admin: string;
let a: Awaited<ReturnType<typeof seedApiTenant>>;
let b: Awaited<ReturnType<typeof seedApiTenant>>;

/** An event as the tests store it: `micros` after BASE, so that two may share a timestamp. */
interface Seed { actor: string; resource: string; action: string; micros: number }
const BASE = 1_780_000_000_000_000n; // epoch microseconds, in 2026
const instant = (micros: number) => {
  const total = BASE + BigInt(micros);
  return `${new Date(Number(total / 1_000_000n) * 1000).toISOString().slice(0, 19)}.${(total % 1_000_000n).toString().padStart(6, '0')}Z`;
};

async function tenantId(slug: string): Promise<string> {
  const [row] = await withPlatform(h.database.db, (tx) => tx.select({ id: tenants.id }).from(tenants).where(eq(tenants.slug, slug)));
  return row!.id;
}

/** Stores the events straight into the trail (tenant null: the platform's); answers their ids in order. */
async function store(tenant: string | null, seeds: Seed[]): Promise<string[]> {
  if (seeds.length === 0) return [];
  const rows = await withPlatform(h.database.db, (tx) => tx.insert(auditEvents).values(seeds.map((s) => ({
    tenantId: tenant, actor: s.actor, action: s.action, resource: s.resource, resourceId: null, requestId: null,
    at: sql`${instant(s.micros)}::timestamptz`,
  }))).returning({ id: auditEvents.id }));
  return rows.map((r) => r.id);
}

type Event = { id: string; actor: string; action: string; resource: string; at: string };

/** Every page of `path` (which carries its own query), following nextCursor. */
async function walk(path: string, token: string, limit: number): Promise<{ events: Event[]; pages: number }> {
  const events: Event[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const res = await h.call('GET', `${path}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, { token });
    assert.equal(res.status, 200, res.text);
    events.push(...res.body.items);
    cursor = res.body.nextCursor;
    pages++;
    assert.ok(pages < 1000, 'the walk ends');
  } while (cursor);
  return { events, pages };
}

const q = (params: Record<string, string>) => new URLSearchParams(params).toString();

before(async () => {
  h = await startHarness();
  admin = await h.token({ sub: 'audit-platform', role: 'platform-admin' });
  a = await seedApiTenant(h, 'audit-a');
  b = await seedApiTenant(h, 'audit-b');
  const idA = await tenantId('audit-a');
  const idB = await tenantId('audit-b');
  await store(idA, [
    { actor: 'Alice@example.com', resource: 'pool', action: 'create', micros: 10 },
    { actor: 'alice@example.com', resource: 'pool', action: 'update', micros: 11 },
    { actor: 'bob@example.com', resource: 'peer', action: 'delete', micros: 12 },
    { actor: 'a%b', resource: 'rollout', action: 'update', micros: 13 },
    { actor: 'a_b', resource: 'rollout', action: 'update', micros: 14 },
    { actor: 'a\\b', resource: 'rollout', action: 'update', micros: 15 },
    { actor: 'axb', resource: 'rollout', action: 'update', micros: 16 },
    { actor: 'aXYb', resource: 'advertisement', action: 'create', micros: 17 }, // a kind older databases hold
  ]);
  await store(idB, [
    { actor: 'alice@example.com', resource: 'pool', action: 'create', micros: 10 },
    { actor: 'mallory', resource: 'pool', action: 'delete', micros: 20 },
  ]);
});
after(() => h.close());

describe('filters', () => {
  const list = async (params: Record<string, string>, token = a.viewer) => {
    const res = await h.call('GET', `/v1/tenants/audit-a/audit?${q(params)}`, { token });
    assert.equal(res.status, 200, res.text);
    return res.body.items as Event[];
  };

  test('actor: a substring in any case', async () => {
    assert.deepEqual((await list({ actor: 'ALICE' })).map((e) => e.actor), ['alice@example.com', 'Alice@example.com']);
    assert.deepEqual((await list({ actor: 'b@EX' })).map((e) => e.actor), ['bob@example.com']);
  });

  test('actor: %, _ and \\ match themselves, not as LIKE wildcards', async () => {
    assert.deepEqual((await list({ actor: '%' })).map((e) => e.actor), ['a%b']);
    assert.deepEqual((await list({ actor: '_' })).map((e) => e.actor), ['a_b']);
    assert.deepEqual((await list({ actor: '\\' })).map((e) => e.actor), ['a\\b']);
    assert.deepEqual((await list({ actor: 'a%b' })).map((e) => e.actor), ['a%b']);
    assert.deepEqual(await list({ actor: '%%' }), []);
  });

  test('resource and action: exact; a kind the trail holds from before is found too', async () => {
    assert.deepEqual((await list({ resource: 'pool' })).map((e) => e.action), ['update', 'create']);
    assert.deepEqual((await list({ resource: 'poo' })), []);
    assert.deepEqual((await list({ resource: 'advertisement' })).map((e) => e.actor), ['aXYb']);
    assert.deepEqual((await list({ action: 'delete' })).map((e) => e.actor), ['bob@example.com']);
    // seedApiTenant replaced the policy: the action the console's old filter could not select.
    assert.deepEqual((await list({ action: 'replace' })).map((e) => e.resource), ['policy']);
  });

  test('since and until: since ≤ at < until, to the microsecond', async () => {
    const got = await list({ since: instant(11), until: instant(13) });
    assert.deepEqual(got.map((e) => e.actor), ['bob@example.com', 'alice@example.com']);
    assert.deepEqual((await list({ since: instant(17), until: instant(18) })).map((e) => e.actor), ['aXYb']);
    // An offset other than Z names the same instant: 12 µs after BASE, written an hour ahead as +01:00.
    const utc = instant(12);
    const ahead = `${new Date(Date.parse(utc.slice(0, 19) + 'Z') + 3_600_000).toISOString().slice(0, 19)}${utc.slice(19, 26)}+01:00`;
    assert.deepEqual((await list({ since: ahead, until: instant(13) })).map((e) => e.actor), ['bob@example.com']);
  });

  test('combined filters are all applied', async () => {
    assert.deepEqual((await list({ actor: 'a', resource: 'rollout', action: 'update', since: instant(14) })).map((e) => e.actor),
      ['axb', 'a\\b', 'a_b']);
    assert.deepEqual(await list({ actor: 'alice', action: 'delete' }), []);
  });

  test('the platform trail takes the same filters and holds no tenant\'s events', async () => {
    const res = await h.call('GET', `/v1/audit?${q({ resource: 'tenant', action: 'create', actor: 'TEST-platform' })}`, { token: admin });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.items.map((e: { resourceId: string }) => e.resourceId).sort(), ['audit-a', 'audit-b']);
    const pools = await h.call('GET', `/v1/audit?${q({ resource: 'pool' })}`, { token: admin });
    assert.deepEqual(pools.body.items, []);
    assert.equal((await h.call('GET', `/v1/audit?${q({ actor: 'x' })}`, { token: a.tenantAdmin })).status, 403);
  });
});

describe('tenant isolation', () => {
  test('another tenant\'s events never appear, whatever the filter; its trail is 404', async () => {
    const filters: Array<Record<string, string>> = [{}, { actor: 'alice' }, { actor: 'mallory' }, { resource: 'pool', action: 'delete' }];
    for (const params of filters) {
      const { events } = await walk(`/v1/tenants/audit-a/audit?${q(params)}`, a.viewer, 2);
      assert.ok(!events.some((e) => e.actor === 'mallory'), JSON.stringify(params));
      const ids = new Set((await walk(`/v1/tenants/audit-b/audit?${q(params)}`, b.viewer, 50)).events.map((e) => e.id));
      assert.ok(!events.some((e) => ids.has(e.id)), JSON.stringify(params));
    }
    const theirs = await h.call('GET', `/v1/tenants/audit-b/audit?${q({ actor: 'alice' })}`, { token: a.viewer });
    assert.equal(theirs.status, 404);
  });
});

describe('hostile values', () => {
  const LONG = 'x'.repeat(10_000);
  const cases: Array<[string, number, string]> = [
    ['actor=a%00b', 400, 'invalid-query'],
    ['actor=a%0Ab', 400, 'invalid-query'],
    ['resource=pool%00', 400, 'invalid-query'],
    ['actor=%E2%80%AE', 400, 'invalid-query'],
    [`actor=${LONG}`, 400, 'invalid-query'],
    [`actor=${'y'.repeat(201)}`, 422, 'validation-failed'],
    ['actor=', 422, 'validation-failed'],
    ['resource=Pool', 422, 'validation-failed'],
    ['resource=po%25ol', 422, 'validation-failed'],
    [`resource=${'p'.repeat(65)}`, 422, 'validation-failed'],
    ['action=drop', 422, 'validation-failed'],
    ['action=CREATE', 422, 'validation-failed'],
    ['action=create&action=update', 422, 'validation-failed'],
    ['since=yesterday', 422, 'validation-failed'],
    ['since=2026-02-30T00:00:00Z', 422, 'validation-failed'],
    ['since=2026-01-01T24:00:00Z', 422, 'validation-failed'],
    ['since=0000-01-01T00:00:00Z', 422, 'validation-failed'],
    ['until=2026-01-01T00:00:00', 422, 'validation-failed'],
    [`until=2026-01-01T00:00:00.${'1'.repeat(40)}Z`, 422, 'validation-failed'],
    [`cursor=${encodeCursor(['9999999999999999999', '00000000-0000-0000-0000-000000000000'])}`, 400, 'invalid-cursor'],
    [`cursor=${encodeCursor(['253402300800000000', '00000000-0000-0000-0000-000000000000'])}`, 400, 'invalid-cursor'],
  ];
  for (const path of ['/v1/tenants/audit-a/audit', '/v1/audit']) {
    test(`${path}: refused with a problem, never a 500`, async () => {
      for (const [query, status, code] of cases) {
        const res = await h.call('GET', `${path}?${query}`, { token: admin });
        assert.equal(res.status, status, `${query.slice(0, 60)}: ${res.text.slice(0, 300)}`);
        assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
        assert.equal(res.body.code, code, query.slice(0, 60));
      }
    });
  }

  test('the oldest and the latest instants a cursor or filter may name are answered, not a database error', async () => {
    for (const query of [q({ since: '0001-01-01T00:00:00+01:00' }), 'until=9999-12-31T23:59:59.999999Z',
      `cursor=${encodeCursor(['0', '00000000-0000-0000-0000-000000000000'])}`,
      `cursor=${encodeCursor(['253402300799999999', 'ffffffff-ffff-ffff-ffff-ffffffffffff'])}`]) {
      const res = await h.call('GET', `/v1/tenants/audit-a/audit?${query}`, { token: a.viewer });
      assert.equal(res.status, 200, `${query}: ${res.text}`);
    }
  });
});

describe('pagination under a filter', () => {
  const ACTOR_CHARS = ['a', 'B', 'c', '%', '_', '\\', '@'];
  const RESOURCES = ['pool', 'peer', 'rollout'];
  const ACTIONS = ['create', 'update', 'delete', 'replace'];
  const seedArb = fc.record({
    actor: fc.array(fc.constantFrom(...ACTOR_CHARS), { minLength: 1, maxLength: 4 }).map((cs) => cs.join('')),
    resource: fc.constantFrom(...RESOURCES),
    action: fc.constantFrom(...ACTIONS),
    micros: fc.integer({ min: 0, max: 30 }), // a narrow range: many events share a microsecond
  });
  const filterArb = fc.record({
    actor: fc.option(fc.array(fc.constantFrom(...ACTOR_CHARS, 'A', 'b'), { minLength: 1, maxLength: 2 }).map((cs) => cs.join('')), { nil: undefined }),
    resource: fc.option(fc.constantFrom(...RESOURCES), { nil: undefined }),
    action: fc.option(fc.constantFrom(...ACTIONS), { nil: undefined }),
    since: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
    until: fc.option(fc.integer({ min: 0, max: 31 }), { nil: undefined }),
  });
  let run = 0;

  test('the cursor walks every matching event exactly once, newest first (property)', async () => {
    await fc.assert(fc.asyncProperty(fc.array(seedArb, { maxLength: 40 }), filterArb, fc.integer({ min: 1, max: 7 }),
      async (seeds, filter, limit) => {
        const slug = `audit-p${run++}`;
        assert.equal((await h.call('POST', '/v1/tenants', { token: admin, body: { slug, name: slug } })).status, 201);
        const ids = await store(await tenantId(slug), seeds);
        const stored = seeds.map((s, i) => ({ ...s, id: ids[i]! }));
        const expected = stored.filter((e) => (filter.actor === undefined || e.actor.toLowerCase().includes(filter.actor.toLowerCase()))
          && (filter.resource === undefined || e.resource === filter.resource) && (filter.action === undefined || e.action === filter.action)
          && (filter.since === undefined || e.micros >= filter.since) && (filter.until === undefined || e.micros < filter.until))
          .sort((x, y) => y.micros - x.micros || (y.id < x.id ? -1 : y.id > x.id ? 1 : 0))
          .map((e) => e.id);
        const params: Record<string, string> = {};
        if (filter.actor !== undefined) params.actor = filter.actor;
        if (filter.resource !== undefined) params.resource = filter.resource;
        if (filter.action !== undefined) params.action = filter.action;
        if (filter.since !== undefined) params.since = instant(filter.since);
        if (filter.until !== undefined) params.until = instant(filter.until);
        const { events, pages } = await walk(`/v1/tenants/${slug}/audit?${q(params)}`, admin, limit);
        assert.deepEqual(events.map((e) => e.id), expected);
        assert.equal(pages, Math.max(1, Math.ceil(expected.length / limit)), 'no empty page at the end');
      }), { numRuns: Number(process.env.FC_RUNS ?? 40) });
  });
});
