import { anyOf } from './any-of.ts';
import { and, eq } from 'drizzle-orm';
import type { Tx } from '../tenant.ts';
import { advertisementPeers, advertisementPools, advertisements, peers, pools } from '../schema.ts';
import type { LabelSelector } from '../../render/policy.ts';
import { byName, pageByName, type Page } from './named.ts';

export interface AdvertisementFields {
  name: string;
  type: 'bgp' | 'l2';
  ipAddressPools: string[];
  /** Pools selected by their labels, besides those named. */
  ipAddressPoolSelectors: LabelSelector[];
  serviceSelectors: LabelSelector[];
  peers: string[];
  communities: string[];
  localPref?: number;
  aggregationLength?: number;
  aggregationLengthV6?: number;
  nodeSelectors: LabelSelector[];
  interfaces: string[];
  clusterSelector?: LabelSelector;
}
export interface AdvertisementRecord extends AdvertisementFields { id: string; createdAt: Date; updatedAt: Date }

async function withRefs(tx: Tx, rows: Array<typeof advertisements.$inferSelect>): Promise<AdvertisementRecord[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const poolRefs = await tx.select({ adv: advertisementPools.advertisementId, name: pools.name }).from(advertisementPools)
    .innerJoin(pools, eq(pools.id, advertisementPools.poolId)).where(anyOf(advertisementPools.advertisementId, ids));
  const peerRefs = await tx.select({ adv: advertisementPeers.advertisementId, name: peers.name }).from(advertisementPeers)
    .innerJoin(peers, eq(peers.id, advertisementPeers.peerId)).where(anyOf(advertisementPeers.advertisementId, ids));
  return rows.map((r) => {
    const optional = { localPref: r.localPref, aggregationLength: r.aggregationLength, aggregationLengthV6: r.aggregationLengthV6, clusterSelector: r.clusterSelector };
    return {
      id: r.id, name: r.name, type: r.type,
      ipAddressPools: poolRefs.filter((p) => p.adv === r.id).map((p) => p.name).sort(),
      peers: peerRefs.filter((p) => p.adv === r.id).map((p) => p.name).sort(),
      ipAddressPoolSelectors: r.ipAddressPoolSelectors, serviceSelectors: r.serviceSelectors,
      communities: r.communities, nodeSelectors: r.nodeSelectors, interfaces: r.interfaces,
      ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== null)),
      createdAt: r.createdAt, updatedAt: r.updatedAt,
    } as AdvertisementRecord;
  });
}

/** One page by name, of one kind (or of both, for rendering). */
export async function listAdvertisements(tx: Tx, { tenantId, type, ...page }: { tenantId: string; type?: 'bgp' | 'l2' } & Page): Promise<AdvertisementRecord[]> {
  const { where, orderBy } = pageByName(advertisements, tenantId, page);
  return withRefs(tx, await tx.select().from(advertisements).where(and(where, type ? eq(advertisements.type, type) : undefined))
    .orderBy(orderBy, advertisements.type).limit(page.limit));
}

export async function getAdvertisement(tx: Tx, { tenantId, type, name, forUpdate }: { tenantId: string; type: 'bgp' | 'l2'; name: string; forUpdate?: boolean }): Promise<AdvertisementRecord | undefined> {
  const query = tx.select().from(advertisements).where(and(byName(advertisements, tenantId, name), eq(advertisements.type, type)));
  return (await withRefs(tx, forUpdate ? await query.for('update') : await query))[0];
}

function columns(input: AdvertisementFields) {
  return {
    name: input.name, type: input.type, communities: input.communities, localPref: input.localPref ?? null,
    aggregationLength: input.aggregationLength ?? null, aggregationLengthV6: input.aggregationLengthV6 ?? null,
    nodeSelectors: input.nodeSelectors, interfaces: input.interfaces, clusterSelector: input.clusterSelector ?? null,
    ipAddressPoolSelectors: input.ipAddressPoolSelectors, serviceSelectors: input.serviceSelectors,
  };
}

/** Replaces the pool and peer references (ids resolved by the caller). */
async function setRefs(tx: Tx, tenantId: string, advertisementId: string, poolIds: string[], peerIds: string[]) {
  await tx.delete(advertisementPools).where(eq(advertisementPools.advertisementId, advertisementId));
  await tx.delete(advertisementPeers).where(eq(advertisementPeers.advertisementId, advertisementId));
  if (poolIds.length > 0) await tx.insert(advertisementPools).values(poolIds.map((poolId) => ({ tenantId, advertisementId, poolId })));
  if (peerIds.length > 0) await tx.insert(advertisementPeers).values(peerIds.map((peerId) => ({ tenantId, advertisementId, peerId })));
}

export async function createAdvertisement(tx: Tx, { tenantId, input, poolIds, peerIds }:
  { tenantId: string; input: AdvertisementFields; poolIds: string[]; peerIds: string[] }): Promise<AdvertisementRecord> {
  const [row] = await tx.insert(advertisements).values({ tenantId, ...columns(input) }).returning();
  await setRefs(tx, tenantId, row!.id, poolIds, peerIds);
  return (await withRefs(tx, [row!]))[0]!;
}

export async function updateAdvertisement(tx: Tx, { tenantId, id, input, poolIds, peerIds }:
  { tenantId: string; id: string; input: AdvertisementFields; poolIds: string[]; peerIds: string[] }): Promise<AdvertisementRecord> {
  const [row] = await tx.update(advertisements).set({ ...columns(input), updatedAt: new Date() }).where(eq(advertisements.id, id)).returning();
  await setRefs(tx, tenantId, id, poolIds, peerIds);
  return (await withRefs(tx, [row!]))[0]!;
}

export async function deleteAdvertisement(tx: Tx, { id }: { id: string }): Promise<void> {
  await tx.delete(advertisements).where(eq(advertisements.id, id));
}
