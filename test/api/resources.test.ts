// The intent collections as a tenant-admin uses them: the contract every collection shares
// (happy path), then the errors each one answers, then the tenant policy rule by rule.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import { resultRows } from '../../db/client.ts';
import { seedApiTenant, startHarness, type Harness } from '../helpers/api.ts';

let h: Harness;
let t: Awaited<ReturnType<typeof seedApiTenant>>;
const url = (path: string) => `/v1/tenants/${t.slug}/${path}`;
const post = (path: string, body: unknown, token = t.tenantAdmin) => h.call('POST', url(path), { token, body });
const get = (path: string, token = t.tenantAdmin) => h.call('GET', url(path), { token });
const patch = (path: string, body: unknown, etag: string | null, token = t.tenantAdmin) =>
  h.call('PATCH', url(path), { token, body, headers: etag ? { 'if-match': etag, 'content-type': 'application/merge-patch+json' } : {} });

before(async () => {
  h = await startHarness();
  t = await seedApiTenant(h, 'acme');
  assert.equal((await post('bfd-profiles', { name: 'base-bfd' })).status, 201);
});
after(() => h.close());

function assertProblem(res: { status: number; headers: Headers; body: any }, status: number, code: string) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.headers.get('content-type'), 'application/problem+json');
  assert.equal(res.body.code, code, JSON.stringify(res.body));
  assert.equal(res.body.status, status);
  assert.ok(res.body.type && res.body.title && res.body.detail && res.body.requestId, JSON.stringify(res.body));
  assert.equal(res.headers.get('x-request-id'), res.body.requestId, 'the header names the same request as the body');
}

/** One valid object per collection, and a change to apply to it. */
const COLLECTIONS = () => ({
  clusters: { create: { name: 'edge-1', backend: 'metallb-frr-k8s', labels: { env: 'prod' } }, change: { labels: { env: 'stage' } }, check: (b: any) => b.labels.env === 'stage' },
  pools: { create: { name: 'web', cidrs: [t.v4Grant.replace('.0.0/16', '.1.0/24')] }, change: { autoAssign: false }, check: (b: any) => b.autoAssign === false },
  'bfd-profiles': { create: { name: 'fast', receiveInterval: 300, transmitInterval: 300, detectMultiplier: 3 }, change: { detectMultiplier: 5 }, check: (b: any) => b.detectMultiplier === 5 },
  peers: {
    create: { name: 'tor-a', myASN: 64512, peerASN: 64513, peerAddress: '10.0.0.1', holdTime: '90s', bfdProfile: 'base-bfd' },
    change: { holdTime: '30s', keepaliveTime: '10s' }, check: (b: any) => b.holdTime === '30s' && b.keepaliveTime === '10s',
  },
  communities: { create: { name: 'no-adv', value: '65535:65282' }, change: { value: '65535:65281' }, check: (b: any) => b.value === '65535:65281' },
  'bgp-advertisements': { create: { name: 'announce', communities: ['64512:1'] }, change: { localPref: 200 }, check: (b: any) => b.localPref === 200 },
  // The same name as the BGP one: they are different kinds, as in MetalLB.
  'l2-advertisements': { create: { name: 'announce', interfaces: ['eth0'] }, change: { interfaces: ['eth1'] }, check: (b: any) => b.interfaces[0] === 'eth1' },
});

describe('every collection: create, read, list, change, delete', () => {
  for (const name of ['clusters', 'pools', 'bfd-profiles', 'peers', 'communities', 'bgp-advertisements', 'l2-advertisements'] as const) {
    test(name, async () => {
      const { create, change, check } = COLLECTIONS()[name];
      const created = await post(name, create);
      assert.equal(created.status, 201, created.text);
      assert.equal(created.headers.get('location'), url(`${name}/${create.name}`));
      const etag = created.headers.get('etag');
      assert.match(etag ?? '', /^"[0-9a-f]{32}"$/);

      const read = await get(`${name}/${create.name}`);
      assert.equal(read.status, 200);
      assert.equal(read.headers.get('etag'), etag);
      assert.deepEqual(read.body, created.body);

      const list = await get(name);
      assert.ok(list.body.items.some((i: { name: string }) => i.name === create.name));

      const changed = await patch(`${name}/${create.name}`, change, etag);
      assert.equal(changed.status, 200, changed.text);
      assert.ok(check(changed.body), changed.text);
      assert.notEqual(changed.headers.get('etag'), etag);

      const stale = await patch(`${name}/${create.name}`, change, etag);
      assertProblem(stale, 412, 'precondition-failed');
      assertProblem(await patch(`${name}/${create.name}`, change, null), 428, 'precondition-required');

      const duplicate = await post(name, create);
      assertProblem(duplicate, 409, 'already-exists');

      const audit = await get('audit?limit=10');
      const resource = { clusters: 'cluster', pools: 'pool', 'bfd-profiles': 'bfd-profile', peers: 'peer', communities: 'community', 'bgp-advertisements': 'bgp-advertisement', 'l2-advertisements': 'l2-advertisement' }[name];
      const mine = audit.body.items.filter((e: { resource: string }) => e.resource === resource);
      assert.ok(mine.some((e: { action: string }) => e.action === 'update'), 'the change is audited');

      assert.equal((await h.call('DELETE', url(`${name}/${create.name}`), { token: t.tenantAdmin })).status, 204);
      assertProblem(await get(`${name}/${create.name}`), 404, 'not-found');
    });
  }
});

describe('errors', () => {
  test('a shape error names each field', async () => {
    const res = await post('peers', { name: 'Bad Name', myASN: 'x', peerAddress: 5, extra: true });
    assertProblem(res, 422, 'validation-failed');
    const paths = res.body.errors.map((e: { path: string }) => e.path).sort();
    assert.ok(paths.includes('name') && paths.includes('myASN') && paths.includes('peerAddress'), JSON.stringify(res.body.errors));
  });

  test('MetalLB webhook rules answer 422 with the rule code on the field', async () => {
    const cases: Array<[string, unknown, string, string]> = [
      ['peers', { name: 'p1', myASN: 64512, peerASN: 64513, dynamicASN: 'external', peerAddress: '10.0.0.9' }, 'peer-asn-exclusive', 'peerASN'],
      ['peers', { name: 'p2', myASN: 64512, peerASN: 64513, peerAddress: '10.0.0.9', holdTime: '2s' }, 'invalid-hold-time', 'holdTime'],
      ['peers', { name: 'p3', myASN: 64512, peerASN: 64513, peerAddress: '10.0.0.9', holdTime: '1.5s' }, 'invalid-duration', 'holdTime'],
      ['peers', { name: 'p4', myASN: 64512, peerASN: 64512, peerAddress: '10.0.0.9', ebgpMultiHop: true }, 'ebgp-multihop-on-ibgp', 'ebgpMultiHop'],
      ['peers', { name: 'p5', myASN: 64512, peerASN: 64513, peerAddress: '10.0.0.9', password: 'two words' }, 'invalid-password', 'password'],
      // A line break never gets as far as the VRF grammar: every field refuses control characters (api/input.ts).
      ['peers', { name: 'p6', myASN: 64512, peerASN: 64513, peerAddress: '10.0.0.9', vrf: 'red\n  neighbor 1.2.3.4 remote-as 1' }, 'control-character', 'vrf'],
      ['peers', { name: 'p6b', myASN: 64512, peerASN: 64513, peerAddress: '10.0.0.9', vrf: 'red neighbor' }, 'invalid-vrf', 'vrf'],
      ['peers', { name: 'p7', myASN: 64512, peerASN: 64513, peerAddress: '10.0.0.9', bfdProfile: 'nope' }, 'unknown-bfd-profile', 'bfdProfile'],
      ['pools', { name: 'x1', cidrs: [t.v4Grant.replace('.0.0/16', '.2.1/24')] }, 'invalid-cidr', 'cidrs/0'],
      ['bfd-profiles', { name: 'b1', receiveInterval: 5 }, 'invalid-bfd-profile', 'receiveInterval'],
      ['communities', { name: 'c1', value: '70000:1' }, 'invalid-community', 'value'],
      ['bgp-advertisements', { name: 'a1', ipAddressPools: ['nope'] }, 'unknown-pool', 'ipAddressPools/0'],
      ['l2-advertisements', { name: 'a2', communities: ['1:1'] }, 'unknown-field', ''],
      ['bgp-advertisements', { name: 'a3', communities: ['not-an-alias'] }, 'unknown-community', 'communities/0'],
    ];
    for (const [collection, body, code, path] of cases) {
      const res = await post(collection, body);
      assert.equal(res.status, 422, `${code}: ${res.text}`);
      assert.ok(res.body.errors.some((e: { code: string; path: string }) => e.code === code && e.path === path), `${code}: ${JSON.stringify(res.body.errors)}`);
    }
  });

  test('a rejected write changes nothing', async () => {
    const before = resultRows<{ n: number }>(await h.database.db.execute(sql`select count(*)::int as n from audit_events`))[0]!.n;
    assert.equal((await post('peers', { name: 'nothing', myASN: 64512, peerASN: 1, peerAddress: '10.0.0.9' })).status, 422);
    const afterCount = resultRows<{ n: number }>(await h.database.db.execute(sql`select count(*)::int as n from audit_events`))[0]!.n;
    assert.equal(afterCount, before);
    assertProblem(await get('peers/nothing'), 404, 'not-found');
  });

  test('names cannot change, and enableGracefulRestart is immutable as in MetalLB', async () => {
    const created = await post('peers', { name: 'gr', myASN: 64512, peerASN: 64513, peerAddress: '10.0.0.20', enableGracefulRestart: true });
    assert.equal(created.status, 201);
    const etag = created.headers.get('etag');
    assertProblem(await patch('peers/gr', { name: 'other' }, etag), 422, 'validation-failed');
    const gr = await patch('peers/gr', { enableGracefulRestart: false }, etag);
    assertProblem(gr, 422, 'validation-failed');
    assert.equal(gr.body.errors[0].code, 'immutable-field');
  });

  test('references: a BFD profile, pool or peer in use cannot be deleted (409); a community alias in use neither', async () => {
    assert.equal((await post('bfd-profiles', { name: 'used' })).status, 201);
    assert.equal((await post('peers', { name: 'uses', myASN: 64512, peerASN: 64513, peerAddress: '10.0.0.30', bfdProfile: 'used' })).status, 201);
    assert.equal((await post('pools', { name: 'ref-pool', cidrs: [t.v4Grant.replace('.0.0/16', '.30.0/24')] })).status, 201);
    assert.equal((await post('communities', { name: 'ref-comm', value: '64512:30' })).status, 201);
    assert.equal((await post('bgp-advertisements', { name: 'ref-adv', ipAddressPools: ['ref-pool'], peers: ['uses'], communities: ['ref-comm'] })).status, 201);
    for (const path of ['bfd-profiles/used', 'peers/uses', 'pools/ref-pool', 'communities/ref-comm']) {
      assertProblem(await h.call('DELETE', url(path), { token: t.tenantAdmin }), 409, 'in-use');
    }
    assert.equal((await h.call('DELETE', url('bgp-advertisements/ref-adv'), { token: t.tenantAdmin })).status, 204);
    for (const path of ['pools/ref-pool', 'communities/ref-comm', 'peers/uses', 'bfd-profiles/used']) {
      assert.equal((await h.call('DELETE', url(path), { token: t.tenantAdmin })).status, 204, path);
    }
  });

  test('malformed JSON is 400, a body over 1 MiB is 413, an unknown route is 404, all problem+json', async () => {
    assertProblem(await h.call('POST', url('pools'), { token: t.tenantAdmin, raw: '{"name": ' }), 400, 'malformed-request');
    const huge = JSON.stringify({ name: 'big', cidrs: ['x'.repeat(1024 * 1024)] });
    assertProblem(await h.call('POST', url('pools'), { token: t.tenantAdmin, raw: huge }), 413, 'payload-too-large');
    assertProblem(await h.call('GET', '/v1/nothing-here', { token: t.tenantAdmin }), 404, 'route-not-found');
    assertProblem(await get('pools?limit=0'), 400, 'invalid-limit');
    assertProblem(await get('pools?cursor=garbage!'), 400, 'invalid-cursor');
  });

  test('a database conflict never leaks the other row: overlap with another tenant says only that it overlaps', async () => {
    const other = await seedApiTenant(h, 'other');
    // A grant that overlaps another tenant's grant: 409 with no detail naming it.
    const res = await h.call('POST', `/v1/tenants/${other.slug}/grants`, { token: t.admin, body: { cidr: t.v4Grant.replace('/16', '/24') } });
    assertProblem(res, 409, 'address-overlap');
    assert.ok(!res.text.includes(t.v4Grant), res.text);
    assert.doesNotMatch(res.text, /conflicts with existing key|Key \(/);
  });
});

describe('passwords are write-only', () => {
  test('never returned, never audited in clear, kept across changes, removable', async () => {
    const created = await post('peers', { name: 'secret', myASN: 64512, peerASN: 64513, peerAddress: '10.0.0.40', password: 'Sup3r-s3cret' });
    assert.equal(created.status, 201);
    assert.equal(created.body.passwordSet, true);
    assert.ok(!created.text.includes('Sup3r-s3cret'));
    const changed = await patch('peers/secret', { holdTime: '60s' }, created.headers.get('etag'));
    assert.equal(changed.body.passwordSet, true, 'a patch without password keeps it');
    const removed = await patch('peers/secret', { password: null }, changed.headers.get('etag'));
    assert.equal(removed.body.passwordSet, false);
    const audit = await get('audit?limit=50');
    assert.ok(!audit.text.includes('Sup3r-s3cret'));
    const stored = resultRows<Record<string, unknown>>(await h.database.db.execute(sql`select * from audit_events`));
    assert.ok(!JSON.stringify(stored).includes('Sup3r-s3cret'));
  });
});

describe('tenant policy, rule by rule', () => {
  const policy = (changes: Record<string, unknown>) => h.call('PUT', url('policy'), {
    token: t.admin, body: { allowedASNs: [{ from: 64512, to: 65534 }], allowedPeerCIDRs: ['10.0.0.0/8', 'fd00::/8'], ...changes },
  });
  after(async () => { await policy({}); });

  const cases: Array<[string, Record<string, unknown>, string, unknown, string, string]> = [
    ['peer ASN outside the ranges', {}, 'peers', { name: 'x', myASN: 64512, peerASN: 174, peerAddress: '10.0.0.50' }, 'asn-not-allowed', 'peerASN'],
    ['peer address outside the CIDRs', {}, 'peers', { name: 'x', myASN: 64512, peerASN: 64513, peerAddress: '192.0.2.1' }, 'peer-address-not-allowed', 'peerAddress'],
    ['BFD required', { requireBFD: true }, 'peers', { name: 'x', myASN: 64512, peerASN: 64513, peerAddress: '10.0.0.50' }, 'bfd-required', 'bfdProfile'],
    ['password required', { requirePassword: true }, 'peers', { name: 'x', myASN: 64512, peerASN: 64513, peerAddress: '10.0.0.50' }, 'password-required', 'password'],
    ['local peering not allowed', {}, 'peers', { name: 'x', myASN: 64512, peerASN: 64513, peerAddress: '127.0.0.1' }, 'local-peering-not-allowed', 'peerAddress'],
    ['community not allowed', { allowedCommunities: ['64512:1'] }, 'bgp-advertisements', { name: 'x', communities: ['64512:2'] }, 'community-not-allowed', 'communities/0'],
    ['backend not allowed', { allowedBackends: ['frr'] }, 'clusters', { name: 'x', backend: 'metallb-native' }, 'backend-not-allowed', 'backend'],
    ['pool outside the grants', {}, 'pools', { name: 'x', cidrs: ['192.0.2.0/24'] }, 'pool-outside-grant', 'cidrs/0'],
    ['too many pools', { maxPools: 0 }, 'pools', { name: 'x', cidrs: [t?.v4Grant ?? ''] }, 'too-many-pools', 'name'],
  ];
  for (const [name, changes, collection, body, code, path] of cases) {
    test(name, async () => {
      assert.equal((await policy(changes)).status, 200);
      const res = await post(collection, collection === 'pools' && code === 'too-many-pools' ? { name: 'x', cidrs: [t.v4Grant.replace('.0.0/16', '.60.0/24')] } : body);
      assertProblem(res, 422, 'policy-violation');
      assert.deepEqual(res.body.errors.map((e: { code: string; path: string }) => [e.code, e.path]), [[code, path]]);
    });
  }

  test('the default policy denies every peer until a platform admin grants ASNs and addresses', async () => {
    const fresh = await seedApiTenant(h, 'fresh');
    await h.call('PUT', `/v1/tenants/${fresh.slug}/policy`, { token: fresh.admin, body: {} });
    const res = await h.call('POST', `/v1/tenants/${fresh.slug}/peers`, { token: fresh.tenantAdmin, body: { name: 'x', myASN: 64512, peerASN: 64513, peerAddress: '10.0.0.1' } });
    assertProblem(res, 422, 'policy-violation');
    assert.deepEqual(res.body.errors.map((e: { code: string }) => e.code).sort(), ['asn-not-allowed', 'peer-address-not-allowed']);
  });
});

describe('address management', () => {
  test('pools are carved from the grants: explicit, or the first free blocks; dual-stack in one pool', async () => {
    const explicit = await post('pools', { name: 'dual', cidrs: [t.v4Grant.replace('.0.0/16', '.70.0/26'), t.v6Grant.replace('::/48', ':70::/64')] });
    assert.equal(explicit.status, 201, explicit.text);
    const allocated = await post('pools', { name: 'auto4', allocate: { family: 4, prefixLength: 26, count: 2 } });
    assert.equal(allocated.status, 201, allocated.text);
    assert.equal(allocated.body.cidrs.length, 2);
    const again = await post('pools', { name: 'auto4b', allocate: { family: 4, prefixLength: 26 } });
    assert.equal(again.body.cidrs.length, 1);
    assert.ok(!allocated.body.cidrs.includes(again.body.cidrs[0]), 'a second allocation takes other blocks');
    assertProblem(await post('pools', { name: 'both', cidrs: ['198.1.0.0/24'], allocate: { family: 4, prefixLength: 24 } }), 422, 'validation-failed');
    assertProblem(await post('pools', { name: 'huge', allocate: { family: 4, prefixLength: 8 } }), 409, 'grant-exhausted');
    // Longer than the family allows: a field error, not a 500 (the fuzzer found /100 for IPv4).
    const tooLong = await post('pools', { name: 'too-long', allocate: { family: 4, prefixLength: 100 } });
    assertProblem(tooLong, 422, 'validation-failed');
    assert.deepEqual(tooLong.body.errors.map((e: { path: string; code: string }) => `${e.code} @ ${e.path}`), ['too-big @ allocate/prefixLength']);
    assert.equal((await post('pools', { name: 'v6-ok', allocate: { family: 6, prefixLength: 100 } })).status, 201);
  });

  test('concurrent allocations never hand out the same block', async () => {
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => post('pools', { name: `race-${i}`, allocate: { family: 6, prefixLength: 64 } })));
    for (const r of results) assert.equal(r.status, 201, r.text);
    const blocks = results.map((r) => r.body.cidrs[0]);
    assert.equal(new Set(blocks).size, blocks.length);
  });

  test('concurrent overlapping pools: one 201, the rest 409 address-overlap or 503 conflict-retry, never a 500', async () => {
    // Nested blocks /20../31 at the top of the grant: every pair overlaps. A loser either sees the
    // winner committed (409) or is picked by PostgreSQL's deadlock detector among the waiting
    // writers (503, the retry gets the 409).
    const [a, b] = t.v4Grant.split('.');
    const cidrs = Array.from({ length: 12 }, (_, i) => {
      const low = 0xffff & ~((1 << (12 - i)) - 1);
      return `${a}.${b}.${low >> 8}.${low & 255}/${20 + i}`;
    });
    const results = await Promise.all(cidrs.map((cidr, i) => post('pools', { name: `overlap-${i}`, cidrs: [cidr] })));
    assert.equal(results.filter((r) => r.status === 201).length, 1, JSON.stringify(results.map((r) => r.status)));
    for (const r of results.filter((x) => x.status !== 201)) {
      if (r.status === 503) assertProblem(r, 503, 'conflict-retry');
      else assertProblem(r, 409, 'address-overlap');
    }
    const pools = await get('pools?limit=500');
    assert.equal(pools.body.items.filter((p: { name: string }) => p.name.startsWith('overlap-')).length, 1, 'the losers left nothing');
  });

  test('a grant cannot be withdrawn while pools use it', async () => {
    const grants = await get('grants');
    const v4 = grants.body.items.find((g: { cidr: string }) => g.cidr === t.v4Grant);
    const res = await h.call('DELETE', url(`grants/${v4.id}`), { token: t.admin });
    assertProblem(res, 409, 'in-use');
  });
});
