// Who is calling. People and automation use API tokens the API issued (POST /v1/tokens): opaque
// `mft_<id>_<secret>` strings of which only the SHA-256 is stored, bound to a tenant by id,
// revocable at once on every instance (LISTEN/NOTIFY evicts the cached verification). People may
// instead bring a token of the configured OpenID Connect provider (verified with an algorithm
// allow-list, issuer, audience, expiry and a maximum lifetime). No token is ever minted with the
// server's signing key: that key signs configs only. Runtime-neutral: jose and WebCrypto.
import { calculateJwkThumbprint, createRemoteJWKSet, decodeJwt, exportJWK, generateKeyPair, importJWK, jwtVerify, type JWK, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import type { Db } from '../db/client.ts';
import { findToken, touchToken, type TokenRecord } from '../db/queries/tokens.ts';
import { withPlatform } from '../db/tenant.ts';
import { sha256Hex } from '../render/index.ts';
import type { TtlCache } from './caches.ts';
import type { OidcLoginConfig } from './oidc-login.ts';
import { ApiError, isDatabaseUnavailable } from './errors.ts';

export const ROLES = ['platform-admin', 'tenant-admin', 'tenant-viewer'] as const;
export type Role = (typeof ROLES)[number];

/** What a role may do, in order: a token may issue tokens of its own rank or lower. */
export const ROLE_RANK: Record<Role, number> = { 'tenant-viewer': 1, 'tenant-admin': 2, 'platform-admin': 3 };

/** Clock skew tolerated on every time claim (exp, nbf, iat) of people's and agents' tokens. */
export const CLOCK_SKEW_SECONDS = 30;
/** An OpenID Connect token that claims to live longer than this is refused. */
export const OIDC_MAX_LIFETIME_SECONDS = 24 * 3600;

export interface Principal {
  /** Who did it, as recorded in the audit trail: the token's name, or the OIDC subject. */
  sub: string;
  role: Role;
  /** API tokens: the tenant, by id. */
  tenantId?: string;
  /** OIDC tokens: the tenant claim (a slug), as the identity provider names it. */
  tenantSlug?: string;
  /** API tokens: the token's id (it may revoke itself). */
  tokenId?: string;
  /** API tokens: when the token expires (a token it issues may not outlive it). */
  expiresAt?: Date;
}

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  /** The public JWK, as served at /.well-known/jwks.json. */
  publicJwk: JWK;
}

export interface OidcConfig {
  issuer: string;
  audience: string;
  jwksUrl: string;
  roleClaim: string;
  tenantClaim: string;
  /** The console's redirect sign-in (METALFLEET_OIDC_CLIENT_ID); without it, provider tokens are pasted. */
  login?: OidcLoginConfig;
}

/** A key configs were signed with before a rotation: published so agents still verify them, never used to sign. */
export interface VerificationKey {
  kid: string;
  publicJwk: JWK;
}

export interface AuthConfig {
  /** Signs rendered configs (agents verify them); never tokens. */
  signingKey: SigningKey;
  /** METALFLEET_SIGNING_KEYS_PREVIOUS: published beside the current key until `metalfleet keys resign` made them unused. */
  previousSigningKeys?: VerificationKey[];
  oidc?: OidcConfig;
}

/** Asymmetric only: an HS* token "signed" with a public key must never verify. */
const OIDC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

const PrivateEd25519Jwk = z.object({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: z.string(), d: z.string() }).loose();

export async function generateSigningKeyJwk(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  return exportJWK(privateKey);
}

/** Imports the server signing key from a private Ed25519 JWK (METALFLEET_SIGNING_KEY). */
export async function importSigningKey(jwkText: string | JWK): Promise<SigningKey> {
  let jwk: JWK;
  try {
    jwk = PrivateEd25519Jwk.parse(typeof jwkText === 'string' ? JSON.parse(jwkText) : jwkText) as JWK;
  } catch {
    throw new TypeError('the signing key must be a private Ed25519 JWK: {"kty":"OKP","crv":"Ed25519","x":"…","d":"…"}');
  }
  const publicJwk: JWK = { kty: 'OKP', crv: 'Ed25519', x: jwk.x! };
  const kid = await calculateJwkThumbprint(publicJwk);
  const privateKey = (await importJWK({ ...jwk, alg: 'EdDSA' }, 'EdDSA')) as CryptoKey;
  return { kid, privateKey, publicJwk: { ...publicJwk, kid, alg: 'EdDSA', use: 'sig' } };
}

const Ed25519Jwk = z.object({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: z.string().regex(/^[A-Za-z0-9_-]{43}$/) }).loose();
const PreviousKeys = z.union([
  z.array(Ed25519Jwk).min(1),
  z.object({ keys: z.array(Ed25519Jwk).min(1) }).loose().transform((set) => set.keys),
  Ed25519Jwk.transform((k) => [k]),
]);

/**
 * METALFLEET_SIGNING_KEYS_PREVIOUS: one Ed25519 JWK, a JSON array of them, or a JWK set, private
 * (as METALFLEET_SIGNING_KEY held them) or public; only the public part is kept.
 */
export async function importPreviousSigningKeys(text: string): Promise<VerificationKey[]> {
  let parsed: z.infer<typeof PreviousKeys>;
  try {
    parsed = PreviousKeys.parse(JSON.parse(text));
  } catch {
    throw new TypeError('previous signing keys must be an Ed25519 JWK, a JSON array of them, or {"keys":[…]}');
  }
  const keys: VerificationKey[] = [];
  for (const jwk of parsed) {
    const publicJwk: JWK = { kty: 'OKP', crv: 'Ed25519', x: jwk.x };
    const kid = await calculateJwkThumbprint(publicJwk);
    if (!keys.some((k) => k.kid === kid)) keys.push({ kid, publicJwk: { ...publicJwk, kid, alg: 'EdDSA', use: 'sig' } });
  }
  return keys;
}

/** What /.well-known/jwks.json publishes: the current key first, then the previous ones (distinct kids). */
export function publishedSigningKeys(auth: Pick<AuthConfig, 'signingKey' | 'previousSigningKeys'>): VerificationKey[] {
  return [auth.signingKey, ...(auth.previousSigningKeys ?? []).filter((k) => k.kid !== auth.signingKey.kid)];
}

const DURATION = /^([1-9][0-9]{0,6})(s|m|h|d)$/;
/** "90s", "15m", "12h", "30d" → seconds. */
export function parseTtl(text: string): number {
  const m = DURATION.exec(text);
  if (!m) throw new TypeError(`a TTL looks like 90s, 15m, 12h or 30d, not ${JSON.stringify(text)}`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

// An API token: `mft_` + the token id (32 hex) + `_` + 256 random bits (43 base64url).
const API_TOKEN = /^mft_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;

/** The id of an API token (a uuid), or undefined when the string is not one. */
export function apiTokenId(token: string): string | undefined {
  const hex = API_TOKEN.exec(token)?.[1];
  return hex && `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Whether `token` is the one `record` stores, unrevoked and unexpired at `now`. */
export function apiTokenValid(record: Pick<TokenRecord, 'tokenSha256' | 'revokedAt' | 'expiresAt'> | undefined, token: string, now: Date): boolean {
  return !!record && sameDigest(record.tokenSha256, sha256Hex(token)) && !record.revokedAt && record.expiresAt.getTime() > now.getTime();
}

/** A new API token: its id, the string shown once, and the hash that is stored. */
export function newApiToken(): { id: string; token: string; sha256: string } {
  const id = crypto.randomUUID();
  const secret = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32)))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const token = `mft_${id.replace(/-/g, '')}_${secret}`;
  return { id, token, sha256: sha256Hex(token) };
}

/** A verified API token as the caches keep it. */
export interface CachedToken {
  record: Pick<TokenRecord, 'id' | 'tenantId' | 'name' | 'role' | 'tokenSha256' | 'expiresAt' | 'revokedAt'>;
  /** When this instance last recorded a use (last_used_at is written at most once a minute). */
  touchedAt: number;
}

/** Equal hex digests, compared in time that does not depend on where they differ. */
function sameDigest(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

const unauthorized = (detail: string) => new ApiError(401, 'unauthorized', 'Unauthorized', detail);

/** `Authorization: Bearer <credentials>`; the scheme is case-insensitive (RFC 9110 §11.1). */
export function bearerCredentials(authorization: string | undefined): string {
  if (!authorization) throw unauthorized('send Authorization: Bearer <token>');
  const m = /^bearer +([^\s]+) *$/i.exec(authorization);
  if (!m) throw unauthorized('the Authorization header must be Bearer <token>');
  return m[1]!;
}

/** Verifies API tokens (database, cached) and OIDC tokens (the provider's JWKS, fetched lazily and cached by jose). */
export class TokenVerifier {
  private remote: JWTVerifyGetKey | undefined;

  constructor(private readonly config: AuthConfig, private readonly db: Db, private readonly tokens: TtlCache<CachedToken>) {}

  /** Forget a token (after revocation in this instance; others hear it from the database). */
  evict(id: string): void {
    this.tokens.delete(id);
  }

  async verify(authorization: string | undefined, now: Date): Promise<Principal> {
    const credentials = bearerCredentials(authorization);
    const id = apiTokenId(credentials);
    if (id) return this.verifyApiToken(id, credentials, now);
    if (credentials.startsWith('mft_')) throw unauthorized('the token is not one this API issued');
    return this.verifyOidc(credentials, now);
  }

  private async verifyApiToken(id: string, token: string, now: Date): Promise<Principal> {
    const cached = await this.cachedToken(id);
    if (!cached || !sameDigest(cached.record.tokenSha256, sha256Hex(token))) throw unauthorized('unknown token');
    const { record } = cached;
    if (record.revokedAt) throw unauthorized('the token has been revoked');
    if (record.expiresAt.getTime() <= now.getTime()) throw unauthorized('the token has expired');
    if (now.getTime() - cached.touchedAt > 60_000) {
      cached.touchedAt = now.getTime();
      // Best effort and off the request's path: a failed write only loses a "last used" time.
      withPlatform(this.db, (tx) => touchToken(tx, { id })).catch(() => {});
    }
    return {
      sub: record.name, role: record.role, tokenId: record.id, expiresAt: record.expiresAt,
      ...(record.tenantId ? { tenantId: record.tenantId } : {}),
    };
  }

  private async cachedToken(id: string): Promise<CachedToken | undefined> {
    const hit = this.tokens.get(id);
    if (hit) return hit;
    try {
      return await this.tokens.fill(id, async () => {
        const record = await withPlatform(this.db, (tx) => findToken(tx, { id }));
        return record ? { record, touchedAt: 0 } : undefined;
      });
    } catch (err) {
      const known = this.tokens.lastKnown(id);
      if (known && isDatabaseUnavailable(err)) return known; // the database is away: as last known
      throw err;
    }
  }

  private async verifyOidc(token: string, now: Date): Promise<Principal> {
    const { oidc } = this.config;
    let issuer: string | undefined;
    try {
      issuer = decodeJwt(token).iss;
    } catch {
      throw unauthorized('the bearer token is neither an API token nor a JWT');
    }
    if (!oidc || issuer !== oidc.issuer) throw unauthorized('the token issuer is not trusted here; use an API token (POST /v1/tokens)');
    let payload: JWTPayload;
    try {
      this.remote ??= createRemoteJWKSet(new URL(oidc.jwksUrl), { cooldownDuration: 30_000, timeoutDuration: 5_000 });
      ({ payload } = await jwtVerify(token, this.remote, {
        algorithms: OIDC_ALGORITHMS, issuer: oidc.issuer, audience: oidc.audience, clockTolerance: CLOCK_SKEW_SECONDS,
        // maxTokenAge also refuses an iat ahead of the clock (beyond the skew).
        currentDate: now, requiredClaims: ['exp', 'iat', 'sub'], maxTokenAge: OIDC_MAX_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS,
      }));
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      throw unauthorized(code === 'ERR_JWT_EXPIRED' ? 'the token has expired'
        : code === 'ERR_JOSE_ALG_NOT_ALLOWED' ? 'the token algorithm is not allowed'
          : code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' ? `the token claim ${(err as { claim?: string }).claim ?? ''} is not valid here`
            : 'the token signature does not verify');
    }
    if (payload.exp! - payload.iat! > OIDC_MAX_LIFETIME_SECONDS) throw unauthorized(`a token may live at most ${OIDC_MAX_LIFETIME_SECONDS} s`);
    const role = payload[oidc.roleClaim];
    const tenant = payload[oidc.tenantClaim];
    if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) {
      throw unauthorized(`the token carries no valid ${oidc.roleClaim} claim (${ROLES.join(', ')})`);
    }
    if (role !== 'platform-admin' && typeof tenant !== 'string') throw unauthorized(`a ${role} token needs a ${oidc.tenantClaim} claim`);
    return { sub: payload.sub!, role: role as Role, ...(role !== 'platform-admin' ? { tenantSlug: tenant as string } : {}) };
  }
}
