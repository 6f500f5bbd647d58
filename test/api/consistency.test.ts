// The write path's invariant, as a property under concurrency: after any set of concurrent writes
// has committed, every cluster's desired config is exactly the render of the committed intent, and
// the audit trail has exactly one row per successful write. Random mixes of writes to every
// collection, the policy, cluster labels and backends, and rollbacks run in parallel (many pooled
// connections on PostgreSQL; PGlite runs them one by one, where it must hold trivially). Two
// oracles: api/verify.ts (the render of the stored intent, as the maintenance job checks it) and
// one that uses no render code at all (the pools in each served MetalLB config against the pools
// the API lists for that cluster).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseAllDocuments } from 'yaml';
import { sql } from 'drizzle-orm';
import { resultRows } from '../../db/client.ts';
import { withPlatform } from '../../db/tenant.ts';
import { verifyFleet } from '../../api/verify.ts';
import { selectorMatches, type LabelSelector } from '../../render/policy.ts';
import { seedApiTenant, startHarness, type ApiResponse, type Harness } from '../helpers/api.ts';

let h: Harness;
let t: Awaited<ReturnType<typeof seedApiTenant>>;
const url = (path: string) => `/v1/tenants/${t.slug}/${path}`;

before(async () => {
  h = await startHarness();
  t = await seedApiTenant(h, 'race');
});
after(() => h.close());

const CLUSTERS = [
  { name: 'host-a', backend: 'frr', site: 'a' },
  { name: 'k8s-a', backend: 'metallb-frr-k8s', site: 'a' },
  { name: 'frrmode-b', backend: 'metallb-frr', site: 'b' },
  { name: 'native-b', backend: 'metallb-native', site: 'b' },
] as const;

/** A /28 of the tenant's IPv4 grant, or a /64 of its IPv6 grant, by index. */
const cidr = (i: number) => (i % 5 === 4
  ? t.v6Grant.replace('::/48', `:${(i + 1).toString(16)}::/64`)
  : t.v4Grant.replace('.0.0/16', `.${20 + Math.floor(i / 16)}.${(i % 16) * 16}/28`));
const selector = (site: 'a' | 'b' | null) => (site ? { clusterSelector: { matchLabels: { site } } } : {});
const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

const Site = fc.constantFrom<'a' | 'b' | null>('a', 'b', null);
/** One write, as (method, path, body, headers); some need state read at run time (ETags, revisions). */
const Op = fc.oneof(
  fc.record({ kind: fc.constant('pool'), name: fc.constantFrom(...names('pool', 6)), cidr: fc.nat(23), site: Site }),
  fc.record({ kind: fc.constant('pool-delete'), name: fc.constantFrom(...names('pool', 6)) }),
  fc.record({ kind: fc.constant('pool-patch'), name: fc.constantFrom(...names('pool', 6)), site: Site }),
  fc.record({ kind: fc.constant('peer'), name: fc.constantFrom(...names('peer', 4)), host: fc.integer({ min: 1, max: 200 }), site: Site, bfd: fc.boolean() }),
  fc.record({ kind: fc.constant('peer-delete'), name: fc.constantFrom(...names('peer', 4)) }),
  fc.record({ kind: fc.constant('bfd'), name: fc.constantFrom(...names('bfd', 2)), interval: fc.integer({ min: 50, max: 500 }) }),
  fc.record({ kind: fc.constant('community'), name: fc.constantFrom(...names('comm', 2)), value: fc.integer({ min: 1, max: 999 }) }),
  fc.record({
    kind: fc.constant('advertisement'), name: fc.constantFrom(...names('adv', 3)),
    pools: fc.subarray(names('pool', 6), { maxLength: 2 }), localPref: fc.option(fc.integer({ min: 0, max: 300 }), { nil: undefined }), site: Site,
  }),
  fc.record({ kind: fc.constant('adv-delete'), name: fc.constantFrom(...names('adv', 3)) }),
  fc.record({ kind: fc.constant('policy'), communities: fc.boolean() }),
  fc.record({ kind: fc.constant('cluster-labels'), cluster: fc.constantFrom(...CLUSTERS.map((c) => c.name)), site: fc.constantFrom('a', 'b') }),
  fc.record({ kind: fc.constant('cluster-backend'), cluster: fc.constantFrom('host-a', 'k8s-a'), backend: fc.constantFrom('frr', 'metallb-frr-k8s', 'metallb-frr') }),
  fc.record({ kind: fc.constant('rollback'), cluster: fc.constantFrom(...CLUSTERS.map((c) => c.name)), back: fc.integer({ min: 1, max: 6 }) }),
  // The whole intent read, changed and applied as one document (api/intent.ts), pruning a pool or not.
  // `force`: If-Match * (apply over whatever committed meanwhile) instead of the ETag just read.
  fc.record({ kind: fc.constant('intent'), value: fc.integer({ min: 1, max: 999 }), prune: fc.boolean(), force: fc.boolean() }),
);
type Op = typeof Op extends fc.Arbitrary<infer T> ? T : never;

const WRITE = { token: () => t.tenantAdmin };

async function run(op: Op): Promise<ApiResponse> {
  const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
    h.call(method, url(path), { token: WRITE.token(), ...(body !== undefined ? { body } : {}), ...(headers ? { headers } : {}) });
  const patchWithEtag = async (path: string, body: unknown) => {
    const current = await call('GET', path);
    if (current.status !== 200) return current;
    return call('PATCH', path, body, { 'if-match': current.headers.get('etag')! });
  };
  switch (op.kind) {
    case 'pool': return call('POST', 'pools', { name: op.name, cidrs: [cidr(op.cidr)], ...selector(op.site) });
    case 'pool-delete': return call('DELETE', `pools/${op.name}`);
    case 'pool-patch': return patchWithEtag(`pools/${op.name}`, { clusterSelector: op.site ? { matchLabels: { site: op.site } } : null });
    case 'peer': return call('POST', 'peers', {
      name: op.name, myASN: 64512, peerASN: 64600, peerAddress: `10.0.${op.host}.1`, ...selector(op.site), ...(op.bfd ? { bfdProfile: 'bfd-0' } : {}),
    });
    case 'peer-delete': return call('DELETE', `peers/${op.name}`);
    case 'bfd': return call('POST', 'bfd-profiles', { name: op.name, receiveInterval: op.interval, transmitInterval: op.interval });
    case 'community': return call('POST', 'communities', { name: op.name, value: `64512:${op.value}` });
    case 'advertisement': return call('POST', 'bgp-advertisements', {
      name: op.name, ipAddressPools: op.pools, ...(op.localPref !== undefined ? { localPref: op.localPref } : {}), ...selector(op.site),
    });
    case 'adv-delete': return call('DELETE', `bgp-advertisements/${op.name}`);
    case 'policy': return call('PUT', 'policy', {
      allowedASNs: [{ from: 64512, to: 65534 }], allowedPeerCIDRs: ['10.0.0.0/8', 'fd00::/8'], ...(op.communities ? { allowedCommunities: ['64512:1'] } : {}),
    });
    case 'cluster-labels': return patchWithEtag(`clusters/${op.cluster}`, { labels: { site: op.site } });
    case 'cluster-backend': return patchWithEtag(`clusters/${op.cluster}`, { backend: op.backend });
    case 'rollback': {
      const status = await call('GET', `clusters/${op.cluster}`);
      return call('POST', `clusters/${op.cluster}/rollback`, { revision: Math.max(1, status.body.desiredRevision - op.back) });
    }
    case 'intent': {
      const current = await call('GET', 'intent');
      const document = {
        ...current.body,
        communities: [...current.body.communities.filter((c: { name: string }) => c.name !== 'comm-0'), { name: 'comm-0', value: `64512:${op.value}` }],
        pools: op.prune ? current.body.pools.slice(1) : current.body.pools,
      };
      return call('PUT', `intent${op.prune ? '?prune=true' : ''}`, document, { 'if-match': op.force ? '*' : current.headers.get('etag')! });
    }
  }
}

/** Intent applies: their request ids and how many audit rows each must have (one per change, plus one). */
const intentApplies: Array<{ id: string; rows: number }> = [];

/** Requests that changed something: their request ids, to compare with the audit trail. */
const succeeded: string[] = [];
const failed: string[] = [];

async function runRound(ops: Op[]) {
  const results = await Promise.all(ops.map(run));
  for (const [i, res] of results.entries()) {
    // Refusals are expected (a name taken, a pool in use, a native cluster and IPv6 …); a 500 never.
    assert.ok(res.status < 500 || (res.status === 503 && res.body?.code === 'conflict-retry'), `${JSON.stringify(ops[i])}: ${res.status} ${res.text}`);
    if (res.status >= 400) assert.equal(res.headers.get('content-type'), 'application/problem+json');
    const id = res.headers.get('x-request-id')!;
    if (ops[i]!.kind === 'intent' && res.status < 300) intentApplies.push({ id, rows: res.body.changes.length ? res.body.changes.length + 1 : 0 });
    else (res.status < 300 ? succeeded : failed).push(id);
  }
}

/** Pools a cluster is given, from what the API lists (no render code involved). */
async function poolsFor(cluster: { labels: Record<string, string> }): Promise<Set<string>> {
  const pools = (await h.call('GET', url('pools?limit=500'), { token: t.tenantAdmin })).body.items as Array<{ cidrs: string[]; clusterSelector?: LabelSelector }>;
  return new Set(pools.filter((p) => selectorMatches(p.clusterSelector ?? null, cluster.labels)).flatMap((p) => p.cidrs));
}

async function assertInvariant(label: string) {
  const drift = await verifyFleet(h.database.db, { secretKey: h.secretKey, signingKey: h.auth.signingKey }, { repair: false });
  assert.deepEqual(drift.findings, [], `${label}: desired configs that are not the render of the committed intent`);
  assert.equal(drift.checked, CLUSTERS.length);

  for (const { name } of CLUSTERS) {
    const cluster = (await h.call('GET', url(`clusters/${name}`), { token: t.tenantAdmin })).body;
    if (cluster.pinnedRevision !== null || cluster.renderProblems !== null) continue; // a rollback in effect serves older intent
    const config = (await h.call('GET', url(`clusters/${name}/config`), { token: t.tenantAdmin })).body;
    const expected = await poolsFor(cluster);
    if (config.backend === 'frr') {
      const announced = [...config.content.matchAll(/^ {4}network (\S+)$/gm)].map((m) => m[1]);
      for (const prefix of announced) assert.ok(expected.has(prefix), `${label}: ${name} announces ${prefix}, which no pool gives it`);
    } else {
      const served = parseAllDocuments(config.content).map((d) => d.toJSON()).filter((o) => o?.kind === 'IPAddressPool')
        .flatMap((o) => o.spec.addresses as string[]);
      assert.deepEqual(new Set(served), expected, `${label}: ${name} serves other pools than the committed intent gives it`);
    }
  }

  const audited = resultRows<{ request_id: string; n: number | string }>(await withPlatform(h.database.db, (tx) => tx.execute(
    sql`select request_id, count(*) as n from audit_events where actor <> 'test-platform' group by request_id`)));
  const counts = new Map(audited.map((r) => [r.request_id, Number(r.n)]));
  for (const id of succeeded) assert.equal(counts.get(id), 1, `${label}: a successful write has exactly one audit row`);
  for (const id of failed) assert.equal(counts.get(id), undefined, `${label}: a refused write left an audit row`);
  for (const { id, rows } of intentApplies) assert.equal(counts.get(id) ?? 0, rows, `${label}: an intent apply has one audit row per change and one for itself`);
}

describe('a served config always equals the committed intent', () => {
  before(async () => {
    for (const c of CLUSTERS) {
      const res = await h.call('POST', url('clusters'), { token: t.tenantAdmin, body: { name: c.name, backend: c.backend, labels: { site: c.site } } });
      assert.equal(res.status, 201, res.text);
      succeeded.push(res.headers.get('x-request-id')!);
    }
  });

  test('8 parallel pool creations, one frr cluster selecting all: its config holds all 8 (the lost-write report)', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) =>
      h.call('POST', url('pools'), { token: t.tenantAdmin, body: { name: `burst-${i}`, cidrs: [cidr(40 + i)] } })));
    for (const res of results) {
      assert.equal(res.status, 201, res.text);
      succeeded.push(res.headers.get('x-request-id')!);
    }
    for (const { name } of CLUSTERS.filter((c) => c.backend !== 'frr')) {
      const config = (await h.call('GET', url(`clusters/${name}/config`), { token: t.tenantAdmin })).body.content as string;
      for (let i = 0; i < 8; i++) assert.ok(config.includes(cidr(40 + i)), `${name} lost burst-${i}`);
    }
    await assertInvariant('burst');
    for (let i = 0; i < 8; i++) {
      const res = await h.call('DELETE', url(`pools/burst-${i}`), { token: t.tenantAdmin });
      assert.equal(res.status, 204, res.text);
      succeeded.push(res.headers.get('x-request-id')!);
    }
  });

  test('random mixes of parallel writes (every collection, policy, labels, backends, rollback)', async () => {
    let round = 0;
    await fc.assert(fc.asyncProperty(fc.array(Op, { minLength: 12, maxLength: 28 }), async (ops) => {
      round++;
      await runRound(ops);
      await assertInvariant(`round ${round}`);
    }), { numRuns: 8, seed: Number(process.env.FC_SEED ?? Date.now() % 1_000_000), endOnFailure: true, includeErrorInReport: true });
  });

  test('an intent apply amid parallel writers of other objects: applied, and the invariant holds', async () => {
    const before = intentApplies.length;
    await runRound([
      { kind: 'intent', value: 777, prune: false, force: true },
      { kind: 'community', name: 'comm-1', value: 5 }, { kind: 'bfd', name: 'bfd-1', interval: 100 },
      { kind: 'cluster-labels', cluster: CLUSTERS[0]!.name, site: 'b' },
    ]);
    assert.equal(intentApplies.length, before + 1, 'the apply went through');
    assert.ok(intentApplies.at(-1)!.rows >= 2, 'and changed comm-0');
    await assertInvariant('intent amid writers');
  });
});
