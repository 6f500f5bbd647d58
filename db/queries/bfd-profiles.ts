import { eq } from 'drizzle-orm';
import type { Tx } from '../tenant.ts';
import { bfdProfiles } from '../schema.ts';
import { byName, pageByName, type Page } from './named.ts';

export interface BfdProfileFields {
  name: string;
  receiveInterval?: number;
  transmitInterval?: number;
  detectMultiplier?: number;
  echoInterval?: number;
  echoMode: boolean;
  passiveMode: boolean;
  minimumTtl?: number;
}
export interface BfdProfileRecord extends BfdProfileFields { id: string; createdAt: Date; updatedAt: Date }

function toRecord(row: typeof bfdProfiles.$inferSelect): BfdProfileRecord {
  const { tenantId: _t, ...rest } = row;
  return Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== null)) as unknown as BfdProfileRecord;
}

const columns = (input: BfdProfileFields) => ({
  name: input.name, receiveInterval: input.receiveInterval ?? null, transmitInterval: input.transmitInterval ?? null,
  detectMultiplier: input.detectMultiplier ?? null, echoInterval: input.echoInterval ?? null, echoMode: input.echoMode,
  passiveMode: input.passiveMode, minimumTtl: input.minimumTtl ?? null,
});

export async function listBfdProfiles(tx: Tx, { tenantId, ...page }: { tenantId: string } & Page): Promise<BfdProfileRecord[]> {
  const { where, orderBy } = pageByName(bfdProfiles, tenantId, page);
  return (await tx.select().from(bfdProfiles).where(where).orderBy(orderBy).limit(page.limit)).map(toRecord);
}

export async function getBfdProfile(tx: Tx, { tenantId, name, forUpdate }: { tenantId: string; name: string; forUpdate?: boolean }): Promise<BfdProfileRecord | undefined> {
  const query = tx.select().from(bfdProfiles).where(byName(bfdProfiles, tenantId, name));
  const [row] = forUpdate ? await query.for('update') : await query;
  return row && toRecord(row);
}

export async function createBfdProfile(tx: Tx, { tenantId, input }: { tenantId: string; input: BfdProfileFields }): Promise<BfdProfileRecord> {
  const [row] = await tx.insert(bfdProfiles).values({ tenantId, ...columns(input) }).returning();
  return toRecord(row!);
}

export async function updateBfdProfile(tx: Tx, { id, input }: { id: string; input: BfdProfileFields }): Promise<BfdProfileRecord> {
  const [row] = await tx.update(bfdProfiles).set({ ...columns(input), updatedAt: new Date() }).where(eq(bfdProfiles.id, id)).returning();
  return toRecord(row!);
}

export async function deleteBfdProfile(tx: Tx, { id }: { id: string }): Promise<void> {
  await tx.delete(bfdProfiles).where(eq(bfdProfiles.id, id));
}
