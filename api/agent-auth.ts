// Agent authentication. Every agent request carries a short JWT it signed with its own Ed25519
// key (iss = sub = agent id, aud = the control plane's public URL, exp at most 5 minutes after
// iat, jti). The poll path is hot, so (see the architecture's poll path budget):
// - a verified assertion is cached until it expires, keyed by its SHA-256 (64 bytes per agent
//   instead of the whole token); agents reuse one assertion until shortly before its exp, so
//   most polls cost a hash and a map lookup;
// - agent records and their public keys are cached (api/caches.ts): evicted at once on
//   every instance when an agent is revoked or rotates its key, since Postgres announces it.
import { decodeJwt, decodeProtectedHeader, importJWK, jwtVerify, type JWTPayload } from 'jose';
import type { CachedAgent, TtlCache } from './caches.ts';
import { sha256Hex } from '../render/index.ts';
import { findAgent } from '../db/queries/agents.ts';
import type { Db } from '../db/client.ts';
import { withPlatform } from '../db/tenant.ts';
import { ApiError } from './errors.ts';

export interface AgentPrincipal { agentId: string; clusterId: string; tenantId: string }

export const MAX_ASSERTION_LIFETIME_SECONDS = 300;
const MAX_CACHED_ASSERTIONS = 200_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const refused = (detail: string) => new ApiError(401, 'unauthorized', 'Unauthorized', detail);

export class AgentVerifier {
  private readonly assertions = new Map<string, { principal: AgentPrincipal; exp: number }>();

  /** `agents`: agent records with imported keys (kept fresh by notifications where there are any). */
  constructor(private readonly db: Db, private readonly audience: string, private readonly agents: TtlCache<CachedAgent>) {}

  /** Forget what is cached about an agent (after revocation or key rotation). */
  evict(agentId: string): void {
    this.agents.delete(agentId);
    for (const [token, entry] of this.assertions) if (entry.principal.agentId === agentId) this.assertions.delete(token);
  }

  private async agent(agentId: string): Promise<CachedAgent | undefined> {
    return this.agents.get(agentId) ?? this.agents.fill(agentId, async () => {
      const record = await withPlatform(this.db, (tx) => findAgent(tx, { agentId }));
      if (!record) return undefined;
      // The current key, and during a rotation's grace period the previous one.
      const keys: CachedAgent['keys'] = [{ kid: record.kid, jwk: record.publicJwk }];
      if (record.previousPublicJwk && record.previousKid && record.previousKeyValidUntil) {
        keys.push({ kid: record.previousKid, jwk: record.previousPublicJwk, validUntil: record.previousKeyValidUntil.getTime() });
      }
      return { record: { id: record.id, clusterId: record.clusterId, tenantId: record.tenantId, revokedAt: record.revokedAt }, keys };
    });
  }

  async verify(authorization: string | undefined, now: Date): Promise<AgentPrincipal> {
    const m = authorization ? /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/.exec(authorization) : null;
    if (!m) throw refused('send Authorization: Bearer <assertion signed by the agent key>');
    const token = m[1]!;
    const nowMs = now.getTime();
    const cacheKey = sha256Hex(token);
    const hit = this.assertions.get(cacheKey);
    if (hit && hit.exp * 1000 > nowMs) {
      // Still honour a revocation seen since (announced to every instance, see api/caches.ts).
      const agent = await this.agent(hit.principal.agentId);
      if (!agent || agent.record.revokedAt) throw refused('the agent has been revoked');
      return hit.principal;
    }

    let issuer: string | undefined;
    let kid: string | undefined;
    try {
      issuer = decodeJwt(token).iss;
      kid = decodeProtectedHeader(token).kid;
    } catch {
      throw refused('the assertion is not a JWT');
    }
    if (!issuer || !UUID.test(issuer)) throw refused('the assertion issuer must be the agent id');
    const agent = await this.agent(issuer);
    if (!agent) throw refused('unknown agent');
    if (agent.record.revokedAt) throw refused('the agent has been revoked');

    // The assertion's kid picks the key; without a kid each valid key is tried.
    const valid = agent.keys.filter((k) => k.validUntil === undefined || k.validUntil > nowMs);
    const candidates = kid === undefined ? valid : valid.filter((k) => k.kid === kid);
    if (candidates.length === 0) throw refused('the assertion is signed with a key this agent does not hold');
    let payload: JWTPayload | undefined;
    let failure: unknown;
    for (const candidate of candidates) {
      try {
        ({ payload } = await jwtVerify(token, await importJWK({ ...candidate.jwk, alg: 'EdDSA' }, 'EdDSA'), {
          algorithms: ['EdDSA'], issuer: agent.record.id, subject: agent.record.id, audience: this.audience,
          requiredClaims: ['exp', 'iat', 'jti'], clockTolerance: 30, currentDate: now,
        }));
        break;
      } catch (err) {
        failure = err;
      }
    }
    if (!payload) {
      const code = (failure as { code?: string }).code;
      throw refused(code === 'ERR_JWT_EXPIRED' ? 'the assertion has expired'
        : code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' ? `the assertion claim ${(failure as { claim?: string }).claim} is not valid here`
          : code === 'ERR_JOSE_ALG_NOT_ALLOWED' ? 'assertions must be EdDSA' : 'the assertion signature does not verify');
    }
    const exp = payload.exp!;
    if (exp - payload.iat! > MAX_ASSERTION_LIFETIME_SECONDS) throw refused(`an assertion may live at most ${MAX_ASSERTION_LIFETIME_SECONDS} s`);
    const principal = { agentId: agent.record.id, clusterId: agent.record.clusterId, tenantId: agent.record.tenantId };
    if (this.assertions.size >= MAX_CACHED_ASSERTIONS) this.prune(nowMs);
    this.assertions.set(cacheKey, { principal, exp });
    return principal;
  }

  private prune(nowMs: number): void {
    for (const [token, entry] of this.assertions) if (entry.exp * 1000 <= nowMs) this.assertions.delete(token);
    if (this.assertions.size >= MAX_CACHED_ASSERTIONS) this.assertions.clear();
  }
}
