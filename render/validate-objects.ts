// Each object on its own: grammar, MetalLB's per-object webhook rules (internal/config/config.go,
// v0.16.1: peerFromCR, addressPoolFromCR, bgpAdvertisementFromCR, l2AdvertisementFromCR,
// bfdProfileFromCR, communitiesFromCrs) and the tenant policy. The API calls these on every write;
// validateIntent calls them for every object of a cluster. Pure.
import type { Advertisement, BfdProfile, CommunityAlias, Peer, Pool } from './model.ts';
import { ASN_MAX, isDnsLabel, isDnsSubdomain, MANAGED_BY_KEY, type LabelSelector, type TenantPolicy } from './policy.ts';
import {
  cidrContains, IDENTIFIER, INTERFACE_NAME, parseCidr, parseCommunity, parseIp, PASSWORD, type ParsedIp,
} from './grammar.ts';
import { Collector, tryParse, type Problem } from './problems.ts';
import { effectiveTimers, expressionKey, resolveCommunity, selectorKey } from './resolve.ts';
import { isLocalPeer } from './local-peering.ts';
import { GrammarError } from './grammar.ts';
import { parseAddressEntry, type AddressEntry } from './ranges.ts';

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

export const INT32_MAX = 2147483647;

/**
 * A list of label selectors as MetalLB checks it (validateLabelSelectorDuplicate): no selector
 * twice, no expression twice in one selector, no value twice in one expression.
 */
export function selectorListProblems(field: string, selectors: LabelSelector[] | undefined): Problem[] {
  const out = new Collector();
  const seen = new Set<string>();
  (selectors ?? []).forEach((selector, i) => {
    const expressions = new Set<string>();
    (selector.matchExpressions ?? []).forEach((req, j) => {
      const values = req.values ?? [];
      if (new Set(values).size !== values.length) {
        out.add('duplicate-entry', `${i}/matchExpressions/${j}/values`,
          `${field}: expression on ${req.key} lists a value twice`, 'list each value once');
      }
      const key = expressionKey(req);
      if (expressions.has(key)) out.add('duplicate-entry', `${i}/matchExpressions/${j}`,
        `${field}: the same expression twice in one selector`, 'keep one of them');
      expressions.add(key);
    });
    const key = selectorKey(selector);
    if (seen.has(key)) out.add('duplicate-entry', String(i),
      `${field}: the same selector twice (MetalLB: duplicate definition of ${field})`, 'keep one of them');
    seen.add(key);
  });
  return out.problems;
}

/** One pool on its own: entries (CIDRs or ranges) parse, are canonical, do not overlap each other; allocation. */
export function poolProblems(pool: Pick<Pool, 'cidrs'> & Partial<Pick<Pool, 'serviceAllocation' | 'labels'>>): Problem[] {
  const out = new Collector();
  if (pool.cidrs.length === 0) out.add('pool-empty', 'cidrs', 'a pool needs at least one CIDR',
    'add a CIDR or delete the pool');
  const seen: AddressEntry[] = [];
  pool.cidrs.forEach((text, i) => {
    try {
      const entry = parseAddressEntry(text);
      const clash = seen.find((other) => other.family === entry.family && other.start <= entry.end && entry.start <= other.end);
      if (clash) out.add('pool-overlap', `cidrs/${i}`, `${entry.text} overlaps ${clash.text} in the same pool`,
        'use non-overlapping CIDRs and ranges');
      seen.push(entry);
    } catch (err) {
      if (!(err instanceof GrammarError)) throw err;
      out.add('invalid-cidr', `cidrs/${i}`, `${JSON.stringify(text)} ${err.message}`,
        'write a CIDR as network/prefix-length, or a range as first-last');
    }
  });
  if (pool.labels && Object.hasOwn(pool.labels, MANAGED_BY_KEY)) {
    out.add('reserved-label', `labels/${MANAGED_BY_KEY}`,
      `the label ${MANAGED_BY_KEY} is metalfleet's own`, 'use another label key');
  }
  const allocation = pool.serviceAllocation;
  if (allocation) {
    const { priority } = allocation;
    if (priority !== undefined && (priority < -INT32_MAX - 1 || priority > INT32_MAX)) {
      out.add('invalid-priority', 'serviceAllocation/priority', 'priority must be a 32-bit integer',
        'use a small integer; lower is preferred');
    }
    const namespaces = allocation.namespaces ?? [];
    namespaces.forEach((ns, i) => {
      if (typeof ns !== 'string' || !isDnsLabel(ns)) {
        out.add('invalid-namespace', `serviceAllocation/namespaces/${i}`,
          `${JSON.stringify(ns)} is not a Kubernetes namespace name`,
          'use a DNS-1123 label: lowercase letters, digits and inner -, at most 63 characters');
      }
    });
    if (new Set(namespaces).size !== namespaces.length) {
      out.add('duplicate-entry', 'serviceAllocation/namespaces', 'a namespace is listed twice',
        'list each namespace once');
    }
    out.addAll('serviceAllocation/namespaceSelectors', selectorListProblems('namespaceSelectors',
      allocation.namespaceSelectors));
    out.addAll('serviceAllocation/serviceSelectors', selectorListProblems('serviceSelectors',
      allocation.serviceSelectors));
  }
  return out.problems;
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
      out.add('invalid-bfd-profile', field, `${field} ${value} is outside ${min}..${max}`,
        `use a value between ${min} and ${max}`);
    }
  }
  return out.problems;
}

/** One community alias on its own: the value parses. */
export function communityAliasProblems(alias: Pick<CommunityAlias, 'value'>): Problem[] {
  const out = new Collector();
  if (!tryParse(() => parseCommunity(alias.value))) {
    out.add('invalid-community', 'value', `${JSON.stringify(alias.value)} is not a community`,
      'use A:B with 16-bit parts or large:A:B:C with 32-bit parts');
  }
  return out.problems;
}

/**
 * One peer on its own: grammar, MetalLB's per-peer webhook rules and the tenant policy. What
 * depends on the cluster (backend, FRR version, other peers on a node) is checked in
 * validateIntent.
 */
export function peerProblems(peer: Omit<Peer, 'name' | 'passwordSecret'> & { passwordSecret?: string }, ctx: ObjectContext): Problem[] {
  const out = new Collector();
  const at = (field: string) => field;
  const { policy } = ctx;
  const asnOk = (n: number | undefined) => n === undefined || (Number.isInteger(n) && n >= 1 && n <= ASN_MAX);
  for (const field of ['myASN', 'peerASN', 'localASN'] as const) {
    if (!asnOk(peer[field])) out.add('invalid-asn', at(field), `${field} must be between 1 and ${ASN_MAX}`,
      'use a 2- or 4-byte ASN');
  }
  if ((peer.peerASN === undefined) === (peer.dynamicASN === undefined)) {
    out.add('peer-asn-exclusive', at('peerASN'), 'exactly one of peerASN and dynamicASN must be set',
      'set peerASN, or dynamicASN internal/external');
  }
  if ((peer.peerAddress === undefined) === (peer.interface === undefined)) {
    out.add('peer-address-exclusive', at('peerAddress'), 'exactly one of peerAddress and interface must be set',
      'set peerAddress, or interface for BGP unnumbered');
  }

  let address: ParsedIp | undefined;
  if (peer.peerAddress !== undefined) {
    address = tryParse(() => parseIp(peer.peerAddress!));
    if (!address) {
      out.add('invalid-ip', at('peerAddress'), `${JSON.stringify(peer.peerAddress)} is not an IP address`,
        'use an IPv4 or IPv6 address without a zone');
    } else if (isUnusablePeerAddress(address)) {
      out.add('invalid-peer-address', at('peerAddress'),
        `${address.text} cannot be a BGP peer (unspecified, multicast or broadcast)`, 'use the unicast address of the peer');
    }
  }
  if (peer.interface !== undefined && !INTERFACE_NAME.test(peer.interface)) {
    out.add('invalid-interface', at('interface'), 'the interface name must match [A-Za-z0-9._-]{1,15}',
      'use the Linux interface name');
  }
  if (peer.sourceAddress !== undefined) {
    const source = tryParse(() => parseIp(peer.sourceAddress!));
    if (!source) {
      out.add('invalid-ip', at('sourceAddress'), `${JSON.stringify(peer.sourceAddress)} is not an IP address`,
        'use an address of the node');
    } else if (isUnusablePeerAddress(source) || (address && source.family !== address.family)) {
      // FRR and BIRD load either without a word (checked on FRR 8.4 and 10.3), and the session
      // then never connects: the socket cannot bind to it.
      out.add('invalid-source-address', at('sourceAddress'),
        `${source.text} cannot be the source of a session to ${address?.text ?? 'this peer'}: ` +
        'it must be a unicast address of the same family as peerAddress', 'use the node\'s address facing the peer');
    }
  }
  if (peer.routerID !== undefined) {
    const rid = tryParse(() => parseIp(peer.routerID!));
    // RFC 6286: the BGP Identifier is non-zero. FRR drops `bgp router-id 0.0.0.0` silently and picks
    // its own, so the intent would say one thing and the router do another.
    if (!rid || rid.family !== 4 || rid.text === '0.0.0.0') out.add('invalid-router-id', at('routerID'),
      'the router ID must be a non-zero IPv4 address', 'use an IPv4 address, usually the node address');
  }
  if (!Number.isInteger(peer.peerPort) || peer.peerPort < 1 || peer.peerPort > 16384) {
    out.add('invalid-port', at('peerPort'), 'peerPort must be between 1 and 16384',
      'use 179 unless the peer listens elsewhere');
  }

  out.addAll('nodeSelectors', selectorListProblems('nodeSelectors', peer.nodeSelectors));
  const { hold, keepalive } = effectiveTimers(peer);
  if (peer.holdTime !== undefined && peer.holdTime !== 0 && (peer.holdTime < 3 || peer.holdTime > 65535)) {
    out.add('invalid-hold-time', at('holdTime'), 'holdTime must be 0 or between 3s and 65535s',
      'use 0 (no keepalives) or at least 3s, typically 90s');
  }
  if (peer.keepaliveTime !== undefined && (peer.keepaliveTime < 0 || peer.keepaliveTime > 65535)) {
    out.add('invalid-keepalive-time', at('keepaliveTime'), 'keepaliveTime must be between 0 and 65535s',
      'typically a third of holdTime');
  }
  if (peer.holdTime === undefined && hold !== undefined && hold > 65535) {
    // MetalLB derives the hold time as three keepalives; FRR and BIRD refuse a hold time above 65535s.
    out.add('invalid-keepalive-time', at('keepaliveTime'),
      `keepaliveTime ${keepalive}s without holdTime gives a hold time of ${hold}s (3 × keepaliveTime), above 65535s`,
      'set holdTime, or a keepaliveTime of at most 21845s');
  }
  if (hold !== undefined && keepalive !== undefined && keepalive > hold) {
    out.add('keepalive-exceeds-hold', at('keepaliveTime'), `keepaliveTime ${keepalive}s exceeds holdTime ${hold}s`,
      'keep keepaliveTime at most holdTime, typically a third of it');
  }
  if (peer.connectTime !== undefined && (peer.connectTime < 1 || peer.connectTime > 65535)) {
    out.add('invalid-connect-time', at('connectTime'), 'connectTime must be between 1s and 65535s',
      'use whole seconds, e.g. 10s');
  }

  const ibgp = peer.peerASN !== undefined ? peer.peerASN === peer.myASN : peer.dynamicASN === 'internal';
  if (peer.ebgpMultiHop && ibgp) {
    out.add('ebgp-multihop-on-ibgp', at('ebgpMultiHop'),
      'ebgpMultiHop is only for eBGP peers (peerASN differs from myASN)', 'remove ebgpMultiHop; iBGP peers are multihop already');
  }
  if (peer.localASN !== undefined && ibgp) {
    out.add('local-asn-on-ibgp', at('localASN'), 'localASN is only for eBGP peers',
      'remove localASN or use a different peerASN');
  }
  // FRR refuses both at load ("Cannot have local-as same as BGP AS number"; FRR 8 also "AS specified
  // for local as is the same as the remote as"), so the apply would fail on the node.
  if (peer.localASN !== undefined && !ibgp && (peer.localASN === peer.myASN || peer.localASN === peer.peerASN)) {
    out.add('local-asn-conflict', at('localASN'),
      `localASN ${peer.localASN} equals ${peer.localASN === peer.myASN ? 'myASN' : 'peerASN'}`,
      'remove localASN, or use an ASN other than myASN and peerASN');
  }
  if (peer.bfdProfile !== undefined && ctx.bfdProfileNames && !ctx.bfdProfileNames.includes(peer.bfdProfile)) {
    out.add('unknown-bfd-profile', at('bfdProfile'), `BFD profile ${JSON.stringify(peer.bfdProfile)} does not exist`,
      'create the BFD profile first or fix the name');
  }
  if (peer.bfdProfile !== undefined && !IDENTIFIER.test(peer.bfdProfile)) {
    out.add('unknown-bfd-profile', at('bfdProfile'), 'a BFD profile name must match [A-Za-z0-9._-]{1,63}',
      'use the name of an existing BFD profile');
  }
  if (peer.vrf !== undefined && !IDENTIFIER.test(peer.vrf)) {
    out.add('invalid-vrf', at('vrf'), 'the VRF name must match [A-Za-z0-9._-]{1,63}', 'use the Linux VRF device name');
  }
  if (peer.password !== undefined && peer.passwordSecret !== undefined) {
    out.add('password-exclusive', at('passwordSecret'),
      'password and passwordSecret are exclusive (MetalLB refuses both)', 'keep one of them');
  }
  if (peer.passwordSecret !== undefined && !isDnsSubdomain(peer.passwordSecret)) {
    out.add('invalid-secret-name', at('passwordSecret'),
      'passwordSecret must be a Secret name: a DNS subdomain of at most 253 characters',
      'use the name of the kubernetes.io/basic-auth Secret in the MetalLB namespace');
  }
  if (peer.password !== undefined && !PASSWORD.test(peer.password)) {
    out.add('invalid-password', at('password'),
      'the password must be one printable ASCII token (no spaces or control characters) of at most 80 bytes',
      'choose a password of 1-80 printable characters without whitespace');
  }

  // Tenant policy.
  const asnToCheck = peer.peerASN;
  if (asnToCheck !== undefined && !policy.allowedASNs.some((r) => asnToCheck >= r.from && asnToCheck <= r.to)) {
    out.add('asn-not-allowed', at('peerASN'), `peer ASN ${asnToCheck} is outside the tenant's allowed ASN ranges`,
      'use an allowed ASN or ask a platform admin to extend allowedASNs');
  }
  if (peer.dynamicASN !== undefined && policy.allowedASNs.length === 0) {
    out.add('asn-not-allowed', at('dynamicASN'), 'the tenant policy allows no peer ASNs',
      'ask a platform admin to set allowedASNs');
  }
  if (address && !isLocalPeer(peer) && !policyAllowsAddress(policy, address)) {
    out.add('peer-address-not-allowed', at('peerAddress'),
      `peer address ${address.text} is outside the tenant's allowed peer CIDRs`,
      'use an allowed peer address or ask a platform admin to extend allowedPeerCIDRs');
  }
  if (policy.requireBFD && peer.bfdProfile === undefined) {
    out.add('bfd-required', at('bfdProfile'), 'the tenant policy requires BFD on every peer', 'set bfdProfile');
  }
  if (policy.requirePassword && peer.password === undefined && peer.passwordSecret === undefined) {
    out.add('password-required', at('password'), 'the tenant policy requires a TCP-MD5 password on every peer',
      'set password or passwordSecret');
  }

  // Local peering: the peer is the node's own routing daemon.
  if (isLocalPeer(peer) && !policy.allowLocalPeering) {
    out.add('local-peering-not-allowed', at('peerAddress'),
      'peering with a daemon on the node itself needs the tenant policy allowLocalPeering',
      'ask a platform admin to set allowLocalPeering, or peer with an external router');
  }
  return out.problems;
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

/** One advertisement on its own: lists, fields of its type, communities and the policy on them. */
export function advertisementProblems(adv: Omit<Advertisement, 'name' | 'ipAddressPoolSelectors' | 'serviceSelectors'>
  & Partial<Pick<Advertisement, 'ipAddressPoolSelectors' | 'serviceSelectors'>>, ctx: ObjectContext): Problem[] {
  const out = new Collector();
  checkList(out, 'ipAddressPools', adv.ipAddressPools);
  checkList(out, 'peers', adv.peers);
  checkList(out, 'communities', adv.communities);
  for (const field of ['ipAddressPoolSelectors', 'nodeSelectors', 'serviceSelectors'] as const) {
    out.addAll(field, selectorListProblems(field, adv[field]));
  }
  if (adv.type === 'l2') {
    for (const field of ['peers', 'communities'] as const) {
      if (adv[field].length > 0) out.add('l2-bgp-field', field, `${field} applies to BGP advertisements only`,
        `remove ${field} or use type bgp`);
    }
    for (const field of ['localPref', 'aggregationLength', 'aggregationLengthV6'] as const) {
      if (adv[field] !== undefined) out.add('l2-bgp-field', field, `${field} applies to BGP advertisements only`,
        `remove ${field} or use type bgp`);
    }
    adv.interfaces.forEach((name, i) => {
      if (!INTERFACE_NAME.test(name)) out.add('invalid-interface', `interfaces/${i}`,
        'interface names must match [A-Za-z0-9._-]{1,15}', 'use Linux interface names');
    });
    return out.problems;
  }
  if (adv.interfaces.length > 0) out.add('bgp-l2-field', 'interfaces',
    'interfaces applies to L2 advertisements only', 'remove interfaces or use type l2');
  if (adv.communities.length > 63) out.add('too-many-communities', 'communities',
    'at most 63 communities per advertisement', 'use fewer communities');
  adv.communities.forEach((ref, i) => {
    const community = resolveCommunity(ctx.communities, ref);
    if (!community) {
      out.add('unknown-community', `communities/${i}`,
        `${JSON.stringify(ref)} is neither a community value nor a defined alias`,
        'use A:B, large:A:B:C, or the name of a community alias');
      return;
    }
    const allowed = ctx.policy.allowedCommunities;
    if (allowed && !allowed.some((a) => a === ref || resolveCommunity(ctx.communities, a)?.text === community.text)) {
      out.add('community-not-allowed', `communities/${i}`,
        `community ${community.text} is not in the tenant's allowed communities`,
        'use an allowed community or ask a platform admin to allow it');
    }
  });
  // The CRD types localPref as int32; MetalLB reads it as unsigned.
  if (adv.localPref !== undefined && (adv.localPref < 0 || adv.localPref > INT32_MAX)) {
    out.add('invalid-local-pref', 'localPref', `localPref must be between 0 and ${INT32_MAX} (int32 in the CRD)`,
      'use a smaller value; 100 is the usual default');
  }
  for (const [field, max] of [['aggregationLength', 32], ['aggregationLengthV6', 128]] as const) {
    const length = adv[field];
    if (length !== undefined && (length < 1 || length > max)) {
      out.add('invalid-aggregation-length', field, `${field} must be between 1 and ${max}`, `use at most ${max}`);
    }
  }
  // The CRD's CEL rule and bgpAdvertisementFromCR: service selection needs per-address prefixes.
  if ((adv.serviceSelectors?.length ?? 0) > 0) {
    for (const [field, full] of [['aggregationLength', 32], ['aggregationLengthV6', 128]] as const) {
      if (adv[field] !== undefined && adv[field] !== full) {
        out.add('service-selectors-aggregation',
          field, `serviceSelectors and ${field} ${adv[field]} are mutually exclusive`,
          `remove ${field} (or set it to ${full}), or remove serviceSelectors`);
      }
    }
  }
  return out.problems;
}

function checkList(out: Collector, path: string, values: string[]) {
  const seen = new Set<string>();
  for (const v of values) {
    if (seen.has(v)) out.add('duplicate-entry', path, `${JSON.stringify(v)} is listed twice`, 'list each entry once');
    seen.add(v);
  }
}
