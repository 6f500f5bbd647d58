// Console sessions: what signing in, following a sign-in link, finding and ending a session do.
// The browser gets a random id (256 bits); the row keeps its SHA-256 and the credential the person
// signed in with, sealed with the secret key. Pages call the API with that credential (console/
// api.ts), so a revoked or expired token, or a role that may not do something, answers exactly as
// it does to a client of the API. Runtime-neutral (WebCrypto).
import {
  consumeSignInLink, deleteConsoleSession, findConsoleSession, insertConsoleSession, type ConsoleSessionRecord,
} from '../db/queries/console-sessions.ts';
import { findTenantBySlug } from '../db/queries/tenants.ts';
import { openSecret, sealSecret, SecretKeyError } from '../db/secrets.ts';
import { withPlatform } from '../db/tenant.ts';
import { sha256Hex } from '../render/index.ts';
import type { TokenVerifier } from './auth.ts';
import { now, type AppDeps } from './context.ts';
import { ApiError } from './errors.ts';
import { base64url } from './http.ts';

/** How long a console session lasts at most (the credential's own expiry ends it sooner). */
export const CONSOLE_SESSION_SECONDS = 12 * 3600;
/** How long a sign-in link can be followed. */
export const SIGN_IN_LINK_SECONDS = 15 * 60;

export interface ConsoleSession {
  id: string;
  /** The credential the API is called with (never sent to the browser). */
  credential: string;
  subject: string;
  role: ConsoleSessionRecord['role'];
  tenantId: string | null;
}

const randomSecret = () => base64url(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
const sealContext = (id: string) => `console-session:${id}`;

/**
 * Checks a credential as the API would and stores a session (or, with `link`, a one-time sign-in
 * link) for it. Returns the secret for the cookie (or the link).
 */
export async function startConsoleSession(deps: AppDeps, verifier: TokenVerifier, credential: string, opts: { link?: boolean } = {}): Promise<{ secret: string; expiresAt: Date }> {
  const at = now(deps);
  const principal = await verifier.verify(`Bearer ${credential}`, at);
  const id = crypto.randomUUID();
  const secret = randomSecret();
  const expiresAt = new Date(at.getTime() + (opts.link ? SIGN_IN_LINK_SECONDS : CONSOLE_SESSION_SECONDS) * 1000);
  await withPlatform(deps.db, async (tx) => {
    let tenantId = principal.tenantId ?? null;
    if (!tenantId && principal.role !== 'platform-admin') {
      // An OIDC token names its tenant by slug.
      const tenant = principal.tenantSlug ? await findTenantBySlug(tx, principal.tenantSlug) : undefined;
      if (!tenant) throw new ApiError(401, 'unauthorized', 'Unauthorized', 'the token names no tenant this control plane has');
      tenantId = tenant.id;
    }
    await insertConsoleSession(tx, {
      id, sessionSha256: sha256Hex(secret), tenantId, tokenId: principal.tokenId ?? null,
      credential: await sealSecret(deps.secretKey, credential, sealContext(id)), subject: principal.sub, role: principal.role,
      link: opts.link === true, expiresAt,
    });
  });
  return { secret, expiresAt };
}

/** Follows a sign-in link once: a new session secret, or undefined when the link is unknown, used or expired. */
export async function followSignInLink(deps: AppDeps, link: string): Promise<{ secret: string; expiresAt: Date } | undefined> {
  const at = now(deps);
  const secret = randomSecret();
  const expiresAt = new Date(at.getTime() + CONSOLE_SESSION_SECONDS * 1000);
  const row = await withPlatform(deps.db, (tx) => consumeSignInLink(tx, { linkSha256: sha256Hex(link), sessionSha256: sha256Hex(secret), now: at, expiresAt }));
  return row && { secret, expiresAt };
}

/** The session a cookie names, or undefined (unknown, signed out or expired). */
export async function findSession(deps: AppDeps, secret: string): Promise<ConsoleSession | undefined> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(secret)) return undefined;
  const row = await withPlatform(deps.db, (tx) => findConsoleSession(tx, { sessionSha256: sha256Hex(secret), now: now(deps) }));
  if (!row) return undefined;
  let credential: string;
  try {
    credential = await openSecret(deps.secretKey, row.credential, sealContext(row.id));
  } catch (err) {
    // Sealed with a secret key this server no longer has (a rotation that outlived the session's
    // 12 hours was cut short): no session; the person signs in again. `secrets reseal` leaves
    // sessions alone for that reason.
    if (err instanceof SecretKeyError) return undefined;
    throw err;
  }
  return { id: row.id, credential, subject: row.subject, role: row.role, tenantId: row.tenantId };
}

export async function endSession(deps: AppDeps, secret: string): Promise<void> {
  await withPlatform(deps.db, (tx) => deleteConsoleSession(tx, { sessionSha256: sha256Hex(secret) }));
}

/** The token every form of a session carries: only a page of the session can know it. */
export function csrfToken(secret: string): string {
  return sha256Hex(`console-csrf:${secret}`);
}
