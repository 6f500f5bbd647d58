// The typed cluster intent: everything the renderers need to produce one cluster's config,
// already selected for that cluster by the cluster selectors. Shapes only; the rules that span
// fields and objects live in validate.ts.
import { z } from 'zod';
import { Asn, Backend, Labels, LabelSelector, TenantPolicy } from './policy.ts';

export const ResourceName = z.string().regex(/^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/,
  'must be a lowercase DNS name: [a-z0-9], inner . and -, at most 63 characters');

export const Node = z.strictObject({
  name: z.string(),
  labels: Labels.default({}),
});
export type Node = z.infer<typeof Node>;

export const Capabilities = z.strictObject({
  /** FRR version the agent found (`show version`), e.g. "8.4.4". */
  frrVersion: z.string().max(64).optional(),
  /** MetalLB version the agent found, e.g. "0.16.1". */
  metallbVersion: z.string().max(64).optional(),
  /** BIRD version the agent found (`birdc show status`), e.g. "2.0.12". */
  birdVersion: z.string().max(64).optional(),
  /** GoBGP version the agent found (`gobgpd --version`), e.g. "3.10.0". */
  gobgpVersion: z.string().max(64).optional(),
  nodes: z.array(Node).optional(),
  /**
   * Host daemons: the node's own addresses, at most one per family (the agent's --node-address, or
   * the source address of the node's default route). The next hop FRR gives its 127.0.0.0/8 local
   * peers, and the router ID of a host daemon when no peer sets one. Parsed where used: an
   * unparsable entry counts as none.
   */
  nodeAddresses: z.array(z.string().max(64)).max(8).optional(),
});
export type Capabilities = z.infer<typeof Capabilities>;

export const ClusterSpec = z.strictObject({
  name: z.string(),
  backend: Backend,
  /** MetalLB (and frr-k8s) namespace; host FRR ignores it. */
  namespace: z.string().default('metallb-system'),
  capabilities: Capabilities.default({}),
});
export type ClusterSpec = z.infer<typeof ClusterSpec>;

export const ServiceAllocation = z.strictObject({
  /** Lower is preferred; int32 (validation bounds it). */
  priority: z.number().int().optional(),
  /** Kubernetes namespace names (DNS-1123 labels; validation checks the grammar). */
  namespaces: z.array(z.string()).optional(),
  namespaceSelectors: z.array(LabelSelector).optional(),
  serviceSelectors: z.array(LabelSelector).optional(),
});

export const Pool = z.strictObject({
  name: z.string(),
  /**
   * MetalLB's `addresses`: each entry a CIDR (`192.0.2.0/24`) or an inclusive address range
   * (`192.0.2.10-192.0.2.40`). The field keeps its historical name.
   */
  cidrs: z.array(z.string()),
  /** Labels of the rendered IPAddressPool: what advertisements' ipAddressPoolSelectors match. */
  labels: Labels.optional(),
  autoAssign: z.boolean().default(true),
  avoidBuggyIPs: z.boolean().default(false),
  serviceAllocation: ServiceAllocation.optional(),
});
export type Pool = z.infer<typeof Pool>;

export const Peer = z.strictObject({
  name: z.string(),
  myASN: z.number().int(),
  peerASN: z.number().int().optional(),
  dynamicASN: z.enum(['internal', 'external']).optional(),
  localASN: z.number().int().optional(),
  peerAddress: z.string().optional(),
  interface: z.string().optional(),
  sourceAddress: z.string().optional(),
  peerPort: z.number().int().default(179),
  routerID: z.string().optional(),
  /** Timers in whole seconds. */
  holdTime: z.number().int().optional(),
  keepaliveTime: z.number().int().optional(),
  connectTime: z.number().int().optional(),
  ebgpMultiHop: z.boolean().default(false),
  bfdProfile: z.string().optional(),
  vrf: z.string().optional(),
  /** Plaintext: the renderers need it (Secret, frr.conf). Never logged or stored in clear. */
  password: z.string().optional(),
  /**
   * Name of a `kubernetes.io/basic-auth` Secret (key `password`) the cluster already holds in
   * the MetalLB namespace; exclusive with password. MetalLB backends only.
   */
  passwordSecret: z.string().optional(),
  enableGracefulRestart: z.boolean().default(false),
  dualStackAddressFamily: z.boolean().default(false),
  /** The peer is the node's own routing daemon (BIRD, Calico, ...): local peering. */
  localPeering: z.boolean().default(false),
  nodeSelectors: z.array(LabelSelector).default([]),
});
export type Peer = z.infer<typeof Peer>;

export const BfdProfile = z.strictObject({
  name: z.string(),
  receiveInterval: z.number().int().optional(),
  transmitInterval: z.number().int().optional(),
  detectMultiplier: z.number().int().optional(),
  echoInterval: z.number().int().optional(),
  echoMode: z.boolean().default(false),
  passiveMode: z.boolean().default(false),
  minimumTtl: z.number().int().optional(),
});
export type BfdProfile = z.infer<typeof BfdProfile>;

export const CommunityAlias = z.strictObject({ name: z.string(), value: z.string() });
export type CommunityAlias = z.infer<typeof CommunityAlias>;

export const Advertisement = z.strictObject({
  name: z.string(),
  type: z.enum(['bgp', 'l2']),
  /** Pool names; with no names and no selectors: every pool of the cluster (MetalLB semantics). */
  ipAddressPools: z.array(z.string()).default([]),
  /** Pools selected by their labels, in addition to the named ones. */
  ipAddressPoolSelectors: z.array(LabelSelector).optional(),
  /** Services whose addresses are announced (MetalLB 0.16); absent: every service. */
  serviceSelectors: z.array(LabelSelector).optional(),
  /** Peer names; empty: every peer. */
  peers: z.array(z.string()).default([]),
  /** Values (`A:B`, `large:A:B:C`) or community alias names. */
  communities: z.array(z.string()).default([]),
  localPref: z.number().int().optional(),
  aggregationLength: z.number().int().optional(),
  aggregationLengthV6: z.number().int().optional(),
  nodeSelectors: z.array(LabelSelector).default([]),
  interfaces: z.array(z.string()).default([]),
});
export type Advertisement = z.infer<typeof Advertisement>;

export const ClusterIntent = z.strictObject({
  cluster: ClusterSpec,
  policy: TenantPolicy,
  pools: z.array(Pool).default([]),
  peers: z.array(Peer).default([]),
  bfdProfiles: z.array(BfdProfile).default([]),
  communities: z.array(CommunityAlias).default([]),
  advertisements: z.array(Advertisement).default([]),
});
export type ClusterIntent = z.infer<typeof ClusterIntent>;
export type ClusterIntentInput = z.input<typeof ClusterIntent>;

export { Asn };
