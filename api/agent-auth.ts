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
import { findAgent, type AgentKeysRow } from '../db/queries/agents.ts';
import type { Db } from '../db/client.ts';
import { withPlatform } from '../db/tenant.ts';
import { ApiError, isDatabaseUnavailable, warmingUp } from './errors.ts';
import { bearerCredentials, CLOCK_SKEW_SECONDS } from './auth.ts';
import { isAgentTicket, issueAgentTicket, openAgentTicket, ticketNeedsRenewal } from './agent-tickets.ts';
import type { SecretKey } from '../db/secrets.ts';

export interface AgentPrincipal { agentId: string; clusterId: string; tenantId: string }
/** Who is calling, and the ticket to hand back (new, or renewed) if any (api/agent-tickets.ts). */
export interface AgentAuthentication { principal: AgentPrincipal; ticket?: string }

export const MAX_ASSERTION_LIFETIME_SECONDS = 300;
const MAX_CACHED_ASSERTIONS = 200_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const refused = (detail: string) => new ApiError(401, 'unauthorized', 'Unauthorized', detail);

/** One string per tenant id, however many agents the tenant has (each row brings its own copy). */
const tenantIds = new Map<string, string>();
function sharedTenantId(id: string): string {
  const known = tenantIds.get(id);
  if (known !== undefined) return known;
  tenantIds.set(id, id);
  return id;
}

/** An agent's row as the poll path caches it: the current key, and during a rotation's grace period the previous one. */
export function cachedAgent(record: AgentKeysRow & { revokedAt: Date | null }): CachedAgent {
  const agent: CachedAgent = {
    id: record.id, clusterId: record.clusterId, tenantId: sharedTenantId(record.tenantId), revoked: record.revokedAt !== null,
    kid: record.kid, x: record.publicJwk.x!,
  };
  if (record.previousPublicJwk && record.previousKid && record.previousKeyValidUntil) {
    agent.previous = { kid: record.previousKid, x: record.previousPublicJwk.x!, validUntil: record.previousKeyValidUntil.getTime() };
  }
  return agent;
}

export class AgentVerifier {
  private readonly assertions = new Map<string, { principal: AgentPrincipal; kid: string; exp: number }>();

  /**
   * `agents`: agent records with imported keys (kept fresh by notifications where there are any).
   * `secretKey`: issues and opens agent tickets (without it, assertions only).
   */
  constructor(private readonly db: Db, private readonly audience: string, private readonly agents: TtlCache<CachedAgent>,
    private readonly secretKey?: SecretKey, private readonly warming: () => boolean = () => false) {}

  /** Forget what is cached about an agent (after revocation or key rotation). */
  evict(agentId: string): void {
    this.agents.delete(agentId);
    for (const [token, entry] of this.assertions) if (entry.principal.agentId === agentId) this.assertions.delete(token);
  }

  private async agent(agentId: string): Promise<CachedAgent | undefined> {
    const cached = this.agents.get(agentId);
    if (cached) return cached;
    if (this.warming()) throw warmingUp();
    try {
      return await this.readAgent(agentId);
    } catch (err) {
      // The database is away: the agent as last known (no notification invalidated it) still
      // authenticates, so that polls keep answering 304 from memory.
      const known = this.agents.lastKnown(agentId);
      if (known && isDatabaseUnavailable(err)) return known;
      throw err;
    }
  }

  private readAgent(agentId: string): Promise<CachedAgent | undefined> {
    return this.agents.fill(agentId, async () => {
      const record = await withPlatform(this.db, (tx) => findAgent(tx, { agentId }));
      return record ? cachedAgent(record) : undefined;
    });
  }

  /** A request's agent, from an assertion signed by its key or a ticket (api/agent-tickets.ts). */
  async verify(authorization: string | undefined, now: Date): Promise<AgentAuthentication> {
    const token = bearerCredentials(authorization);
    const nowMs = now.getTime();
    if (this.secretKey && isAgentTicket(token)) return this.verifyTicket(this.secretKey, token, nowMs);
    if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token)) throw refused('send Authorization: Bearer <assertion signed by the agent key>');
    const cacheKey = sha256Hex(token);
    const hit = this.assertions.get(cacheKey);
    if (hit && hit.exp * 1000 > nowMs) {
      // Still honour a revocation seen since (announced to every instance, see api/caches.ts).
      const agent = await this.agent(hit.principal.agentId);
      if (!agent || agent.revoked) throw refused('the agent has been revoked');
      return this.withTicket(hit.principal, hit.kid, nowMs);
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
    if (agent.revoked) throw refused('the agent has been revoked');

    // The assertion's kid picks the key; without a kid each valid key is tried.
    const valid = [{ kid: agent.kid, x: agent.x }, ...(agent.previous && agent.previous.validUntil > nowMs ? [agent.previous] : [])];
    const candidates = kid === undefined ? valid : valid.filter((k) => k.kid === kid);
    if (candidates.length === 0) throw refused('the assertion is signed with a key this agent does not hold');
    let payload: JWTPayload | undefined;
    let failure: unknown;
    let verifiedKid = '';
    for (const candidate of candidates) {
      try {
        ({ payload } = await jwtVerify(token, await importJWK({ kty: 'OKP', crv: 'Ed25519', x: candidate.x, alg: 'EdDSA' }, 'EdDSA'), {
          algorithms: ['EdDSA'], issuer: agent.id, subject: agent.id, audience: this.audience,
          requiredClaims: ['exp', 'iat', 'jti'], clockTolerance: CLOCK_SKEW_SECONDS, currentDate: now,
        }));
        verifiedKid = candidate.kid;
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
    // jose checked exp and nbf (with the skew). An assertion dated in the future would be good
    // until then plus its lifetime: iat may not be ahead of the clock beyond the skew, so exp is at
    // most the lifetime (plus the skew) from now.
    if (payload.iat! > nowMs / 1000 + CLOCK_SKEW_SECONDS) throw refused('the assertion was issued in the future (iat)');
    if (exp - payload.iat! > MAX_ASSERTION_LIFETIME_SECONDS) throw refused(`an assertion may live at most ${MAX_ASSERTION_LIFETIME_SECONDS} s`);
    const principal = { agentId: agent.id, clusterId: agent.clusterId, tenantId: agent.tenantId };
    if (this.assertions.size >= MAX_CACHED_ASSERTIONS) this.prune(nowMs);
    this.assertions.set(cacheKey, { principal, kid: verifiedKid, exp });
    return this.withTicket(principal, verifiedKid, nowMs);
  }

  /** An agent that proved its key with an assertion gets a ticket for its next requests. */
  private withTicket(principal: AgentPrincipal, kid: string, nowMs: number): AgentAuthentication {
    return this.secretKey ? { principal, ticket: issueAgentTicket(this.secretKey, { agentId: principal.agentId, kid }, nowMs) } : { principal };
  }

  /**
   * A ticket: an HMAC and the agent's record, no signature verification. The agent must still be
   * there, not revoked, and hold the key the ticket names (current, or previous within its grace).
   */
  private async verifyTicket(secretKey: SecretKey, token: string, nowMs: number): Promise<AgentAuthentication> {
    const ticket = openAgentTicket(secretKey, token, nowMs);
    if ('refused' in ticket) throw refused(ticket.refused);
    const agent = await this.agent(ticket.agentId);
    if (!agent) throw refused('unknown agent');
    if (agent.revoked) throw refused('the agent has been revoked');
    const keyHeld = agent.kid === ticket.kid || (agent.previous?.kid === ticket.kid && agent.previous.validUntil > nowMs);
    if (!keyHeld) throw refused('the agent ticket names a key this agent no longer holds; send an assertion');
    const principal = { agentId: agent.id, clusterId: agent.clusterId, tenantId: agent.tenantId };
    return ticketNeedsRenewal(ticket.exp, nowMs) ? this.withTicket(principal, ticket.kid, nowMs) : { principal };
  }

  private prune(nowMs: number): void {
    for (const [token, entry] of this.assertions) if (entry.exp * 1000 <= nowMs) this.assertions.delete(token);
    if (this.assertions.size >= MAX_CACHED_ASSERTIONS) this.assertions.clear();
  }
}
