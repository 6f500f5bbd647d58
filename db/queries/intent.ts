// A tenant's intent, in a fixed number of queries however many clusters it has: every object, and
// the clusters in a scope (all by default; a write asks for those it can affect). Passwords come back in clear, so
// this runs only inside the write's transaction and the result never leaves the server.
import type { Tx } from '../tenant.ts';
import type { SecretKey } from '../secrets.ts';
import { openSecret } from '../secrets.ts';
import type { TenantObjects } from '../../render/select.ts';
import { listAdvertisements } from './advertisements.ts';
import { listBfdProfiles } from './bfd-profiles.ts';
import { listClustersInScope, type ClusterRecord } from './clusters.ts';
import { EVERY_CLUSTER, type ClusterScope } from '../../render/scope.ts';
import { listCommunities } from './communities.ts';
import { listPeers } from './peers.ts';
import { listPools } from './pools.ts';
import { getPolicy } from './tenants.ts';

const ALL = 1_000_000;

export interface TenantIntent {
  objects: TenantObjects;
  clusters: ClusterRecord[];
}

export async function loadTenantIntent(tx: Tx, { tenantId, secretKey, scope = EVERY_CLUSTER }: {
  tenantId: string; secretKey: SecretKey; scope?: ClusterScope;
}): Promise<TenantIntent> {
  const page = { tenantId, limit: ALL };
  const policy = await getPolicy(tx, { tenantId });
  const clusters = await listClustersInScope(tx, { tenantId, scope });
  const pools = await listPools(tx, page);
  const peers = await listPeers(tx, page);
  const bfdProfiles = await listBfdProfiles(tx, page);
  const communities = await listCommunities(tx, page);
  const advertisements = await listAdvertisements(tx, page);
  const strip = <T extends { id: string; createdAt: Date; updatedAt: Date }>({ id: _i, createdAt: _c, updatedAt: _u, ...rest }: T) => rest;
  return {
    clusters,
    objects: {
      policy,
      pools: pools.map(strip),
      peers: await Promise.all(peers.map(async ({ passwordEncrypted, ...peer }) => ({
        ...strip(peer),
        ...(passwordEncrypted ? { password: await openSecret(secretKey, passwordEncrypted, tenantId) } : {}),
      }))),
      bfdProfiles: bfdProfiles.map(strip),
      communities: communities.map(({ name, value }) => ({ name, value })),
      advertisements: advertisements.map(strip),
    },
  };
}
