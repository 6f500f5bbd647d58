// Golden files: every scenario rendered for every backend, byte for byte. A refusal is golden
// too (the problem list). Regenerate after an intended change with UPDATE_GOLDEN=1 npm test, and
// review the diff. An update run writes the files (and deletes orphans) instead of comparing, and
// then fails on purpose, so that it can never pass for a green run.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { HOST_CONFIG_FILES, renderCluster } from '../../render/index.ts';
import { ALL_BACKENDS, expectedToRender, intentFor, SCENARIOS } from './scenarios.ts';

const GOLDEN = fileURLToPath(new URL('./golden/', import.meta.url));
const update = process.env.UPDATE_GOLDEN === '1';

export function goldenText(result: ReturnType<typeof renderCluster>): { file: string; text: string } {
  if (!result.ok) return { file: 'problems.json', text: JSON.stringify(result.problems, null, 2) + '\n' };
  return { file: HOST_CONFIG_FILES[result.backend] ?? 'objects.yaml', text: result.content };
}

/** Every file under `dir`, as paths relative to it with '/' separators. */
function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(`${dir}${prefix}`, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(dir, `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`]);
}

/** Removes the directories under `dir` that hold no file (deepest first); keeps `dir`. */
function removeEmptyDirs(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    removeEmptyDirs(`${dir}${entry.name}/`);
    if (readdirSync(`${dir}${entry.name}`).length === 0) rmdirSync(`${dir}${entry.name}`);
  }
}

describe('golden renders', () => {
  /** What an update run changed, relative to the golden dir. */
  const written: string[] = [];
  const deleted: string[] = [];

  for (const [scenario, body] of Object.entries(SCENARIOS)) {
    for (const backend of ALL_BACKENDS) {
      test(`${scenario} on ${backend}`, (t) => {
        const result = renderCluster(intentFor(backend, body));
        const { file, text } = goldenText(result);
        const dir = `${GOLDEN}${scenario}/`;
        const path = `${dir}${backend}.${file}`;
        if (update) {
          if (existsSync(path) && readFileSync(path, 'utf8') === text) {
            t.skip('UPDATE_GOLDEN=1: unchanged, not compared');
          } else {
            mkdirSync(dir, { recursive: true });
            writeFileSync(path, text);
            written.push(`${scenario}/${backend}.${file}`);
            t.skip(`UPDATE_GOLDEN=1: wrote ${scenario}/${backend}.${file}, not compared`);
          }
          return;
        }
        assert.ok(existsSync(path), `no golden file ${path}: run UPDATE_GOLDEN=1 npm test and review it`);
        assert.equal(text, readFileSync(path, 'utf8'));
      });
    }
  }

  test('every file under golden/ is produced by some scenario on some backend (no orphans)', (t) => {
    const produced = new Set<string>();
    for (const [scenario, body] of Object.entries(SCENARIOS)) {
      for (const backend of ALL_BACKENDS) produced.add(`${scenario}/${backend}.${goldenText(renderCluster(intentFor(backend, body))).file}`);
    }
    const orphans = filesUnder(GOLDEN).filter((file) => !produced.has(file)).sort();
    if (update) {
      for (const file of orphans) {
        unlinkSync(`${GOLDEN}${file}`);
        deleted.push(file);
      }
      removeEmptyDirs(GOLDEN); // what a renamed or removed scenario leaves behind
      t.skip(`UPDATE_GOLDEN=1: deleted ${orphans.length} orphaned golden file(s), not checked`);
      return;
    }
    assert.deepEqual(orphans, [], `orphaned golden files (no scenario/backend produces them; UPDATE_GOLDEN=1 deletes them):\n  ${orphans.join('\n  ')}`);
  });

  if (update) {
    // Last in the suite: after every write and deletion above.
    test('UPDATE_GOLDEN=1 is an update, not a test run', () => {
      const changes = [...written.map((f) => `wrote   ${f}`), ...deleted.map((f) => `deleted ${f}`)];
      assert.fail(`golden files were updated, review the diff and rerun without UPDATE_GOLDEN\n`
        + (changes.length ? `  ${changes.join('\n  ')}` : '  (every golden file was already up to date)'));
    });
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
    assert.deepEqual(codes(render('source-address-local-asn', 'metallb-native')), ['native-bfd-unsupported', 'native-local-asn-unsupported']);
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

  test('sourceAddress and localASN: refused in frr-k8s mode (MetalLB drops them there), rendered in FRR mode', () => {
    const r = render('source-address-local-asn', 'metallb-frr-k8s');
    assert.deepEqual(codes(r), ['frr-k8s-local-asn-unsupported', 'frr-k8s-source-address-unsupported']);
    const frrMode = render('source-address-local-asn', 'metallb-frr');
    assert.ok(frrMode.ok);
    const peer = frrMode.objects!.find((o) => o.kind === 'BGPPeer')!.spec as Record<string, unknown>;
    assert.equal(peer.sourceAddress, '10.250.0.1');
    assert.equal(peer.localASN, 65100);
    assert.ok(!frrMode.objects!.some((o) => o.kind === 'FRRConfiguration'), 'FRR mode passes them in the BGPPeer itself');
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
        assert.equal(r.ok, expectedToRender(scenario, backend), `${scenario} on ${backend}`);
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
        assert.equal(a.ok, expectedToRender(scenario, backend), `${scenario} on ${backend}`);
        if (!a.ok || !b.ok) {
          // A refusal is deterministic too: the same problems, whatever the order of the objects.
          const codes = (r: typeof a) => (r.ok ? [] : r.problems.map((p) => `${p.code} ${p.path}`).sort());
          assert.deepEqual(codes(b), codes(a), `${scenario} on ${backend}`);
          continue;
        }
        assert.equal(b.sha256, a.sha256, `${scenario} on ${backend}`);
      }
    }
  });
});
