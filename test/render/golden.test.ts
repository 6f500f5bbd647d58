// Golden files: every scenario rendered for every backend, byte for byte. A refusal is golden
// too (the problem list). Regenerate after an intended change with UPDATE_GOLDEN=1 npm test, and
// review the diff.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderCluster } from '../../render/index.ts';
import { ALL_BACKENDS, intentFor, SCENARIOS } from './scenarios.ts';

const GOLDEN = fileURLToPath(new URL('./golden/', import.meta.url));
const update = process.env.UPDATE_GOLDEN === '1';

export function goldenText(result: ReturnType<typeof renderCluster>): { file: string; text: string } {
  if (!result.ok) return { file: 'problems.json', text: JSON.stringify(result.problems, null, 2) + '\n' };
  return { file: result.backend === 'frr' ? 'frr.conf' : 'objects.yaml', text: result.content };
}

describe('golden renders', () => {
  for (const [scenario, body] of Object.entries(SCENARIOS)) {
    for (const backend of ALL_BACKENDS) {
      test(`${scenario} on ${backend}`, () => {
        const result = renderCluster(intentFor(backend, body));
        const { file, text } = goldenText(result);
        const dir = `${GOLDEN}${scenario}/`;
        const path = `${dir}${backend}.${file}`;
        if (update) {
          mkdirSync(dir, { recursive: true });
          writeFileSync(path, text);
        }
        assert.ok(existsSync(path), `no golden file ${path}: run UPDATE_GOLDEN=1 npm test and review it`);
        assert.equal(text, readFileSync(path, 'utf8'));
      });
    }
  }
});

describe('what each scenario must show', () => {
  const render = (scenario: string, backend: (typeof ALL_BACKENDS)[number]) => renderCluster(intentFor(backend, SCENARIOS[scenario]!));
  const codes = (r: ReturnType<typeof renderCluster>) => (r.ok ? [] : [...new Set(r.problems.map((p) => p.code))].sort());

  test('native mode refuses IPv6 announcements, naming metallb-frr-k8s as the remedy', () => {
    const r = render('ipv6-only', 'metallb-native');
    assert.deepEqual(codes(r), ['native-ipv6-peer-unsupported', 'native-ipv6-unsupported']);
    assert.ok(!r.ok && r.problems.every((p) => /metallb-frr-k8s/.test(p.remedy)));
    for (const backend of ['metallb-frr', 'metallb-frr-k8s', 'frr'] as const) assert.ok(render('ipv6-only', backend).ok, backend);
  });

  test('native mode refuses exactly the FRR-only features', () => {
    assert.deepEqual(codes(render('frr-only-features', 'metallb-native')), [
      'native-bfd-unsupported', 'native-connect-time-unsupported', 'native-graceful-restart-unsupported',
      'native-ipv6-unsupported', 'native-keepalive-unsupported', 'native-large-community-unsupported',
    ]);
    assert.deepEqual(codes(render('unnumbered', 'metallb-native')), [
      'native-dynamic-asn-unsupported', 'native-interface-unsupported', 'native-ipv6-unsupported',
    ]);
    assert.deepEqual(codes(render('vrf', 'metallb-native')), ['native-vrf-unsupported']);
    assert.deepEqual(codes(render('dual-stack-session', 'metallb-native')), ['native-dual-stack-unsupported', 'native-ipv6-unsupported']);
    assert.deepEqual(codes(render('frr-k8s-supplement', 'metallb-native')), ['native-bfd-unsupported', 'native-local-asn-unsupported']);
  });

  test('127.0.0.0/8 peering: allow-reserved-ranges first on FRR 9.1, refused on FRR 8.4 with the node-address recipe', () => {
    const frr9 = render('local-peering-frr-9.1', 'frr');
    assert.ok(frr9.ok);
    assert.equal(frr9.content.split('\n')[0], 'allow-reserved-ranges');
    const frr8 = render('local-peering-frr-8.4', 'frr');
    assert.deepEqual(codes(frr8), ['local-peering-needs-frr-9']);
    assert.ok(!frr8.ok && /node address.*-p 0.*BIRD needs multihop/.test(frr8.problems[0]!.remedy));
    const node = render('local-peering-node-address', 'frr');
    assert.ok(node.ok && !node.content.includes('allow-reserved-ranges'), 'peering via the node address needs no knob');
  });

  test('the knob reaches MetalLB through bgpextras (FRR mode) and rawConfig (frr-k8s mode), never unasked', () => {
    const frrMode = render('local-peering-frr-9.1', 'metallb-frr');
    assert.ok(frrMode.ok && frrMode.objects!.some((o) => o.kind === 'ConfigMap' && o.metadata.name === 'bgpextras'
      && (o.data as Record<string, string>).extras === 'allow-reserved-ranges\n'));
    const k8sMode = render('local-peering-frr-9.1', 'metallb-frr-k8s');
    assert.ok(k8sMode.ok && k8sMode.objects!.some((o) => o.kind === 'FRRConfiguration'
      && (o.spec as { raw?: { rawConfig?: string } }).raw?.rawConfig === 'allow-reserved-ranges\n'));
    for (const backend of ['metallb-frr', 'metallb-frr-k8s', 'frr'] as const) {
      const r = render('ipv4-only', backend);
      assert.ok(r.ok && !r.content.includes('allow-reserved-ranges'), backend);
    }
  });

  test('frr-k8s mode gets a supplement carrying sourceaddress and localASN with identical neighbor fields', () => {
    const r = render('frr-k8s-supplement', 'metallb-frr-k8s');
    assert.ok(r.ok);
    const supplement = r.objects!.find((o) => o.kind === 'FRRConfiguration')!;
    const spec = supplement.spec as { nodeSelector: unknown; bgp: { routers: Array<{ asn: number; neighbors: Array<Record<string, unknown>> }> } };
    assert.deepEqual(spec.nodeSelector, { matchLabels: { 'metalfleet.dev/rack': 'r1' } });
    const neighbor = spec.bgp.routers[0]!.neighbors[0]!;
    assert.equal(neighbor.sourceaddress, '10.250.0.1');
    assert.equal(neighbor.localASN, 65100);
    assert.equal(neighbor.holdTime, '1m30s');
    assert.equal(neighbor.keepaliveTime, '30s');
    assert.deepEqual(neighbor.passwordSecret, { name: 'tor-a-bgp-password', namespace: 'metallb-system' });
    const frrMode = render('frr-k8s-supplement', 'metallb-frr');
    assert.ok(frrMode.ok && !frrMode.objects!.some((o) => o.kind === 'FRRConfiguration'), 'FRR mode passes sourceAddress itself');
  });

  test('passwords: Secrets referenced by passwordSecret in MetalLB modes, never inline', () => {
    const r = render('passwords', 'metallb-frr-k8s');
    assert.ok(r.ok);
    for (const peer of r.objects!.filter((o) => o.kind === 'BGPPeer')) {
      const spec = peer.spec as Record<string, unknown>;
      assert.equal(spec.password, undefined);
      assert.ok(spec.passwordSecret);
    }
    const secrets = r.objects!.filter((o) => o.kind === 'Secret');
    assert.deepEqual(secrets.map((s) => s.type), ['kubernetes.io/basic-auth', 'kubernetes.io/basic-auth']);
  });

  test('every Kubernetes object is labelled managed-by metalfleet, in the cluster namespace', () => {
    for (const [scenario, body] of Object.entries(SCENARIOS)) {
      for (const backend of ['metallb-native', 'metallb-frr', 'metallb-frr-k8s'] as const) {
        const r = renderCluster(intentFor(backend, body));
        if (!r.ok) continue;
        for (const o of r.objects!) {
          assert.equal(o.metadata.labels['app.kubernetes.io/managed-by'], 'metalfleet', `${scenario}/${backend}/${o.kind}`);
          assert.equal(o.metadata.namespace, 'metallb-system');
        }
      }
    }
  });

  test('a host FRR cannot announce L2', () => {
    assert.deepEqual(codes(render('l2', 'frr')), ['l2-unsupported-on-frr']);
    assert.ok(render('l2', 'metallb-native').ok);
  });

  test('the host frr.conf announces each advertised pool CIDR with a network statement', () => {
    const r = render('dual-stack', 'frr');
    assert.ok(r.ok);
    assert.match(r.content, /address-family ipv4 unicast[\s\S]*network 10\.250\.100\.0\/24[\s\S]*exit-address-family/);
    assert.match(r.content, /address-family ipv6 unicast[\s\S]*network fd00:250:100::\/64[\s\S]*exit-address-family/);
  });
});

describe('determinism', () => {
  test('the same intent in any order renders the same bytes and sha256', () => {
    for (const [scenario, body] of Object.entries(SCENARIOS)) {
      for (const backend of ALL_BACKENDS) {
        const a = renderCluster(intentFor(backend, body));
        const reversed = Object.fromEntries(Object.entries(body).map(([k, v]) => [k, Array.isArray(v) ? [...v].reverse() : v]));
        const b = renderCluster(intentFor(backend, reversed as typeof body));
        if (!a.ok || !b.ok) continue;
        assert.equal(b.sha256, a.sha256, `${scenario} on ${backend}`);
      }
    }
  });
});
