// What key rotation reads and rewrites (api/key-rotation.ts): revisions signed by another key than
// the current one, and sealed envelopes (db/secrets.ts) of another key id. Batches are taken in id
// order after a cursor, so a run ends even while writers add rows. Rewriting an envelope or a
// signature is not a change of the object: updated_at, ETags and revision numbers stay.
import { sql } from 'drizzle-orm';
import { resultRows } from '../client.ts';
import type { Tx } from '../tenant.ts';

/** Every tenant, deleting ones included (their rows still hold envelopes). Platform scope. */
export async function listTenantIds(tx: Tx): Promise<string[]> {
  return resultRows<{ id: string }>(await tx.execute(sql`select id from tenants order by id`)).map((r) => r.id);
}

// The envelope's key id: `v1.<key id>.<iv>.<data>`; the JWS's protected header: `<header>.<payload>.<signature>`.
const keyIdOf = (column: string) => sql.raw(`split_part(${column}, '.', 2)`);
const headerOf = (column: string) => sql.raw(`split_part(${column}, '.', 1)`);

export interface UnsignedRevision { id: string; clusterId: string; revision: number; sha256: string; signature: string }

/** Up to `limit` of the tenant's revisions after `after` whose JWS header is not `header` (the current key's and payload version). */
export async function revisionsSignedOtherwise(tx: Tx, { tenantId, header, after, limit }: {
  tenantId: string; header: string; after: string | undefined; limit: number;
}): Promise<UnsignedRevision[]> {
  return resultRows<UnsignedRevision>(await tx.execute(sql`select id, cluster_id as "clusterId", revision, sha256, signature from config_revisions
    where tenant_id = ${tenantId} and ${headerOf('signature')} <> ${header} ${after ? sql`and id > ${after}` : sql``}
    order by id limit ${limit}`));
}

/** Replaces signatures; one statement, the list as one JSON parameter. A row whose sha256 changed meanwhile is left alone. */
export async function setRevisionSignatures(tx: Tx, rows: Array<{ id: string; sha256: string; signature: string }>): Promise<number> {
  if (rows.length === 0) return 0;
  const updated = resultRows<{ id: string }>(await tx.execute(sql`update config_revisions r set signature = v.signature
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v(id uuid, sha256 text, signature text)
    where r.id = v.id and r.sha256 = v.sha256 returning r.id`));
  return updated.length;
}

export interface SealedPeer { id: string; password: string }

/** Up to `limit` of the tenant's peers after `after` whose password envelope is not of `keyId`. */
export async function peersSealedOtherwise(tx: Tx, { tenantId, keyId, after, limit }: {
  tenantId: string; keyId: string; after: string | undefined; limit: number;
}): Promise<SealedPeer[]> {
  return resultRows<SealedPeer>(await tx.execute(sql`select id, password_encrypted as password from peers
    where tenant_id = ${tenantId} and password_encrypted is not null and ${keyIdOf('password_encrypted')} <> ${keyId}
    ${after ? sql`and id > ${after}` : sql``} order by id limit ${limit}`));
}

export async function setPeerPasswords(tx: Tx, rows: SealedPeer[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.execute(sql`update peers p set password_encrypted = v.password
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v(id uuid, password text) where p.id = v.id`);
}

export interface SealedRevision { id: string; clusterId: string; content: string; intent: string | null }

/** Up to `limit` of the tenant's revisions after `after` whose content or intent envelope is not of `keyId`. */
export async function revisionsSealedOtherwise(tx: Tx, { tenantId, keyId, after, limit }: {
  tenantId: string; keyId: string; after: string | undefined; limit: number;
}): Promise<SealedRevision[]> {
  return resultRows<SealedRevision>(await tx.execute(sql`select id, cluster_id as "clusterId", content, intent from config_revisions
    where tenant_id = ${tenantId} and (${keyIdOf('content')} <> ${keyId} or (intent is not null and ${keyIdOf('intent')} <> ${keyId}))
    ${after ? sql`and id > ${after}` : sql``} order by id limit ${limit}`));
}

export async function setRevisionEnvelopes(tx: Tx, rows: SealedRevision[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.execute(sql`update config_revisions r set content = v.content, intent = v.intent
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v(id uuid, content text, intent text) where r.id = v.id`);
}

export type EnvelopeKind = 'peer-password' | 'revision-content' | 'revision-intent';

/** Envelopes of every key id but `keyId`, by kind and key id, fleet-wide. Platform scope. */
export async function countEnvelopesOtherThan(tx: Tx, keyId: string): Promise<Array<{ kind: EnvelopeKind; keyId: string; count: number }>> {
  const rows = resultRows<{ kind: EnvelopeKind; key_id: string; count: string | number }>(await tx.execute(sql`
    select 'peer-password' as kind, ${keyIdOf('password_encrypted')} as key_id, count(*) as count from peers
      where password_encrypted is not null and ${keyIdOf('password_encrypted')} <> ${keyId} group by 2
    union all
    select 'revision-content', ${keyIdOf('content')}, count(*) from config_revisions where ${keyIdOf('content')} <> ${keyId} group by 2
    union all
    select 'revision-intent', ${keyIdOf('intent')}, count(*) from config_revisions
      where intent is not null and ${keyIdOf('intent')} <> ${keyId} group by 2
    order by 1, 2`));
  return rows.map((r) => ({ kind: r.kind, keyId: r.key_id, count: Number(r.count) }));
}

/** Revisions fleet-wide whose JWS header is not `header`, by the kid it names. Platform scope. */
export async function countSignaturesOtherThan(tx: Tx, header: string): Promise<Array<{ header: string; count: number }>> {
  const rows = resultRows<{ header: string; count: string | number }>(await tx.execute(sql`
    select ${headerOf('signature')} as header, count(*) as count from config_revisions where ${headerOf('signature')} <> ${header} group by 1`));
  return rows.map((r) => ({ header: r.header, count: Number(r.count) }));
}
