// renderMetallbObjects: the MetalLB custom resources (v0.16) for a cluster in any MetalLB mode,
// plus what each mode needs beyond them:
// - metallb-frr: the `bgpextras` ConfigMap carrying `allow-reserved-ranges` when 127/8 peering
//   is permitted (MetalLB never renders the knob itself);
// - metallb-frr-k8s: `allow-reserved-ranges` through an FRRConfiguration's `raw.rawConfig`.
// Passwords go into `kubernetes.io/basic-auth` Secrets referenced by `passwordSecret`.
import type { BfdProfile, ClusterIntent, Peer } from './model.ts';
import { MANAGED_BY_KEY } from './policy.ts';
import { formatDuration, parseCommunity, parseIp } from './grammar.ts';
import { needsAllowReservedRanges } from './local-peering.ts';
import { parseAddressEntry } from './ranges.ts';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  [field: string]: unknown;
}

export const MANAGED_BY_LABEL = MANAGED_BY_KEY;
export const MANAGED_BY = 'metalfleet';

/** Apply order: what others reference comes first (the agent applies in this order, prunes in reverse). */
export const KIND_ORDER = [
  'Secret', 'ConfigMap', 'BFDProfile', 'Community', 'IPAddressPool', 'BGPPeer', 'BGPAdvertisement', 'L2Advertisement', 'FRRConfiguration',
] as const;

const passwordSecretName = (peer: Peer) => `${peer.name}-bgp-password`.slice(0, 253);

/** The Secret a peer's password comes from: one metalfleet renders, or one the cluster holds. */
function passwordSecretRef(intent: ClusterIntent, peer: Peer): { name: string; namespace: string } | undefined {
  const name = peer.passwordSecret ?? (peer.password !== undefined ? passwordSecretName(peer) : undefined);
  return name === undefined ? undefined : { name, namespace: intent.cluster.namespace };
}

function object(intent: ClusterIntent, apiVersion: string, kind: string, name: string, body: Record<string, unknown>,
  labels: Record<string, string> = {}): KubeObject {
  return {
    apiVersion, kind,
    metadata: { name, namespace: intent.cluster.namespace, labels: { ...sortedLabels(labels), [MANAGED_BY_LABEL]: MANAGED_BY } },
    ...body,
  };
}

const sortedLabels = (labels: Record<string, string>) => Object.fromEntries(Object.entries(labels).sort(([a],
  [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** Drops undefined fields so the objects (and their YAML) carry only what is set. */
function compact<T extends Record<string, unknown>>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Partial<T>;
}

const nonEmpty = <T>(list: T[]): T[] | undefined => (list.length > 0 ? list : undefined);
const seconds = (s: number | undefined) => (s === undefined ? undefined : formatDuration(s));

/** A BFD profile's settings, as MetalLB's BFDProfile spec and frr-k8s's bfdProfiles both spell them. */
function bfdProfileFields(profile: BfdProfile): Record<string, unknown> {
  return compact({
    receiveInterval: profile.receiveInterval,
    transmitInterval: profile.transmitInterval,
    detectMultiplier: profile.detectMultiplier,
    echoInterval: profile.echoInterval,
    echoMode: profile.echoMode || undefined,
    passiveMode: profile.passiveMode || undefined,
    minimumTtl: profile.minimumTtl,
  });
}

function peerSpec(intent: ClusterIntent, peer: Peer): Record<string, unknown> {
  return compact({
    myASN: peer.myASN,
    peerASN: peer.peerASN,
    dynamicASN: peer.dynamicASN,
    peerAddress: peer.peerAddress !== undefined ? parseIp(peer.peerAddress).text : undefined,
    interface: peer.interface,
    sourceAddress: peer.sourceAddress !== undefined ? parseIp(peer.sourceAddress).text : undefined,
    peerPort: peer.peerPort,
    holdTime: seconds(peer.holdTime),
    keepaliveTime: seconds(peer.keepaliveTime),
    connectTime: seconds(peer.connectTime),
    routerID: peer.routerID !== undefined ? parseIp(peer.routerID).text : undefined,
    nodeSelectors: nonEmpty(peer.nodeSelectors),
    passwordSecret: passwordSecretRef(intent, peer),
    bfdProfile: peer.bfdProfile,
    enableGracefulRestart: peer.enableGracefulRestart || undefined,
    ebgpMultiHop: peer.ebgpMultiHop || undefined,
    vrf: peer.vrf,
    dualStackAddressFamily: peer.dualStackAddressFamily || undefined,
    localASN: peer.localASN,
  });
}

/** The community as MetalLB spells it: an alias name stays an alias (a Community CR defines it). */
function metallbCommunity(intent: ClusterIntent, ref: string): string {
  if (intent.communities.some((c) => c.name === ref)) return ref;
  return parseCommunity(ref).text;
}

export function renderMetallbObjects(intent: ClusterIntent): KubeObject[] {
  const objects: KubeObject[] = [];
  const byName = <T extends { name: string }>(items: T[]) => [...items].sort((a, b) => a.name.localeCompare(b.name));

  for (const pool of byName(intent.pools)) {
    objects.push(object(intent, 'metallb.io/v1beta1', 'IPAddressPool', pool.name, {
      spec: compact({
        addresses: pool.cidrs.map((c) => parseAddressEntry(c).text),
        autoAssign: pool.autoAssign,
        avoidBuggyIPs: pool.avoidBuggyIPs,
        serviceAllocation: pool.serviceAllocation && compact({
          priority: pool.serviceAllocation.priority,
          namespaces: nonEmpty(pool.serviceAllocation.namespaces ?? []),
          namespaceSelectors: nonEmpty(pool.serviceAllocation.namespaceSelectors ?? []),
          serviceSelectors: nonEmpty(pool.serviceAllocation.serviceSelectors ?? []),
        }),
      }),
    }, pool.labels));
  }
  for (const peer of byName(intent.peers)) {
    if (peer.password !== undefined) {
      objects.push(object(intent, 'v1', 'Secret', passwordSecretName(peer), {
        type: 'kubernetes.io/basic-auth',
        data: { password: btoa(peer.password) },
      }));
    }
    objects.push(object(intent, 'metallb.io/v1beta2', 'BGPPeer', peer.name, { spec: peerSpec(intent, peer) }));
  }
  for (const profile of byName(intent.bfdProfiles)) {
    objects.push(object(intent, 'metallb.io/v1beta1', 'BFDProfile', profile.name, { spec: bfdProfileFields(profile) }));
  }
  if (intent.communities.length > 0) {
    objects.push(object(intent, 'metallb.io/v1beta1', 'Community', 'metalfleet', {
      spec: { communities: byName(intent.communities).map((c) => ({ name: c.name, value: parseCommunity(c.value).text })) },
    }));
  }
  for (const adv of byName(intent.advertisements)) {
    if (adv.type === 'bgp') {
      objects.push(object(intent, 'metallb.io/v1beta1', 'BGPAdvertisement', adv.name, {
        spec: compact({
          ipAddressPools: nonEmpty([...adv.ipAddressPools].sort()),
          ipAddressPoolSelectors: nonEmpty(adv.ipAddressPoolSelectors ?? []),
          peers: nonEmpty([...adv.peers].sort()),
          communities: nonEmpty(adv.communities.map((c) => metallbCommunity(intent, c))),
          localPref: adv.localPref,
          aggregationLength: adv.aggregationLength,
          aggregationLengthV6: adv.aggregationLengthV6,
          nodeSelectors: nonEmpty(adv.nodeSelectors),
          serviceSelectors: nonEmpty(adv.serviceSelectors ?? []),
        }),
      }));
    } else {
      objects.push(object(intent, 'metallb.io/v1beta1', 'L2Advertisement', adv.name, {
        spec: compact({
          ipAddressPools: nonEmpty([...adv.ipAddressPools].sort()),
          ipAddressPoolSelectors: nonEmpty(adv.ipAddressPoolSelectors ?? []),
          nodeSelectors: nonEmpty(adv.nodeSelectors),
          serviceSelectors: nonEmpty(adv.serviceSelectors ?? []),
          interfaces: nonEmpty([...adv.interfaces].sort()),
        }),
      }));
    }
  }

  const reserved = needsAllowReservedRanges(intent);
  if (intent.cluster.backend === 'metallb-frr' && reserved) {
    objects.push(object(intent, 'v1', 'ConfigMap', 'bgpextras', { data: { extras: 'allow-reserved-ranges\n' } }));
  }
  if (intent.cluster.backend === 'metallb-frr-k8s') objects.push(...renderFrrK8sSupplement(intent, reserved));
  return sortObjects(objects);
}

export function sortObjects(objects: KubeObject[]): KubeObject[] {
  const rank = (o: KubeObject) => KIND_ORDER.indexOf(o.kind as (typeof KIND_ORDER)[number]);
  return objects.sort((a, b) => rank(a) - rank(b) || a.metadata.name.localeCompare(b.metadata.name));
}

/**
 * What MetalLB 0.16 cannot say in frr-k8s mode but FRR needs: `allow-reserved-ranges` (peering over
 * 127/8 or the node's own address), as raw config that frr-k8s appends. Neighbor fields MetalLB drops
 * (sourceAddress, localASN) are refused instead (capabilities.ts): frr-k8s merges configurations only
 * when a neighbor's fields are equal, so a second FRRConfiguration cannot add them.
 */
function renderFrrK8sSupplement(intent: ClusterIntent, reserved: boolean): KubeObject[] {
  if (!reserved) return [];
  return [object(intent, 'frrk8s.metallb.io/v1beta1', 'FRRConfiguration', 'metalfleet-allow-reserved-ranges', {
    spec: { nodeSelector: {}, raw: { rawConfig: 'allow-reserved-ranges\n' } },
  })];
}
