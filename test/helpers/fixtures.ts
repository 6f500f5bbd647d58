// Rows for every tenant-owned table, so that isolation can be checked table by table.
import { withPlatform, withTenant, type Tx } from '../../db/tenant.ts';
import type { Db } from '../../db/client.ts';
import * as s from '../../db/schema.ts';

export interface TenantRefs {
  tenantId: string;
  clusterId: string;
  poolId: string;
  peerId: string;
  bfdProfileId: string;
  advertisementId: string;
  /** Distinguishes the address space of each seeded tenant: 10.<octet>.0.0/16. */
  octet: number;
}

const suffix = () => crypto.randomUUID().slice(0, 8);
let nextOctet = 1;

export async function createTenant(db: Db, slug = `t-${suffix()}`): Promise<string> {
  const [row] = await withPlatform(db, (tx) => tx.insert(s.tenants).values({ slug, name: slug }).returning({ id: s.tenants.id }));
  return row!.id;
}

/**
 * One insert per tenant-owned table, keyed by table name. `refs` are the rows the new row points
 * at; `n` makes unique columns unique.
 */
export const insertRow: Record<(typeof s.TENANT_OWNED_TABLES)[number], (tx: Tx, tenantId: string, refs: TenantRefs, n: number) => Promise<unknown>> = {
  address_grants: (tx, tenantId, r, n) => tx.insert(s.addressGrants).values({ tenantId, cidr: `10.${r.octet}.${100 + n}.0/24` }),
  tenant_policies: (tx, tenantId) => tx.insert(s.tenantPolicies).values({ tenantId, policy: { ...defaultPolicy() } }),
  clusters: (tx, tenantId, _r, n) => tx.insert(s.clusters).values({ tenantId, name: `c-${n}-${suffix()}`, backend: 'frr' }),
  pools: (tx, tenantId, _r, n) => tx.insert(s.pools).values({ tenantId, name: `p-${n}-${suffix()}` }),
  pool_cidrs: (tx, tenantId, r, n) => tx.insert(s.poolCidrs).values({ tenantId, poolId: r.poolId, cidr: `10.${r.octet}.${n}.0/24`, entry: `10.${r.octet}.${n}.0/24` }),
  bfd_profiles: (tx, tenantId, _r, n) => tx.insert(s.bfdProfiles).values({ tenantId, name: `b-${n}-${suffix()}`, receiveInterval: 300 }),
  peers: (tx, tenantId, r, n) => tx.insert(s.peers).values({
    tenantId, name: `peer-${n}-${suffix()}`, myASN: 64512, peerASN: 64500, peerAddress: `10.${r.octet}.250.${n + 1}`,
    bfdProfileId: r.bfdProfileId,
  }),
  communities: (tx, tenantId, _r, n) => tx.insert(s.communities).values({ tenantId, name: `comm-${n}-${suffix()}`, value: '64500:100' }),
  advertisements: (tx, tenantId, _r, n) => tx.insert(s.advertisements).values({ tenantId, name: `adv-${n}-${suffix()}`, type: 'bgp' }),
  advertisement_pools: (tx, tenantId, r) => tx.insert(s.advertisementPools).values({ tenantId, advertisementId: r.advertisementId, poolId: r.poolId }),
  advertisement_peers: (tx, tenantId, r) => tx.insert(s.advertisementPeers).values({ tenantId, advertisementId: r.advertisementId, peerId: r.peerId }),
  enrollment_tokens: (tx, tenantId, r) => tx.insert(s.enrollmentTokens).values({
    tenantId, clusterId: r.clusterId, tokenSha256: randomHex(32), expiresAt: new Date(Date.now() + 3600_000),
  }),
  agents: (tx, tenantId, r) => tx.insert(s.agents).values({
    tenantId, clusterId: r.clusterId, publicJwk: { kty: 'OKP', crv: 'Ed25519', x: randomHex(16) }, kid: randomHex(16),
  }),
  config_revisions: (tx, tenantId, r, n) => tx.insert(s.configRevisions).values({
    tenantId, clusterId: r.clusterId, revision: 100 + n, backend: 'frr', content: 'hostname x\n', sha256: randomHex(32), signature: 'test', cause: 'test',
  }),
  session_states: (tx, tenantId, r, n) => tx.insert(s.sessionStates).values({
    tenantId, clusterId: r.clusterId, node: `node-${n}`, peer: '10.0.0.1', bgpState: 'Established',
  }),
  address_holds: (tx, tenantId, r, n) => tx.insert(s.addressHolds).values({
    tenantId, clusterId: r.clusterId, cidr: `10.${r.octet}.${200 + n}.0/24`, lastRevision: 1, tenantSlug: 'seed', clusterName: 'seed',
  }),
  api_tokens: (tx, tenantId, _r, n) => tx.insert(s.apiTokens).values({
    tenantId, name: `token-${n}`, role: 'tenant-viewer', tokenSha256: randomHex(32), createdBy: 'test', expiresAt: new Date(Date.now() + 3600_000),
  }),
  audit_events: (tx, tenantId) => tx.insert(s.auditEvents).values({ tenantId, actor: 'test', action: 'create', resource: 'pool' }),
  rollout_policies: (tx, tenantId) => tx.insert(s.rolloutPolicies).values({ tenantId, policy: { waves: [{ name: 'all', bakeSeconds: 0, timeoutSeconds: 60 }], onNewChange: 'queue' } }),
  rollouts: (tx, tenantId, _r, n) => insertSeedRollout(tx, tenantId, 100 + n),
  rollout_clusters: async (tx, tenantId, r, n) => {
    const rolloutId = await insertSeedRollout(tx, tenantId, 200 + n);
    return tx.insert(s.rolloutClusters).values({ rolloutId, tenantId, clusterId: r.clusterId, wave: 0, toRevision: 1 });
  },
};

async function insertSeedRollout(tx: Tx, tenantId: string, number: number): Promise<string> {
  const [row] = await tx.insert(s.rollouts).values({ tenantId, number, state: 'completed', cause: 'test', createdBy: 'test', waves: [] }).returning({ id: s.rollouts.id });
  return row!.id;
}

function defaultPolicy() {
  return {
    allowedASNs: [], allowedPeerCIDRs: [], requireBFD: false, requirePassword: false, allowLocalPeering: false,
    allowedCommunities: null, maxPools: null, allowedBackends: ['frr' as const],
  };
}

export function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A tenant with one row in every tenant-owned table. */
export async function seedTenant(db: Db): Promise<TenantRefs> {
  const tenantId = await createTenant(db);
  const octet = nextOctet++;
  return withTenant(db, tenantId, async (tx) => {
    const [cluster] = await tx.insert(s.clusters).values({ tenantId, name: 'seed', backend: 'frr' }).returning({ id: s.clusters.id });
    const [pool] = await tx.insert(s.pools).values({ tenantId, name: 'seed' }).returning({ id: s.pools.id });
    const [bfd] = await tx.insert(s.bfdProfiles).values({ tenantId, name: 'seed' }).returning({ id: s.bfdProfiles.id });
    const [peer] = await tx.insert(s.peers).values({
      tenantId, name: 'seed', myASN: 64512, peerASN: 64500, peerAddress: `10.${octet}.250.250`,
    }).returning({ id: s.peers.id });
    const [adv] = await tx.insert(s.advertisements).values({ tenantId, name: 'seed', type: 'bgp' }).returning({ id: s.advertisements.id });
    const refs: TenantRefs = {
      tenantId, octet, clusterId: cluster!.id, poolId: pool!.id, peerId: peer!.id, bfdProfileId: bfd!.id, advertisementId: adv!.id,
    };
    for (const [table, insert] of Object.entries(insertRow)) {
      if (['clusters', 'pools', 'bfd_profiles', 'peers', 'advertisements'].includes(table)) continue; // seeded above
      await insert(tx, tenantId, refs, 1);
    }
    return refs;
  });
}
