// What each neighbor of a host daemon announces, shared by the host renderers (frrconf.ts,
// bird.ts, gobgp.ts): per peer, its address families and, per family, the pool prefixes it is
// allowed, those that get a local preference and those that get each community. Neighbors reached
// by the same advertisements with the same families share one set of prefix sets, so that the
// renderers can share their prefix lists too. Pure.
import type { ClusterIntent, Peer } from './model.ts';
import { cidrSortKey, parseIp, type Community, type Family } from './grammar.ts';
import { advertisedPeers, advertisedPools, resolveCommunity } from './resolve.ts';
import { parseAddressEntry } from './ranges.ts';
import { tryParse } from './problems.ts';

export interface Neighbor {
  peer: Peer;
  /** The neighbor as FRR names it: canonical address or interface name. */
  target: string;
  /** Prefix of the filter names: target, plus -vrf inside a VRF. */
  id: string;
  vrf: string;
  families: Family[];
  ipv6Address: boolean;
  allowed: Record<Family, PrefixSet>;
  localPrefs: Map<number, Record<Family, PrefixSet>>;
  communities: Map<string, { community: Community; prefixes: Record<Family, PrefixSet> }>;
}

export const familyTag = (f: Family) => (f === 4 ? 'ipv4' : 'ipv6');

/** Prefixes of one family, kept once each; listed in address order. */
export class PrefixSet {
  private readonly keys = new Map<string, string>();
  private cache: Array<[string, string]> | undefined;
  add(text: string, key: string) { this.keys.set(text, key); this.cache = undefined; }
  get size() { return this.keys.size; }
  entries(): Array<[string, string]> {
    this.cache ??= [...this.keys].sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
    return this.cache;
  }
  sorted(): string[] { return this.entries().map(([text]) => text); }
}
export const emptyByFamily = (): Record<Family, PrefixSet> => ({ 4: new PrefixSet(), 6: new PrefixSet() });

function compareAddresses(a: string, b: string): number {
  const pa = tryParse(() => parseIp(a));
  const pb = tryParse(() => parseIp(b));
  if (!pa || !pb) return pa ? -1 : pb ? 1 : a.localeCompare(b);
  if (pa.family !== pb.family) return pa.family - pb.family;
  for (let i = 0; i < pa.bytes.length; i++) {
    const d = pa.bytes[i]! - pb.bytes[i]!;
    if (d !== 0) return d;
  }
  return 0;
}

/** Every peer as a neighbor, sorted by VRF and address. */
export function buildNeighbors(intent: ClusterIntent): Neighbor[] {
  const bgpAdvertisements = intent.advertisements.filter((a) => a.type === 'bgp').map((adv) => ({
    adv,
    targets: new Set(advertisedPeers(intent, adv).map((p) => p.name)),
    // A range is announced as the minimal set of CIDRs covering exactly it.
    prefixes: advertisedPools(intent, adv).flatMap((pool) => pool.cidrs.flatMap((c) => parseAddressEntry(c).cidrs
      .map((cidr) => ({ family: cidr.family, text: cidr.text, key: cidrSortKey(cidr) })))),
    communities: adv.communities.map((ref) => resolveCommunity(intent.communities, ref)!),
  }));
  const shared = new Map<string, Pick<Neighbor, 'allowed' | 'localPrefs' | 'communities'>>();
  const neighbors = intent.peers.map((peer): Neighbor => {
    const address = peer.peerAddress !== undefined ? parseIp(peer.peerAddress) : undefined;
    const target = address ? address.text : peer.interface!;
    const vrf = peer.vrf ?? '';
    const families: Family[] = !address || peer.dualStackAddressFamily ? [4, 6] : [address.family];
    const reaching = bgpAdvertisements.filter((a) => a.targets.has(peer.name));
    const signature = `${families.join(',')}|${reaching.map((a) => bgpAdvertisements.indexOf(a)).join(',')}`;
    let sets = shared.get(signature);
    if (!sets) {
      sets = { allowed: emptyByFamily(), localPrefs: new Map(), communities: new Map() };
      for (const { adv, prefixes, communities } of reaching) {
        for (const prefix of prefixes) {
          if (!families.includes(prefix.family)) continue;
          sets.allowed[prefix.family].add(prefix.text, prefix.key);
          if (adv.localPref !== undefined) {
            if (!sets.localPrefs.has(adv.localPref)) sets.localPrefs.set(adv.localPref, emptyByFamily());
            sets.localPrefs.get(adv.localPref)![prefix.family].add(prefix.text, prefix.key);
          }
          for (const community of communities) {
            if (!sets.communities.has(community.text)) {
              sets.communities.set(community.text, { community, prefixes: emptyByFamily() });
            }
            sets.communities.get(community.text)!.prefixes[prefix.family].add(prefix.text, prefix.key);
          }
        }
      }
      shared.set(signature, sets);
    }
    return { peer, target, vrf, families, ipv6Address: address?.family === 6, id: vrf ? `${target}-${vrf}` : target, ...sets };
  });
  return neighbors.sort((a, b) => a.vrf.localeCompare(b.vrf) || compareAddresses(a.target, b.target));
}

/** Every prefix some neighbor announces, per family, in address order (what the daemon originates). */
export function announcedPrefixes(neighbors: Neighbor[]): Record<Family, string[]> {
  const all = emptyByFamily();
  // Neighbors reached by the same advertisements share their sets: each set is walked once.
  const seen = new Set<PrefixSet>();
  for (const n of neighbors) {
    for (const family of [4, 6] as const) {
      const set = n.allowed[family];
      if (seen.has(set)) continue;
      seen.add(set);
      for (const [text, key] of set.entries()) all[family].add(text, key);
    }
  }
  return { 4: all[4].sorted(), 6: all[6].sorted() };
}

/**
 * Names of shared prefix sets, by purpose and family (`allowed-ipv4`,
 * `64500:100-ipv4-community-prefixes`, `200-ipv4-localpref-prefixes`), with `-2`, `-3`, ... when
 * one purpose needs different sets; a set is defined once, through `define`, when first named.
 */
export class SharedSets {
  private readonly bySet = new Map<PrefixSet, Map<string, string>>();
  private readonly byContent = new Map<string, string>();
  private readonly taken = new Map<string, number>();

  constructor(private readonly define: (name: string, family: Family, prefixes: string[]) => void) {}

  /** The name of the set holding exactly these prefixes. */
  name(base: string, family: Family, prefixes: PrefixSet): string {
    const same = this.bySet.get(prefixes)?.get(base);
    if (same) return same;
    const entries = prefixes.sorted();
    const content = `${base}|${family}|${entries.join(',')}`;
    let named = this.byContent.get(content);
    if (!named) {
      const n = (this.taken.get(base) ?? 0) + 1;
      this.taken.set(base, n);
      named = n === 1 ? base : `${base}-${n}`;
      this.byContent.set(content, named);
      this.define(named, family, entries);
    }
    if (!this.bySet.has(prefixes)) this.bySet.set(prefixes, new Map());
    this.bySet.get(prefixes)!.set(base, named);
    return named;
  }
}

/**
 * A neighbor's outbound marks in the order every host renderer applies them: local preferences by
 * value, then communities by text; each with its prefixes per family.
 */
export interface OutboundMark {
  /** The name of its prefix set of a family (before SharedSets numbers it). */
  base: (f: Family) => string;
  prefixes: Record<Family, PrefixSet>;
  localPref?: number;
  community?: Community;
}

export function outboundMarks(n: Neighbor): OutboundMark[] {
  return [
    ...[...n.localPrefs.keys()].sort((a, b) => a - b).map((value) => ({
      base: (f: Family) => `${value}-${familyTag(f)}-localpref-prefixes`, prefixes: n.localPrefs.get(value)!, localPref: value,
    })),
    ...[...n.communities.keys()].sort().map((key) => {
      const { community, prefixes } = n.communities.get(key)!;
      return { base: (f: Family) => `${community.text}-${familyTag(f)}-community-prefixes`, prefixes, community };
    }),
  ];
}
