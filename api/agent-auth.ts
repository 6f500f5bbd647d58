// Agent authentication. Every agent request carries a short JWT it signed with its own Ed25519
// key (iss = sub = agent id, aud = the control plane's public URL, exp at most 5 minutes after
// iat, jti). The poll path is hot, so (see the architecture's poll path budget):
// - a verified assertion is cached until it expires (keyed by the token itself: hashing it per
//   request cost more than the lookup; tokens live 5 minutes and are bound to one agent);
//   agents reuse one assertion until shortly before its exp, so most polls cost a map lookup;
// - agent records (keys, revocation) are cached for a short TTL, and evicted at once in this
//   process when an agent is revoked or rotates its key.
import { decodeJwt, decodeProtectedHeader, importJWK, jwtVerify, type JWK, type JWTPayload } from 'jose';
import { findAgent, type AgentRecord } from '../db/queries/agents.ts';
import type { Db } from '../db/client.ts';
import { withPlatform } from '../db/tenant.ts';
import { ApiError } from './errors.ts';

export interface AgentPrincipal { agentId: string; clusterId: string; tenantId: string }

export const MAX_ASSERTION_LIFETIME_SECONDS = 300;
const AGENT_TTL_MS = 30_000;
const MAX_CACHED_ASSERTIONS = 200_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const refused = (detail: string) => new ApiError(401, 'unauthorized', 'Unauthorized', detail);

export class AgentVerifier {
  private readonly assertions = new Map<string, { principal: AgentPrincipal; exp: number }>();
  private readonly agents = new Map<string, { record: AgentRecord | undefined; fetchedAt: number }>();

  constructor(private readonly db: Db, private readonly audience: string) {}

  /** Forget what is cached about an agent (after revocation or key rotation). */
  evict(agentId: string): void {
    this.agents.delete(agentId);
    for (const [hash, entry] of this.assertions) if (entry.principal.agentId === agentId) this.assertions.delete(hash);
  }

  private async agent(agentId: string, nowMs: number): Promise<AgentRecord | undefined> {
    const cached = this.agents.get(agentId);
    if (cached && nowMs - cached.fetchedAt < AGENT_TTL_MS) return cached.record;
    const record = await withPlatform(this.db, (tx) => findAgent(tx, { agentId }));
    this.agents.set(agentId, { record, fetchedAt: nowMs });
    return record;
  }

  async verify(authorization: string | undefined, now: Date): Promise<AgentPrincipal> {
    const m = authorization ? /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/.exec(authorization) : null;
    if (!m) throw refused('send Authorization: Bearer <assertion signed by the agent key>');
    const token = m[1]!;
    const nowMs = now.getTime();
    const hash = token;
    const hit = this.assertions.get(hash);
    if (hit && hit.exp * 1000 > nowMs) {
      // Still honour a revocation seen since (here at once, elsewhere within the agent TTL).
      const agent = await this.agent(hit.principal.agentId, nowMs);
      if (!agent || agent.revokedAt) throw refused('the agent has been revoked');
      return hit.principal;
    }

    let issuer: string | undefined;
    try {
      issuer = decodeJwt(token).iss;
    } catch {
      throw refused('the assertion is not a JWT');
    }
    if (!issuer || !UUID.test(issuer)) throw refused('the assertion issuer must be the agent id');
    const agent = await this.agent(issuer, nowMs);
    if (!agent) throw refused('unknown agent');
    if (agent.revokedAt) throw refused('the agent has been revoked');

    // The current key, and during a rotation's grace period the previous one. The assertion's
    // kid picks one; without a kid each valid key is tried.
    const keys: Array<{ kid: string; jwk: JWK }> = [{ kid: agent.kid, jwk: agent.publicJwk }];
    if (agent.previousPublicJwk && agent.previousKid && agent.previousKeyValidUntil && agent.previousKeyValidUntil.getTime() > nowMs) {
      keys.push({ kid: agent.previousKid, jwk: agent.previousPublicJwk });
    }
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      throw refused('the assertion header is not readable');
    }
    const candidates = kid === undefined ? keys : keys.filter((k) => k.kid === kid);
    if (candidates.length === 0) throw refused('the assertion is signed with a key this agent does not hold');
    let payload: JWTPayload | undefined;
    let failure: unknown;
    for (const candidate of candidates) {
      try {
        const key = await importJWK({ ...candidate.jwk, alg: 'EdDSA' }, 'EdDSA');
        ({ payload } = await jwtVerify(token, key, {
          algorithms: ['EdDSA'], issuer: agent.id, subject: agent.id, audience: this.audience,
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
    const principal = { agentId: agent.id, clusterId: agent.clusterId, tenantId: agent.tenantId };
    if (this.assertions.size >= MAX_CACHED_ASSERTIONS) this.prune(nowMs);
    this.assertions.set(hash, { principal, exp });
    return principal;
  }

  private prune(nowMs: number): void {
    for (const [hash, entry] of this.assertions) if (entry.exp * 1000 <= nowMs) this.assertions.delete(hash);
    if (this.assertions.size >= MAX_CACHED_ASSERTIONS) this.assertions.clear();
  }
}
