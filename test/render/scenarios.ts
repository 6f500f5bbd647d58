// One intent per scenario, rendered for every backend by the golden tests. Addresses are the
// lab's (10.250.x.x, fd00:250::/32) so that every frr.conf can also be loaded into a real FRR.
import type { ClusterIntentInput } from '../../render/model.ts';
import type { Backend } from '../../render/policy.ts';
import { BACKENDS } from '../../render/policy.ts';
import { renderCluster } from '../../render/index.ts';

type Body = Omit<ClusterIntentInput, 'cluster' | 'policy'> & {
  policy?: Partial<ClusterIntentInput['policy']>;
  capabilities?: ClusterIntentInput['cluster']['capabilities'];
};

export const BASE_POLICY = {
  allowedASNs: [{ from: 64500, to: 65535 }],
  allowedPeerCIDRs: ['10.250.0.0/16', 'fd00:250::/32'],
};

/** What the agents of the lab report: the versions of Debian 12's daemons, the lab host's addresses. */
export const DEFAULT_CAPABILITIES = {
  frrVersion: '8.4.4', metallbVersion: '0.16.1', birdVersion: '2.0.12', gobgpVersion: '3.10.0', nodeAddresses: ['10.250.0.1', 'fd00:250::1'],
};

export function intentFor(backend: Backend, body: Body): ClusterIntentInput {
  const { policy, capabilities, ...rest } = body;
  return {
    cluster: { name: 'edge-1', backend, namespace: 'metallb-system', capabilities: capabilities ?? DEFAULT_CAPABILITIES },
    policy: { ...BASE_POLICY, ...policy },
    ...rest,
  };
}

/** A scenario's host frr.conf for a cluster whose agent reported `frrVersion` (the version gates). */
export function renderHostConfigFor(scenario: string, frrVersion: string): ReturnType<typeof renderCluster> {
  const body = SCENARIOS[scenario];
  if (!body) throw new Error(`no scenario ${scenario}`);
  return renderCluster(intentFor('frr', { ...body, capabilities: { ...body.capabilities, frrVersion } }));
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
    capabilities: { frrVersion: '9.1.0', metallbVersion: '0.16.1', nodeAddresses: ['10.250.0.1'] },
    pools: [v4Pool],
    peers: [{ name: 'node-bird', myASN: 65001, peerASN: 65010, peerAddress: '127.0.0.1', peerPort: 1790, ebgpMultiHop: true, localPeering: true }],
    advertisements: [announceAll],
  },
  'local-peering-frr-8.4': {
    policy: { allowLocalPeering: true },
    capabilities: { frrVersion: '8.4.4', metallbVersion: '0.13.12', nodeAddresses: ['10.250.0.1'] },
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
  // frr-k8s refuses both fields (MetalLB 0.16 drops them there); the others render them.
  'source-address-local-asn': {
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
  ranges: {
    pools: [{ name: 'web', cidrs: ['10.250.100.0/24', '10.250.102.10-10.250.102.40'] }, { name: 'web-v6', cidrs: ['fd00:250:102::10-fd00:250:102::1f'] }],
    peers: [v4Peer, v6Peer],
    advertisements: [{ ...announceAll, aggregationLength: 32 }],
  },
  selectors: {
    pools: [
      { name: 'web', cidrs: ['10.250.100.0/24'], labels: { tier: 'front', 'metalfleet.dev/team': 'a' },
        serviceAllocation: { priority: 10, namespaces: ['shop', 'shop-staging'], namespaceSelectors: [{ matchLabels: { team: 'a' } }],
          serviceSelectors: [{ matchExpressions: [{ key: 'app', operator: 'In', values: ['api', 'web'] }] }] } },
      { name: 'batch', cidrs: ['10.250.101.0/24'], labels: { tier: 'back' } },
    ],
    peers: [v4Peer],
    advertisements: [
      { name: 'front', type: 'bgp', ipAddressPoolSelectors: [{ matchLabels: { tier: 'front' } }], serviceSelectors: [{ matchLabels: { exposed: 'true' } }] },
      { name: 'front', type: 'l2', ipAddressPoolSelectors: [{ matchLabels: { tier: 'front' } }], serviceSelectors: [{ matchLabels: { exposed: 'true' } }],
        nodeSelectors: [{ matchLabels: { 'kubernetes.io/hostname': 'worker-1' } }], interfaces: ['eth0', 'eth1'] },
    ],
  },
  'password-secret': {
    pools: [v4Pool],
    peers: [{ ...v4Peer, passwordSecret: 'tor-a-md5' }, { ...v4Peer, name: 'tor-b', peerAddress: '10.250.0.3', passwordSecret: 'tor-b-md5',
      sourceAddress: '10.250.0.1', localASN: 65100 }],
    advertisements: [announceAll],
  },
  'local-peering-no-node-address': {
    policy: { allowLocalPeering: true },
    capabilities: { frrVersion: '10.3', metallbVersion: '0.16.1' },
    pools: [v4Pool],
    peers: [{ name: 'node-bird', myASN: 65001, peerASN: 65010, peerAddress: '127.0.0.1', peerPort: 1790, ebgpMultiHop: true, localPeering: true }],
    advertisements: [announceAll],
  },
  // What every host daemon renders: local ASN, source address, timers, passwords (a backslash
  // too), graceful restart, iBGP with local preference and communities on IPv6.
  'host-daemon-sessions': {
    pools: [v4Pool, v6Pool],
    peers: [
      { ...v4Peer, localASN: 65100, sourceAddress: '10.250.0.1', holdTime: 30, keepaliveTime: 10, connectTime: 5,
        enableGracefulRestart: true, password: 'back\\slash#1' },
      { name: 'rr-v6', myASN: 65001, peerASN: 65001, peerAddress: 'fd00:250::2', password: 'v6-secret' },
    ],
    advertisements: [
      { name: 'web', type: 'bgp', ipAddressPools: ['web'], communities: ['64500:100'] },
      { name: 'web-v6', type: 'bgp', ipAddressPools: ['web-v6'], localPref: 150, communities: ['large:64512:1:2', '64500:200'] },
    ],
  },
  // BIRD's BFD: per-session options, passive mode, a multihop (iBGP) session with a local address;
  // a dynamic external ASN.
  'bird-bfd': {
    pools: [v4Pool],
    peers: [
      { name: 'rr', myASN: 65001, peerASN: 65001, peerAddress: '10.250.0.2', sourceAddress: '10.250.0.1', bfdProfile: 'passive' },
      { name: 'fabric', myASN: 65001, dynamicASN: 'external', peerAddress: '10.250.0.6', bfdProfile: 'plain' },
    ],
    bfdProfiles: [{ name: 'passive', receiveInterval: 200, transmitInterval: 200, detectMultiplier: 4, passiveMode: true }, { name: 'plain' }],
    advertisements: [announceAll],
  },
  // What BIRD and GoBGP cannot do that FRR can.
  'host-daemon-limits': {
    pools: [v4Pool],
    peers: [
      { name: 'rr', myASN: 65001, peerASN: 65001, peerAddress: '10.250.0.2', bfdProfile: 'ttl' },
      { name: 'quote', myASN: 65001, peerASN: 65002, peerAddress: '10.250.0.6', password: 'say"cheese"', holdTime: 90, keepaliveTime: 0 },
    ],
    bfdProfiles: [{ name: 'ttl', minimumTtl: 254 }],
    advertisements: [announceAll],
  },
  // The daemon versions the agents report gate BIRD's per-session BFD options and GoBGP itself.
  'daemon-versions': {
    capabilities: { ...DEFAULT_CAPABILITIES, birdVersion: '2.0.7', gobgpVersion: '2.34.0' },
    pools: [v4Pool],
    peers: [{ ...v4Peer, bfdProfile: 'fast' }],
    bfdProfiles: [{ name: 'fast', receiveInterval: 300, transmitInterval: 300 }],
    advertisements: [announceAll],
  },
  aggregation: {
    pools: [{ name: 'web', cidrs: ['10.250.100.0/26', 'fd00:250:100::/120'] }],
    peers: [v4Peer, v6Peer],
    advertisements: [{ ...announceAll, aggregationLength: 28, aggregationLengthV6: 124, nodeSelectors: [{ matchExpressions: [{ key: 'edge', operator: 'Exists' }] }] }],
  },
};

export const ALL_BACKENDS = BACKENDS;

export const KUBERNETES_BACKENDS = ['metallb-native', 'metallb-frr', 'metallb-frr-k8s'] as const satisfies readonly Backend[];

/** The backends whose config is a file for a daemon on the host. */
export const HOST_BACKENDS = ['frr', 'bird', 'gobgp'] as const satisfies readonly Backend[];

/**
 * The backends each scenario is refused on, on purpose; every scenario renders on every backend
 * not listed here. Tests that check rendered output (crd-schema.test.ts) iterate over what this
 * says must render, so a renderer that starts refusing a scenario fails them instead of quietly
 * leaving a combination out.
 */
export const REFUSED_ON: Readonly<Record<string, readonly Backend[]>> = {
  'ipv6-only': ['metallb-native'],
  'dual-stack': ['metallb-native'],
  'dual-stack-session': ['metallb-native', 'bird', 'gobgp'],
  bfd: ['metallb-native', 'bird', 'gobgp'],
  communities: ['metallb-native'],
  vrf: ['metallb-native', 'bird', 'gobgp'],
  passwords: ['metallb-native'],
  timers: ['metallb-native'],
  // sourceAddress: MetalLB 0.16 drops it in frr-k8s mode.
  'ebgp-multihop': ['metallb-frr-k8s'],
  'local-peering-node-address': ['metallb-frr-k8s'],
  'local-peering-frr-8.4': ['metallb-frr', 'metallb-frr-k8s', 'frr', 'bird', 'gobgp'],
  'local-peering-frr-9.1': ['bird', 'gobgp'],
  'local-peering-no-node-address': ['frr', 'bird', 'gobgp'],
  'host-daemon-sessions': ['metallb-native', 'metallb-frr-k8s'],
  'bird-bfd': ['metallb-native', 'metallb-frr-k8s', 'gobgp'],
  'host-daemon-limits': ['metallb-native', 'bird', 'gobgp'],
  'daemon-versions': ['metallb-native', 'bird', 'gobgp'],
  'frr-only-features': ['metallb-native', 'gobgp'],
  'source-address-local-asn': ['metallb-native', 'metallb-frr-k8s', 'gobgp'],
  l2: ['frr', 'bird', 'gobgp'],
  unnumbered: ['metallb-native', 'bird', 'gobgp'],
  aggregation: ['metallb-native'],
  ranges: ['metallb-native'],
  selectors: ['frr', 'bird', 'gobgp'],
  'password-secret': ['frr', 'metallb-native', 'metallb-frr-k8s', 'bird', 'gobgp'],
};

/** Whether `scenario` is declared to render (not be refused) on `backend`. */
export function expectedToRender(scenario: string, backend: Backend): boolean {
  return !(REFUSED_ON[scenario] ?? []).includes(backend);
}
