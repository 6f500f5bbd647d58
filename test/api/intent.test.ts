// A tenant's whole intent as one document: export, plan, apply. Invariants: a plan stores nothing
// and predicts exactly what an apply of the same document does (object changes, which clusters get
// which new revision, refusals); applying the export changes nothing; a refused apply changes
// nothing; If-Match guards against applying a plan made against an intent that changed since.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parse } from 'yaml';
import { seedApiTenant, startHarness, type Harness } from '../helpers/api.ts';

let h: Harness;
let t: Awaited<ReturnType<typeof seedApiTenant>>;
let prop: Awaited<ReturnType<typeof seedApiTenant>>;
const url = (path: string) => `/v1/tenants/${t.slug}/${path}`;
const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  h.call(method, url(path), { token: t.tenantAdmin, ...(body !== undefined ? { body } : {}), ...(headers ? { headers } : {}) });
const v4 = (suffix: string) => t.v4Grant.replace('.0.0/16', suffix);

before(async () => {
  h = await startHarness();
  t = await seedApiTenant(h, 'intent');
  prop = await seedApiTenant(h, 'prop');
});
after(() => h.close());

/** A document: two clusters, BFD, a community, pools, peers, an advertisement. */
function document(overrides: Record<string, unknown> = {}) {
  return {
    apiVersion: 'metalfleet.io/v1', kind: 'TenantIntent',
    clusters: [{ name: 'edge-1', backend: 'frr', labels: { site: 'fra1' } }, { name: 'edge-2', backend: 'metallb-frr', labels: { site: 'ams1' } }],
    bfdProfiles: [{ name: 'fast', receiveInterval: 300, transmitInterval: 300, detectMultiplier: 3 }],
    communities: [{ name: 'no-export', value: '65535:65281' }],
    pools: [
      { name: 'web', cidrs: [v4('.1.0/26')] },
      { name: 'fra-only', cidrs: [v4('.2.0/28')], clusterSelector: { matchLabels: { site: 'fra1' } } },
    ],
    peers: [{ name: 'tor', myASN: 64512, peerASN: 64600, peerAddress: '10.0.0.1', bfdProfile: 'fast', password: 's3cret-pw' }],
    bgpAdvertisements: [
      { name: 'out', ipAddressPools: ['web'], communities: ['no-export'] },
      { name: 'fra-out', ipAddressPools: ['fra-only'], clusterSelector: { matchLabels: { site: 'fra1' } } },
    ],
    l2Advertisements: [],
    ...overrides,
  };
}

const summary = (changes: Array<{ kind: string; name: string; action: string }>) => changes.map((c) => `${c.action} ${c.kind}/${c.name}`);

describe('intent documents', () => {
  test('plan stores nothing; apply does exactly what the plan said; applying the export changes nothing', async () => {
    const empty = await call('GET', 'intent');
    assert.equal(empty.status, 200);
    const plan = await call('POST', 'intent/plan', document());
    assert.equal(plan.status, 200, plan.text);
    assert.equal(plan.body.applied, false);
    assert.deepEqual(plan.body.problems, []);
    assert.deepEqual(plan.body.refused, []);
    assert.deepEqual(summary(plan.body.changes), [
      'create bfdProfiles/fast', 'create communities/no-export', 'create clusters/edge-1', 'create clusters/edge-2',
      'create pools/web', 'create pools/fra-only', 'create peers/tor', 'create bgpAdvertisements/out', 'create bgpAdvertisements/fra-out',
    ]);
    const edge1 = plan.body.clusters.find((c: { cluster: string }) => c.cluster === 'edge-1');
    assert.match(edge1.diff, /^\+\s*network \S+\/28$/m, 'the fra-only pool reaches edge-1');
    assert.doesNotMatch(plan.body.clusters.find((c: { cluster: string }) => c.cluster === 'edge-2').diff, /\/28/, 'and not edge-2');
    assert.doesNotMatch(JSON.stringify(plan.body), /s3cret-pw/, 'passwords redacted in the diffs');
    assert.equal((await call('GET', 'pools/web')).status, 404, 'a plan stores nothing');
    assert.equal((await call('GET', 'intent')).headers.get('etag'), empty.headers.get('etag'));

    const applied = await call('PUT', 'intent', document(), { 'if-match': plan.body.etag });
    assert.equal(applied.status, 200, applied.text);
    assert.deepEqual(applied.body.changes, plan.body.changes);
    assert.deepEqual(applied.body.clusters, plan.body.clusters, 'the same revisions and diffs');
    const exported = await call('GET', 'intent');
    assert.equal(exported.headers.get('etag'), applied.body.appliedEtag);
    assert.equal(exported.body.peers[0].password, undefined, 'the export never holds a password');

    // The export, applied: nothing changes (no revision, no audit event).
    const auditBefore = (await call('GET', 'audit?limit=1')).body.items[0].id;
    const again = await call('PUT', 'intent', exported.body, { 'if-match': exported.headers.get('etag')! });
    assert.equal(again.status, 200, again.text);
    assert.deepEqual(again.body.changes, []);
    assert.deepEqual(again.body.clusters, []);
    assert.equal((await call('GET', 'audit?limit=1')).body.items[0].id, auditBefore);
    // The same document with its password, too: the password is compared, not resealed.
    assert.deepEqual((await call('PUT', 'intent', document(), { 'if-match': '*' })).body.changes, []);
    // YAML export parses to the same document.
    const yaml = await h.call('GET', url('intent?format=yaml'), { token: t.tenantAdmin });
    assert.match(yaml.headers.get('content-type')!, /application\/yaml/);
    assert.deepEqual(parse(yaml.text), exported.body);
  });

  test('a changed field is an update naming it; prune deletes what the document leaves out, in dependency order', async () => {
    const current = (await call('GET', 'intent')).body;
    const changed = { ...current, peers: [{ ...current.peers[0], holdTime: '90s' }] };
    const plan = await call('POST', 'intent/plan', changed);
    assert.deepEqual(plan.body.changes, [{ kind: 'peers', name: 'tor', action: 'update', fields: ['holdTime'] }]);
    assert.match(plan.body.clusters.find((c: { cluster: string }) => c.cluster === 'edge-1').diff, /^\+.*timers 30 90$/m);

    // Without prune, leaving objects out changes nothing; with prune the advertisement goes before its pool.
    const smaller = { ...current, pools: current.pools.filter((p: { name: string }) => p.name === 'web'),
      bgpAdvertisements: current.bgpAdvertisements.filter((a: { name: string }) => a.name === 'out') };
    assert.deepEqual(summary((await call('POST', 'intent/plan', smaller)).body.changes), []);
    const pruned = await call('POST', 'intent/plan?prune=true', smaller);
    assert.deepEqual(summary(pruned.body.changes), ['delete bgpAdvertisements/fra-out', 'delete pools/fra-only']);
    assert.deepEqual(pruned.body.problems, []);
    assert.deepEqual(pruned.body.clusters.map((c: { cluster: string }) => c.cluster), ['edge-1'], 'only edge-1 had them');
  });

  test('refusals: policy and grants are problems of the plan; a refused apply changes nothing; a stale If-Match is 412', async () => {
    const current = await call('GET', 'intent');
    const rogue = { ...current.body, peers: [...current.body.peers, { name: 'rogue', myASN: 64512, peerASN: 174, peerAddress: '192.0.2.9' }],
      pools: [...current.body.pools, { name: 'stolen', cidrs: ['203.0.113.0/24'] }] };
    const plan = await call('POST', 'intent/plan', rogue);
    assert.equal(plan.status, 200);
    const codes = plan.body.problems.map((p: { code: string; path: string }) => `${p.path.split('/').slice(0, 2).join('/')} ${p.code}`);
    assert.ok(codes.some((c: string) => c.startsWith('peers/rogue')), codes.join(', '));
    assert.ok(codes.some((c: string) => c === 'pools/stolen pool-outside-grant'), codes.join(', '));
    const refused = await call('PUT', 'intent', rogue, { 'if-match': current.headers.get('etag')! });
    assert.equal(refused.status, 422);
    assert.equal(refused.body.code, 'intent-refused');
    assert.equal((await call('GET', 'intent')).headers.get('etag'), current.headers.get('etag'), 'nothing changed');
    assert.equal((await call('PUT', 'intent', current.body)).status, 428);

    // Someone else changes the intent between plan and apply.
    const planned = await call('POST', 'intent/plan', { ...current.body, communities: [] });
    assert.equal((await call('POST', 'communities', { name: 'late', value: '64512:1' })).status, 201);
    const stale = await call('PUT', 'intent', { ...current.body, communities: [] }, { 'if-match': planned.body.etag });
    assert.equal(stale.status, 412);
    assert.equal(stale.body.code, 'precondition-failed');
  });

  test('hostile documents: unknown kinds, duplicate names, objects without a name, a viewer', async () => {
    const current = (await call('GET', 'intent')).body;
    assert.equal((await call('POST', 'intent/plan', { ...current, routers: [] })).status, 422);
    const dup = await call('POST', 'intent/plan', { ...current, communities: [{ name: 'x', value: '1:1' }, { name: 'x', value: '1:2' }] });
    assert.deepEqual(dup.body.problems.map((p: { code: string }) => p.code), ['duplicate-name']);
    const nameless = await call('POST', 'intent/plan', { ...current, communities: [{ value: '1:1' }] });
    assert.equal(nameless.status, 422, 'each object is its collection\'s create body: the shape is checked first');
    assert.deepEqual(nameless.body.errors.map((e: { path: string }) => e.path), ['communities/0/name']);
    const injected = await call('POST', 'intent/plan', { ...current, communities: [{ name: 'x\nrouter bgp 1', value: '1:1' }] });
    assert.equal(injected.status, 422, 'a control character anywhere in a body is refused before anything reads it');
    const viewer = await h.call('POST', url('intent/plan'), { token: t.viewer, body: current });
    assert.equal(viewer.status, 403);
  });
});

describe('plan predicts apply (property)', () => {
  test('for random documents, apply does what the plan said, and a second apply changes nothing', async () => {
    const pools = ['a', 'b', 'c'];
    const arbitraryDocument = fc.record({
      pools: fc.subarray(pools).chain((names) => fc.tuple(...names.map((n, i) => fc.record({
        name: fc.constant(n), cidrs: fc.constant([prop.v4Grant.replace(".0.0/16", `.${50 + i}.0/28`)]),
        autoAssign: fc.option(fc.boolean(), { nil: undefined }),
      })))),
      peerAsn: fc.integer({ min: 64600, max: 64610 }),
      holdTime: fc.constantFrom(undefined, '90s', '180s'),
      advertise: fc.boolean(),
      clusters: fc.subarray(['p1', 'p2']),
      prune: fc.boolean(),
    });
    await fc.assert(fc.asyncProperty(arbitraryDocument, async (d) => {
      const strip = <T extends Record<string, unknown>>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
      const doc = {
        clusters: d.clusters.map((name) => ({ name, backend: 'frr' })),
        pools: d.pools.map(strip),
        peers: [strip({ name: 'p', myASN: 64512, peerASN: d.peerAsn, peerAddress: '10.9.0.1', holdTime: d.holdTime })],
        bgpAdvertisements: d.advertise && d.pools.length > 0 ? [{ name: 'adv', ipAddressPools: d.pools.map((p) => p.name) }] : [],
      };
      const query = d.prune ? '?prune=true' : '';
      const plan = await h.call('POST', `/v1/tenants/prop/intent/plan${query}`, { token: prop.tenantAdmin, body: doc });
      assert.equal(plan.status, 200, plan.text);
      const applied = await h.call('PUT', `/v1/tenants/prop/intent${query}`, { token: prop.tenantAdmin, body: doc, headers: { 'if-match': plan.body.etag } });
      if (plan.body.problems.length > 0 || plan.body.refused.length > 0) {
        assert.equal(applied.status, 422, applied.text);
        return;
      }
      assert.equal(applied.status, 200, applied.text);
      assert.deepEqual(applied.body.changes, plan.body.changes);
      assert.deepEqual(applied.body.clusters, plan.body.clusters);
      const second = await h.call('PUT', `/v1/tenants/prop/intent${query}`, { token: prop.tenantAdmin, body: doc, headers: { 'if-match': '*' } });
      assert.deepEqual(second.body.changes, [], 'idempotent');
    }), { numRuns: 25 });
  });
});
