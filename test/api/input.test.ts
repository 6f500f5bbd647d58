// Every request is bounded before any handler sees it (api/input.ts): what used to answer 500
// (a NUL anywhere, a PATCH nested 50,000 levels) or pass silently (__proto__ keys, limit=+1) is
// refused with a problem naming the field, and changes nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import { generateAgentKey } from '../../agents/client.ts';
import { jsonProblems } from '../../api/input.ts';
import { resultRows } from '../../db/client.ts';
import { withPlatform } from '../../db/tenant.ts';
import { seedApiTenant, startHarness, type ApiResponse, type Harness } from '../helpers/api.ts';

let h: Harness;
let t: Awaited<ReturnType<typeof seedApiTenant>>;
before(async () => {
  h = await startHarness();
  t = await seedApiTenant(h, 'bounded');
  assert.equal((await h.call('POST', `/v1/tenants/${t.slug}/clusters`, { token: t.tenantAdmin, body: { name: 'edge', backend: 'frr' } })).status, 201);
});
after(() => h.close());

const rows = async () => Number(resultRows<{ n: number | string }>(await withPlatform(h.database.db, (tx) => tx.execute(sql`
  select (select count(*) from audit_events) + (select count(*) from pools) + (select count(*) from peers) + (select count(*) from tenants) as n`)))[0]!.n);

function problem(res: ApiResponse, status: number, code: string, fieldCode?: string) {
  assert.equal(res.status, status, res.text);
  assert.equal(res.headers.get('content-type'), 'application/problem+json');
  assert.equal(res.body.code, code, res.text);
  if (fieldCode) assert.ok(res.body.errors.some((e: { code: string }) => e.code === fieldCode), res.text);
}

describe('bodies', () => {
  test('a NUL or another control character in any string field, nested or as a key: 422 naming the field', async () => {
    const before = await rows();
    for (const body of [
      { name: 'ok', cidrs: ['198.1.0.0/24'], serviceAllocation: { namespaces: ['a\u0000b'] } },
      { name: 'tab\tname', cidrs: [] },
      { name: 'x', cidrs: ['\u001b[31m'] },
      { name: 'x', labels: { 'k\u0000': 'v' } },
      { name: 'x', cidrs: ['\u0085'] },
    ]) {
      const res = await h.call('POST', `/v1/tenants/${t.slug}/pools`, { token: t.tenantAdmin, body });
      problem(res, 422, 'validation-failed', 'control-character');
    }
    const nul = await h.call('POST', `/v1/tenants/${t.slug}/pools`, { token: t.tenantAdmin, body: { name: 'ok', cidrs: ['198.1.0.0/24'], serviceAllocation: { namespaces: ['a\u0000b'] } } });
    assert.equal(nul.body.errors[0].path, 'serviceAllocation/namespaces/0');
    assert.equal(await rows(), before, 'nothing stored, nothing audited');
  });

  test('free text cannot hide what it says: bidi controls, line separators, a BOM or a lone surrogate are refused', async () => {
    const admin = await h.token({ sub: 'input-admin', role: 'platform-admin' });
    const before = await rows();
    // A raw body, so that a lone surrogate reaches the server as JSON's \ud800 escape.
    for (const name of ['\\u202eevil', 'a\\u2066b', 'line\\u2028sep', '\\ufeffbom', 'half \\ud800 pair', 'rtl\\u200fmark']) {
      const res = await h.call('POST', '/v1/tenants', { token: admin, raw: `{"slug":"spoof","name":"${name}"}` });
      problem(res, 422, 'validation-failed', 'control-character');
    }
    const fine = await h.call('POST', '/v1/tenants', { token: admin, body: { slug: 'spoof', name: 'Zürich 😀 ACME' } });
    assert.equal(fine.status, 201, 'letters, accents and emoji are text');
    assert.equal((await h.call('GET', '/v1/tenants/spoof', { token: admin })).body.name, 'Zürich 😀 ACME');
    assert.ok(await rows() > before);
  });

  test('a PATCH nested 50,000 levels is refused, not a stack overflow', async () => {
    const created = await h.call('POST', `/v1/tenants/${t.slug}/communities`, { token: t.tenantAdmin, body: { name: 'deep', value: '64512:1' } });
    const deep = `${'{"x":'.repeat(50_000)}1${'}'.repeat(50_000)}`;
    const res = await h.call('PATCH', `/v1/tenants/${t.slug}/communities/deep`, { token: t.tenantAdmin, raw: deep, headers: { 'if-match': created.headers.get('etag')! } });
    problem(res, 422, 'validation-failed', 'too-deep');
  });

  test('__proto__, constructor and prototype keys are refused, not silently dropped', async () => {
    const created = await h.call('POST', `/v1/tenants/${t.slug}/communities`, { token: t.tenantAdmin, body: { name: 'proto', value: '64512:2' } });
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      const res = await h.call('PATCH', `/v1/tenants/${t.slug}/communities/proto`, {
        token: t.tenantAdmin, raw: `{"${key}":{"value":"64512:3"}}`, headers: { 'if-match': created.headers.get('etag')! },
      });
      problem(res, 422, 'validation-failed', 'forbidden-key');
    }
    assert.equal((await h.call('GET', `/v1/tenants/${t.slug}/communities/proto`, { token: t.tenantAdmin })).body.value, '64512:2');
  });

  test('integers JavaScript cannot hold exactly are refused', async () => {
    const res = await h.call('POST', `/v1/tenants/${t.slug}/pools`, { token: t.tenantAdmin, raw: '{"name":"big","cidrs":["198.1.0.0/24"],"serviceAllocation":{"priority":9007199254740993}}' });
    problem(res, 422, 'validation-failed', 'number-out-of-range');
  });

  test('an agent\'s apply error may span lines, but never hold a NUL (which PostgreSQL refuses: a 500 before)', async () => {
    const minted = await h.call('POST', `/v1/tenants/${t.slug}/clusters/edge/enrollment-tokens`, { token: t.tenantAdmin, body: {} });
    const agent = h.agentClient();
    await agent.enroll(minted.body.token, { privateJwk: await generateAgentKey() });
    const signed = async (applyError: string) => {
      const res = await h.app.request('/v1/agent/status', {
        method: 'POST', headers: { authorization: `Bearer ${await agent.assertion()}`, 'content-type': 'application/json' },
        body: JSON.stringify({ appliedRevision: null, applyError, sessions: [] }),
      });
      return { status: res.status, body: await res.json().catch(() => undefined) as any };
    };
    assert.equal((await signed('line 18: % Unknown command\n\tneighbor x\r\n')).status, 204);
    const nul = await signed('bad\u0000byte');
    assert.equal(nul.status, 422);
    assert.equal(nul.body.errors[0].path, 'applyError');
  });
});

describe('paths and queries', () => {
  test('a NUL or control character in a path or query, or a malformed escape: 400, never 500', async () => {
    for (const path of [`/v1/tenants/${t.slug}/pools/%00`, '/v1/tenants/%00/pools', `/v1/tenants/${t.slug}/pools/%E0%A4%A`, `/v1/tenants/${t.slug}/pools?cursor=%00`]) {
      const res = await h.call('GET', path, { token: t.tenantAdmin });
      assert.equal(res.status, 400, `${path}: ${res.text}`);
      assert.match(res.body.code, /^invalid-(path|query)$/);
    }
  });

  test('limit is a plain decimal count: +1, 0x10, 1e2, 01 and 0 are refused', async () => {
    for (const limit of ['+1', '0x10', '1e2', '01', '0', '-1', '1.0', ' 5']) {
      problem(await h.call('GET', `/v1/tenants/${t.slug}/pools?limit=${encodeURIComponent(limit)}`, { token: t.tenantAdmin }), 400, 'invalid-limit');
    }
    assert.equal((await h.call('GET', `/v1/tenants/${t.slug}/pools?limit=5`, { token: t.tenantAdmin })).status, 200);
  });

  test('a cursor holding a NUL (base64 of ["\\u0000"]) is refused as a cursor, not sent to the database', async () => {
    const cursor = btoa(JSON.stringify(['\u0000'])).replace(/=+$/, '');
    problem(await h.call('GET', `/v1/tenants/${t.slug}/pools?cursor=${cursor}`, { token: t.tenantAdmin }), 400, 'invalid-cursor');
  });

  test('a cursor of the wrong shape for its list (types a cast would refuse) is 400 invalid-cursor, not a database error', async () => {
    const admin = await h.token({ sub: 'cursor-admin', role: 'platform-admin' });
    const encode = (key: unknown[]) => btoa(JSON.stringify(key)).replace(/=+$/, '');
    for (const [path, key] of [
      ['/v1/audit', ['abc', 'not-a-uuid']], ['/v1/tokens', ['12', '00000000-0000-0000-0000-00000000000g']],
      [`/v1/tenants/${t.slug}/audit`, [1, '00000000-0000-0000-0000-000000000000']],
      [`/v1/tenants/${t.slug}/clusters/edge/revisions`, ['7']], [`/v1/tenants/${t.slug}/pools`, [7]],
    ] as const) {
      problem(await h.call('GET', `${path}?cursor=${encode([...key])}`, { token: admin }), 400, 'invalid-cursor');
    }
    const valid = encode(['1700000000000000', '00000000-0000-0000-0000-000000000000']);
    assert.equal((await h.call('GET', `/v1/audit?cursor=${valid}`, { token: admin })).status, 200);
  });

  test('a PATCH or PUT without a JSON body is 415 and changes nothing (not an empty patch that bumps updatedAt)', async () => {
    const created = await h.call('POST', `/v1/tenants/${t.slug}/communities`, { token: t.tenantAdmin, body: { name: 'bodyless', value: '64512:9' } });
    const etag = created.headers.get('etag')!;
    const bare = await h.call('PATCH', `/v1/tenants/${t.slug}/communities/bodyless`, { token: t.tenantAdmin, headers: { 'if-match': etag } });
    problem(bare, 415, 'unsupported-media-type');
    const after = await h.call('GET', `/v1/tenants/${t.slug}/communities/bodyless`, { token: t.tenantAdmin });
    assert.equal(after.body.updatedAt, created.body.updatedAt);
    problem(await h.call('PUT', `/v1/tenants/${t.slug}/intent`, { token: t.tenantAdmin, headers: { 'if-match': '*' } }), 415, 'unsupported-media-type');
  });

  test('revision numbers are plain decimals within range', async () => {
    for (const revision of ['0', '01', '+1', '99999999999']) {
      const res = await h.call('GET', `/v1/tenants/${t.slug}/clusters/edge/config?revision=${encodeURIComponent(revision)}`, { token: t.tenantAdmin });
      assert.equal(res.status, 422, `${revision}: ${res.text}`);
    }
  });
});

test('jsonProblems walks iteratively and stops after 20 problems', () => {
  let deep: unknown = 1;
  for (let i = 0; i < 100_000; i++) deep = [deep];
  assert.equal(jsonProblems(deep)[0]!.code, 'too-deep');
  assert.equal(jsonProblems(Array.from({ length: 100 }, () => '\u0000')).length, 20);
  assert.deepEqual(jsonProblems({ a: ['fine', 1, null, true, { b: 'ok' }] }), []);
});
