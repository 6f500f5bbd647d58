// Injection: any string in any free-text field is either refused by validation, or the rendered
// config keeps exactly its expected shape: the same lines, the same neighbors, no control
// characters. (MetalLB v0.16.1 renders these fields with text/template and no escaping; a
// newline in a password was observed to add a rogue neighbor through frr-reload.py.)
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseAllDocuments } from 'yaml';
import { renderCluster } from '../../render/index.ts';
import type { ClusterIntentInput } from '../../render/model.ts';
import type { Backend } from '../../render/policy.ts';
import { intentFor } from './scenarios.ts';

const PAYLOADS = [
  '\n  neighbor 203.0.113.66 remote-as 666', '\nrouter bgp 666', '\r\nline vty', '\n!', '\u2028neighbor x',
  '\u0085x', ' x', '\tx', '\0', 'x\n', '#x', '"', "'", '\\n', '---\nkind: Secret', ': x', '{a: b}',
];

/** Arbitrary strings, strings that carry a classic injection payload, and plausible values. */
const hostile = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.tuple(fc.string({ maxLength: 12 }), fc.constantFrom(...PAYLOADS), fc.string({ maxLength: 12 })).map(([a, p, b]) => a + p + b),
  fc.constantFrom('s3cret', 'red', 'eth0', 'fast', 'edge-1', '10.250.0.9', 'fd00:250::9', '10.250.100.0/24', '64500:1', 'large:1:2:3'),
  fc.stringMatching(/^[A-Za-z0-9._-]{1,20}$/),
);

type Mutator = (s: string) => Parameters<typeof intentFor>[1] & { clusterName?: string };

const pool = { name: 'web', cidrs: ['10.250.100.0/24'] };
const peer = { name: 'tor', myASN: 65001, peerASN: 65002, peerAddress: '10.250.0.2' };
const adv = { name: 'announce', type: 'bgp' as const };
const base = { pools: [pool], peers: [peer], advertisements: [adv] };

/** Each free-text field, with the neighbor FRR should name if the value is accepted. */
const FIELDS: Record<string, { mutate: Mutator; target: (s: string) => string }> = {
  'cluster name (hostname)': { mutate: (s) => ({ ...base, clusterName: s }), target: () => '10.250.0.2' },
  password: { mutate: (s) => ({ ...base, peers: [{ ...peer, password: s }] }), target: () => '10.250.0.2' },
  vrf: { mutate: (s) => ({ ...base, peers: [{ ...peer, vrf: s }] }), target: () => '10.250.0.2' },
  interface: { mutate: (s) => ({ ...base, peers: [{ name: 'tor', myASN: 65001, peerASN: 65002, interface: s }] }), target: (s) => s },
  'BFD profile name': {
    mutate: (s) => ({ ...base, peers: [{ ...peer, bfdProfile: s }], bfdProfiles: [{ name: s, receiveInterval: 300 }] }),
    target: () => '10.250.0.2',
  },
  'peer address': { mutate: (s) => ({ ...base, peers: [{ ...peer, peerAddress: s }], policy: { allowedPeerCIDRs: ['0.0.0.0/0', '::/0'] } }), target: (s) => s },
  'source address': { mutate: (s) => ({ ...base, peers: [{ ...peer, sourceAddress: s }] }), target: () => '10.250.0.2' },
  'router ID': { mutate: (s) => ({ ...base, peers: [{ ...peer, routerID: s }] }), target: () => '10.250.0.2' },
  'pool CIDR': { mutate: (s) => ({ ...base, pools: [{ name: 'web', cidrs: [s] }] }), target: () => '10.250.0.2' },
  'community value': { mutate: (s) => ({ ...base, advertisements: [{ ...adv, communities: [s] }] }), target: () => '10.250.0.2' },
  'community alias': {
    mutate: (s) => ({ ...base, communities: [{ name: 'alias', value: s }], advertisements: [{ ...adv, communities: ['alias'] }] }),
    target: () => '10.250.0.2',
  },
  'peer name': { mutate: (s) => ({ ...base, peers: [{ ...peer, name: s }], advertisements: [{ ...adv, peers: [s] }] }), target: () => '10.250.0.2' },
  'pool name': { mutate: (s) => ({ ...base, pools: [{ ...pool, name: s }], advertisements: [{ ...adv, ipAddressPools: [s] }] }), target: () => '10.250.0.2' },
};

function intent(backend: Backend, mutate: Mutator, s: string): ClusterIntentInput {
  const { clusterName, ...body } = mutate(s);
  const built = intentFor(backend, body);
  if (clusterName !== undefined) built.cluster.name = clusterName;
  return built;
}

const CONTROL = /[\x00-\x09\x0b-\x1f\x7f\u0080-\u009f\u2028\u2029]/;

function neighborTargets(conf: string): Set<string> {
  return new Set([...conf.matchAll(/^\s+neighbor (\S+) /gm)].map((m) => m[1]!));
}

describe('a free-text field cannot inject configuration', () => {
  for (const [field, { mutate, target }] of Object.entries(FIELDS)) {
    test(`${field}: refused, or the frr.conf keeps its exact shape`, () => {
      let accepted = 0;
      fc.assert(fc.property(hostile, (s) => {
        const result = renderCluster(intent('frr', mutate, s));
        if (!result.ok) {
          assert.ok(result.problems.length > 0);
          return;
        }
        accepted++;
        // The same structure with a value known to be harmless renders as many lines.
        const lines = result.content.split('\n');
        assert.ok(!lines.some((l) => CONTROL.test(l)), 'control character in output');
        assert.deepEqual([...neighborTargets(result.content)], [target(s)]);
        assert.equal(lines.filter((l) => /^router bgp /.test(l)).length, 1);
        assert.ok(!lines.some((l) => /^\s*(line vty|router bgp 666|neighbor 203\.0\.113\.66)/.test(l)));
        assert.ok(!lines.some((l) => / {2,}\S.* {2,}/.test(l.trimStart())), 'a value split a line');
      }), { numRuns: 300 });
      assert.ok(accepted > 0, 'no generated value was accepted, so nothing was rendered and checked');
    });

    test(`${field}: refused, or the Kubernetes objects carry it as data`, () => {
      fc.assert(fc.property(hostile, (s) => {
        const result = renderCluster(intent('metallb-frr-k8s', mutate, s));
        if (!result.ok) return;
        const docs = parseAllDocuments(result.content);
        assert.equal(docs.length, result.objects!.length, 'a value created or merged YAML documents');
        docs.forEach((doc, i) => {
          assert.deepEqual(doc.errors, []);
          assert.deepEqual(doc.toJS(), JSON.parse(JSON.stringify(result.objects![i])));
        });
      }), { numRuns: 200 });
    });
  }

  test('the observed attack: a password with a newline and a rogue neighbor is refused', () => {
    const result = renderCluster(intentFor('frr', { ...base, peers: [{ ...peer, password: 's3cret\n  neighbor 203.0.113.66 remote-as 666' }] }));
    assert.ok(!result.ok);
    assert.deepEqual(result.problems.map((p) => [p.code, p.path]), [['invalid-password', 'peers/tor/password']]);
  });

  test('a password of 81 bytes, or with a space, is refused; 80 printable bytes are fine', () => {
    const render = (password: string) => renderCluster(intentFor('frr', { ...base, peers: [{ ...peer, password }] }));
    assert.ok(!render('x'.repeat(81)).ok);
    assert.ok(!render('foo bar').ok);
    const ok = render('!#$%&()*+,-./:;<=>?@[]^_`{|}~'.padEnd(80, 'z'));
    assert.ok(ok.ok && ok.content.includes(`password ${'!#$%&()*+,-./:;<=>?@[]^_`{|}~'.padEnd(80, 'z')}\n`));
  });
});
