// renderFrrConf: a complete host frr.conf in the shape MetalLB's FRR mode has proven
// (internal/bgp/frr/templates): deny-all inbound, outbound route-maps gated by prefix-lists,
// `no bgp default ipv4-unicast` with explicit activation, and a `network` statement per advertised
// pool CIDR (a host FRR has no per-service addresses, so it announces the pool prefix itself), and
// for an address range the minimal set of CIDRs that covers exactly it.
//
// Every value printed here went through render/grammar.ts: addresses and CIDRs are re-printed
// canonically, identifiers and passwords were checked by validateIntent.
import type { ClusterIntent } from './model.ts';
import { parseIp, type Family } from './grammar.ts';
import { effectiveTimers } from './resolve.ts';
import { localPeerNextHops, needsAllowReservedRanges } from './local-peering.ts';
import { announcedPrefixes, buildNeighbors, familyTag, outboundMarks, SharedSets, type Neighbor } from './announce.ts';

const familyWord = (f: Family) => (f === 4 ? 'ip' : 'ipv6');

/**
 * Prefix-lists, shared by every neighbor that announces the same prefixes for the same purpose.
 * MetalLB writes one set of lists per neighbor; a host with many peers announcing the same pools
 * would repeat every pool prefix per peer (100 peers × 500 pools: 12 MB of frr.conf).
 */
function prefixLists(lines: string[]): SharedSets {
  return new SharedSets((name, family, entries) => {
    if (entries.length === 0) lines.push(`${familyWord(family)} prefix-list ${name} seq 1 deny any`);
    else entries.forEach((p, i) => lines.push(`${familyWord(family)} prefix-list ${name} seq ${i + 1} permit ${p}`));
    lines.push('');
  });
}

/**
 * A neighbor's route-maps: deny everything in; out, mark and then allow its prefixes. A 127/8 local
 * peer also gets the node's address as next hop (docs/frr-10.md), so that what the local daemon
 * passes on upstream is usable.
 */
function renderRouteMaps(n: Neighbor, lists: SharedSets, lines: string[], nextHops: Partial<Record<Family, string>>) {
  lines.push(`route-map ${n.id}-in deny 20`, '');
  let seq = 0;
  for (const mark of outboundMarks(n)) {
    const set = mark.localPref !== undefined ? `set local-preference ${mark.localPref}`
      : mark.community!.kind === 'large' ? `set large-community ${mark.community!.frrText} additive`
        : `set community ${mark.community!.text} additive`;
    for (const family of [4, 6] as const) {
      if (mark.prefixes[family].size === 0) continue;
      const list = lists.name(mark.base(family), family, mark.prefixes[family]);
      lines.push(`route-map ${n.id}-out permit ${++seq}`, `  match ${familyWord(family)} address prefix-list ${list}`, `  ${set}`, '  on-match next', '');
    }
  }
  for (const family of [4, 6] as const) {
    const list = lists.name(`allowed-${familyTag(family)}`, family, n.allowed[family]);
    lines.push(`route-map ${n.id}-out permit ${++seq}`, `  match ${familyWord(family)} address prefix-list ${list}`);
    const nextHop = nextHops[family];
    if (nextHop !== undefined) {
      lines.push(family === 4 ? `  set ip next-hop ${nextHop}` : `  set ipv6 next-hop global ${nextHop}`);
    }
    lines.push('');
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
  const listLines: string[] = [];
  const lists = prefixLists(listLines);
  const routeMaps: string[] = [];
  for (const n of neighbors) renderRouteMaps(n, lists, routeMaps, localPeerNextHops(intent, n.peer));
  lines.push(...listLines, ...routeMaps);

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
      const networkList = announcedPrefixes(members)[family];
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
