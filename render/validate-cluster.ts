// The rules that span objects of one cluster, as MetalLB applies them (internal/config/config.go
// poolsFor, validateBGPAdvPerPool, BGPAdvertisementsHaveCompatibleLocalPref, validateConfig;
// validation.go checkFRRPeersCompatible, v0.16.1): overlap across pools, peers that share an FRR,
// aggregation lengths, local preferences per node, BFD echo on IPv6. Pure.
import type { Advertisement, ClusterIntent, Node, Peer } from './model.ts';
import { parseIp } from './grammar.ts';
import { CAPABILITIES } from './capabilities.ts';
import { tryParse, type Collector } from './problems.ts';
import { tryAddressEntry, widestPrefix, type AddressEntry } from './ranges.ts';
import { advertisedPeers, advertisedPools, intersects, selectedNodes } from './resolve.ts';

/** Every pool's parsed entries (unparsable ones left out: poolProblems reports them). */
export type PoolEntries = Map<string, AddressEntry[]>;

export function poolEntries(intent: ClusterIntent): PoolEntries {
  return new Map(intent.pools.map((pool) => [pool.name, pool.cidrs.map(tryAddressEntry).filter((e) => e !== undefined)]));
}

/** Overlap across pools, CIDRs and ranges alike: sort by family and start, sweep keeping the furthest end. */
export function validatePoolOverlap(out: Collector, intent: ClusterIntent): void {
  const all = intent.pools.flatMap((pool) => pool.cidrs.flatMap((text, index) => {
    const entry = tryAddressEntry(text);
    return entry ? [{ pool: pool.name, index, entry }] : [];
  }));
  all.sort((a, b) => a.entry.family - b.entry.family || (a.entry.start < b.entry.start ? -1 : a.entry.start > b.entry.start ? 1 : 0));
  let reach: (typeof all)[number] | undefined;
  for (const item of all) {
    const { entry } = item;
    if (reach && reach.entry.family === entry.family && entry.start <= reach.entry.end && reach.pool !== item.pool) {
      out.add('pool-overlap', `pools/${item.pool}/cidrs/${item.index}`,
        `${entry.text} in pool ${item.pool} overlaps ${reach.entry.text} in pool ${reach.pool}`, 'use non-overlapping CIDRs and ranges');
    }
    if (!reach || reach.entry.family !== entry.family || entry.end > reach.entry.end) reach = item;
  }
}

/** The nodes a cluster reported, or undefined: then any two selections may share a node. */
const knownNodes = (intent: ClusterIntent): Node[] | undefined =>
  (intent.cluster.capabilities.nodes?.length ?? 0) > 0 ? intent.cluster.capabilities.nodes : undefined;

/** MetalLB's peersCanRunOnSameNode for every pair of peers that share an FRR. */
export function validatePeersSharingNodes(out: Collector, intent: ClusterIntent): void {
  if (CAPABILITIES[intent.cluster.backend].peerSharing === 'none') return;
  // Parsed and placed once per peer: the pairs are quadratic, the work per peer must not be.
  const nodes = CAPABILITIES[intent.cluster.backend].peerSharing === 'one-host' ? undefined : knownNodes(intent);
  const peers = intent.peers.map((peer) => ({
    peer,
    nodes: nodes ? selectedNodes(nodes, peer.nodeSelectors) : undefined,
    address: peer.peerAddress !== undefined ? tryParse(() => parseIp(peer.peerAddress!))?.text ?? peer.peerAddress : undefined,
    routerId: peer.routerID !== undefined ? tryParse(() => parseIp(peer.routerID!))?.text ?? peer.routerID : '',
  }));
  const show = (p: Peer) => p.routerID ?? 'unset';
  for (let j = 1; j < peers.length; j++) {
    const { peer: b, address: addressB, routerId: routerIdB, nodes: nodesB } = peers[j]!;
    const at = `peers/${b.name}`;
    // One problem of each kind per peer, naming the first peer it conflicts with: a pair each would
    // make n² problems (and a response of megabytes) out of one mistake repeated n times.
    let routerIdConflict = false;
    let asnConflict = false;
    let duplicate = false;
    for (let i = 0; i < j && !(routerIdConflict && asnConflict && duplicate); i++) {
      const { peer: a, address: addressA, routerId: routerIdA, nodes: nodesA } = peers[i]!;
      // MetalLB: two peers share an FRR when some known node matches both; no nodes known: they do.
      if (nodesA && nodesB && !intersects(nodesA, nodesB)) continue;
      // Unset counts as a value of its own: one FRR has one router ID (MetalLB compares the strings).
      if (!routerIdConflict && routerIdA !== routerIdB) {
        routerIdConflict = true;
        out.add('router-id-conflict', `${at}/routerID`,
          `peers ${a.name} and ${b.name} share a node but have different router IDs (${show(a)}, ${show(b)})`,
          'give every peer that shares a node the same routerID (or leave it unset on all of them), or separate them with nodeSelectors');
      }
      if ((a.vrf ?? '') !== (b.vrf ?? '')) continue;
      if (!asnConflict && a.myASN !== b.myASN) {
        asnConflict = true;
        out.add('my-asn-conflict', `${at}/myASN`,
          `peers ${a.name} and ${b.name} share a node and VRF but have different myASN (${a.myASN}, ${b.myASN})`,
          'use one myASN per VRF on a node');
      }
      const sameAddress = addressA !== undefined && addressA === addressB;
      if (!duplicate && (sameAddress || (a.interface !== undefined && a.interface === b.interface))) {
        duplicate = true;
        out.add('duplicate-peer', at, `peers ${a.name} and ${b.name} reach the same neighbor from the same node and VRF`,
          'keep one of them, or separate them with nodeSelectors or VRFs');
      }
    }
  }
}

/** An advertisement against the pools, peers and backend of one cluster. */
export function validateAdvertisementInCluster(out: Collector, intent: ClusterIntent, adv: Advertisement, entries: PoolEntries): void {
  const at = (field: string) => `advertisements/${adv.name}/${field}`;
  adv.ipAddressPools.forEach((name, i) => {
    if (!intent.pools.some((p) => p.name === name)) {
      out.add('unknown-pool', `${at('ipAddressPools')}/${i}`,
        `pool ${JSON.stringify(name)} is not selected for this cluster`,
        'create the pool, or make its clusterSelector include this cluster');
    }
  });
  if (adv.type === 'l2') return;
  adv.peers.forEach((name, i) => {
    if (!intent.peers.some((p) => p.name === name)) {
      out.add('unknown-peer', `${at('peers')}/${i}`, `peer ${JSON.stringify(name)} is not selected for this cluster`,
        'create the peer, or make its clusterSelector include this cluster');
    }
  });
  const pools = advertisedPools(intent, adv);
  // Per address entry, the widest covering prefix bounds the aggregation (a range may need several CIDRs).
  for (const [field, family] of [['aggregationLength', 4], ['aggregationLengthV6', 6]] as const) {
    const length = adv[field];
    if (length === undefined) continue;
    for (const pool of pools) {
      for (const entry of entries.get(pool.name) ?? []) {
        if (entry.family === family && widestPrefix(entry) > length) {
          out.add('aggregation-length-too-short', at(field),
            `pool ${pool.name} entry ${entry.text} is more specific than the ${field} ${length}`,
            `use ${field} >= ${widestPrefix(entry)}`);
        }
      }
    }
  }
  // Echo mode is refused for peers that advertise IPv6 pools (MetalLB validateConfig).
  if (pools.some((p) => (entries.get(p.name) ?? []).some((e) => e.family === 6))) {
    for (const peer of advertisedPeers(intent, adv)) {
      const profile = intent.bfdProfiles.find((b) => b.name === peer.bfdProfile);
      if (profile?.echoMode) {
        out.add('bfd-echo-ipv6', `bfdProfiles/${profile.name}/echoMode`,
          `peer ${peer.name} advertises IPv6 pools, where BFD echo mode does not work`,
          'turn echoMode off in the profile');
      }
    }
  }
}

/**
 * MetalLB's local-preference rule, per pool: two BGP advertisements of one pool must agree on
 * localPref (unset is 0) unless one selects services, their aggregation lengths differ for the
 * pool's families, both name peers and share none, or no node announces both. Nodes unknown:
 * any two selections may share a node (stricter than MetalLB, which then sees no nodes at all).
 */
export function validateLocalPrefs(out: Collector, intent: ClusterIntent, entries: PoolEntries): void {
  const bgp = intent.advertisements.filter((a) => a.type === 'bgp' && (a.serviceSelectors?.length ?? 0) === 0);
  const nodes = knownNodes(intent);
  const nodesOf = new Map(bgp.map((a) => [a, nodes ? selectedNodes(nodes, a.nodeSelectors) : undefined]));
  const reported = new Set<string>();
  for (const pool of intent.pools) {
    const families = new Set((entries.get(pool.name) ?? []).map((e) => e.family));
    const mine = bgp.filter((a) => advertisedPools(intent, a).includes(pool));
    for (let i = 0; i < mine.length; i++) {
      for (let j = i + 1; j < mine.length; j++) {
        const [a, b] = [mine[i]!, mine[j]!];
        if ((a.localPref ?? 0) === (b.localPref ?? 0) || reported.has(b.name)) continue;
        if (aggregationDiffers(a, b, families)) continue;
        if (a.peers.length > 0 && b.peers.length > 0 && !a.peers.some((p) => b.peers.includes(p))) continue;
        const [na, nb] = [nodesOf.get(a), nodesOf.get(b)];
        if (na && nb && !intersects(na, nb)) continue;
        reported.add(b.name);
        out.add('local-pref-conflict', `advertisements/${b.name}/localPref`,
          `advertisements ${a.name} and ${b.name} announce pool ${pool.name} with localPref ${a.localPref ?? 0} and ${b.localPref ?? 0} from the same node${nodes ? '' : ' (the cluster has reported no nodes)'}`,
          'use the same localPref, or separate them by peers, nodeSelectors or aggregation lengths');
      }
    }
  }
}

/** MetalLB's isAggrLengthDifferent: the lengths that matter for the pool's families all differ. */
function aggregationDiffers(a: Advertisement, b: Advertisement, families: Set<number>): boolean {
  if (families.size === 0) return true;
  const v4 = (a.aggregationLength ?? 32) !== (b.aggregationLength ?? 32);
  const v6 = (a.aggregationLengthV6 ?? 128) !== (b.aggregationLengthV6 ?? 128);
  if (!families.has(6)) return v4;
  if (!families.has(4)) return v6;
  return v4 && v6;
}

