// Key rotation's two sweeps, run by the CLI (`metalfleet keys resign`, `metalfleet secrets reseal`)
// against the database every instance serves from, while they serve.
//
// Resign: a revision keeps the signature it was stored with, so after METALFLEET_SIGNING_KEY
// changes, revisions signed by the old key verify only while the old key is still published
// (METALFLEET_SIGNING_KEYS_PREVIOUS). This re-signs each of them with the current key; the sha256,
// the revision number and so the agents' ETags stay, so no agent refetches anything. Signatures of
// the current key over the version 1 payload (the sha256 alone, api/rendering.ts) have another
// header too: they are re-signed over the version 2 payload the same way.
//
// Reseal: envelopes name the key that sealed them (db/secrets.ts); after METALFLEET_SECRET_KEY
// changes, old ones open only through METALFLEET_SECRET_KEY_PREVIOUS. This opens each with the key
// it names and seals it again under the current key, in batches per tenant, each batch in its own
// transaction under the tenant's write lock (db/tenant.ts withTenantWrite): a write that reads a
// password and re-renders sees either the old or the new envelope, never half a batch.
//
// Both are idempotent (a second run finds nothing) and end with a fleet-wide count of what is left.
import { decodeProtectedHeader } from 'jose';
import type { Db } from '../db/client.ts';
import {
  countEnvelopesOtherThan, countSignaturesOtherThan, listTenantIds, peersSealedOtherwise, revisionsSealedOtherwise, revisionsSignedOtherwise,
  setPeerPasswords, setRevisionEnvelopes, setRevisionSignatures, type EnvelopeKind,
} from '../db/queries/key-rotation.ts';
import { openSecret, sealSecret, SecretKeyError, type SecretKey } from '../db/secrets.ts';
import { withPlatform, withTenant, withTenantWrite } from '../db/tenant.ts';
import type { SigningKey } from './auth.ts';
import { revisionContext, signConfig } from './rendering.ts';

export const ROTATION_BATCH = 500;

export interface ResignResult {
  tenants: number;
  /** Revisions given a signature by the current key. */
  resigned: number;
  /** What was re-signed, by the kid that had signed it. */
  byKid: Record<string, number>;
  /** Revisions still not signed by the current key once the sweep ended (writers on an old key). */
  remaining: number;
}

/** The protected header (first JWS segment) every signature by `key` over the current payload version starts with. */
async function signatureHeader(key: SigningKey): Promise<string> {
  return (await signConfig(key, { clusterId: crypto.randomUUID(), revision: 1, sha256: '0'.repeat(64) })).split('.')[0]!;
}

function signatureKid(signature: string): string {
  try {
    return String(decodeProtectedHeader(signature).kid ?? 'none');
  } catch {
    return 'malformed';
  }
}

/**
 * Re-signs every stored revision whose signature is not by `signingKey` over the current payload. Tenant scope without the
 * write lock: only the signature column changes, and an update matches the sha256 it signed, so a
 * row changed meanwhile is never given a signature over another digest.
 */
export async function resignRevisions(db: Db, signingKey: SigningKey, opts: { batch?: number } = {}): Promise<ResignResult> {
  const header = await signatureHeader(signingKey);
  const limit = opts.batch ?? ROTATION_BATCH;
  const tenantIds = await withPlatform(db, (tx) => listTenantIds(tx));
  const result: ResignResult = { tenants: tenantIds.length, resigned: 0, byKid: {}, remaining: 0 };
  for (const tenantId of tenantIds) {
    for (let after: string | undefined, done = false; !done;) {
      done = await withTenant(db, tenantId, async (tx) => {
        const rows = await revisionsSignedOtherwise(tx, { tenantId, header, after, limit });
        const signed = await Promise.all(rows.map(async (r) => ({ id: r.id, sha256: r.sha256, signature: await signConfig(signingKey, r) })));
        const updated = await setRevisionSignatures(tx, signed);
        result.resigned += updated;
        for (const r of rows) result.byKid[signatureKid(r.signature)] = (result.byKid[signatureKid(r.signature)] ?? 0) + 1;
        after = rows.at(-1)?.id;
        return rows.length < limit;
      });
    }
  }
  result.remaining = (await withPlatform(db, (tx) => countSignaturesOtherThan(tx, header))).reduce((n, r) => n + r.count, 0);
  return result;
}

export interface ResealResult {
  tenants: number;
  /** Envelopes sealed again under the current key, by kind. */
  resealed: Record<EnvelopeKind, number>;
  /** Envelopes of other key ids left after the sweep (0: METALFLEET_SECRET_KEY_PREVIOUS can go). */
  remaining: Array<{ kind: EnvelopeKind; keyId: string; count: number }>;
  /** Key ids named by envelopes that no configured key opens (each also left in `remaining`). */
  unknownKeyIds: string[];
}

/**
 * Seals every stored secret again under the current key. An envelope of a key that is not
 * configured is skipped (counted in `remaining`, named in `unknownKeyIds`), never damaged.
 */
export async function resealSecrets(db: Db, secretKey: SecretKey, opts: { batch?: number } = {}): Promise<ResealResult> {
  const limit = opts.batch ?? ROTATION_BATCH;
  const tenantIds = await withPlatform(db, (tx) => listTenantIds(tx));
  const result: ResealResult = {
    tenants: tenantIds.length, resealed: { 'peer-password': 0, 'revision-content': 0, 'revision-intent': 0 }, remaining: [], unknownKeyIds: [],
  };
  const unknown = new Set<string>();
  // Opens with the key the envelope names; an unknown key leaves the envelope as it is.
  const reseal = async (envelope: string, context: string): Promise<string | undefined> => {
    try {
      return await sealSecret(secretKey, await openSecret(secretKey, envelope, context), context);
    } catch (err) {
      if (err instanceof SecretKeyError && err.failure === 'unknown-key' && err.keyId) {
        unknown.add(err.keyId);
        return undefined;
      }
      throw err;
    }
  };
  for (const tenantId of tenantIds) {
    for (let after: string | undefined, done = false; !done;) {
      done = await withTenantWrite(db, tenantId, async (tx) => {
        const rows = await peersSealedOtherwise(tx, { tenantId, keyId: secretKey.id, after, limit });
        const resealed = [];
        for (const row of rows) {
          const password = await reseal(row.password, tenantId);
          if (password) resealed.push({ id: row.id, password });
        }
        await setPeerPasswords(tx, resealed);
        result.resealed['peer-password'] += resealed.length;
        after = rows.at(-1)?.id;
        return rows.length < limit;
      });
    }
    for (let after: string | undefined, done = false; !done;) {
      done = await withTenantWrite(db, tenantId, async (tx) => {
        const rows = await revisionsSealedOtherwise(tx, { tenantId, keyId: secretKey.id, after, limit });
        const resealed = [];
        for (const row of rows) {
          const context = revisionContext(row.clusterId);
          const content = await reseal(row.content, context);
          const intent = row.intent === null ? null : await reseal(row.intent, context);
          if (content === undefined || intent === undefined) continue;
          resealed.push({ ...row, content, intent });
          result.resealed['revision-content'] += row.content.split('.')[1] === secretKey.id ? 0 : 1;
          result.resealed['revision-intent'] += row.intent === null || row.intent.split('.')[1] === secretKey.id ? 0 : 1;
        }
        await setRevisionEnvelopes(tx, resealed);
        after = rows.at(-1)?.id;
        return rows.length < limit;
      });
    }
  }
  result.remaining = await withPlatform(db, (tx) => countEnvelopesOtherThan(tx, secretKey.id));
  result.unknownKeyIds = [...unknown].sort();
  return result;
}
