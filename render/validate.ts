// validateIntent: every reason a cluster's intent cannot be rendered for its backend, each with a
// stable code, the path of the offending field, a message and a remedy. Mirrors MetalLB's
// webhook rules (internal/config/validation.go), its native-mode DiscardFRROnly set, FRR's
// same-host peering limits and the tenant policy. Pure.
import type { Backend, TenantPolicy } from './policy.ts';
import { ASN_MAX, selectorMatches } from './policy.ts';
import type { Advertisement, BfdProfile, ClusterIntent, CommunityAlias, Peer, Pool } from './model.ts';
import {
  cidrContains, cidrRange, cidrsOverlap, GrammarError, IDENTIFIER, INTERFACE_NAME, LOOPBACK_V4, parseCidr, parseCommunity,
  parseIp, parseVersion, PASSWORD, RESOURCE_NAME, versionAtLeast, type Community, type ParsedCidr, type ParsedIp,
} from './grammar.ts';

export interface Problem {
  /** Stable kebab-case code; part of the API. */
  code: string;
  /** Path of the offending value inside the intent, e.g. `peers/edge/holdTime`. */
  path: string;
  message: string;
  remedy: string;
}

const FRR_BACKENDS: ReadonlySet<Backend> = new Set(['metallb-frr', 'metallb-frr-k8s', 'frr']);
export const isFrrBackend = (backend: Backend) => FRR_BACKENDS.has(backend);

const NATIVE_REMEDY = 'use backend metallb-frr-k8s (MetalLB 0.16 default), which supports it, or remove the field for this cluster';
const LOCAL_PEERING_FRR8_REMEDY = 'peer via the node address instead of 127.0.0.0/8; bgpd must not listen on it (-p 0); BIRD needs multihop';
const MIN_FRR_FOR_LOOPBACK: [number, number, number] = [9, 0, 0];
/** MetalLB has shipped FRR >= 9.0.2 since v0.14.4. */
const MIN_METALLB_WITH_FRR9: [number, number, number] = [0, 14, 4];

/**
 * The FRR version of a cluster: reported by the agent, or implied by the MetalLB version for the
 * MetalLB FRR-based modes. Undefined when nothing has been reported yet.
 */
export function effectiveFrrVersion(intent: ClusterIntent): [number, number, number] | undefined {
  const caps = intent.cluster.capabilities;
  const reported = parseVersion(caps.frrVersion);
  if (reported) return reported;
  if (intent.cluster.backend === 'metallb-frr' || intent.cluster.backend === 'metallb-frr-k8s') {
    const metallb = parseVersion(caps.metallbVersion);
    if (metallb && versionAtLeast(metallb, MIN_METALLB_WITH_FRR9)) return MIN_FRR_FOR_LOOPBACK;
  }
  return undefined;
}

/** Is this peer the node's own routing daemon? */
export function isLocalPeer(peer: Pick<Peer, 'localPeering' | 'peerAddress'>): boolean {
  if (peer.localPeering) return true;
  const ip = tryParse(() => parseIp(peer.peerAddress ?? ''));
  return ip ? isLoopback(ip) : false;
}

function isLoopback(ip: ParsedIp): boolean {
  return (ip.family === 4 && cidrContains(LOOPBACK_V4, ip)) || (ip.family === 6 && ip.text === '::1');
}

function tryParse<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (err) {
    if (err instanceof GrammarError) return undefined;
    throw err;
  }
}

/** Does the rendered config need FRR's `allow-reserved-ranges` (127/8 peering on FRR >= 9)? */
export function needsAllowReservedRanges(intent: ClusterIntent): boolean {
  if (!isFrrBackend(intent.cluster.backend) || !intent.policy.allowLocalPeering) return false;
  const version = effectiveFrrVersion(intent);
  if (!version || !versionAtLeast(version, MIN_FRR_FOR_LOOPBACK)) return false;
  return intent.peers.some((p) => {
    const ip = tryParse(() => parseIp(p.peerAddress ?? ''));
    return ip?.family === 4 && cidrContains(LOOPBACK_V4, ip);
  });
}

/** The pools a BGP or L2 advertisement announces: the named ones, or all of them. */
export function advertisedPools(intent: ClusterIntent, adv: Advertisement): Pool[] {
  if (adv.ipAddressPools.length === 0) return intent.pools;
  return intent.pools.filter((p) => adv.ipAddressPools.includes(p.name));
}

/** The peers a BGP advertisement is sent to: the named ones, or all of them. */
export function advertisedPeers(intent: ClusterIntent, adv: Advertisement): Peer[] {
  if (adv.peers.length === 0) return intent.peers;
  return intent.peers.filter((p) => adv.peers.includes(p.name));
}

/** A community value or alias, resolved; undefined when neither. */
export function resolveCommunity(aliases: CommunityAlias[], ref: string): Community | undefined {
  const alias = aliases.find((c) => c.name === ref);
  return tryParse(() => parseCommunity(alias ? alias.value : ref));
}

class Collector {
  readonly problems: Problem[] = [];
  add(code: string, path: string, message: string, remedy: string) {
    this.problems.push({ code, path, message, remedy });
  }
  /** Adds problems found on one object, their paths made absolute. */
  addAll(prefix: string, problems: Problem[]) {
    for (const p of problems) this.problems.push({ ...p, path: p.path ? `${prefix}/${p.path}` : prefix });
  }
}

/**
 * What the per-object checks need besides the object: the tenant policy and, where they are
 * known, the names an object may refer to.
 */
export interface ObjectContext {
  policy: TenantPolicy;
  /** BFD profile names a peer may use; undefined: not checked here. */
  bfdProfileNames?: string[];
  /** Community aliases an advertisement may use. */
  communities: CommunityAlias[];
}

export function validateIntent(intent: ClusterIntent): Problem[] {
  const out = new Collector();
  const { cluster } = intent;

  if (!IDENTIFIER.test(cluster.name)) {
    out.add('invalid-name', 'cluster/name', 'the cluster name becomes the FRR hostname and must match [A-Za-z0-9._-]{1,63}', 'rename the cluster');
  }
  if (!RESOURCE_NAME.test(cluster.namespace)) {
    out.add('invalid-namespace', 'cluster/namespace', 'the namespace must be a Kubernetes namespace name', 'use a lowercase DNS label such as metallb-system');
  }
  if (!intent.policy.allowedBackends.includes(cluster.backend)) {
    out.add('backend-not-allowed', 'cluster/backend', `the tenant policy does not allow backend ${cluster.backend}`,
      `use one of ${intent.policy.allowedBackends.join(', ') || '(none)'} or ask a platform admin to allow it`);
  }

  checkUniqueNames(out, 'pools', intent.pools);
  checkUniqueNames(out, 'peers', intent.peers);
  checkUniqueNames(out, 'bfdProfiles', intent.bfdProfiles);
  checkUniqueNames(out, 'communities', intent.communities);
  checkUniqueNames(out, 'advertisements', intent.advertisements);

  const poolCidrs = validatePools(out, intent);
  const ctx: ObjectContext = { policy: intent.policy, bfdProfileNames: intent.bfdProfiles.map((p) => p.name), communities: intent.communities };
  for (const profile of intent.bfdProfiles) out.addAll(`bfdProfiles/${profile.name}`, bfdProfileProblems(profile));
  for (const alias of intent.communities) out.addAll(`communities/${alias.name}`, communityAliasProblems(alias));
  for (const peer of intent.peers) {
    out.addAll(`peers/${peer.name}`, peerProblems(peer, ctx));
    if (isLocalPeer(peer) && intent.policy.allowLocalPeering) validateLocalPeering(out, intent, peer);
  }
  validatePeersSharingNodes(out, intent);
  for (const adv of intent.advertisements) {
    out.addAll(`advertisements/${adv.name}`, advertisementProblems(adv, ctx));
    validateAdvertisementInCluster(out, intent, adv, poolCidrs);
  }
  if (cluster.backend === 'metallb-native') validateNative(out, intent, poolCidrs);
  return out.problems;
}

function checkUniqueNames(out: Collector, collection: string, items: Array<{ name: string }>) {
  const seen = new Set<string>();
  for (const item of items) {
    if (!RESOURCE_NAME.test(item.name)) {
      out.add('invalid-name', `${collection}/${item.name}`, `${JSON.stringify(item.name)} is not a valid name`,
        'use lowercase letters, digits, inner . and -, at most 63 characters');
    }
    if (seen.has(item.name)) out.add('duplicate-name', `${collection}/${item.name}`, `two ${collection} are named ${item.name}`, 'rename one of them');
    seen.add(item.name);
  }
}

/** One pool on its own: CIDRs parse, are canonical networks, and do not overlap each other. */
export function poolProblems(pool: Pick<Pool, 'cidrs'>): Problem[] {
  const out = new Collector();
  if (pool.cidrs.length === 0) out.add('pool-empty', 'cidrs', 'a pool needs at least one CIDR', 'add a CIDR or delete the pool');
  const seen: ParsedCidr[] = [];
  pool.cidrs.forEach((text, i) => {
    try {
      const cidr = parseCidr(text);
      const clash = seen.find((other) => cidrsOverlap(other, cidr));
      if (clash) out.add('pool-overlap', `cidrs/${i}`, `CIDR ${cidr.text} overlaps ${clash.text} in the same pool`, 'use non-overlapping CIDRs');
      seen.push(cidr);
    } catch (err) {
      if (!(err instanceof GrammarError)) throw err;
      out.add('invalid-cidr', `cidrs/${i}`, `${JSON.stringify(text)} ${err.message}`, 'write the CIDR as network/prefix-length');
    }
  });
  return out.problems;
}

function validatePools(out: Collector, intent: ClusterIntent): Map<string, ParsedCidr[]> {
  const byPool = new Map<string, ParsedCidr[]>();
  const all: Array<{ pool: string; index: number; cidr: ParsedCidr; start: bigint; end: bigint }> = [];
  for (const pool of intent.pools) {
    out.addAll(`pools/${pool.name}`, poolProblems(pool));
    const parsed: ParsedCidr[] = [];
    pool.cidrs.forEach((text, index) => {
      const cidr = tryParse(() => parseCidr(text));
      if (!cidr) return;
      parsed.push(cidr);
      all.push({ pool: pool.name, index, cidr, ...cidrRange(cidr) });
    });
    byPool.set(pool.name, parsed);
  }
  // Overlap across pools: sort by family and start, sweep keeping the furthest end seen
  // (n log n: a cluster may have hundreds of pools).
  all.sort((a, b) => a.cidr.family - b.cidr.family || (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  let reach: (typeof all)[number] | undefined;
  for (const entry of all) {
    if (reach && reach.cidr.family === entry.cidr.family && entry.start <= reach.end && reach.pool !== entry.pool) {
      out.add('pool-overlap', `pools/${entry.pool}/cidrs/${entry.index}`,
        `CIDR ${entry.cidr.text} in pool ${entry.pool} overlaps ${reach.cidr.text} in pool ${reach.pool}`, 'use non-overlapping CIDRs');
    }
    if (!reach || reach.cidr.family !== entry.cidr.family || entry.end > reach.end) reach = entry;
  }
  return byPool;
}

/** One BFD profile on its own: MetalLB's ranges. */
export function bfdProfileProblems(profile: Omit<BfdProfile, 'name'>): Problem[] {
  const out = new Collector();
  const ranges: Array<[keyof typeof profile, number, number]> = [
    ['receiveInterval', 10, 60000], ['transmitInterval', 10, 60000], ['detectMultiplier', 2, 255],
    ['echoInterval', 10, 60000], ['minimumTtl', 1, 254],
  ];
  for (const [field, min, max] of ranges) {
    const value = profile[field];
    if (typeof value === 'number' && (value < min || value > max)) {
      out.add('invalid-bfd-profile', field, `${field} ${value} is outside ${min}..${max}`, `use a value between ${min} and ${max}`);
    }
  }
  return out.problems;
}

/** One community alias on its own: the value parses. */
export function communityAliasProblems(alias: Pick<CommunityAlias, 'value'>): Problem[] {
  const out = new Collector();
  if (!tryParse(() => parseCommunity(alias.value))) {
    out.add('invalid-community', 'value', `${JSON.stringify(alias.value)} is not a community`, 'use A:B with 16-bit parts or large:A:B:C with 32-bit parts');
  }
  return out.problems;
}

/**
 * One peer on its own: grammar, MetalLB's per-peer webhook rules and the tenant policy. What
 * depends on the cluster (backend, FRR version, other peers on a node) is checked in
 * validateIntent.
 */
export function peerProblems(peer: Omit<Peer, 'name'>, ctx: ObjectContext): Problem[] {
  const out = new Collector();
  const at = (field: string) => field;
  const { policy } = ctx;
  const asnOk = (n: number | undefined) => n === undefined || (Number.isInteger(n) && n >= 1 && n <= ASN_MAX);
  for (const field of ['myASN', 'peerASN', 'localASN'] as const) {
    if (!asnOk(peer[field])) out.add('invalid-asn', at(field), `${field} must be between 1 and ${ASN_MAX}`, 'use a 2- or 4-byte ASN');
  }
  if ((peer.peerASN === undefined) === (peer.dynamicASN === undefined)) {
    out.add('peer-asn-exclusive', at('peerASN'), 'exactly one of peerASN and dynamicASN must be set', 'set peerASN, or dynamicASN internal/external');
  }
  if ((peer.peerAddress === undefined) === (peer.interface === undefined)) {
    out.add('peer-address-exclusive', at('peerAddress'), 'exactly one of peerAddress and interface must be set', 'set peerAddress, or interface for BGP unnumbered');
  }

  let address: ParsedIp | undefined;
  if (peer.peerAddress !== undefined) {
    address = tryParse(() => parseIp(peer.peerAddress!));
    if (!address) {
      out.add('invalid-ip', at('peerAddress'), `${JSON.stringify(peer.peerAddress)} is not an IP address`, 'use an IPv4 or IPv6 address without a zone');
    } else if (isUnusablePeerAddress(address)) {
      out.add('invalid-peer-address', at('peerAddress'), `${address.text} cannot be a BGP peer (unspecified, multicast or broadcast)`, 'use the unicast address of the peer');
    }
  }
  if (peer.interface !== undefined && !INTERFACE_NAME.test(peer.interface)) {
    out.add('invalid-interface', at('interface'), 'the interface name must match [A-Za-z0-9._-]{1,15}', 'use the Linux interface name');
  }
  if (peer.sourceAddress !== undefined && !tryParse(() => parseIp(peer.sourceAddress!))) {
    out.add('invalid-ip', at('sourceAddress'), `${JSON.stringify(peer.sourceAddress)} is not an IP address`, 'use an address of the node');
  }
  if (peer.routerID !== undefined) {
    const rid = tryParse(() => parseIp(peer.routerID!));
    if (!rid || rid.family !== 4) out.add('invalid-router-id', at('routerID'), 'the router ID must be an IPv4 address', 'use an IPv4 address, usually the node address');
  }
  if (!Number.isInteger(peer.peerPort) || peer.peerPort < 1 || peer.peerPort > 16384) {
    out.add('invalid-port', at('peerPort'), 'peerPort must be between 1 and 16384', 'use 179 unless the peer listens elsewhere');
  }

  const { hold, keepalive } = effectiveTimers(peer);
  if (peer.holdTime !== undefined && peer.holdTime !== 0 && (peer.holdTime < 3 || peer.holdTime > 65535)) {
    out.add('invalid-hold-time', at('holdTime'), 'holdTime must be 0 or between 3s and 65535s', 'use 0 (no keepalives) or at least 3s, typically 90s');
  }
  if (peer.keepaliveTime !== undefined && (peer.keepaliveTime < 0 || peer.keepaliveTime > 65535)) {
    out.add('invalid-keepalive-time', at('keepaliveTime'), 'keepaliveTime must be between 0 and 65535s', 'typically a third of holdTime');
  }
  if (hold !== undefined && keepalive !== undefined && keepalive > hold) {
    out.add('keepalive-exceeds-hold', at('keepaliveTime'), `keepaliveTime ${keepalive}s exceeds holdTime ${hold}s`, 'keep keepaliveTime at most holdTime, typically a third of it');
  }
  if (peer.connectTime !== undefined && (peer.connectTime < 1 || peer.connectTime > 65535)) {
    out.add('invalid-connect-time', at('connectTime'), 'connectTime must be between 1s and 65535s', 'use whole seconds, e.g. 10s');
  }

  const ibgp = peer.peerASN !== undefined ? peer.peerASN === peer.myASN : peer.dynamicASN === 'internal';
  if (peer.ebgpMultiHop && ibgp) {
    out.add('ebgp-multihop-on-ibgp', at('ebgpMultiHop'), 'ebgpMultiHop is only for eBGP peers (peerASN differs from myASN)', 'remove ebgpMultiHop; iBGP peers are multihop already');
  }
  if (peer.localASN !== undefined && ibgp) {
    out.add('local-asn-on-ibgp', at('localASN'), 'localASN is only for eBGP peers', 'remove localASN or use a different peerASN');
  }
  if (peer.bfdProfile !== undefined && ctx.bfdProfileNames && !ctx.bfdProfileNames.includes(peer.bfdProfile)) {
    out.add('unknown-bfd-profile', at('bfdProfile'), `BFD profile ${JSON.stringify(peer.bfdProfile)} does not exist`, 'create the BFD profile first or fix the name');
  }
  if (peer.bfdProfile !== undefined && !IDENTIFIER.test(peer.bfdProfile)) {
    out.add('unknown-bfd-profile', at('bfdProfile'), 'a BFD profile name must match [A-Za-z0-9._-]{1,63}', 'use the name of an existing BFD profile');
  }
  if (peer.vrf !== undefined && !IDENTIFIER.test(peer.vrf)) {
    out.add('invalid-vrf', at('vrf'), 'the VRF name must match [A-Za-z0-9._-]{1,63}', 'use the Linux VRF device name');
  }
  if (peer.password !== undefined && !PASSWORD.test(peer.password)) {
    out.add('invalid-password', at('password'), 'the password must be one printable ASCII token (no spaces or control characters) of at most 80 bytes',
      'choose a password of 1-80 printable characters without whitespace');
  }

  // Tenant policy.
  const asnToCheck = peer.peerASN;
  if (asnToCheck !== undefined && !policy.allowedASNs.some((r) => asnToCheck >= r.from && asnToCheck <= r.to)) {
    out.add('asn-not-allowed', at('peerASN'), `peer ASN ${asnToCheck} is outside the tenant's allowed ASN ranges`,
      'use an allowed ASN or ask a platform admin to extend allowedASNs');
  }
  if (peer.dynamicASN !== undefined && policy.allowedASNs.length === 0) {
    out.add('asn-not-allowed', at('dynamicASN'), 'the tenant policy allows no peer ASNs', 'ask a platform admin to set allowedASNs');
  }
  if (address && !isLocalPeer(peer) && !policyAllowsAddress(policy, address)) {
    out.add('peer-address-not-allowed', at('peerAddress'), `peer address ${address.text} is outside the tenant's allowed peer CIDRs`,
      'use an allowed peer address or ask a platform admin to extend allowedPeerCIDRs');
  }
  if (policy.requireBFD && peer.bfdProfile === undefined) {
    out.add('bfd-required', at('bfdProfile'), 'the tenant policy requires BFD on every peer', 'set bfdProfile');
  }
  if (policy.requirePassword && peer.password === undefined) {
    out.add('password-required', at('password'), 'the tenant policy requires a TCP-MD5 password on every peer', 'set password');
  }

  // Local peering: the peer is the node's own routing daemon.
  if (isLocalPeer(peer) && !policy.allowLocalPeering) {
    out.add('local-peering-not-allowed', at('peerAddress'), 'peering with a daemon on the node itself needs the tenant policy allowLocalPeering',
      'ask a platform admin to set allowLocalPeering, or peer with an external router');
  }
  return out.problems;
}

/** Local peering on this cluster's backend and FRR version (the policy already allows it). */
function validateLocalPeering(out: Collector, intent: ClusterIntent, peer: Peer) {
  const at = (field: string) => `peers/${peer.name}/${field}`;
  const address = tryParse(() => parseIp(peer.peerAddress ?? ''));
  if (!isFrrBackend(intent.cluster.backend) || !address) return;
  if (address.family === 6 && address.text === '::1') {
    out.add('local-peering-ipv6-loopback', at('peerAddress'), 'FRR never peers over ::1 (it is always martian)',
      'peer via a node address (global or ULA) instead');
    return;
  }
  if (address.family === 4 && cidrContains(LOOPBACK_V4, address)) {
    const version = effectiveFrrVersion(intent);
    if (!version) {
      out.add('frr-version-unknown', at('peerAddress'), 'peering over 127.0.0.0/8 needs FRR 9.0 or newer, and this cluster has not reported its FRR version',
        'enroll the agent so it reports the FRR version, or ' + LOCAL_PEERING_FRR8_REMEDY);
    } else if (!versionAtLeast(version, MIN_FRR_FOR_LOOPBACK)) {
      out.add('local-peering-needs-frr-9', at('peerAddress'), `FRR ${version.join('.')} cannot peer over 127.0.0.0/8 (allow-reserved-ranges covers it from FRR 9.0)`,
        LOCAL_PEERING_FRR8_REMEDY);
    }
  }
}

function isUnusablePeerAddress(ip: ParsedIp): boolean {
  if (ip.family === 4) {
    const [a] = ip.bytes;
    return a === 0 || (a! >= 224 && a! <= 239) || ip.text === '255.255.255.255';
  }
  return ip.text === '::' || ip.bytes[0] === 0xff;
}

function policyAllowsAddress(policy: TenantPolicy, ip: ParsedIp): boolean {
  return policy.allowedPeerCIDRs.some((text) => {
    const cidr = tryParse(() => parseCidr(text));
    return cidr ? cidrContains(cidr, ip) : false;
  });
}

/** MetalLB derives the missing timer: keepalive = hold / 3, hold = keepalive * 3. */
export function effectiveTimers(peer: Pick<Peer, 'holdTime' | 'keepaliveTime'>): { hold?: number; keepalive?: number } {
  if (peer.holdTime !== undefined && peer.keepaliveTime !== undefined) return { hold: peer.holdTime, keepalive: peer.keepaliveTime };
  if (peer.holdTime !== undefined) return { hold: peer.holdTime, keepalive: Math.floor(peer.holdTime / 3) };
  if (peer.keepaliveTime !== undefined) return { hold: peer.keepaliveTime * 3, keepalive: peer.keepaliveTime };
  return {};
}

/** Do two peers possibly run on the same node? With no node list, assume they may. */
function shareANode(intent: ClusterIntent, a: Peer, b: Peer): boolean {
  if (intent.cluster.backend === 'frr') return true; // one host config holds every peer
  const nodes = intent.cluster.capabilities.nodes;
  const selects = (peer: Peer, labels: Record<string, string>) =>
    peer.nodeSelectors.length === 0 || peer.nodeSelectors.some((s) => selectorMatches(s, labels));
  if (!nodes || nodes.length === 0) return true;
  return nodes.some((n) => selects(a, n.labels) && selects(b, n.labels));
}

function validatePeersSharingNodes(out: Collector, intent: ClusterIntent) {
  if (!isFrrBackend(intent.cluster.backend)) return;
  const peers = intent.peers;
  const addresses = new Map(peers.map((p) => [p, p.peerAddress !== undefined ? tryParse(() => parseIp(p.peerAddress!))?.text : undefined]));
  for (let i = 0; i < peers.length; i++) {
    for (let j = i + 1; j < peers.length; j++) {
      const a = peers[i]!;
      const b = peers[j]!;
      if (!shareANode(intent, a, b)) continue;
      const at = `peers/${b.name}`;
      if (a.routerID !== undefined && b.routerID !== undefined && a.routerID !== b.routerID) {
        out.add('router-id-conflict', `${at}/routerID`, `peers ${a.name} and ${b.name} share a node but have different router IDs (${a.routerID}, ${b.routerID})`,
          'give peers that share a node the same routerID, or separate them with nodeSelectors');
      }
      if ((a.vrf ?? '') !== (b.vrf ?? '')) continue;
      if (a.myASN !== b.myASN) {
        out.add('my-asn-conflict', `${at}/myASN`, `peers ${a.name} and ${b.name} share a node and VRF but have different myASN (${a.myASN}, ${b.myASN})`,
          'use one myASN per VRF on a node');
      }
      const sameAddress = addresses.get(a) !== undefined && addresses.get(a) === addresses.get(b);
      if (sameAddress || (a.interface !== undefined && a.interface === b.interface)) {
        out.add('duplicate-peer', at, `peers ${a.name} and ${b.name} reach the same neighbor from the same node and VRF`,
          'keep one of them, or separate them with nodeSelectors or VRFs');
      }
    }
  }
}

/** One advertisement on its own: lists, fields of its type, communities and the policy on them. */
export function advertisementProblems(adv: Omit<Advertisement, 'name'>, ctx: ObjectContext): Problem[] {
  const out = new Collector();
  checkList(out, 'ipAddressPools', adv.ipAddressPools);
  checkList(out, 'peers', adv.peers);
  checkList(out, 'communities', adv.communities);
  if (adv.type === 'l2') {
    for (const field of ['peers', 'communities'] as const) {
      if (adv[field].length > 0) out.add('l2-bgp-field', field, `${field} applies to BGP advertisements only`, `remove ${field} or use type bgp`);
    }
    for (const field of ['localPref', 'aggregationLength', 'aggregationLengthV6'] as const) {
      if (adv[field] !== undefined) out.add('l2-bgp-field', field, `${field} applies to BGP advertisements only`, `remove ${field} or use type bgp`);
    }
    adv.interfaces.forEach((name, i) => {
      if (!INTERFACE_NAME.test(name)) out.add('invalid-interface', `interfaces/${i}`, 'interface names must match [A-Za-z0-9._-]{1,15}', 'use Linux interface names');
    });
    return out.problems;
  }
  if (adv.interfaces.length > 0) out.add('bgp-l2-field', 'interfaces', 'interfaces applies to L2 advertisements only', 'remove interfaces or use type l2');
  if (adv.communities.length > 63) out.add('too-many-communities', 'communities', 'at most 63 communities per advertisement', 'use fewer communities');
  adv.communities.forEach((ref, i) => {
    const community = resolveCommunity(ctx.communities, ref);
    if (!community) {
      out.add('unknown-community', `communities/${i}`, `${JSON.stringify(ref)} is neither a community value nor a defined alias`,
        'use A:B, large:A:B:C, or the name of a community alias');
      return;
    }
    const allowed = ctx.policy.allowedCommunities;
    if (allowed && !allowed.some((a) => a === ref || resolveCommunity(ctx.communities, a)?.text === community.text)) {
      out.add('community-not-allowed', `communities/${i}`, `community ${community.text} is not in the tenant's allowed communities`,
        'use an allowed community or ask a platform admin to allow it');
    }
  });
  if (adv.localPref !== undefined && (adv.localPref < 0 || adv.localPref > ASN_MAX)) {
    out.add('invalid-local-pref', 'localPref', 'localPref must be between 0 and 4294967295', 'use a 32-bit value');
  }
  for (const [field, max] of [['aggregationLength', 32], ['aggregationLengthV6', 128]] as const) {
    const length = adv[field];
    if (length !== undefined && (length < 1 || length > max)) {
      out.add('invalid-aggregation-length', field, `${field} must be between 1 and ${max}`, `use at most ${max}`);
    }
  }
  return out.problems;
}

/** An advertisement against the pools, peers and backend of one cluster. */
function validateAdvertisementInCluster(out: Collector, intent: ClusterIntent, adv: Advertisement, poolCidrs: Map<string, ParsedCidr[]>) {
  const at = (field: string) => `advertisements/${adv.name}/${field}`;
  adv.ipAddressPools.forEach((name, i) => {
    if (!intent.pools.some((p) => p.name === name)) {
      out.add('unknown-pool', `${at('ipAddressPools')}/${i}`, `pool ${JSON.stringify(name)} is not selected for this cluster`, 'create the pool, or make its clusterSelector include this cluster');
    }
  });
  if (adv.type === 'l2') {
    if (intent.cluster.backend === 'frr') {
      out.add('l2-unsupported-on-frr', `advertisements/${adv.name}`, 'a host FRR cluster cannot announce L2 (ARP/NDP) advertisements',
        'give the advertisement a clusterSelector that excludes host FRR clusters');
    }
    return;
  }
  adv.peers.forEach((name, i) => {
    if (!intent.peers.some((p) => p.name === name)) {
      out.add('unknown-peer', `${at('peers')}/${i}`, `peer ${JSON.stringify(name)} is not selected for this cluster`, 'create the peer, or make its clusterSelector include this cluster');
    }
  });

  for (const [field, family] of [['aggregationLength', 4], ['aggregationLengthV6', 6]] as const) {
    const length = adv[field];
    if (length === undefined) continue;
    for (const pool of advertisedPools(intent, adv)) {
      for (const cidr of poolCidrs.get(pool.name) ?? []) {
        if (cidr.family === family && cidr.prefixLength > length) {
          out.add('aggregation-length-too-short', at(field), `pool ${pool.name} CIDR ${cidr.text} is more specific than the ${field} ${length}`,
            `use ${field} >= ${cidr.prefixLength}`);
        }
      }
    }
  }

  // Echo mode is refused for peers that advertise IPv6 pools (MetalLB validateConfig).
  const v6 = advertisedPools(intent, adv).some((p) => (poolCidrs.get(p.name) ?? []).some((c) => c.family === 6));
  if (v6) {
    for (const peer of advertisedPeers(intent, adv)) {
      const profile = intent.bfdProfiles.find((b) => b.name === peer.bfdProfile);
      if (profile?.echoMode) {
        out.add('bfd-echo-ipv6', `bfdProfiles/${profile.name}/echoMode`, `peer ${peer.name} advertises IPv6 pools, where BFD echo mode does not work`,
          'turn echoMode off in the profile');
      }
    }
  }

  // Different local preferences for the same pool and peer cannot both be announced.
  if (adv.localPref !== undefined) {
    for (const other of intent.advertisements) {
      if (other === adv || other.type !== 'bgp' || other.localPref === undefined || other.localPref === adv.localPref) continue;
      if (intent.advertisements.indexOf(other) > intent.advertisements.indexOf(adv)) continue;
      const pools = advertisedPools(intent, adv).filter((p) => advertisedPools(intent, other).includes(p));
      const peers = advertisedPeers(intent, adv).filter((p) => advertisedPeers(intent, other).includes(p));
      if (pools.length > 0 && peers.length > 0) {
        out.add('local-pref-conflict', at('localPref'), `advertisements ${other.name} and ${adv.name} announce pool ${pools[0]!.name} to peer ${peers[0]!.name} with different localPref`,
          'use the same localPref or split the pools');
      }
    }
  }
}

function checkList(out: Collector, path: string, values: string[]) {
  const seen = new Set<string>();
  for (const v of values) {
    if (seen.has(v)) out.add('duplicate-entry', path, `${JSON.stringify(v)} is listed twice`, 'list each entry once');
    seen.add(v);
  }
}

/** MetalLB's DiscardFRROnly, plus IPv6 peers: what native mode cannot do. */
function validateNative(out: Collector, intent: ClusterIntent, poolCidrs: Map<string, ParsedCidr[]>) {
  const refuse = (code: string, path: string, what: string) =>
    out.add(code, path, `MetalLB native mode does not support ${what}`, NATIVE_REMEDY);
  for (const peer of intent.peers) {
    const at = (field: string) => `peers/${peer.name}/${field}`;
    if (peer.bfdProfile !== undefined) refuse('native-bfd-unsupported', at('bfdProfile'), 'BFD');
    if (peer.keepaliveTime !== undefined && peer.keepaliveTime !== 0) refuse('native-keepalive-unsupported', at('keepaliveTime'), 'keepaliveTime');
    if (peer.vrf !== undefined) refuse('native-vrf-unsupported', at('vrf'), 'VRFs');
    if (peer.connectTime !== undefined) refuse('native-connect-time-unsupported', at('connectTime'), 'connectTime');
    if (peer.enableGracefulRestart) refuse('native-graceful-restart-unsupported', at('enableGracefulRestart'), 'graceful restart');
    if (peer.dualStackAddressFamily) refuse('native-dual-stack-unsupported', at('dualStackAddressFamily'), 'dualStackAddressFamily');
    if (peer.dynamicASN !== undefined) refuse('native-dynamic-asn-unsupported', at('dynamicASN'), 'dynamicASN');
    if (peer.interface !== undefined) refuse('native-interface-unsupported', at('interface'), 'BGP unnumbered (interface)');
    if (peer.localASN !== undefined) refuse('native-local-asn-unsupported', at('localASN'), 'localASN');
    if (tryParse(() => parseIp(peer.peerAddress ?? ''))?.family === 6) refuse('native-ipv6-peer-unsupported', at('peerAddress'), 'IPv6 peers');
  }
  for (const profile of intent.bfdProfiles) refuse('native-bfd-unsupported', `bfdProfiles/${profile.name}`, 'BFD profiles');
  for (const adv of intent.advertisements) {
    if (adv.type !== 'bgp') continue;
    for (const pool of advertisedPools(intent, adv)) {
      for (const cidr of poolCidrs.get(pool.name) ?? []) {
        if (cidr.family === 6) {
          refuse('native-ipv6-unsupported', `pools/${pool.name}/cidrs`, `announcing IPv6 (pool ${pool.name} has ${cidr.text} and advertisement ${adv.name} selects it)`);
        }
      }
    }
    adv.communities.forEach((ref, i) => {
      if (resolveCommunity(intent.communities, ref)?.kind === 'large') refuse('native-large-community-unsupported', `advertisements/${adv.name}/communities/${i}`, 'large communities');
    });
  }
}
