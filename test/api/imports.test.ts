// Importing an existing cluster's MetalLB objects through the API (dry run, apply, refusals), and
// exporting what a cluster is given (?format=yaml|json): the MetalLB 0.16 vocabulary end to end —
// address ranges, pool labels and ipAddressPoolSelectors, serviceSelectors, passwordSecret, and a
// BGP and an L2 advertisement sharing a name.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAllDocuments } from 'yaml';
import { seedApiTenant, startHarness, type Harness } from '../helpers/api.ts';

let h: Harness;
let t: Awaited<ReturnType<typeof seedApiTenant>>;
const url = (path: string) => `/v1/tenants/${t.slug}/${path}`;
const call = (method: string, path: string, body?: unknown) => h.call(method, url(path), { token: t.tenantAdmin, ...(body !== undefined ? { body } : {}) });

before(async () => {
  h = await startHarness();
  t = await seedApiTenant(h, 'importer');
  for (const [name, backend] of [['native', 'metallb-native'], ['frrmode', 'metallb-frr'], ['k8s', 'metallb-frr-k8s']] as const) {
    assert.equal((await call('POST', 'clusters', { name, backend, labels: { site: 'imported' } })).status, 201);
  }
});
after(() => h.close());

const v4 = (suffix: string) => t.v4Grant.replace('.0.0/16', suffix);

/** What `kubectl get … -o yaml` prints: a List. */
const listing = () => `apiVersion: v1
kind: List
items:
- apiVersion: metallb.io/v1beta1
  kind: IPAddressPool
  metadata: { name: web, namespace: metallb-system, labels: { tier: front } }
  spec:
    addresses: [${v4('.10.0/24')}, ${v4('.11.10')}-${v4('.11.40')}]
    serviceAllocation: { priority: 10, namespaces: [shop] }
- apiVersion: metallb.io/v1beta1
  kind: IPAddressPool
  metadata: { name: batch, namespace: metallb-system }
  spec: { addresses: [${v4('.12.0/26')}], autoAssign: false }
- apiVersion: metallb.io/v1beta2
  kind: BGPPeer
  metadata: { name: tor, namespace: metallb-system }
  spec: { myASN: 64512, peerASN: 64600, peerAddress: 10.0.0.1, holdTime: 90s, passwordSecret: { name: tor-secret, namespace: metallb-system } }
- apiVersion: metallb.io/v1beta1
  kind: BGPAdvertisement
  metadata: { name: front, namespace: metallb-system }
  spec:
    ipAddressPoolSelectors: [{ matchLabels: { tier: front } }]
    serviceSelectors: [{ matchLabels: { app: web } }]
    localPref: 150
- apiVersion: metallb.io/v1beta1
  kind: L2Advertisement
  metadata: { name: front, namespace: metallb-system }
  spec: { ipAddressPools: [batch], interfaces: [eth0] }
`;

describe('imports', () => {
  test('a dry run answers with what an apply creates and stores nothing; the apply stores it all', async () => {
    const dry = await call('POST', 'imports', { document: listing(), clusterSelector: { matchLabels: { site: 'imported' } } });
    assert.equal(dry.status, 200, dry.text);
    assert.equal(dry.body.applied, false);
    assert.deepEqual(dry.body.problems.filter((p: { severity: string }) => p.severity === 'error'), []);
    assert.deepEqual(dry.body.changes.map((c: { collection: string; name: string }) => `${c.collection}/${c.name}`), [
      'pools/web', 'pools/batch', 'peers/tor', 'bgp-advertisements/front', 'l2-advertisements/front',
    ]);
    assert.equal((await call('GET', 'pools/web')).status, 404, 'a dry run stores nothing');

    const applied = await call('POST', 'imports', { document: listing(), clusterSelector: { matchLabels: { site: 'imported' } }, apply: true });
    assert.equal(applied.status, 201, applied.text);
    const web = (await call('GET', 'pools/web')).body;
    assert.deepEqual(web.cidrs, [v4('.10.0/24'), `${v4('.11.10')}-${v4('.11.40')}`], 'a range is kept as a range');
    assert.deepEqual(web.labels, { tier: 'front' });
    assert.equal((await call('GET', 'peers/tor')).body.passwordSecret, 'tor-secret');
    assert.equal((await call('GET', 'bgp-advertisements/front')).status, 200);
    assert.equal((await call('GET', 'l2-advertisements/front')).status, 200, 'a BGP and an L2 advertisement share a name');
    const audit = (await call('GET', 'audit?limit=10')).body.items.map((e: { resource: string }) => e.resource);
    assert.deepEqual(audit.slice(0, 6), ['import', 'l2-advertisement', 'bgp-advertisement', 'peer', 'pool', 'pool']);
  });

  test('the clusters are given what was imported (exported as MetalLB objects: format=json and yaml)', async () => {
    for (const cluster of ['frrmode', 'k8s']) {
      const list = await call('GET', `clusters/${cluster}/config?format=json`);
      assert.equal(list.status, 200, list.text);
      assert.equal(list.body.kind, 'List');
      const byKind = (kind: string, name: string) => list.body.items.find((o: any) => o.kind === kind && o.metadata.name === name);
      assert.deepEqual(byKind('IPAddressPool', 'web').spec.addresses, [v4('.10.0/24'), `${v4('.11.10')}-${v4('.11.40')}`]);
      assert.equal(byKind('IPAddressPool', 'web').metadata.labels.tier, 'front');
      assert.deepEqual(byKind('BGPPeer', 'tor').spec.passwordSecret, { name: 'tor-secret', namespace: 'metallb-system' });
      assert.deepEqual(byKind('BGPAdvertisement', 'front').spec.serviceSelectors, [{ matchLabels: { app: 'web' } }]);
      assert.deepEqual(byKind('L2Advertisement', 'front').spec.interfaces, ['eth0']);
      const yaml = await h.app.request(url(`clusters/${cluster}/config?format=yaml`), { headers: { authorization: `Bearer ${t.tenantAdmin}` } });
      assert.equal(yaml.headers.get('content-type'), 'application/yaml');
      assert.deepEqual(parseAllDocuments(await yaml.text()).map((d) => d.toJSON()), list.body.items);
    }
  });

  test('what an import cannot express, and what the API refuses, is listed; an apply then stores nothing', async () => {
    const bad = `${listing().replace('name: web,', 'name: web2,').replace('name: batch,', 'name: batch2,').replace(/name: (tor|front),/g, 'name: $1-2,')
      .replace(`${v4('.10.0/24')}`, `${v4('.10.128/25')}`)}
- apiVersion: metallb.io/v1beta1
  kind: ServiceL2Status
  metadata: { name: x, namespace: metallb-system }
`;
    const dry = await call('POST', 'imports', { document: bad });
    assert.equal(dry.status, 200);
    assert.ok(dry.body.problems.some((p: { code: string }) => p.code === 'import-unknown-kind'), dry.text);
    const refused = await call('POST', 'imports', { document: bad.replace(/- apiVersion: metallb.io\/v1beta1\n {2}kind: ServiceL2Status[\s\S]*$/, ''), apply: true });
    assert.equal(refused.status, 422, refused.text);
    assert.equal(refused.body.code, 'import-refused');
    // The pool overlaps the imported web pool: named, with the CIDR.
    assert.ok(refused.body.errors.some((e: { code: string; message: string }) => e.code === 'address-overlap' && /pool web\b/.test(e.message)), refused.text);
    assert.equal((await call('GET', 'pools/batch2')).status, 404, 'nothing of a refused import is stored');
  });

  test('export of a host FRR cluster: frr.conf as text; no JSON objects', async () => {
    assert.equal((await call('POST', 'clusters', { name: 'host', backend: 'frr' })).status, 201);
    const text = await h.app.request(url('clusters/host/config?format=yaml'), { headers: { authorization: `Bearer ${t.tenantAdmin}` } });
    assert.match(text.headers.get('content-type')!, /^text\/plain/);
    assert.match(await text.text(), /^hostname host$/m);
    const json = await call('GET', 'clusters/host/config?format=json');
    assert.equal(json.status, 422);
    assert.equal(json.body.code, 'format-unsupported');
  });
});
