// Who is calling. Bearer JWTs signed by the server's Ed25519 key (or, optionally, by an external
// OpenID Connect provider), verified with an algorithm allow-list, issuer, audience and expiry.
// Runtime-neutral: jose on WebCrypto.
import {
  calculateJwkThumbprint, createLocalJWKSet, createRemoteJWKSet, decodeJwt, exportJWK, generateKeyPair, importJWK,
  jwtVerify, SignJWT, type JWK, type JWTPayload, type JWTVerifyGetKey,
} from 'jose';
import { z } from 'zod';
import { ApiError } from './errors.ts';

export const ROLES = ['platform-admin', 'tenant-admin', 'tenant-viewer'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  /** The token subject: who did it, as recorded in the audit trail. */
  sub: string;
  role: Role;
  /** Tenant slug, for tenant roles. */
  tenant?: string;
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
}

export interface AuthConfig {
  signingKey: SigningKey;
  issuer: string;
  audience: string;
  oidc?: OidcConfig;
  /** Seconds of clock skew tolerated on exp/nbf/iat. */
  clockToleranceSeconds?: number;
}

export const API_AUDIENCE = 'metalfleet';
const SERVER_ALGORITHMS = ['EdDSA'];
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

const DURATION = /^(\d+)(s|m|h|d)$/;
/** "90s", "15m", "12h", "30d" → seconds. */
export function parseTtl(text: string): number {
  const m = DURATION.exec(text);
  if (!m) throw new TypeError(`a TTL looks like 90s, 15m, 12h or 30d, not ${JSON.stringify(text)}`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

export async function mintToken(config: AuthConfig, principal: Principal, ttlSeconds: number, now = new Date()): Promise<string> {
  if (principal.role !== 'platform-admin' && !principal.tenant) throw new TypeError(`role ${principal.role} needs a tenant`);
  const iat = Math.floor(now.getTime() / 1000);
  return new SignJWT({ role: principal.role, ...(principal.tenant ? { tenant: principal.tenant } : {}) })
    .setProtectedHeader({ alg: 'EdDSA', kid: config.signingKey.kid, typ: 'JWT' })
    .setIssuer(config.issuer)
    .setAudience(config.audience)
    .setSubject(principal.sub)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttlSeconds)
    .setJti(crypto.randomUUID())
    .sign(config.signingKey.privateKey);
}

const unauthorized = (detail: string) => new ApiError(401, 'unauthorized', 'Unauthorized', detail);

/** Verifies bearer tokens; the remote JWKS of an OIDC provider is fetched lazily and cached by jose. */
export class TokenVerifier {
  private readonly local: JWTVerifyGetKey;
  private remote: JWTVerifyGetKey | undefined;

  constructor(private readonly config: AuthConfig) {
    this.local = createLocalJWKSet({ keys: [config.signingKey.publicJwk] });
  }

  async verify(authorization: string | undefined, now: Date): Promise<Principal> {
    if (!authorization) throw unauthorized('send Authorization: Bearer <token>');
    const m = /^Bearer ([A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]*\.[A-Za-z0-9_=-]*)$/.exec(authorization.trim());
    if (!m) throw unauthorized('the Authorization header must be Bearer <JWT>');
    const token = m[1]!;
    let issuer: string | undefined;
    try {
      issuer = decodeJwt(token).iss;
    } catch {
      throw unauthorized('the bearer token is not a JWT');
    }
    const { oidc } = this.config;
    const tolerance = this.config.clockToleranceSeconds ?? 30;
    try {
      if (oidc && issuer === oidc.issuer) {
        this.remote ??= createRemoteJWKSet(new URL(oidc.jwksUrl), { cooldownDuration: 30_000, timeoutDuration: 5_000 });
        const { payload } = await jwtVerify(token, this.remote, {
          algorithms: OIDC_ALGORITHMS, issuer: oidc.issuer, audience: oidc.audience, clockTolerance: tolerance,
          currentDate: now, requiredClaims: ['exp', 'sub'],
        });
        return principalFrom(payload, oidc.roleClaim, oidc.tenantClaim);
      }
      const { payload } = await jwtVerify(token, this.local, {
        algorithms: SERVER_ALGORITHMS, issuer: this.config.issuer, audience: this.config.audience, clockTolerance: tolerance,
        currentDate: now, requiredClaims: ['exp', 'iat', 'sub'],
      });
      return principalFrom(payload, 'role', 'tenant');
    } catch (err) {
      if (err instanceof ApiError) throw err;
      const code = (err as { code?: string }).code ?? '';
      const reason = code === 'ERR_JWT_EXPIRED' ? 'the token has expired'
        : code === 'ERR_JOSE_ALG_NOT_ALLOWED' ? 'the token algorithm is not allowed'
          : code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' ? `the token claim ${(err as { claim?: string }).claim ?? ''} is not valid here`
            : 'the token signature does not verify';
      throw unauthorized(reason);
    }
  }
}

function principalFrom(payload: JWTPayload, roleClaim: string, tenantClaim: string): Principal {
  const role = payload[roleClaim];
  const tenant = payload[tenantClaim];
  if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) {
    throw new ApiError(401, 'unauthorized', 'Unauthorized', `the token carries no valid ${roleClaim} claim (${ROLES.join(', ')})`);
  }
  if (role !== 'platform-admin' && typeof tenant !== 'string') {
    throw new ApiError(401, 'unauthorized', 'Unauthorized', `a ${role} token needs a ${tenantClaim} claim`);
  }
  return { sub: payload.sub!, role: role as Role, ...(role !== 'platform-admin' ? { tenant: tenant as string } : {}) };
}
