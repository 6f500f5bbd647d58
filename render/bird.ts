// renderBirdConf: a complete BIRD 2 config for a host whose BGP daemon is BIRD, from the same
// intent as frr.conf and in the same shape: one BGP protocol per peer (one channel, the peer's
// address family), deny-all inbound, an export filter per peer that marks (local preference,
// communities) and then accepts its allowed pool prefixes; the pools are originated by static
// protocols of unreachable routes (BIRD keeps them in its own tables: this config has no kernel
// protocol, so nothing reaches the node's routing table). BFD sessions come from a BFD protocol.
//
// Every value printed here went through render/grammar.ts (validateIntent): addresses and CIDRs
// re-printed canonically, names and passwords checked. BIRD strings have no escapes, so `quoted`
// refuses a `"` (validation refuses it first: password-quote-unsupported-on-bird). Symbols are
// derived from canonical addresses and set names, so they are always BIRD identifiers.
import type { BfdProfile, ClusterIntent } from './model.ts';
import { GrammarError, parseIp, type Family } from './grammar.ts';
import { effectiveTimers, hostRouterId } from './resolve.ts';
import { sha256Hex } from './hash.ts';
import { announcedPrefixes, buildNeighbors, familyTag, outboundMarks, SharedSets, type Neighbor } from './announce.ts';

/** A BIRD string: printable ASCII without `"` (BIRD reads up to the next `"`, no escapes). */
export function birdQuoted(text: string): string {
  if (!/^[\x20-\x21\x23-\x7e]*$/.test(text)) throw new GrammarError('cannot be written as a BIRD string');
  return `"${text}"`;
}

/** A BIRD symbol from a name made of [A-Za-z0-9._:-] (addresses, set names): `mf_` and `_` for the rest. */
/** BIRD refuses a symbol longer than this ("Symbol too long": SYM_MAX_LEN in BIRD 2's conf/conf.h). */
export const BIRD_SYMBOL_MAX = 64;

export function birdSymbol(name: string): string {
  if (!/^[A-Za-z0-9._:-]+$/.test(name)) throw new GrammarError('cannot be made a BIRD symbol');
  const symbol = `mf_${name.replace(/[.:-]/g, '_')}`;
  if (symbol.length <= BIRD_SYMBOL_MAX) return symbol;
  // Long names (large communities, long peer names) keep a readable start and a hash of the whole
  // name, so two long names that share a start stay distinct and a render stays deterministic.
  return `${symbol.slice(0, BIRD_SYMBOL_MAX - 13)}_${sha256Hex(name).slice(0, 12)}`;
}

const protocolName = (n: Neighbor) => birdSymbol(`v${n.families[0]}_${n.target}`);
const net = (family: Family) => (family === 4 ? 'ipv4' : 'ipv6');

/** Prefix sets as constants, shared by the filters that announce the same prefixes. */
function prefixSets(lines: string[]): SharedSets {
  return new SharedSets((name, _family, entries) => {
    if (entries.length > 0) lines.push(`define ${birdSymbol(name)} = [ ${entries.join(', ')} ];`);
  });
}

/** The export filter of a neighbor: marks first, then accept what it may announce. */
function renderFilter(n: Neighbor, sets: SharedSets, lines: string[]): string {
  const family = n.families[0]!;
  const name = `${protocolName(n)}_out`;
  lines.push(`filter ${name} {`);
  for (const mark of outboundMarks(n)) {
    if (mark.prefixes[family].size === 0) continue;
    const set = birdSymbol(sets.name(mark.base(family), family, mark.prefixes[family]));
    const action = mark.localPref !== undefined ? `bgp_local_pref = ${mark.localPref};`
      : mark.community!.kind === 'large' ? `bgp_large_community.add((${mark.community!.frrText.replaceAll(':', ', ')}));`
        : `bgp_community.add((${mark.community!.text.replace(':', ', ')}));`;
    lines.push(`  if net ~ ${set} then ${action}`);
  }
  if (n.allowed[family].size > 0) {
    lines.push(`  if net ~ ${birdSymbol(sets.name(`allowed-${familyTag(family)}`, family, n.allowed[family]))} then accept;`);
  }
  lines.push('  reject;', '}', '');
  return name;
}

function bfdOptions(profile: BfdProfile | undefined): string {
  if (!profile) return 'bfd on;';
  const options = [
    profile.receiveInterval !== undefined ? `min rx interval ${profile.receiveInterval} ms;` : '',
    profile.transmitInterval !== undefined ? `min tx interval ${profile.transmitInterval} ms;` : '',
    profile.detectMultiplier !== undefined ? `multiplier ${profile.detectMultiplier};` : '',
    profile.passiveMode ? 'passive on;' : '',
  ].filter(Boolean);
  return options.length > 0 ? `bfd { ${options.join(' ')} };` : 'bfd on;';
}

function renderProtocol(intent: ClusterIntent, n: Neighbor, filter: string, lines: string[]): void {
  const { peer } = n;
  const local = peer.sourceAddress !== undefined ? `local ${parseIp(peer.sourceAddress).text} ` : 'local ';
  const remote = peer.peerASN !== undefined ? `as ${peer.peerASN}` : peer.dynamicASN!;
  lines.push(`protocol bgp ${protocolName(n)} {`,
    `  description ${birdQuoted(`peer ${peer.name}`)};`,
    `  ${local}as ${peer.localASN ?? peer.myASN};`,
    `  neighbor ${n.target} port ${peer.peerPort} ${remote};`);
  const { hold, keepalive } = effectiveTimers(peer);
  if (hold !== undefined) lines.push(`  hold time ${hold};`);
  if (keepalive !== undefined && keepalive > 0) lines.push(`  keepalive time ${keepalive};`);
  if (peer.connectTime !== undefined) lines.push(`  connect retry time ${peer.connectTime};`);
  if (peer.ebgpMultiHop) lines.push('  multihop;');
  if (peer.password !== undefined) lines.push(`  password ${birdQuoted(peer.password)};`);
  if (peer.enableGracefulRestart) lines.push('  graceful restart on;');
  if (peer.bfdProfile !== undefined) lines.push(`  ${bfdOptions(intent.bfdProfiles.find((b) => b.name === peer.bfdProfile))}`);
  lines.push(`  ${net(n.families[0]!)} {`, '    import none;', `    export filter ${filter};`, '  };', '}', '');
}

export function renderBirdConf(intent: ClusterIntent): string {
  const lines: string[] = [
    `# bird.conf of cluster ${intent.cluster.name}, rendered by metalfleet; its agent replaces this file.`,
    '',
  ];
  const routerId = hostRouterId(intent);
  if (routerId !== undefined) lines.push(`router id ${routerId};`, '');
  lines.push('protocol device {', '  scan time 10;', '}', '');

  const neighbors = buildNeighbors(intent);
  const announced = announcedPrefixes(neighbors);
  for (const family of [4, 6] as const) {
    if (announced[family].length === 0) continue;
    lines.push(`protocol static ${birdSymbol(`announce_${familyTag(family)}`)} {`, `  ${net(family)};`,
      ...announced[family].map((prefix) => `  route ${prefix} unreachable;`), '}', '');
  }
  if (intent.peers.some((p) => p.bfdProfile !== undefined)) lines.push(`protocol bfd ${birdSymbol('bfd')} {`, '}', '');

  const setLines: string[] = [];
  const sets = prefixSets(setLines);
  const filterLines: string[] = [];
  const filters = neighbors.map((n) => renderFilter(n, sets, filterLines));
  if (setLines.length > 0) lines.push(...setLines, '');
  lines.push(...filterLines);
  neighbors.forEach((n, i) => renderProtocol(intent, n, filters[i]!, lines));
  while (lines.at(-1) === '') lines.pop();
  return `${lines.join('\n')}\n`;
}
