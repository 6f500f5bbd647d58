// One intent per scenario, rendered for every backend by the golden tests. Addresses are the
// lab's (10.250.x.x, fd00:250::/32) so that every frr.conf can also be loaded into a real FRR.
import type { ClusterIntentInput } from '../../render/model.ts';
import type { Backend } from '../../render/policy.ts';
import { BACKENDS } from '../../render/policy.ts';

type Body = Omit<ClusterIntentInput, 'cluster' | 'policy'> & {
  policy?: Partial<ClusterIntentInput['policy']>;
  capabilities?: { frrVersion?: string; metallbVersion?: string };
};

export const BASE_POLICY = {
  allowedASNs: [{ from: 64500, to: 65535 }],
  allowedPeerCIDRs: ['10.250.0.0/16', 'fd00:250::/32'],
};

export function intentFor(backend: Backend, body: Body): ClusterIntentInput {
  const { policy, capabilities, ...rest } = body;
  return {
    cluster: { name: 'edge-1', backend, namespace: 'metallb-system', capabilities: capabilities ?? { frrVersion: '8.4.4', metallbVersion: '0.16.1' } },
    policy: { ...BASE_POLICY, ...policy },
    ...rest,
  };
}

const v4Peer = { name: 'tor-a', myASN: 65001, peerASN: 65002, peerAddress: '10.250.0.2' };
const v6Peer = { name: 'tor-a-v6', myASN: 65001, peerASN: 65002, peerAddress: 'fd00:250::2' };
const v4Pool = { name: 'web', cidrs: ['10.250.100.0/24'] };
const v6Pool = { name: 'web-v6', cidrs: ['fd00:250:100::/64'] };
const announceAll = { name: 'announce', type: 'bgp' as const };

export const SCENARIOS: Record<string, Body> = {
  'ipv4-only': { pools: [v4Pool], peers: [v4Peer], advertisements: [announceAll] },
  'ipv6-only': { pools: [v6Pool], peers: [v6Peer], advertisements: [announceAll] },
  'dual-stack': {
    pools: [{ name: 'web', cidrs: ['10.250.100.0/24', 'fd00:250:100::/64'] }],
    peers: [v4Peer, v6Peer],
    advertisements: [announceAll],
  },
  'dual-stack-session': {
    pools: [{ name: 'web', cidrs: ['10.250.100.0/24', 'fd00:250:100::/64'] }],
    peers: [{ ...v4Peer, dualStackAddressFamily: true }],
    advertisements: [announceAll],
  },
  bfd: {
    pools: [v4Pool],
    peers: [{ ...v4Peer, bfdProfile: 'fast' }],
    bfdProfiles: [{ name: 'fast', receiveInterval: 300, transmitInterval: 300, detectMultiplier: 3, echoMode: true, echoInterval: 50, passiveMode: true }],
    advertisements: [announceAll],
  },
  communities: {
    pools: [v4Pool, v6Pool],
    peers: [v4Peer, v6Peer],
    communities: [{ name: 'no-advertise', value: '65535:65282' }],
    advertisements: [{ ...announceAll, communities: ['64500:100', 'large:64512:1:2', 'no-advertise'] }],
  },
  'local-pref': {
    pools: [v4Pool, { name: 'batch', cidrs: ['10.250.101.0/24'] }],
    peers: [{ name: 'rr', myASN: 65001, peerASN: 65001, peerAddress: '10.250.0.2' }],
    advertisements: [
      { name: 'preferred', type: 'bgp', ipAddressPools: ['web'], localPref: 200 },
      { name: 'default', type: 'bgp', ipAddressPools: ['batch'] },
    ],
  },
  vrf: { pools: [v4Pool], peers: [{ ...v4Peer, vrf: 'red', routerID: '10.250.0.1' }], advertisements: [announceAll] },
  'ebgp-multihop': {
    pools: [v4Pool],
    peers: [{ ...v4Peer, peerAddress: '10.250.9.1', ebgpMultiHop: true, sourceAddress: '10.250.0.1' }],
    advertisements: [announceAll],
  },
  passwords: {
    pools: [v4Pool, v6Pool],
    peers: [{ ...v4Peer, password: 's3cret!#x' }, { ...v6Peer, password: 'An0ther-one' }],
    advertisements: [announceAll],
  },
  timers: {
    pools: [v4Pool],
    peers: [{ ...v4Peer, holdTime: 90, keepaliveTime: 30, connectTime: 10, enableGracefulRestart: true, routerID: '10.250.0.1' }],
    advertisements: [announceAll],
  },
  'local-peering-frr-9.1': {
    policy: { allowLocalPeering: true },
    capabilities: { frrVersion: '9.1.0', metallbVersion: '0.16.1' },
    pools: [v4Pool],
    peers: [{ name: 'node-bird', myASN: 65001, peerASN: 65010, peerAddress: '127.0.0.1', peerPort: 1790, ebgpMultiHop: true, localPeering: true }],
    advertisements: [announceAll],
  },
  'local-peering-frr-8.4': {
    policy: { allowLocalPeering: true },
    capabilities: { frrVersion: '8.4.4', metallbVersion: '0.13.12' },
    pools: [v4Pool],
    peers: [{ name: 'node-bird', myASN: 65001, peerASN: 65010, peerAddress: '127.0.0.1', peerPort: 1790, ebgpMultiHop: true, localPeering: true }],
    advertisements: [announceAll],
  },
  'local-peering-node-address': {
    policy: { allowLocalPeering: true },
    pools: [v4Pool],
    peers: [{ name: 'node-bird', myASN: 65001, peerASN: 65010, peerAddress: '10.250.0.1', sourceAddress: '10.250.0.1', ebgpMultiHop: true, localPeering: true }],
    advertisements: [announceAll],
  },
  'frr-only-features': {
    pools: [v4Pool, v6Pool],
    peers: [{ ...v4Peer, bfdProfile: 'slow', keepaliveTime: 10, holdTime: 30, connectTime: 5, enableGracefulRestart: true }],
    bfdProfiles: [{ name: 'slow', receiveInterval: 1000, transmitInterval: 1000, detectMultiplier: 5 }],
    advertisements: [{ ...announceAll, communities: ['large:65001:0:1'] }],
  },
  'frr-k8s-supplement': {
    pools: [v4Pool],
    peers: [{ ...v4Peer, sourceAddress: '10.250.0.1', localASN: 65100, holdTime: 90, password: 'pw-123',
      nodeSelectors: [{ matchLabels: { 'metalfleet.dev/rack': 'r1' } }], bfdProfile: 'fast' }],
    bfdProfiles: [{ name: 'fast', receiveInterval: 300, transmitInterval: 300, detectMultiplier: 3 }],
    advertisements: [announceAll],
  },
  l2: {
    pools: [v4Pool],
    advertisements: [{ name: 'arp', type: 'l2', interfaces: ['eth0'], nodeSelectors: [{ matchLabels: { 'kubernetes.io/hostname': 'worker-1' } }] }],
  },
  unnumbered: {
    pools: [v4Pool, v6Pool],
    peers: [{ name: 'fabric', myASN: 65001, dynamicASN: 'external', interface: 'eth1' }],
    policy: { allowedASNs: [{ from: 64512, to: 65534 }] },
    advertisements: [announceAll],
  },
  aggregation: {
    pools: [{ name: 'web', cidrs: ['10.250.100.0/26', 'fd00:250:100::/120'] }],
    peers: [v4Peer, v6Peer],
    advertisements: [{ ...announceAll, aggregationLength: 28, aggregationLengthV6: 124, nodeSelectors: [{ matchExpressions: [{ key: 'edge', operator: 'Exists' }] }] }],
  },
};

export const ALL_BACKENDS = BACKENDS;
