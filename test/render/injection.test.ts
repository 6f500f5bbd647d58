// Injection: any string in any free-text field is either refused by validation, or the rendered
// config keeps exactly its expected shape: the same lines, the same neighbors, no control
// characters; in bird.conf and gobgpd.toml a `"`, `;`, `}` or `]` cannot end a string, a
// statement or a block early. (MetalLB v0.16.1 renders these fields with text/template and no escaping; a
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
  '";}', '"; }\nprotocol bgp evil {', '\\"', '\\', '"]\n[[neighbors]]', '};', '" # ', ']', '\\u0022',
];

/** Arbitrary strings, strings that carry a classic injection payload, and plausible values. */
const hostile = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.tuple(fc.string({ maxLength: 12 }), fc.constantFrom(...PAYLOADS), fc.string({ maxLength: 12 })).map(([a, p, b]) => a + p + b),
  fc.constantFrom('s3cret', 'red', 'eth0', 'fast', 'edge-1', '10.250.0.9', 'fd00:250::9', '10.250.100.0/24', '64500:1', 'large:1:2:3'),
  fc.stringMatching(/^[A-Za-z0-9._-]{1,20}$/),
);

type Mutator = (s: string) => Parameters<typeof intentFor>[1] & { clusterName?: string };

/** Fields a host daemon other than FRR refuses whatever the value (VRFs, unnumbered, BFD on GoBGP). */
const REFUSED_BY_DAEMON: Record<'bird' | 'gobgp', string[]> = { bird: ['vrf', 'interface'], gobgp: ['vrf', 'interface', 'BFD profile name'] };

const pool = { name: 'web', cidrs: ['10.250.100.0/24'] };
const peer = { name: 'tor', myASN: 65001, peerASN: 65002, peerAddress: '10.250.0.2' };
const adv = { name: 'announce', type: 'bgp' as const };
const base = { pools: [pool], peers: [peer], advertisements: [adv] };

/**
 * Each free-text field, with the neighbor FRR should name if the value is accepted. k8sOnly: the
 * field is refused on host FRR by design (no Kubernetes there), so only the objects are checked.
 */
const FIELDS: Record<string, { mutate: Mutator; target: (s: string) => string; k8sOnly?: boolean }> = {
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
  'pool address range': { mutate: (s) => ({ ...base, pools: [{ name: 'web', cidrs: [`${s}-10.250.100.255`] }] }), target: () => '10.250.0.2' },
  'pool label key': {
    mutate: (s) => ({ ...base, pools: [{ ...pool, labels: { [s]: 'x' } }], advertisements: [{ ...adv, ipAddressPoolSelectors: [{ matchLabels: { [s]: 'x' } }] }] }),
    target: () => '10.250.0.2',
  },
  'pool label value': {
    mutate: (s) => ({ ...base, pools: [{ ...pool, labels: { tier: s } }], advertisements: [{ ...adv, ipAddressPoolSelectors: [{ matchLabels: { tier: s } }] }] }),
    target: () => '10.250.0.2',
  },
  'selector expression value': {
    mutate: (s) => ({ ...base, peers: [{ ...peer, nodeSelectors: [{ matchExpressions: [{ key: 'rack', operator: 'In' as const, values: [s] }] }] }] }),
    target: () => '10.250.0.2',
  },
  'allocation namespace': { mutate: (s) => ({ ...base, pools: [{ ...pool, serviceAllocation: { namespaces: [s] } }] }), target: () => '10.250.0.2' },
  'password secret name': { mutate: (s) => ({ ...base, peers: [{ ...peer, passwordSecret: s }] }), target: () => '10.250.0.2', k8sOnly: true },
  'service selector value': {
    mutate: (s) => ({ ...base, advertisements: [{ ...adv, serviceSelectors: [{ matchLabels: { app: s } }] }] }), target: () => '10.250.0.2', k8sOnly: true,
  },
  'L2 interface': { mutate: (s) => ({ ...base, advertisements: [{ name: 'arp', type: 'l2' as const, interfaces: [s] }] }), target: () => '10.250.0.2', k8sOnly: true },
};

/**
 * A value each field accepts, tried first in every property besides the random ones: "accepted > 0"
 * then cannot fail by chance (a range start was drawn with probability 1/40: 200 runs missed it
 * about once in 170), and still fails if a backend starts refusing the field whatever its value.
 */
const EXAMPLES: Record<string, string> = {
  'cluster name (hostname)': 'edge-1', password: 's3cret', vrf: 'red', interface: 'eth0', 'BFD profile name': 'fast',
  'peer address': '10.250.0.9', 'source address': '10.250.0.9', 'router ID': '10.250.0.9', 'pool CIDR': '10.250.100.0/24',
  'community value': '64500:1', 'community alias': '64500:1', 'peer name': 'edge-1', 'pool name': 'edge-1',
  'pool address range': '10.250.100.1', 'pool label key': 'tier', 'pool label value': 'red', 'selector expression value': 'red',
  'allocation namespace': 'red', 'password secret name': 'bgp-secret', 'service selector value': 'red', 'L2 interface': 'eth0',
};
const examples = (field: string): [string][] => [[EXAMPLES[field]!]];

function intent(backend: Backend, mutate: Mutator, s: string): ClusterIntentInput {
  const { clusterName, ...body } = mutate(s);
  const built = intentFor(backend, body);
  if (clusterName !== undefined) built.cluster.name = clusterName;
  return built;
}

const CONTROL = /[\x00-\x09\x0b-\x1f\x7f\u0080-\u009f\u2028\u2029]/;

/**
 * bird.conf: strings close on their line and hold no `"`, braces balance, every statement ends with
 * `;`, `{` or `}`, and there is exactly one BGP protocol, with the expected neighbor.
 */
function assertBirdShape(conf: string, target: string): void {
  const bare = conf.replace(/"[^"\n]*"/g, '""');
  assert.ok(!bare.replace(/""/g, '').includes('"'), 'an unterminated string');
  let depth = 0;
  for (const line of bare.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))) {
    assert.match(line, /[;{}]$/, `a statement that does not end: ${line}`);
    depth += (line.match(/\{/g) ?? []).length - (line.match(/\}/g) ?? []).length;
    assert.ok(depth >= 0, 'a block closed early');
  }
  assert.equal(depth, 0, 'unbalanced blocks');
  assert.equal((conf.match(/^protocol bgp /gm) ?? []).length, 1);
  assert.deepEqual([...conf.matchAll(/^ {2}neighbor (\S+) port /gm)].map((m) => m[1]), [target]);
}

const TOML_STRING = '"(?:[^"\\\\]|\\\\.)*"';
const TOML_LINE = new RegExp(`^(| *\\[\\[?[a-z.-]+\\]\\]?| *[a-z-]+ = (\\d+|true|${TOML_STRING}|\\[(${TOML_STRING}(, ${TOML_STRING})*)?\\])|# .*)$`);

/** gobgpd.toml: every line is a table header, a key with a number, a boolean, a string or a list of strings, or a comment. */
function assertTomlShape(conf: string, target: string): void {
  for (const line of conf.split('\n')) assert.match(line, TOML_LINE);
  for (const line of conf.split('\n').filter((l) => l.startsWith('# metalfleet-announce '))) assert.match(line, /^# metalfleet-announce [0-9a-f.:]+\/\d+$/);
  assert.equal((conf.match(/^\[\[neighbors\]\]$/gm) ?? []).length, 1);
  assert.deepEqual([...conf.matchAll(/^ {4}neighbor-address = "([^"]*)"$/gm)].map((m) => m[1]), [target]);
}

function neighborTargets(conf: string): Set<string> {
  return new Set([...conf.matchAll(/^\s+neighbor (\S+) /gm)].map((m) => m[1]!));
}

describe('a free-text field cannot inject configuration', () => {
  for (const [field, { mutate, target, k8sOnly }] of Object.entries(FIELDS)) {
    if (!k8sOnly) test(`${field}: refused, or the frr.conf keeps its exact shape`, () => {
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
      }), { numRuns: 300, examples: examples(field) });
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
      }), { numRuns: 200, examples: examples(field) });
    });
  }

  for (const backend of ['bird', 'gobgp'] as const) {
    for (const [field, { mutate, target, k8sOnly }] of Object.entries(FIELDS)) {
      if (k8sOnly) continue;
      test(`${field}: refused, or the ${backend === 'bird' ? 'bird.conf' : 'gobgpd.toml'} keeps its exact shape`, () => {
        let accepted = 0;
        fc.assert(fc.property(hostile, (s) => {
          const result = renderCluster(intent(backend, mutate, s));
          if (!result.ok) return;
          accepted++;
          assert.ok(!result.content.split('\n').some((l) => CONTROL.test(l)), 'control character in output');
          (backend === 'bird' ? assertBirdShape : assertTomlShape)(result.content, target(s));
        }), { numRuns: 200, examples: examples(field) });
        if (!REFUSED_BY_DAEMON[backend].includes(field)) assert.ok(accepted > 0, 'no generated value was accepted');
      });
    }
  }

  test('a password with ";}" or a backslash stays one BIRD string and one TOML string; a " is refused by BIRD', () => {
    const render = (backend: Backend, password: string) => renderCluster(intentFor(backend, { ...base, peers: [{ ...peer, password }] }));
    const bird = render('bird', 'a";}\\b');
    assert.deepEqual(!bird.ok && bird.problems.map((p) => p.code), ['password-quote-unsupported-on-bird']);
    const birdOk = render('bird', 'a;}{#\\b');
    assert.ok(birdOk.ok && birdOk.content.includes('  password "a;}{#\\b";\n'));
    const toml = render('gobgp', 'a";}\\b');
    assert.ok(toml.ok && toml.content.includes('    auth-password = "a\\";}\\\\b"\n'));
  });

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
