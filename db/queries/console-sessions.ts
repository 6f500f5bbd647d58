// Console sessions (db/schema.ts consoleSessions): created at sign-in (or as a one-time sign-in
// link), found by the SHA-256 of the id the browser holds, ended at sign-out. Platform scope: a
// session is found before anyone knows its tenant.
import { and, eq, gt, lte } from 'drizzle-orm';
import type { Tx } from '../tenant.ts';
import { consoleSessions } from '../schema.ts';
import type { TokenRole } from './tokens.ts';

export interface ConsoleSessionRecord {
  id: string;
  tenantId: string | null;
  tokenId: string | null;
  credential: string;
  subject: string;
  role: TokenRole;
  expiresAt: Date;
}

const columns = {
  id: consoleSessions.id, tenantId: consoleSessions.tenantId, tokenId: consoleSessions.tokenId, credential: consoleSessions.credential,
  subject: consoleSessions.subject, role: consoleSessions.role, expiresAt: consoleSessions.expiresAt,
};

export async function insertConsoleSession(tx: Tx, row: ConsoleSessionRecord & { sessionSha256: string; link: boolean }): Promise<void> {
  await tx.insert(consoleSessions).values(row);
}

/** The live session (not a link, not expired) whose id hashes to `sessionSha256`. */
export async function findConsoleSession(tx: Tx, { sessionSha256, now }: { sessionSha256: string; now: Date }): Promise<ConsoleSessionRecord | undefined> {
  const [row] = await tx.select(columns).from(consoleSessions)
    .where(and(eq(consoleSessions.sessionSha256, sessionSha256), eq(consoleSessions.link, false), gt(consoleSessions.expiresAt, now)));
  return row;
}

/**
 * Turns an unexpired sign-in link into a session, in one statement: a link followed twice (or by
 * two browsers at once) makes one session.
 */
export async function consumeSignInLink(tx: Tx, args: { linkSha256: string; sessionSha256: string; now: Date; expiresAt: Date }): Promise<ConsoleSessionRecord | undefined> {
  const [row] = await tx.update(consoleSessions).set({ sessionSha256: args.sessionSha256, link: false, expiresAt: args.expiresAt })
    .where(and(eq(consoleSessions.sessionSha256, args.linkSha256), eq(consoleSessions.link, true), gt(consoleSessions.expiresAt, args.now)))
    .returning(columns);
  return row;
}

export async function deleteConsoleSession(tx: Tx, { sessionSha256 }: { sessionSha256: string }): Promise<void> {
  await tx.delete(consoleSessions).where(eq(consoleSessions.sessionSha256, sessionSha256));
}

/** Maintenance: sessions and links past their expiry. */
export async function deleteExpiredConsoleSessions(tx: Tx, { now }: { now: Date }): Promise<number> {
  const rows = await tx.delete(consoleSessions).where(lte(consoleSessions.expiresAt, now)).returning({ id: consoleSessions.id });
  return rows.length;
}
