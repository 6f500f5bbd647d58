// What `metalfleet demo` puts in the control plane, through the API like any client: a tenant
// with a policy, an IPv4 and an IPv6 grant, one cluster per backend, dual-stack pools, peers with
// BFD, and advertisements (one intent document). Shared with the console's browser test.

/** Calls the API as a platform admin; answers the parsed JSON or throws on 400 and more. */
export type ApiCall = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<any>;

export const DEMO_TENANT = 'demo';
/** MetalLB native mode takes no BFD profile at all, so its cluster lives in a tenant of its own. */
export const DEMO_NATIVE_TENANT = 'demo-native';
export const DEMO_GRANTS: Record<string, string[]> = {
  [DEMO_TENANT]: ['198.51.100.0/24', '2001:db8:250::/48'],
  [DEMO_NATIVE_TENANT]: ['203.0.113.0/26'],
};
/** The BIRD router the host clusters peer with (the live demo runs it there: cli/lab.ts twoHosts()). */
export const DEMO_ROUTER = { v4: '10.250.0.2', v6: 'fd00:250::2', asn: 64500 };
export const DEMO_CLUSTERS = [
  { tenant: DEMO_TENANT, name: 'edge-frr', backend: 'frr', labels: { bfd: 'yes', v6: 'yes' } },
  { tenant: DEMO_TENANT, name: 'edge-bird', backend: 'bird', labels: { daemon: 'bird' } },
  { tenant: DEMO_TENANT, name: 'edge-gobgp', backend: 'gobgp', labels: { daemon: 'gobgp' } },
  { tenant: DEMO_TENANT, name: 'k8s-frr', backend: 'metallb-frr', labels: { bfd: 'yes', v6: 'yes' } },
  { tenant: DEMO_TENANT, name: 'k8s-frr-k8s', backend: 'metallb-frr-k8s', labels: { bfd: 'yes', v6: 'yes' } },
  { tenant: DEMO_NATIVE_TENANT, name: 'k8s-native', backend: 'metallb-native', labels: {} },
] as const;

const selecting = (labels: Record<string, string>) => ({ matchLabels: labels });
const clustersOf = (tenant: string) => DEMO_CLUSTERS.filter((c) => c.tenant === tenant).map((c) => ({ name: c.name, backend: c.backend, labels: c.labels }));
const router = { myASN: 64512, peerASN: DEMO_ROUTER.asn };

/** Each demo tenant's intent, as the document PUT /v1/tenants/{tenant}/intent takes. */
export function demoIntent(tenant: string) {
  const head = { apiVersion: 'metalfleet.io/v1', kind: 'TenantIntent' };
  if (tenant === DEMO_NATIVE_TENANT) {
    return {
      ...head, clusters: clustersOf(tenant), pools: [{ name: 'legacy', cidrs: ['203.0.113.0/28'] }],
      peers: [{ name: 'router', ...router, peerAddress: DEMO_ROUTER.v4 }], bgpAdvertisements: [{ name: 'announce-all' }],
    };
  }
  return {
    ...head,
    bfdProfiles: [{ name: 'fast', receiveInterval: 300, transmitInterval: 300, detectMultiplier: 3 }],
    clusters: clustersOf(tenant),
    pools: [
      { name: 'web-v4', cidrs: ['198.51.100.0/28'] },
      { name: 'web-v6', cidrs: ['2001:db8:250::/124'], clusterSelector: selecting({ v6: 'yes' }) },
      { name: 'batch-v4', cidrs: ['198.51.100.64/27'], autoAssign: false },
    ],
    peers: [
      { name: 'router-bfd', ...router, peerAddress: DEMO_ROUTER.v4, bfdProfile: 'fast', clusterSelector: selecting({ bfd: 'yes' }) },
      { name: 'router-v6', ...router, peerAddress: DEMO_ROUTER.v6, clusterSelector: selecting({ v6: 'yes' }) },
      // BIRD and GoBGP take their router ID from the peer until an agent reports the host's address.
      { name: 'router-bird', ...router, peerAddress: DEMO_ROUTER.v4, routerID: '10.250.2.2', clusterSelector: selecting({ daemon: 'bird' }) },
      { name: 'router-gobgp', ...router, peerAddress: DEMO_ROUTER.v4, routerID: '10.250.3.2', clusterSelector: selecting({ daemon: 'gobgp' }) },
    ],
    bgpAdvertisements: [{ name: 'announce-all' }],
  };
}

/** Seeds the demo tenants (idempotent: applying the same intent again changes nothing). */
export async function seedDemo(call: ApiCall): Promise<void> {
  const tenants = await call('GET', '/v1/tenants?limit=500') as { items: Array<{ slug: string }> };
  for (const [slug, grantCidrs] of Object.entries(DEMO_GRANTS)) {
    if (!tenants.items.some((t) => t.slug === slug)) await call('POST', '/v1/tenants', { slug, name: slug === DEMO_TENANT ? 'Demo' : 'Demo (MetalLB native)' });
    const base = `/v1/tenants/${slug}`;
    await call('PUT', `${base}/policy`, {
      allowedASNs: [{ from: 64500, to: 64599 }], allowedPeerCIDRs: ['10.250.0.0/16', 'fd00:250::/32'],
      requireBFD: false, requirePassword: false, allowLocalPeering: false, allowedCommunities: null, maxPools: 20,
    });
    const grants = await call('GET', `${base}/grants`) as { items: Array<{ cidr: string }> };
    for (const cidr of grantCidrs) if (!grants.items.some((g) => g.cidr === cidr)) await call('POST', `${base}/grants`, { cidr });
    await call('PUT', `${base}/intent`, demoIntent(slug), { 'if-match': '*' });
  }
}

type DemoCluster = (typeof DEMO_CLUSTERS)[number];
const matches = (selector: { matchLabels: Record<string, string> } | undefined, labels: Record<string, string>) =>
  !selector || Object.entries(selector.matchLabels).every(([k, v]) => labels[k] === v);

/** The peers and pools the intent gives a cluster (its selectors are matchLabels only). */
export function demoSelection(cluster: DemoCluster): { peers: Array<{ name: string; peerAddress: string; bfd: boolean }>; pools: Array<{ name: string; cidrs: string[] }> } {
  const intent = demoIntent(cluster.tenant) as {
    peers: Array<{ name: string; peerAddress: string; bfdProfile?: string; clusterSelector?: { matchLabels: Record<string, string> } }>;
    pools: Array<{ name: string; cidrs: string[]; clusterSelector?: { matchLabels: Record<string, string> } }>;
  };
  const labels: Record<string, string> = cluster.labels;
  return {
    peers: intent.peers.filter((p) => matches(p.clusterSelector, labels)).map((p) => ({ name: p.name, peerAddress: p.peerAddress, bfd: p.bfdProfile !== undefined })),
    pools: intent.pools.filter((p) => matches(p.clusterSelector, labels)).map((p) => ({ name: p.name, cidrs: p.cidrs })),
  };
}
