// renderGobgpdToml: a complete gobgpd.toml (GoBGP 3) for a host whose BGP daemon is GoBGP, from
// the same intent as frr.conf and in the same shape: one neighbor per peer (one address family),
// nothing received accepted, and per neighbor an export policy whose statements mark (local preference,
// communities) and then accept its allowed pool prefixes, everything else rejected. GoBGP applies
// per-neighbor policies to route-server clients only ("non-rs-client peer doesn't have per peer
// policy"), so the policies are the global export list and each statement also matches the
// neighbor a route goes to (a neighbor set of its address). GoBGP originates no route from its
// config file: the prefixes to announce are listed in comment lines (`# metalfleet-announce
// <prefix>`), which gobgpd ignores and the agent adds through gobgpd's API.
//
// Every value printed here went through render/grammar.ts (validateIntent); strings are TOML basic
// strings of printable ASCII with `\` and `"` escaped (`tomlString` refuses anything else).
import type { ClusterIntent } from './model.ts';
import { GrammarError, parseIp, type Family } from './grammar.ts';
import { effectiveTimers, hostRouterId } from './resolve.ts';
import { announcedPrefixes, buildNeighbors, familyTag, outboundMarks, SharedSets, type Neighbor } from './announce.ts';

/** The comment line that carries a prefix to announce (agents/gobgp.ts reads it). */
export const ANNOUNCE_PREFIX = '# metalfleet-announce ';

/** A TOML basic string: printable ASCII, `\` and `"` escaped. */
export function tomlString(text: string): string {
  if (!/^[\x20-\x7e]*$/.test(text)) throw new GrammarError('cannot be written as a TOML string');
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

const list = (items: string[]) => `[${items.map(tomlString).join(', ')}]`;

/** Prefix sets, shared by the policies that announce the same prefixes. */
function prefixSets(lines: string[]): SharedSets {
  return new SharedSets((name, _family, entries) => {
    if (entries.length === 0) return;
    lines.push('[[defined-sets.prefix-sets]]', `  prefix-set-name = ${tomlString(name)}`);
    for (const prefix of entries) {
      lines.push('  [[defined-sets.prefix-sets.prefix-list]]', `    ip-prefix = ${tomlString(prefix)}`);
    }
    lines.push('');
  });
}

/** The export policy of a neighbor, or undefined when it announces nothing. */
function renderPolicy(n: Neighbor, sets: SharedSets, lines: string[]): string | undefined {
  const family = n.families[0]!;
  const name = `${n.target}-out`;
  const statements: string[][] = [];
  const statement = (set: string, body: string[]) => statements.push([
    '  [[policy-definitions.statements]]', `    name = ${tomlString(`${name}-${statements.length + 1}`)}`,
    '    [policy-definitions.statements.conditions.match-neighbor-set]', `      neighbor-set = ${tomlString(n.target)}`,
    '    [policy-definitions.statements.conditions.match-prefix-set]', `      prefix-set = ${tomlString(set)}`, ...body]);
  for (const mark of outboundMarks(n)) {
    if (mark.prefixes[family].size === 0) continue;
    const set = sets.name(mark.base(family), family, mark.prefixes[family]);
    if (mark.localPref !== undefined) {
      statement(set, ['    [policy-definitions.statements.actions.bgp-actions]', `      set-local-pref = ${mark.localPref}`]);
    } else {
      const community = mark.community!;
      const kind = community.kind === 'large' ? 'large-community' : 'community';
      const action = `policy-definitions.statements.actions.bgp-actions.set-${kind}`;
      statement(set, [`    [${action}]`, '      options = "add"', `      [${action}.set-${kind}-method]`,
        `        communities-list = ${list([community.kind === 'large' ? community.frrText : community.text])}`]);
    }
  }
  if (n.allowed[family].size > 0) {
    statement(sets.name(`allowed-${familyTag(family)}`, family, n.allowed[family]),
      ['    [policy-definitions.statements.actions]', '      route-disposition = "accept-route"']);
  }
  if (statements.length === 0) return undefined;
  lines.push('[[policy-definitions]]', `  name = ${tomlString(name)}`, ...statements.flat(), '');
  return name;
}

function renderNeighbor(n: Neighbor, lines: string[]): void {
  const { peer } = n;
  lines.push('[[neighbors]]', '  [neighbors.config]', `    neighbor-address = ${tomlString(n.target)}`,
    `    peer-as = ${peer.peerASN!}`, `    description = ${tomlString(`peer ${peer.name}`)}`);
  if (peer.localASN !== undefined) lines.push(`    local-as = ${peer.localASN}`);
  if (peer.password !== undefined) lines.push(`    auth-password = ${tomlString(peer.password)}`);
  const { hold, keepalive } = effectiveTimers(peer);
  const timers = [
    ...(hold !== undefined ? [`    hold-time = ${hold}`] : []),
    ...(keepalive !== undefined ? [`    keepalive-interval = ${keepalive}`] : []),
    ...(peer.connectTime !== undefined ? [`    connect-retry = ${peer.connectTime}`] : []),
  ];
  if (timers.length > 0) lines.push('  [neighbors.timers.config]', ...timers);
  lines.push('  [neighbors.transport.config]', `    remote-port = ${peer.peerPort}`);
  if (peer.sourceAddress !== undefined) lines.push(`    local-address = ${tomlString(parseIp(peer.sourceAddress).text)}`);
  if (peer.ebgpMultiHop) lines.push('  [neighbors.ebgp-multihop.config]', '    enabled = true', '    multihop-ttl = 255');
  if (peer.enableGracefulRestart) lines.push('  [neighbors.graceful-restart.config]', '    enabled = true');
  lines.push('  [[neighbors.afi-safis]]', '    [neighbors.afi-safis.config]',
    `      afi-safi-name = "${familyTag(n.families[0]!)}-unicast"`);
  if (peer.enableGracefulRestart) lines.push('    [neighbors.afi-safis.mp-graceful-restart.config]', '      enabled = true');
  lines.push('');
}

export function renderGobgpdToml(intent: ClusterIntent): string {
  const neighbors = buildNeighbors(intent);
  const announced = announcedPrefixes(neighbors);
  const lines: string[] = [
    `# gobgpd.toml of cluster ${intent.cluster.name}, rendered by metalfleet; its agent replaces this file,`,
    '# reloads gobgpd (SIGHUP) and adds the prefixes below through gobgpd\'s API.',
    ...([4, 6] as Family[]).flatMap((f) => announced[f].map((prefix) => `${ANNOUNCE_PREFIX}${prefix}`)),
    '',
  ];
  const setLines: string[] = [];
  const sets = prefixSets(setLines);
  const policyLines: string[] = [];
  const policies = neighbors.map((n) => renderPolicy(n, sets, policyLines)).filter((p) => p !== undefined);
  const first = intent.peers[0];
  if (first) {
    const routerId = hostRouterId(intent);
    lines.push('[global.config]', `  as = ${first.myASN}`,
      ...(routerId !== undefined ? [`  router-id = ${tomlString(routerId)}`] : []),
      '[global.apply-policy.config]', '  import-policy-list = ["reject-received"]', '  default-import-policy = "accept-route"',
      ...(policies.length > 0 ? [`  export-policy-list = ${list(policies)}`] : []),
      '  default-export-policy = "reject-route"', '',
      // The global import policy also sees the routes the agent adds (their source has no address,
      // so no neighbor set matches them): reject what any neighbor sends, accept the rest.
      '[[defined-sets.neighbor-sets]]', '  neighbor-set-name = "any-peer"', '  neighbor-info-list = ["0.0.0.0/0", "::/0"]', '',
      '[[policy-definitions]]', '  name = "reject-received"',
      '  [[policy-definitions.statements]]', '    name = "reject-received-1"',
      '    [policy-definitions.statements.conditions.match-neighbor-set]', '      neighbor-set = "any-peer"',
      '    [policy-definitions.statements.actions]', '      route-disposition = "reject-route"', '');
  }
  for (const n of neighbors.filter((n) => policies.includes(`${n.target}-out`))) {
    lines.push('[[defined-sets.neighbor-sets]]', `  neighbor-set-name = ${tomlString(n.target)}`,
      `  neighbor-info-list = ${list([n.target])}`, '');
  }
  lines.push(...setLines, ...policyLines);
  for (const n of neighbors) renderNeighbor(n, lines);
  while (lines.at(-1) === '') lines.pop();
  return `${lines.join('\n')}\n`;
}
