import { anyOf } from './any-of.ts';
import { eq } from 'drizzle-orm';
import type { Tx } from '../tenant.ts';
import { bfdProfiles, peers } from '../schema.ts';
import type { LabelSelector } from '../../render/policy.ts';
import { byName, pageByName, type Page } from './named.ts';

/** A peer as stored: timers in seconds, the BFD profile by name, the password sealed. */
export interface PeerFields {
  name: string;
  myASN: number;
  peerASN?: number;
  dynamicASN?: 'internal' | 'external';
  localASN?: number;
  peerAddress?: string;
  interface?: string;
  sourceAddress?: string;
  peerPort: number;
  routerID?: string;
  holdTime?: number;
  keepaliveTime?: number;
  connectTime?: number;
  ebgpMultiHop: boolean;
  bfdProfile?: string;
  vrf?: string;
  /** A Secret the cluster holds (MetalLB's passwordSecret), instead of a stored password. */
  passwordSecret?: string;
  enableGracefulRestart: boolean;
  dualStackAddressFamily: boolean;
  localPeering: boolean;
  nodeSelectors: LabelSelector[];
  clusterSelector?: LabelSelector;
}
export interface PeerRecord extends PeerFields { id: string; passwordEncrypted?: string; createdAt: Date; updatedAt: Date }

function toRecord(row: typeof peers.$inferSelect, bfdName: string | null): PeerRecord {
  const optional = {
    peerASN: row.peerASN, dynamicASN: row.dynamicASN, localASN: row.localASN, peerAddress: row.peerAddress, interface: row.interface,
    sourceAddress: row.sourceAddress, routerID: row.routerID, holdTime: row.holdTimeSeconds, keepaliveTime: row.keepaliveTimeSeconds,
    connectTime: row.connectTimeSeconds, bfdProfile: bfdName, vrf: row.vrf, clusterSelector: row.clusterSelector,
    passwordEncrypted: row.passwordEncrypted, passwordSecret: row.passwordSecret,
  };
  return {
    id: row.id, name: row.name, myASN: row.myASN, peerPort: row.peerPort, ebgpMultiHop: row.ebgpMultiHop,
    enableGracefulRestart: row.enableGracefulRestart, dualStackAddressFamily: row.dualStackAddressFamily,
    localPeering: row.localPeering, nodeSelectors: row.nodeSelectors,
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== null && v !== undefined)),
    createdAt: row.createdAt, updatedAt: row.updatedAt,
  } as PeerRecord;
}

async function withBfdNames(tx: Tx, rows: Array<typeof peers.$inferSelect>): Promise<PeerRecord[]> {
  const ids = [...new Set(rows.map((r) => r.bfdProfileId).filter((id): id is string => id !== null))];
  const names = ids.length === 0 ? [] : await tx.select({ id: bfdProfiles.id, name: bfdProfiles.name }).from(bfdProfiles).where(anyOf(bfdProfiles.id, ids));
  return rows.map((r) => toRecord(r, names.find((n) => n.id === r.bfdProfileId)?.name ?? null));
}

export async function listPeers(tx: Tx, { tenantId, ...page }: { tenantId: string } & Page): Promise<PeerRecord[]> {
  const { where, orderBy } = pageByName(peers, tenantId, page);
  return withBfdNames(tx, await tx.select().from(peers).where(where).orderBy(orderBy).limit(page.limit));
}

export async function getPeer(tx: Tx, { tenantId, name, forUpdate }: { tenantId: string; name: string; forUpdate?: boolean }): Promise<PeerRecord | undefined> {
  const query = tx.select().from(peers).where(byName(peers, tenantId, name));
  return (await withBfdNames(tx, forUpdate ? await query.for('update') : await query))[0];
}

function columns(input: PeerFields, bfdProfileId: string | null, passwordEncrypted: string | null) {
  return {
    name: input.name, myASN: input.myASN, peerASN: input.peerASN ?? null, dynamicASN: input.dynamicASN ?? null,
    localASN: input.localASN ?? null, peerAddress: input.peerAddress ?? null, interface: input.interface ?? null,
    sourceAddress: input.sourceAddress ?? null, peerPort: input.peerPort, routerID: input.routerID ?? null,
    holdTimeSeconds: input.holdTime ?? null, keepaliveTimeSeconds: input.keepaliveTime ?? null, connectTimeSeconds: input.connectTime ?? null,
    ebgpMultiHop: input.ebgpMultiHop, bfdProfileId, vrf: input.vrf ?? null, passwordEncrypted, passwordSecret: input.passwordSecret ?? null,
    enableGracefulRestart: input.enableGracefulRestart, dualStackAddressFamily: input.dualStackAddressFamily,
    localPeering: input.localPeering, nodeSelectors: input.nodeSelectors, clusterSelector: input.clusterSelector ?? null,
  };
}

export async function createPeer(tx: Tx, { tenantId, input, bfdProfileId, passwordEncrypted }:
  { tenantId: string; input: PeerFields; bfdProfileId: string | null; passwordEncrypted: string | null }): Promise<PeerRecord> {
  const [row] = await tx.insert(peers).values({ tenantId, ...columns(input, bfdProfileId, passwordEncrypted) }).returning();
  return (await withBfdNames(tx, [row!]))[0]!;
}

export async function updatePeer(tx: Tx, { id, input, bfdProfileId, passwordEncrypted }:
  { id: string; input: PeerFields; bfdProfileId: string | null; passwordEncrypted: string | null }): Promise<PeerRecord> {
  const [row] = await tx.update(peers).set({ ...columns(input, bfdProfileId, passwordEncrypted), updatedAt: new Date() }).where(eq(peers.id, id)).returning();
  return (await withBfdNames(tx, [row!]))[0]!;
}

export async function deletePeer(tx: Tx, { id }: { id: string }): Promise<void> {
  await tx.delete(peers).where(eq(peers.id, id));
}
