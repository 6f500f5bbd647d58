// Where an intent uses each feature the capability table (capabilities.ts) knows: the paths of
// the fields, and a phrase naming the use for the refusal's message (`{host}` and `{file}` stand
// for the backend's daemon, e.g. "host FRR", and its config file). Pure.
import type { BfdProfile, ClusterIntent, Peer } from './model.ts';
import { cidrContains, LOOPBACK_V4, parseCidr, parseIp } from './grammar.ts';
import { tryParse } from './problems.ts';
import { advertisedPools, effectiveTimers, resolveCommunity } from './resolve.ts';
import { tryAddressEntry } from './ranges.ts';

export type Feature =
  | 'bfd' | 'keepaliveTime' | 'vrf' | 'connectTime' | 'gracefulRestart' | 'dualStackAddressFamily' | 'dynamicASN'
  | 'unnumbered' | 'localASN' | 'sourceAddress' | 'ipv6Peers' | 'ipv6Announcements' | 'largeCommunities' | 'l2'
  | 'passwordSecret' | 'serviceSelectors'
  // What host daemons other than FRR lack (bird.ts, gobgp.ts).
  | 'bfdSessions' | 'bfdSessionOptions' | 'bfdEcho' | 'bfdMinimumTtl' | 'multihopBfdWithoutSource'
  | 'keepaliveZero' | 'holdTimeZero' | 'loopbackPeering' | 'linkLocalPeers' | 'passwordQuote';

/** Where an intent uses a feature: the path and a phrase naming the use. */
export interface Use { path: string; what: string; remedy?: string }

const LINK_LOCAL_V6 = parseCidr('fe80::/10');

const ibgp = (p: Peer) => (p.peerASN !== undefined ? p.peerASN === p.myASN : p.dynamicASN === 'internal');

function peerUses(intent: ClusterIntent, uses: (p: Peer) => boolean, field: string, what: string, remedy?: string): Use[] {
  return intent.peers.filter(uses).map((p) => ({ path: `peers/${p.name}/${field}`, what, ...(remedy ? { remedy } : {}) }));
}

/** The BFD profiles the cluster's peers use, with the peers using each. */
function usedProfiles(intent: ClusterIntent): Array<{ profile: BfdProfile; peers: Peer[] }> {
  return intent.bfdProfiles.map((profile) => ({ profile, peers: intent.peers.filter((p) => p.bfdProfile === profile.name) }))
    .filter((u) => u.peers.length > 0);
}

const hasSessionOptions = (b: BfdProfile) => b.receiveInterval !== undefined || b.transmitInterval !== undefined
  || b.detectMultiplier !== undefined || b.passiveMode;

export const FEATURE_USES: Record<Feature, (intent: ClusterIntent) => Use[]> = {
  bfd: (i) => [
    ...peerUses(i, (p) => p.bfdProfile !== undefined, 'bfdProfile', 'BFD'),
    ...i.bfdProfiles.map((b) => ({ path: `bfdProfiles/${b.name}`, what: 'BFD profiles' })),
  ],
  keepaliveTime: (i) => peerUses(i, (p) => p.keepaliveTime !== undefined && p.keepaliveTime !== 0, 'keepaliveTime',
    'keepaliveTime'),
  vrf: (i) => peerUses(i, (p) => p.vrf !== undefined, 'vrf', 'VRFs'),
  connectTime: (i) => peerUses(i, (p) => p.connectTime !== undefined, 'connectTime', 'connectTime'),
  gracefulRestart: (i) => peerUses(i, (p) => p.enableGracefulRestart, 'enableGracefulRestart', 'graceful restart'),
  dualStackAddressFamily: (i) => peerUses(i, (p) => p.dualStackAddressFamily, 'dualStackAddressFamily',
    'dualStackAddressFamily', 'use one peer per address family'),
  dynamicASN: (i) => peerUses(i, (p) => p.dynamicASN !== undefined, 'dynamicASN', 'dynamicASN', 'set peerASN'),
  unnumbered: (i) => peerUses(i, (p) => p.interface !== undefined, 'interface', 'BGP unnumbered (interface)',
    'set peerAddress'),
  localASN: (i) => peerUses(i, (p) => p.localASN !== undefined, 'localASN', 'localASN'),
  sourceAddress: (i) => peerUses(i, (p) => p.sourceAddress !== undefined, 'sourceAddress', 'sourceAddress'),
  ipv6Peers: (i) => peerUses(i, (p) => tryParse(() => parseIp(p.peerAddress ?? ''))?.family === 6, 'peerAddress',
    'IPv6 peers'),
  // DiscardFRROnly: any IPv6 entry of a pool that any BGP advertisement selects.
  ipv6Announcements: (i) => i.advertisements.filter((a) => a.type === 'bgp').flatMap((adv) => advertisedPools(i, adv)
    .flatMap((pool) => pool.cidrs.flatMap((text, n) => (tryAddressEntry(text)?.family === 6
      ? [{ path: `pools/${pool.name}/cidrs/${n}`,
        what: `announcing IPv6 (pool ${pool.name} has ${text} and advertisement ${adv.name} selects it)` }]
      : [])))),
  // Large communities in advertisements, and in any community alias the cluster gets (MetalLB refuses
  // them in a Community object even when unused; select.ts gives a cluster only the aliases it uses).
  largeCommunities: (i) => [
    ...i.advertisements.flatMap((adv) => adv.communities.flatMap((ref, n) =>
      (resolveCommunity(i.communities, ref)?.kind === 'large'
        ? [{ path: `advertisements/${adv.name}/communities/${n}`, what: 'large communities' }] : []))),
    ...i.communities.filter((c) => resolveCommunity([], c.value)?.kind === 'large')
      .map((c) => ({ path: `communities/${c.name}`, what: `large communities (alias ${c.name})` })),
  ],
  l2: (i) => i.advertisements.filter((a) => a.type === 'l2').map((a) => ({
    path: `advertisements/${a.name}`, what: 'L2 (ARP/NDP) advertisements',
    remedy: 'give the advertisement a clusterSelector that excludes {host} clusters',
  })),
  passwordSecret: (i) => i.peers.filter((p) => p.passwordSecret !== undefined).map((p) => ({
    path: `peers/${p.name}/passwordSecret`,
    what: 'passwordSecret (a {host} has no Kubernetes Secrets; {file} needs the password itself)',
    remedy: 'set password (metalfleet stores it sealed) for peers of {host} clusters, or exclude them with a clusterSelector',
  })),
  serviceSelectors: (i) => i.advertisements.filter((a) => a.type === 'bgp' && (a.serviceSelectors?.length ?? 0) > 0)
    .map((a) => ({
      path: `advertisements/${a.name}/serviceSelectors`,
      what: 'serviceSelectors (a {host} announces whole pools, it has no services)',
      remedy: 'remove serviceSelectors, or exclude {host} clusters with a clusterSelector',
    })),
  bfdSessions: (i) => peerUses(i, (p) => p.bfdProfile !== undefined, 'bfdProfile', 'BFD',
    'remove bfdProfile from the peers of this cluster, or use backend frr or bird'),
  bfdSessionOptions: (i) => usedProfiles(i).filter((u) => hasSessionOptions(u.profile)).flatMap((u) => u.peers.map((p) => ({
    path: `peers/${p.name}/bfdProfile`,
    what: `per-session BFD intervals, multiplier or passive mode (profile ${u.profile.name})`,
  }))),
  bfdEcho: (i) => usedProfiles(i).filter((u) => u.profile.echoMode || u.profile.echoInterval !== undefined).map((u) => ({
    path: `bfdProfiles/${u.profile.name}/echoMode`, what: `BFD echo mode (profile ${u.profile.name})`,
    remedy: 'turn echo mode off and leave echoInterval unset in the profile, or use backend frr',
  })),
  bfdMinimumTtl: (i) => usedProfiles(i).filter((u) => u.profile.minimumTtl !== undefined).map((u) => ({
    path: `bfdProfiles/${u.profile.name}/minimumTtl`, what: `BFD minimumTtl (profile ${u.profile.name})`,
    remedy: 'leave minimumTtl unset in the profile, or use backend frr',
  })),
  multihopBfdWithoutSource: (i) => peerUses(i,
    (p) => p.bfdProfile !== undefined && (p.ebgpMultiHop || ibgp(p)) && p.sourceAddress === undefined, 'sourceAddress',
    'BFD on a multihop session (iBGP, or ebgpMultiHop) without a local address', 'set sourceAddress to the node address'),
  holdTimeZero: (i) => peerUses(i, (p) => effectiveTimers(p).hold === 0, 'holdTime',
    'a session without hold timer (holdTime 0)', 'set a hold time of at least 3s, e.g. 90s'),
  keepaliveZero: (i) => peerUses(i, (p) => {
    const { hold, keepalive } = effectiveTimers(p);
    return keepalive === 0 && (hold ?? 0) > 0;
  }, 'keepaliveTime', 'a session without keepalives but with a hold time',
  'set keepaliveTime to at least 1s (typically a third of holdTime), or holdTime to 0'),
  loopbackPeering: (i) => peerUses(i, (p) => {
    const ip = tryParse(() => parseIp(p.peerAddress ?? ''));
    return (ip?.family === 4 && cidrContains(LOOPBACK_V4, ip)) || ip?.text === '::1';
  }, 'peerAddress', 'peering over 127.0.0.0/8 or ::1', 'peer via the node address (localPeering with the node address)'),
  linkLocalPeers: (i) => peerUses(i, (p) => {
    const ip = tryParse(() => parseIp(p.peerAddress ?? ''));
    return ip !== undefined && cidrContains(LINK_LOCAL_V6, ip);
  }, 'peerAddress', 'link-local peer addresses (they need an interface)', 'peer via a global or ULA address'),
  passwordQuote: (i) => peerUses(i, (p) => p.password?.includes('"') ?? false, 'password',
    'a password with a double quote (BIRD strings cannot hold one)', 'choose a password without "'),
};
