// What an intent's references resolve to inside one cluster: the pools an advertisement selects
// (by name and by label), the peers it reaches, the nodes a selector list picks, community aliases,
// the timers MetalLB derives. Shared by validation and the renderers. Pure.
import type { Advertisement, ClusterIntent, CommunityAlias, Node, Peer, Pool } from './model.ts';
import { selectorMatches, type LabelSelector } from './policy.ts';
import { cidrContains, LOOPBACK_V4, parseCidr, parseCommunity, parseIp, type Community, type Family, type ParsedCidr } from './grammar.ts';
import { tryParse } from './problems.ts';

/**
 * The pools an advertisement announces: those it names and those its ipAddressPoolSelectors
 * match; with neither, every pool of the cluster (MetalLB semantics).
 */
export function advertisedPools(intent: Pick<ClusterIntent, 'pools'>, adv: Pick<Advertisement, 'ipAddressPools' | 'ipAddressPoolSelectors'>): Pool[] {
  const selectors = adv.ipAddressPoolSelectors ?? [];
  if (adv.ipAddressPools.length === 0 && selectors.length === 0) return intent.pools;
  return intent.pools.filter((p) => adv.ipAddressPools.includes(p.name) || selectors.some((s) => selectorMatches(s, p.labels ?? {})));
}

/** The peers a BGP advertisement is sent to: the named ones, or all of them. */
export function advertisedPeers(intent: Pick<ClusterIntent, 'peers'>, adv: Pick<Advertisement, 'peers'>): Peer[] {
  if (adv.peers.length === 0) return intent.peers;
  return intent.peers.filter((p) => adv.peers.includes(p.name));
}

/** A community value or alias, resolved; undefined when neither. */
export function resolveCommunity(aliases: CommunityAlias[], ref: string): Community | undefined {
  const alias = aliases.find((c) => c.name === ref);
  return tryParse(() => parseCommunity(alias ? alias.value : ref));
}

/** The names of the nodes a selector list picks (none: every node). */
export function selectedNodes(nodes: Node[], selectors: LabelSelector[] | undefined): Set<string> {
  const list = selectors ?? [];
  return new Set(nodes.filter((n) => list.length === 0 || list.some((s) => selectorMatches(s, n.labels))).map((n) => n.name));
}

export const intersects = <T>(a: Set<T>, b: Set<T>) => [...a].some((x) => b.has(x));

/**
 * The node's own address of a family, canonical, as its agent reported it (capabilities
 * nodeAddresses: --node-address, or the source of the default route); undefined if none.
 */
export function nodeAddress(intent: Pick<ClusterIntent, 'cluster'>, family: Family): string | undefined {
  for (const text of intent.cluster.capabilities.nodeAddresses ?? []) {
    const ip = tryParse(() => parseIp(text));
    if (ip?.family === family && !NOT_A_NODE_ADDRESS[family].some((block) => cidrContains(block, ip))) return ip.text;
  }
  return undefined;
}

/**
 * Loopback and link-local: no upstream router reaches a node there. Unspecified, multicast and
 * broadcast are no node's address at all (an agent reporting 0.0.0.0 would otherwise become a host
 * daemon's router ID 0.0.0.0, which BGP forbids).
 */
const NOT_A_NODE_ADDRESS: Record<Family, ParsedCidr[]> = {
  4: [LOOPBACK_V4, parseCidr('169.254.0.0/16'), parseCidr('0.0.0.0/8'), parseCidr('224.0.0.0/4'), parseCidr('255.255.255.255/32')],
  6: [parseCidr('::/128'), parseCidr('::1/128'), parseCidr('fe80::/10'), parseCidr('ff00::/8')],
};

/** The router ID of a host daemon: the one its peers set (they agree, or validation says so), else the node's IPv4 address. */
export function hostRouterId(intent: Pick<ClusterIntent, 'cluster' | 'peers'>): string | undefined {
  const set = intent.peers.find((p) => p.routerID !== undefined)?.routerID;
  return set !== undefined ? tryParse(() => parseIp(set))?.text : nodeAddress(intent, 4);
}

/** MetalLB derives the missing timer: keepalive = hold / 3, hold = keepalive * 3. */
export function effectiveTimers(peer: Pick<Peer, 'holdTime' | 'keepaliveTime'>): { hold?: number; keepalive?: number } {
  if (peer.holdTime !== undefined && peer.keepaliveTime !== undefined) return { hold: peer.holdTime, keepalive: peer.keepaliveTime };
  if (peer.holdTime !== undefined) return { hold: peer.holdTime, keepalive: Math.floor(peer.holdTime / 3) };
  if (peer.keepaliveTime !== undefined) return { hold: peer.keepaliveTime * 3, keepalive: peer.keepaliveTime };
  return {};
}

/**
 * A selector as MetalLB compares selectors for duplicates (metav1.LabelSelector.String() after it
 * sorts each expression's values): matchLabels by key, expressions in their order.
 */
export function selectorKey(selector: LabelSelector): string {
  const labels = Object.entries(selector.matchLabels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([labels, (selector.matchExpressions ?? []).map(expressionKey)]);
}

export function expressionKey(req: NonNullable<LabelSelector['matchExpressions']>[number]): string {
  return JSON.stringify([req.key, req.operator, [...(req.values ?? [])].sort()]);
}
