// validateIntent, rule by rule: each case changes one thing in a valid intent and expects exactly
// the problem (code and path) it causes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { renderCluster } from '../../render/index.ts';
import { BACKENDS, type Backend } from '../../render/policy.ts';
import { CAPABILITIES } from '../../render/capabilities.ts';
import { intentFor } from './scenarios.ts';

const pool = { name: 'web', cidrs: ['10.250.100.0/24'] };
const pool6 = { name: 'web6', cidrs: ['fd00:250:100::/64'] };
const peer = { name: 'tor', myASN: 65001, peerASN: 65002, peerAddress: '10.250.0.2' };
const adv = { name: 'announce', type: 'bgp' as const };
type Body = Parameters<typeof intentFor>[1];
const base: Body = { pools: [pool], peers: [peer], advertisements: [adv] };

function problems(body: Body, backend: Backend = 'metallb-frr-k8s') {
  const r = renderCluster(intentFor(backend, body));
  return r.ok ? [] : r.problems.map((p) => `${p.code} @ ${p.path}`);
}

test('the base intent is valid on every backend', () => {
  for (const backend of BACKENDS) assert.deepEqual(problems(base, backend), [], backend);
});

const CASES: Array<[string, Body, string[], Backend?]> = [
  // MetalLB webhook rules
  ['pool without CIDRs', { ...base, pools: [{ name: 'web', cidrs: [] }] }, ['pool-empty @ pools/web/cidrs']],
  ['CIDR with host bits', { ...base, pools: [{ name: 'web', cidrs: ['10.250.100.1/24'] }] }, ['invalid-cidr @ pools/web/cidrs/0']],
  ['pools overlapping', { ...base, pools: [pool, { name: 'web2', cidrs: ['10.250.100.128/25'] }] }, ['pool-overlap @ pools/web2/cidrs/0']],
  ['duplicate names', { ...base, pools: [pool, { name: 'web', cidrs: ['10.250.101.0/24'] }] }, ['duplicate-name @ pools/web']],
  ['bad resource name', { ...base, pools: [{ ...pool, name: 'Web_1' }], advertisements: [adv] }, ['invalid-name @ pools/Web_1']],
  ['both peerASN and dynamicASN', { ...base, peers: [{ ...peer, dynamicASN: 'external' }] }, ['peer-asn-exclusive @ peers/tor/peerASN']],
  ['neither peerASN nor dynamicASN', { ...base, peers: [{ name: 'tor', myASN: 65001, peerAddress: '10.250.0.2' }] }, ['peer-asn-exclusive @ peers/tor/peerASN']],
  ['both address and interface', { ...base, peers: [{ ...peer, interface: 'eth0' }] }, ['peer-address-exclusive @ peers/tor/peerAddress']],
  ['ASN 0', { ...base, peers: [{ ...peer, myASN: 0 }] }, ['invalid-asn @ peers/tor/myASN']],
  ['hold time 2s', { ...base, peers: [{ ...peer, holdTime: 2 }] }, ['invalid-hold-time @ peers/tor/holdTime']],
  ['keepalive above hold', { ...base, peers: [{ ...peer, holdTime: 30, keepaliveTime: 40 }] }, ['keepalive-exceeds-hold @ peers/tor/keepaliveTime']],
  ['connect time 0', { ...base, peers: [{ ...peer, connectTime: 0 }] }, ['invalid-connect-time @ peers/tor/connectTime']],
  ['port 16385', { ...base, peers: [{ ...peer, peerPort: 16385 }] }, ['invalid-port @ peers/tor/peerPort']],
  ['ebgpMultiHop on iBGP', { ...base, peers: [{ ...peer, peerASN: 65001, ebgpMultiHop: true }] }, ['ebgp-multihop-on-ibgp @ peers/tor/ebgpMultiHop']],
  ['localASN on iBGP', { ...base, peers: [{ ...peer, peerASN: 65001, localASN: 65100 }] }, ['local-asn-on-ibgp @ peers/tor/localASN'],
    'metallb-frr'],
  ['localASN on frr-k8s', { ...base, peers: [{ ...peer, localASN: 65100 }] }, ['frr-k8s-local-asn-unsupported @ peers/tor/localASN']],
  ['sourceAddress on frr-k8s', { ...base, peers: [{ ...peer, sourceAddress: '10.250.0.1' }] },
    ['frr-k8s-source-address-unsupported @ peers/tor/sourceAddress']],
  ['IPv6 router ID', { ...base, peers: [{ ...peer, routerID: 'fd00::1' }] }, ['invalid-router-id @ peers/tor/routerID']],
  ['keepalive only, above a third of the largest hold time', { ...base, peers: [{ ...peer, keepaliveTime: 21846 }] },
    ['invalid-keepalive-time @ peers/tor/keepaliveTime']],
  ['holdTime 0 on GoBGP', { ...base, peers: [{ ...peer, holdTime: 0 }] }, ['hold-time-zero-unsupported-on-gobgp @ peers/tor/holdTime'], 'gobgp'],
  ['zero router ID', { ...base, peers: [{ ...peer, routerID: '0.0.0.0' }] }, ['invalid-router-id @ peers/tor/routerID']],
  ['localASN equal to myASN', { ...base, peers: [{ ...peer, localASN: 65001 }] }, ['local-asn-conflict @ peers/tor/localASN'], 'metallb-frr'],
  ['localASN equal to peerASN', { ...base, peers: [{ ...peer, localASN: 65002 }] }, ['local-asn-conflict @ peers/tor/localASN'], 'metallb-frr'],
  ['IPv6 source for an IPv4 peer', { ...base, peers: [{ ...peer, sourceAddress: 'fd00:250::1' }] },
    ['invalid-source-address @ peers/tor/sourceAddress'], 'metallb-frr'],
  ['link-local peer on FRR', { ...base, peers: [{ ...peer, peerAddress: 'fe80::2' }], policy: { allowedPeerCIDRs: ['fe80::/10'] } },
    ['link-local-peer-needs-interface @ peers/tor/peerAddress']],
  ['unspecified source address', { ...base, peers: [{ ...peer, sourceAddress: '0.0.0.0' }] },
    ['invalid-source-address @ peers/tor/sourceAddress'], 'metallb-frr'],
  ['zoned peer address', { ...base, peers: [{ ...peer, peerAddress: 'fe80::1%eth0' }] }, ['invalid-ip @ peers/tor/peerAddress']],
  ['multicast peer address', { ...base, peers: [{ ...peer, peerAddress: '224.0.0.5' }], policy: { allowedPeerCIDRs: ['0.0.0.0/0'] } },
    ['invalid-peer-address @ peers/tor/peerAddress']],
  ['unknown BFD profile', { ...base, peers: [{ ...peer, bfdProfile: 'nope' }] }, ['unknown-bfd-profile @ peers/tor/bfdProfile']],
  ['BFD interval out of range', { ...base, bfdProfiles: [{ name: 'fast', receiveInterval: 5 }] }, ['invalid-bfd-profile @ bfdProfiles/fast/receiveInterval']],
  ['BFD echo with IPv6 pools', {
    pools: [pool6], peers: [{ name: 'tor6', myASN: 65001, peerASN: 65002, peerAddress: 'fd00:250::2', bfdProfile: 'echo' }],
    bfdProfiles: [{ name: 'echo', echoMode: true }], advertisements: [adv],
  }, ['bfd-echo-ipv6 @ bfdProfiles/echo/echoMode']],
  ['unknown pool in advertisement', { ...base, advertisements: [{ ...adv, ipAddressPools: ['nope'] }] }, ['unknown-pool @ advertisements/announce/ipAddressPools/0']],
  ['unknown peer in advertisement', { ...base, advertisements: [{ ...adv, peers: ['nope'] }] }, ['unknown-peer @ advertisements/announce/peers/0']],
  ['duplicate list entry', { ...base, advertisements: [{ ...adv, ipAddressPools: ['web', 'web'] }] }, ['duplicate-entry @ advertisements/announce/ipAddressPools']],
  ['community with a 17-bit part', { ...base, advertisements: [{ ...adv, communities: ['65536:1'] }] }, ['unknown-community @ advertisements/announce/communities/0']],
  ['64 communities', { ...base, advertisements: [{ ...adv, communities: Array.from({ length: 64 }, (_, i) => `64500:${i}`) }] },
    ['too-many-communities @ advertisements/announce/communities']],
  ['aggregation length shorter than the pool prefix', { ...base, advertisements: [{ ...adv, aggregationLength: 23 }] },
    ['aggregation-length-too-short @ advertisements/announce/aggregationLength']],
  ['aggregation length 33', { ...base, advertisements: [{ ...adv, aggregationLength: 33 }] }, ['invalid-aggregation-length @ advertisements/announce/aggregationLength']],
  ['conflicting local preferences', {
    ...base, advertisements: [{ ...adv, localPref: 100 }, { name: 'other', type: 'bgp', localPref: 200 }],
  }, ['local-pref-conflict @ advertisements/other/localPref']],
  ['BGP fields on an L2 advertisement', { ...base, advertisements: [{ name: 'arp', type: 'l2', communities: ['64500:1'] }] }, ['l2-bgp-field @ advertisements/arp/communities']],
  ['peers sharing a node with different router IDs', {
    ...base, peers: [{ ...peer, routerID: '10.250.0.1' }, { ...peer, name: 'tor2', peerAddress: '10.250.0.6', routerID: '10.250.0.5' }],
  }, ['router-id-conflict @ peers/tor2/routerID']],
  ['peers sharing a node with different myASN in one VRF', { ...base, peers: [peer, { ...peer, name: 'tor2', peerAddress: '10.250.0.6', myASN: 65003 }] },
    ['my-asn-conflict @ peers/tor2/myASN']],
  ['the same neighbor twice', { ...base, peers: [peer, { ...peer, name: 'tor2' }] }, ['duplicate-peer @ peers/tor2']],
  // MetalLB 0.16 parity: each class of the issue
  ['router ID set on one peer, unset on another', { ...base, peers: [{ ...peer, routerID: '10.250.0.1' }, { ...peer, name: 'tor2', peerAddress: '10.250.0.6' }] },
    ['router-id-conflict @ peers/tor2/routerID']],
  ['a namespace twice', { ...base, pools: [{ ...pool, serviceAllocation: { namespaces: ['shop', 'shop'] } }] },
    ['duplicate-entry @ pools/web/serviceAllocation/namespaces']],
  ['a namespace selector twice', { ...base, pools: [{ ...pool, serviceAllocation: { namespaceSelectors: [{ matchLabels: { a: 'b' } }, { matchLabels: { a: 'b' } }] } }] },
    ['duplicate-entry @ pools/web/serviceAllocation/namespaceSelectors/1']],
  ['a value twice in an expression', { ...base, peers: [{ ...peer, nodeSelectors: [{ matchExpressions: [{ key: 'k', operator: 'In', values: ['a', 'a'] }] }] }] },
    ['duplicate-entry @ peers/tor/nodeSelectors/0/matchExpressions/0/values']],
  ['two node selectors alike', { ...base, advertisements: [{ ...adv, nodeSelectors: [{ matchLabels: { a: 'b' } }, { matchLabels: { a: 'b' } }] }] },
    ['duplicate-entry @ advertisements/announce/nodeSelectors/1']],
  ['two expressions that are the same set', {
    ...base, advertisements: [{ ...adv, nodeSelectors: [{ matchExpressions: [
      { key: 'h', operator: 'In', values: ['a', 'b'] }, { key: 'h', operator: 'In', values: ['b', 'a'] }] }] }],
  }, ['duplicate-entry @ advertisements/announce/nodeSelectors/0/matchExpressions/1']],
  ['localPref set on one advertisement, unset on another, no peers', { pools: [pool], advertisements: [{ ...adv, localPref: 100 }, { name: 'other', type: 'bgp' }] },
    ['local-pref-conflict @ advertisements/other/localPref']],
  ['a namespace that cannot exist', { ...base, pools: [{ ...pool, serviceAllocation: { namespaces: ['../../etc'] } }] },
    ['invalid-namespace @ pools/web/serviceAllocation/namespaces/0']],
  ['priority beyond int32', { ...base, pools: [{ ...pool, serviceAllocation: { priority: 9007199254740991 } }] },
    ['invalid-priority @ pools/web/serviceAllocation/priority']],
  ['localPref beyond int32', { ...base, advertisements: [{ ...adv, localPref: 2147483648 }] }, ['invalid-local-pref @ advertisements/announce/localPref']],
  ['a range overlapping a CIDR of another pool', { ...base, pools: [pool, { name: 'web2', cidrs: ['10.250.100.200-10.250.101.5'] }] },
    ['pool-overlap @ pools/web2/cidrs/0']],
  ['a reversed range', { ...base, pools: [{ name: 'web', cidrs: ['10.250.100.9-10.250.100.1'] }] }, ['invalid-cidr @ pools/web/cidrs/0']],
  ['password and passwordSecret', { ...base, peers: [{ ...peer, password: 'x', passwordSecret: 'tor-md5' }] }, ['password-exclusive @ peers/tor/passwordSecret']],
  ['passwordSecret on host FRR', { ...base, peers: [{ ...peer, passwordSecret: 'tor-md5' }] }, ['password-secret-unsupported-on-frr @ peers/tor/passwordSecret'], 'frr'],
  ['serviceSelectors with aggregation', { ...base, advertisements: [{ ...adv, aggregationLength: 24, serviceSelectors: [{ matchLabels: { a: 'b' } }] }] },
    ['service-selectors-aggregation @ advertisements/announce/aggregationLength']],
  ['a large alias on native, even unused', { ...base, communities: [{ name: 'big', value: 'large:1:2:3' }] },
    ['native-large-community-unsupported @ communities/big'], 'metallb-native'],
  ['a BGP and an L2 advertisement with one name are fine; two BGP ones are not', {
    ...base, advertisements: [adv, { name: 'announce', type: 'l2' }, { name: 'announce', type: 'bgp', localPref: 0 }],
  }, ['duplicate-name @ advertisements/announce']],
  // Tenant policy
  ['peer ASN outside the allowed ranges', { ...base, peers: [{ ...peer, peerASN: 174 }] }, ['asn-not-allowed @ peers/tor/peerASN']],
  ['peer address outside the allowed CIDRs', { ...base, peers: [{ ...peer, peerAddress: '192.0.2.1' }] }, ['peer-address-not-allowed @ peers/tor/peerAddress']],
  ['BFD required', { ...base, policy: { requireBFD: true } }, ['bfd-required @ peers/tor/bfdProfile']],
  ['password required', { ...base, policy: { requirePassword: true } }, ['password-required @ peers/tor/password']],
  ['community not allowed', { ...base, policy: { allowedCommunities: ['64500:1'] }, advertisements: [{ ...adv, communities: ['64500:2'] }] },
    ['community-not-allowed @ advertisements/announce/communities/0']],
  ['backend not allowed', { ...base, policy: { allowedBackends: ['frr'] } }, ['backend-not-allowed @ cluster/backend']],
  ['local peering without the policy', { ...base, peers: [{ ...peer, peerAddress: '127.0.0.1' }] }, ['local-peering-not-allowed @ peers/tor/peerAddress']],
  // Local peering on FRR
  ['::1 on FRR', { ...base, policy: { allowLocalPeering: true }, peers: [{ ...peer, peerAddress: '::1' }] }, ['local-peering-ipv6-loopback @ peers/tor/peerAddress'], 'frr'],
  ['127/8 with an unknown FRR version', { ...base, policy: { allowLocalPeering: true }, capabilities: { nodeAddresses: ['10.250.0.1'] },
    peers: [{ ...peer, peerAddress: '127.0.0.1' }] }, ['frr-version-unknown @ peers/tor/peerAddress'], 'frr'],
  ['127/8 on host FRR without a node address', { ...base, policy: { allowLocalPeering: true }, capabilities: { frrVersion: '10.3' },
    peers: [{ ...peer, peerAddress: '127.0.0.1' }] }, ['node-address-unknown @ peers/tor/peerAddress'], 'frr'],
  ['127/8 dual-stack on host FRR with an IPv4 node address only', { ...base, policy: { allowLocalPeering: true },
    capabilities: { frrVersion: '10.3', nodeAddresses: ['10.250.0.1', '127.0.0.1', '::1', 'fe80::1', 'junk'] },
    peers: [{ ...peer, peerAddress: '127.0.0.1', dualStackAddressFamily: true }] }, ['node-address-unknown @ peers/tor/peerAddress'], 'frr'],
  // BIRD and GoBGP
  ['a link-local peer on BIRD', { ...base, policy: { allowedPeerCIDRs: ['fe80::/10'] }, peers: [{ ...peer, peerAddress: 'fe80::2' }] },
    ['link-local-peer-unsupported-on-bird @ peers/tor/peerAddress'], 'bird'],
  ['a link-local peer on GoBGP', { ...base, policy: { allowedPeerCIDRs: ['fe80::/10'] }, peers: [{ ...peer, peerAddress: 'fe80::2' }] },
    ['link-local-peer-unsupported-on-gobgp @ peers/tor/peerAddress'], 'gobgp'],
  ['a node address as local peer on BIRD is plain peering', { ...base, policy: { allowLocalPeering: true },
    peers: [{ ...peer, peerAddress: '10.250.0.1', localPeering: true }] }, [], 'bird'],
  ['::1 on BIRD', { ...base, policy: { allowLocalPeering: true }, peers: [{ ...peer, peerAddress: '::1' }] },
    ['loopback-peering-unsupported-on-bird @ peers/tor/peerAddress'], 'bird'],
  ['no router ID on GoBGP: no peer sets one, no IPv4 node address', { ...base, capabilities: { nodeAddresses: ['fd00:250::1'] } },
    ['router-id-unknown @ peers/tor/routerID'], 'gobgp'],
  ['no router ID on BIRD: the agent reported only addresses that are no node\'s (0.0.0.0, multicast, broadcast)',
    { ...base, capabilities: { nodeAddresses: ['0.0.0.0', '224.0.0.1', '255.255.255.255', '::', 'ff02::1'] } },
    ['router-id-unknown @ peers/tor/routerID'], 'bird'],
  ['a peer\'s router ID is enough on BIRD', { ...base, capabilities: {}, peers: [{ ...peer, routerID: '10.250.0.1' }] }, [], 'bird'],
  ['BIRD 1.6', { ...base, capabilities: { birdVersion: '1.6.8', nodeAddresses: ['10.250.0.1'] } },
    ['bird-version-unsupported @ cluster/capabilities/birdVersion'], 'bird'],
  ['BFD intervals on BIRD of unknown version', { ...base, capabilities: { nodeAddresses: ['10.250.0.1'] },
    peers: [{ ...peer, bfdProfile: 'fast' }], bfdProfiles: [{ name: 'fast', detectMultiplier: 5 }] },
  ['bird-version-unknown @ peers/tor/bfdProfile'], 'bird'],
  ['BFD with the defaults on BIRD of unknown version', { ...base, capabilities: { nodeAddresses: ['10.250.0.1'] },
    peers: [{ ...peer, bfdProfile: 'plain' }], bfdProfiles: [{ name: 'plain' }] }, [], 'bird'],
  ['a BFD profile with echo mode no BIRD peer uses', { ...base, bfdProfiles: [{ name: 'echo', echoMode: true }] }, [], 'bird'],
  ['GoBGP 3.0', { ...base, capabilities: { gobgpVersion: '3.0.0', nodeAddresses: ['10.250.0.1'] } }, [], 'gobgp'],
];

describe('each rule, alone', () => {
  for (const [name, body, expected, backend] of CASES) {
    test(name, () => assert.deepEqual(problems(body, backend), expected));
  }
});

describe('local peering versions', () => {
  const local = { ...base, policy: { allowLocalPeering: true }, peers: [{ ...peer, peerAddress: '127.0.0.2', ebgpMultiHop: true }] };
  test('MetalLB >= 0.14.4 implies FRR >= 9 when the agent reports no FRR version', () => {
    assert.deepEqual(problems({ ...local, capabilities: { metallbVersion: '0.14.4' } }, 'metallb-frr'), []);
    assert.deepEqual(problems({ ...local, capabilities: { metallbVersion: '0.14.3' } }, 'metallb-frr'), ['frr-version-unknown @ peers/tor/peerAddress']);
  });
  test('a reported FRR version wins over the MetalLB version', () => {
    assert.deepEqual(problems({ ...local, capabilities: { metallbVersion: '0.16.1', frrVersion: '8.5.1' } }, 'metallb-frr-k8s'),
      ['local-peering-needs-frr-9 @ peers/tor/peerAddress']);
  });
  test('native mode peers over 127.0.0.1 (no FRR involved) when policy allows', () => {
    assert.deepEqual(problems({ ...local, peers: [{ ...peer, peerAddress: '127.0.0.1' }] }, 'metallb-native'), []);
  });
});

test('every problem has a code, a path, a message and a remedy', () => {
  for (const [, body, expected, backend] of CASES) {
    if (expected.length === 0) continue;
    const r = renderCluster(intentFor(backend ?? 'metallb-frr-k8s', body));
    assert.ok(!r.ok);
    for (const p of r.problems) {
      assert.match(p.code, /^[a-z0-9]+(-[a-z0-9]+)*$/);
      assert.ok(p.path && p.message && p.remedy, JSON.stringify(p));
    }
  }
});

test('a malformed intent is a problem, not an exception', () => {
  const r = renderCluster({ cluster: { name: 'x', backend: 'frr' }, policy: {}, peers: [{ name: 'p' }] } as never);
  assert.ok(!r.ok && r.problems.every((p) => p.code === 'invalid-intent'));
});

test('peers on disjoint nodes may differ in router ID and ASN (nodes known)', () => {
  const nodes = [{ name: 'a', labels: { rack: 'r1' } }, { name: 'b', labels: { rack: 'r2' } }];
  const body: Body = {
    ...base,
    peers: [
      { ...peer, routerID: '10.250.0.1', nodeSelectors: [{ matchLabels: { rack: 'r1' } }] },
      { ...peer, name: 'tor2', myASN: 65003, routerID: '10.250.0.5', nodeSelectors: [{ matchLabels: { rack: 'r2' } }] },
    ],
  };
  const intent = intentFor('metallb-frr', body);
  intent.cluster.capabilities = { ...intent.cluster.capabilities, nodes };
  assert.ok(renderCluster(intent).ok);
  // Without a node list metalfleet cannot tell, and assumes they may share a node.
  assert.deepEqual(problems(body, 'metallb-frr').map((p) => p.split(' @ ')[0]), ['router-id-conflict', 'my-asn-conflict', 'duplicate-peer']);
});

test('peers sharing a node: one problem of each kind per peer, never one per pair', () => {
  // 60 peers, each with its own router ID and ASN on one address: 1,770 conflicting pairs.
  const many = Array.from({ length: 60 }, (_, i) => ({ ...peer, name: `tor-${i}`, myASN: 65100 + i, routerID: `10.250.1.${i + 1}` }));
  const found = problems({ ...base, peers: many }, 'metallb-frr');
  for (const code of ['router-id-conflict', 'my-asn-conflict', 'duplicate-peer']) {
    const ofCode = found.filter((p) => p.startsWith(`${code} @`));
    assert.equal(ofCode.length, 59, `${code}: one per peer after the first`);
    assert.equal(new Set(ofCode).size, 59, `${code}: each on its own peer`);
  }
});

test('localPref: MetalLB exemptions (aggregation, disjoint peers, disjoint nodes, service selectors)', () => {
  const pools = [pool];
  const peers = [peer, { ...peer, name: 'tor2', peerAddress: '10.250.0.6' }];
  const lp = (a: object, b: object, extra: Partial<Body> = {}) => problems({ pools, peers, advertisements: [{ ...adv, localPref: 100, ...a }, { name: 'b', type: 'bgp', localPref: 200, ...b }], ...extra });
  assert.deepEqual(lp({ aggregationLength: 24 }, {}), []);
  assert.deepEqual(lp({ peers: ['tor'] }, { peers: ['tor2'] }), []);
  assert.deepEqual(lp({ serviceSelectors: [{ matchLabels: { a: 'b' } }] }, {}), []);
  const nodes = [{ name: 'n1', labels: { rack: 'r1' } }, { name: 'n2', labels: { rack: 'r2' } }];
  const intent = intentFor('metallb-frr-k8s', { pools, peers, advertisements: [
    { ...adv, localPref: 100, nodeSelectors: [{ matchLabels: { rack: 'r1' } }] }, { name: 'b', type: 'bgp', localPref: 200, nodeSelectors: [{ matchLabels: { rack: 'r2' } }] }] });
  intent.cluster.capabilities = { ...intent.cluster.capabilities, nodes };
  assert.ok(renderCluster(intent).ok);
});

test('a cluster gets only the community aliases its advertisements use; policy aliases resolve to values', async () => {
  const { clusterIntent } = await import('../../render/select.ts');
  const { DEFAULT_POLICY } = await import('../../render/policy.ts');
  const objects = {
    policy: { ...DEFAULT_POLICY, allowedCommunities: ['no-export'] },
    pools: [{ ...pool, autoAssign: true, avoidBuggyIPs: false }], peers: [], bfdProfiles: [],
    communities: [{ name: 'no-export', value: '65535:65281' }, { name: 'big', value: 'large:1:2:3' }],
    advertisements: [{ ...adv, ipAddressPools: [], peers: [], communities: ['65535:65281'], nodeSelectors: [], interfaces: [] }],
  };
  const intent = clusterIntent(objects, { name: 'c', backend: 'metallb-native', namespace: 'metallb-system', labels: {}, capabilities: {} });
  assert.deepEqual(intent.communities, []);
  assert.deepEqual(intent.policy.allowedCommunities, ['65535:65281']);
});

test('every problem code the validator can emit is documented in docs/problem-codes.md', async () => {
  const { readdirSync, readFileSync } = await import('node:fs');
  const dir = new URL('../../render/', import.meta.url);
  const source = readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => readFileSync(new URL(f, dir), 'utf8')).join('\n');
  const doc = readFileSync(new URL('../../docs/problem-codes.md', import.meta.url), 'utf8');
  // Codes passed to a collector or reported by the importer, and the refusals of the capability table.
  const codes = new Set([
    ...[...source.matchAll(/(?:out\.add|refuse|problem)\('([a-z0-9-]+)'/g)].map((m) => m[1]!),
    ...[...source.matchAll(/: '([a-z0-9-]+-(?:unsupported|unsupported-on-frr))'/g)].map((m) => m[1]!),
    ...Object.values(CAPABILITIES).flatMap((c) => [...Object.values(c.refuses),
      ...Object.values(c.daemon?.since ?? {}).map((g) => g.code),
      ...(c.daemon ? [`${c.daemon.name.toLowerCase()}-version-unsupported`] : []),
      ...(Object.keys(c.daemon?.since ?? {}).length > 0 ? [`${c.daemon!.name.toLowerCase()}-version-unknown`] : [])]),
  ]);
  assert.ok(codes.size > 40);
  const missing = [...codes].filter((c) => !doc.includes(`\`${c}\``));
  assert.deepEqual(missing, []);
});
