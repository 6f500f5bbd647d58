// validateIntent, rule by rule: each case changes one thing in a valid intent and expects exactly
// the problem (code and path) it causes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { renderCluster } from '../../render/index.ts';
import type { Backend } from '../../render/policy.ts';
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
  for (const backend of ['metallb-native', 'metallb-frr', 'metallb-frr-k8s', 'frr'] as const) assert.deepEqual(problems(base, backend), [], backend);
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
  ['localASN on iBGP', { ...base, peers: [{ ...peer, peerASN: 65001, localASN: 65100 }] }, ['local-asn-on-ibgp @ peers/tor/localASN']],
  ['IPv6 router ID', { ...base, peers: [{ ...peer, routerID: 'fd00::1' }] }, ['invalid-router-id @ peers/tor/routerID']],
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
  ['127/8 with an unknown FRR version', { ...base, policy: { allowLocalPeering: true }, capabilities: {}, peers: [{ ...peer, peerAddress: '127.0.0.1' }] },
    ['frr-version-unknown @ peers/tor/peerAddress'], 'frr'],
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
  for (const [, body, , backend] of CASES) {
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

test('every problem code the validator can emit is documented in docs/problem-codes.md', async () => {
  const { readFileSync } = await import('node:fs');
  const source = readFileSync(new URL('../../render/validate.ts', import.meta.url), 'utf8');
  const doc = readFileSync(new URL('../../docs/problem-codes.md', import.meta.url), 'utf8');
  const codes = new Set([...source.matchAll(/(?:out\.add|refuse)\('([a-z0-9-]+)'/g)].map((m) => m[1]!));
  assert.ok(codes.size > 40);
  const missing = [...codes].filter((c) => !doc.includes(`\`${c}\``));
  assert.deepEqual(missing, []);
});
