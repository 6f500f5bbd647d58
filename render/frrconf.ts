// renderFrrConf: a complete host frr.conf in the shape MetalLB's FRR mode has proven
// (internal/bgp/frr/templates): deny-all inbound, outbound route-maps gated by prefix-lists,
// `no bgp default ipv4-unicast` with explicit activation, and a `network` statement per advertised
// pool CIDR (a host FRR has no per-service addresses, so it announces the pool prefix itself).
//
// Every value printed here went through render/grammar.ts: addresses and CIDRs are re-printed
// canonically, identifiers and passwords were checked by validateIntent.
import type { ClusterIntent, Peer } from './model.ts';
import { cidrSortKey, parseCidr, parseIp, type Community, type Family } from './grammar.ts';
import { advertisedPeers, advertisedPools, effectiveTimers, needsAllowReservedRanges, resolveCommunity } from './validate.ts';

interface Neighbor {
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

const familyWord = (f: Family) => (f === 4 ? 'ip' : 'ipv6');
const familyTag = (f: Family) => (f === 4 ? 'ipv4' : 'ipv6');

/** Prefixes of one family, kept once each; listed in address order. */
class PrefixSet {
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
const emptyByFamily = (): Record<Family, PrefixSet> => ({ 4: new PrefixSet(), 6: new PrefixSet() });

function compareAddresses(a: string, b: string): number {
  const pa = tryIp(a);
  const pb = tryIp(b);
  if (!pa || !pb) return pa ? -1 : pb ? 1 : a.localeCompare(b);
  if (pa.family !== pb.family) return pa.family - pb.family;
  for (let i = 0; i < pa.bytes.length; i++) {
    const d = pa.bytes[i]! - pb.bytes[i]!;
    if (d !== 0) return d;
  }
  return 0;
}

function tryIp(text: string) {
  try {
    return parseIp(text);
  } catch {
    return undefined;
  }
}

export function buildNeighbors(intent: ClusterIntent): Neighbor[] {
  const bgpAdvertisements = intent.advertisements.filter((a) => a.type === 'bgp').map((adv) => ({
    adv,
    targets: new Set(advertisedPeers(intent, adv).map((p) => p.name)),
    prefixes: advertisedPools(intent, adv).flatMap((pool) => pool.cidrs.map((c) => {
      const cidr = parseCidr(c);
      return { family: cidr.family, text: cidr.text, key: cidrSortKey(cidr) };
    })),
    communities: adv.communities.map((ref) => resolveCommunity(intent.communities, ref)!),
  }));
  // Neighbors reached by the same advertisements, with the same address families, announce
  // exactly the same prefixes: they share one set of prefix sets (built and sorted once).
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
            if (!sets.communities.has(community.text)) sets.communities.set(community.text, { community, prefixes: emptyByFamily() });
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

/**
 * Prefix-lists, shared by every neighbor that announces the same prefixes for the same purpose.
 * MetalLB writes one set of lists per neighbor; a host with many peers announcing the same pools
 * would repeat every pool prefix per peer (100 peers × 500 pools: 12 MB of frr.conf). Lists are
 * named by purpose and family (`allowed-ipv4`, `64500:100-ipv4-community-prefixes`,
 * `200-ipv4-localpref-prefixes`), with `-2`, `-3`, ... when one purpose needs different sets.
 */
class PrefixLists {
  private readonly bySet = new Map<PrefixSet, Map<string, string>>();
  private readonly byContent = new Map<string, string>();
  private readonly taken = new Map<string, number>();
  readonly lines: string[] = [];

  /** The name of the list holding exactly these prefixes (none: a list that denies everything). */
  name(base: string, family: Family, prefixes: PrefixSet): string {
    const same = this.bySet.get(prefixes)?.get(base);
    if (same) return same;
    const named = this.nameByContent(base, family, prefixes);
    if (!this.bySet.has(prefixes)) this.bySet.set(prefixes, new Map());
    this.bySet.get(prefixes)!.set(base, named);
    return named;
  }

  private nameByContent(base: string, family: Family, prefixes: PrefixSet): string {
    const entries = prefixes.sorted();
    const content = `${base}|${family}|${entries.join(',')}`;
    const known = this.byContent.get(content);
    if (known) return known;
    const n = (this.taken.get(base) ?? 0) + 1;
    this.taken.set(base, n);
    const name = n === 1 ? base : `${base}-${n}`;
    this.byContent.set(content, name);
    if (entries.length === 0) this.lines.push(`${familyWord(family)} prefix-list ${name} seq 1 deny any`);
    else entries.forEach((p, i) => this.lines.push(`${familyWord(family)} prefix-list ${name} seq ${i + 1} permit ${p}`));
    this.lines.push('');
    return name;
  }
}

/** A neighbor's route-maps: deny everything in; out, mark and then allow its prefixes. */
function renderRouteMaps(n: Neighbor, lists: PrefixLists, lines: string[]) {
  lines.push(`route-map ${n.id}-in deny 20`, '');
  let seq = 0;
  const matchBlocks = (base: (f: Family) => string, prefixes: Record<Family, PrefixSet>, set: string) => {
    for (const family of [4, 6] as const) {
      if (prefixes[family].size === 0) continue;
      const list = lists.name(base(family), family, prefixes[family]);
      lines.push(`route-map ${n.id}-out permit ${++seq}`, `  match ${familyWord(family)} address prefix-list ${list}`, `  ${set}`, '  on-match next', '');
    }
  };
  for (const value of [...n.localPrefs.keys()].sort((a, b) => a - b)) {
    matchBlocks((f) => `${value}-${familyTag(f)}-localpref-prefixes`, n.localPrefs.get(value)!, `set local-preference ${value}`);
  }
  for (const key of [...n.communities.keys()].sort()) {
    const { community, prefixes } = n.communities.get(key)!;
    const set = community.kind === 'large' ? `set large-community ${community.frrText} additive` : `set community ${community.text} additive`;
    matchBlocks((f) => `${community.text}-${familyTag(f)}-community-prefixes`, prefixes, set);
  }
  for (const family of [4, 6] as const) {
    const list = lists.name(`allowed-${familyTag(family)}`, family, n.allowed[family]);
    lines.push(`route-map ${n.id}-out permit ${++seq}`, `  match ${familyWord(family)} address prefix-list ${list}`, '');
  }
}

function renderNeighborSession(n: Neighbor, lines: string[]) {
  const { peer, target } = n;
  const remote = peer.peerASN !== undefined ? String(peer.peerASN) : peer.dynamicASN!;
  const neighbor = (rest: string) => lines.push(`  neighbor ${target} ${rest}`);
  if (peer.interface !== undefined) neighbor(`interface remote-as ${remote}`);
  else neighbor(`remote-as ${remote}`);
  if (peer.ebgpMultiHop) neighbor('ebgp-multihop');
  if (peer.localASN !== undefined) neighbor(`local-as ${peer.localASN} no-prepend replace-as`);
  neighbor(`port ${peer.peerPort}`);
  const { hold, keepalive } = effectiveTimers(peer);
  if (hold !== undefined && keepalive !== undefined) neighbor(`timers ${keepalive} ${hold}`);
  if (peer.connectTime !== undefined) neighbor(`timers connect ${peer.connectTime}`);
  if (peer.password !== undefined) neighbor(`password ${peer.password}`);
  if (peer.sourceAddress !== undefined) neighbor(`update-source ${parseIp(peer.sourceAddress).text}`);
  if (peer.enableGracefulRestart) neighbor('graceful-restart');
  if (peer.bfdProfile !== undefined) {
    neighbor('bfd');
    neighbor(`bfd profile ${peer.bfdProfile}`);
  }
  // Single-hop eBGP over IPv6 (and dynamic external peers) skip the connected check, as MetalLB
  // renders it. Never for an unnumbered peer: FRR refuses it there ("directly connected peer").
  const ebgp = peer.peerASN !== undefined ? peer.peerASN !== peer.myASN : peer.dynamicASN === 'external';
  if (peer.interface === undefined && ((n.ipv6Address && ebgp && !peer.ebgpMultiHop) || peer.dynamicASN === 'external')) {
    neighbor('disable-connected-check');
  }
}

export function renderFrrConf(intent: ClusterIntent): string {
  const lines: string[] = [];
  // A global command; FRR >= 9 lets it cover 127.0.0.0/8. Kept first, where it is in effect
  // before zebra learns any address.
  if (needsAllowReservedRanges(intent)) lines.push('allow-reserved-ranges');
  lines.push(
    'log stdout informational',
    'log timestamp precision 3',
    `hostname ${intent.cluster.name}`,
    'ip nht resolve-via-default',
    'ipv6 nht resolve-via-default',
    '',
  );

  const neighbors = buildNeighbors(intent);
  const lists = new PrefixLists();
  const routeMaps: string[] = [];
  for (const n of neighbors) renderRouteMaps(n, lists, routeMaps);
  lines.push(...lists.lines, ...routeMaps);

  const vrfs = [...new Set(neighbors.map((n) => n.vrf))].sort();
  for (const vrf of vrfs) {
    const members = neighbors.filter((n) => n.vrf === vrf);
    const first = members[0]!.peer;
    const routerId = members.find((n) => n.peer.routerID !== undefined)?.peer.routerID;
    lines.push(`router bgp ${first.myASN}${vrf ? ` vrf ${vrf}` : ''}`,
      '  no bgp ebgp-requires-policy',
      '  no bgp network import-check',
      '  no bgp default ipv4-unicast',
      '  bgp graceful-restart preserve-fw-state');
    if (routerId !== undefined) lines.push(`  bgp router-id ${parseIp(routerId).text}`);
    lines.push('');
    for (const n of members) renderNeighborSession(n, lines);
    for (const family of [4, 6] as const) {
      const active = members.filter((n) => n.families.includes(family));
      const networks = new PrefixSet();
      for (const n of members) for (const [text, key] of n.allowed[family].entries()) networks.add(text, key);
      const networkList = networks.sorted();
      if (active.length === 0 && networkList.length === 0) continue;
      lines.push('', `  address-family ${familyTag(family)} unicast`);
      for (const n of active) {
        lines.push(`    neighbor ${n.target} activate`,
          `    neighbor ${n.target} route-map ${n.id}-in in`,
          `    neighbor ${n.target} route-map ${n.id}-out out`);
      }
      for (const network of networkList) lines.push(`    network ${network}`);
      lines.push('  exit-address-family');
    }
    lines.push('');
  }

  const profiles = [...intent.bfdProfiles].sort((a, b) => a.name.localeCompare(b.name));
  if (profiles.length > 0) {
    lines.push('bfd');
    for (const p of profiles) {
      lines.push(`  profile ${p.name}`);
      if (p.receiveInterval !== undefined) lines.push(`    receive-interval ${p.receiveInterval}`);
      if (p.transmitInterval !== undefined) lines.push(`    transmit-interval ${p.transmitInterval}`);
      if (p.detectMultiplier !== undefined) lines.push(`    detect-multiplier ${p.detectMultiplier}`);
      if (p.echoMode) lines.push('    echo-mode');
      if (p.echoInterval !== undefined) lines.push(`    echo receive-interval ${p.echoInterval}`, `    echo transmit-interval ${p.echoInterval}`);
      if (p.passiveMode) lines.push('    passive-mode');
      if (p.minimumTtl !== undefined) lines.push(`    minimum-ttl ${p.minimumTtl}`);
    }
    lines.push('');
  }
  // One blank line at most between stanzas, and exactly one newline at the end.
  const squeezed = lines.filter((line, i) => line !== '' || (i > 0 && lines[i - 1] !== ''));
  while (squeezed.at(-1) === '') squeezed.pop();
  return `${squeezed.join('\n')}\n`;
}
