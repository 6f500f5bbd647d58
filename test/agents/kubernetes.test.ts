// The Kubernetes applier and health against a loopback fake API server, with configs the
// render core produced.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KubernetesApplier, KubernetesHealth, SecretIdentityStore } from '../../agents/kubernetes.ts';
import { renderCluster } from '../../render/index.ts';
import { FakeKube } from '../helpers/fake-kube.ts';
import { intentFor, SCENARIOS } from '../render/scenarios.ts';

const NS = 'metallb-system';
let kube: FakeKube;
before(async () => { kube = new FakeKube(); await kube.start(); });
after(() => kube.stop());

function config(revision: number, body: Parameters<typeof intentFor>[1]) {
  const result = renderCluster(intentFor('metallb-frr-k8s', body));
  assert.ok(result.ok);
  return { revision, backend: result.backend, content: result.content, sha256: result.sha256 };
}

// Every kind the frr-k8s mode renders: a password Secret, a BFD profile, a Community and, for 127/8
// peering, the FRRConfiguration carrying allow-reserved-ranges.
const localPeering = SCENARIOS['local-peering-frr-9.1']!;
const full = {
  ...localPeering,
  peers: [...localPeering.peers!, { name: 'tor-a', myASN: 65001, peerASN: 65002, peerAddress: '10.250.0.2', holdTime: 90,
    password: 'pw-123', nodeSelectors: [{ matchLabels: { 'metalfleet.dev/rack': 'r1' } }], bfdProfile: 'fast' }],
  bfdProfiles: [{ name: 'fast', receiveInterval: 300, transmitInterval: 300, detectMultiplier: 3 }],
  communities: [{ name: 'no-adv', value: '65535:65282' }],
};

describe('server-side apply', () => {
  test('every object applied with apply-patch, fieldManager metalfleet-agent, in dependency order; stale managed objects pruned, others untouched', async () => {
    kube.put({ apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', metadata: { name: 'hand-made', namespace: NS } });
    kube.put({ apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', metadata: { name: 'stale', namespace: NS, labels: { 'app.kubernetes.io/managed-by': 'metalfleet' } } });
    const applier = new KubernetesApplier({ kubeConfig: kube.kubeConfig(), namespace: NS });
    const first = config(1, full);
    assert.deepEqual(await applier.apply(first), { ok: true });

    const patches = kube.requests.filter((r) => r.method === 'PATCH');
    assert.ok(patches.length >= 6);
    for (const p of patches) {
      assert.equal(p.contentType, 'application/apply-patch+yaml');
      assert.equal(p.query.get('fieldManager'), 'metalfleet-agent');
      assert.equal(p.query.get('force'), 'true');
    }
    const order = patches.map((p) => p.kind);
    const at = (kind: string) => order.indexOf(kind);
    assert.ok(at('Secret') < at('BGPPeer') && at('BFDProfile') < at('BGPPeer') && at('Community') < at('BGPPeer'), order.join(','));
    assert.ok(at('IPAddressPool') < at('BGPAdvertisement'), order.join(','));
    for (const kind of ['Secret', 'BFDProfile', 'IPAddressPool', 'BGPPeer', 'BGPAdvertisement', 'FRRConfiguration', 'Community']) {
      assert.ok([...kube.objects.values()].some((o) => o.kind === kind && o.metadata.labels?.['app.kubernetes.io/managed-by'] === 'metalfleet'), kind);
    }
    assert.equal(kube.find('BGPPeer', 'stale'), undefined, 'a managed object the revision lacks is pruned');
    assert.ok(kube.find('BGPPeer', 'hand-made'), 'objects metalfleet does not manage are left alone');

    const second = config(2, { ...full, advertisements: [] });
    assert.deepEqual(await applier.apply(second), { ok: true });
    assert.equal(kube.find('BGPAdvertisement', 'announce'), undefined);
    assert.ok(kube.find('BGPPeer', 'tor-a'));
  });

  test('a per-object error is reported by name, and nothing is pruned after it', async () => {
    const applier = new KubernetesApplier({ kubeConfig: kube.kubeConfig(), namespace: NS });
    kube.failures.add('BGPPeer/tor-a');
    const withoutPool = config(3, { ...full, pools: [], advertisements: [] });
    const outcome = await applier.apply(withoutPool);
    kube.failures.clear();
    assert.equal(outcome.ok, false);
    assert.match((outcome as { error: string }).error, /BGPPeer\/tor-a: 422 .*rejected by a webhook/);
    assert.ok(kube.find('IPAddressPool', 'web'), 'not pruned while an object failed');
  });
});

describe('health from the cluster', () => {
  test('BGPSessionState, ConfigurationState and nodes', async () => {
    kube.put({ apiVersion: 'frrk8s.metallb.io/v1beta1', kind: 'BGPSessionState', metadata: { name: 'w1-abcde', namespace: NS }, status: { node: 'w1', peer: '10.250.0.2', vrf: '', bgpStatus: 'Established', bfdStatus: 'Up' } });
    kube.put({ apiVersion: 'frrk8s.metallb.io/v1beta1', kind: 'BGPSessionState', metadata: { name: 'w2-fghij', namespace: NS }, status: { node: 'w2', peer: '10.250.0.2', vrf: '', bgpStatus: 'Active', bfdStatus: 'N/A' } });
    kube.put({ apiVersion: 'metallb.io/v1beta1', kind: 'ConfigurationState', metadata: { name: 'controller', namespace: NS }, status: { result: 'Invalid', errorSummary: 'peer tor-a: invalid myASN' } });
    kube.put({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'w1', labels: { 'kubernetes.io/hostname': 'w1', rack: 'r1' } } });
    const health = await new KubernetesHealth({ kubeConfig: kube.kubeConfig(), backend: 'metallb-frr-k8s', namespace: NS, metallbVersion: '0.16.1' }).collect();
    assert.deepEqual(health.sessions.map((s) => [s.node, s.bgpState, s.bfdState]).sort(), [['w1', 'Established', 'up'], ['w2', 'Active', null]]);
    assert.deepEqual(health.applyErrors, ['controller: peer tor-a: invalid myASN']);
    assert.deepEqual(health.capabilities, { metallbVersion: '0.16.1', nodes: [{ name: 'w1', labels: { 'kubernetes.io/hostname': 'w1', rack: 'r1' } }] });
  });

  test('native mode reads the speakers\' metrics', async () => {
    const health = await new KubernetesHealth({
      kubeConfig: kube.kubeConfig(), backend: 'metallb-native', namespace: NS, speakerMetrics: [{ node: 'w1', url: 'https://w1:7472/metrics' }],
      bearerToken: () => 'sa-token',
      fetch: (async (_url: string, init: RequestInit) => {
        assert.equal((init.headers as Record<string, string>).authorization, 'Bearer sa-token');
        return new Response('metallb_bgp_session_up{peer="10.250.0.2:179"} 1\n');
      }) as typeof fetch,
    }).collect();
    assert.deepEqual(health.sessions.map((s) => [s.node, s.peer, s.bgpState]), [['w1', '10.250.0.2', 'Established']]);
  });
});

test('the agent identity round-trips through a Secret of its own namespace', async () => {
  const store = new SecretIdentityStore(kube.kubeConfig(), 'metalfleet-system');
  assert.equal(await store.load(), undefined);
  await store.save({ 'agent-key.jwk': '{"kty":"OKP"}', 'identity.json': '{"agentId":"a"}' });
  assert.deepEqual(await store.load(), { 'agent-key.jwk': '{"kty":"OKP"}', 'identity.json': '{"agentId":"a"}' });
  assert.equal(kube.find('Secret', 'metalfleet-agent-identity')!.metadata.namespace, 'metalfleet-system');
});
