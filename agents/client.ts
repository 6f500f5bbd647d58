// The agent's side of the protocol, over HTTP only: enroll with a single-use token and the
// agent's own Ed25519 key, sign short assertions, poll the config with ETag/304 and verify it
// (sha256 and the server's signature) before anyone may apply it, report status, rotate keys.
import { createHash, randomUUID } from 'node:crypto';
import {
  calculateJwkThumbprint, compactVerify, createLocalJWKSet, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK,
} from 'jose';

export interface AgentIdentity {
  agentId: string;
  clusterId: string;
  /** Private Ed25519 JWK: never leaves the agent's state. */
  privateJwk: JWK;
}

export interface VerifiedConfig {
  revision: number;
  backend: string;
  content: string;
  sha256: string;
}

export type PollResult =
  | { status: 304; etag: string; pollIntervalSeconds: number | undefined }
  | { status: 200; etag: string; pollIntervalSeconds: number | undefined; config: VerifiedConfig };

export interface SessionReport {
  node: string; peer: string; vrf?: string; bgpState: string; bfdState?: string | null; uptimeSeconds?: number | null;
  prefixesReceived?: number | null; prefixesSent?: number | null; lastResetReason?: string | null;
}

export interface StatusReport {
  appliedRevision: number | null;
  applyError?: string | null;
  agentVersion?: string;
  capabilities?: {
    frrVersion?: string; metallbVersion?: string; birdVersion?: string; gobgpVersion?: string;
    nodes?: Array<{ name: string; labels?: Record<string, string> }>; nodeAddresses?: string[];
  };
  sessions: SessionReport[];
}

/** An answer the control plane gave that is not success (problem+json when it says why). */
export class ControlPlaneError extends Error {
  override name = 'ControlPlaneError';
  constructor(readonly status: number, readonly problem: { code?: string; detail?: string } | undefined, what: string) {
    super(`${what}: ${status}${problem?.code ? ` ${problem.code}` : ''}${problem?.detail ? `: ${problem.detail}` : ''}`);
  }
}

/** A config that fails its integrity checks is never returned to be applied. */
export class IntegrityError extends Error {
  override name = 'IntegrityError';
}

export const ASSERTION_LIFETIME_SECONDS = 300;
/** Assertions are reused until this close to their expiry (the server caches verified ones). */
const ASSERTION_REFRESH_SECONDS = 60;
/** A ticket is not sent this close to its expiry (clock skew, a slow request): an assertion goes instead. */
const TICKET_MARGIN_SECONDS = 30;

export async function generateAgentKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  return exportJWK(privateKey);
}

export function publicPart(privateJwk: JWK): JWK {
  return { kty: 'OKP', crv: 'Ed25519', x: privateJwk.x! };
}

export interface AgentClientOptions {
  /** The control plane's URL, e.g. https://metalfleet.example.com */
  baseUrl: string;
  /** What the server expects in `aud`: its METALFLEET_PUBLIC_URL (default: baseUrl). */
  audience?: string;
  identity?: AgentIdentity;
  fetch?: typeof fetch;
  now?: () => Date;
  /** Per request. */
  timeoutMs?: number;
}

/** Config signatures: over {v: 2, cluster, revision, sha256}; before that, over the sha256 alone. */
const BOUND_SIGNATURE_TYPE = 'metalfleet-config-v2+jws';
const UNBOUND_SIGNATURE_TYPE = 'metalfleet-config+jws';

export class AgentClient {
  private readonly baseUrl: string;
  private readonly audience: string;
  private readonly fetchFn: typeof fetch;
  private readonly now: () => Date;
  private readonly timeoutMs: number;
  private assertionCache: { token: string; exp: number } | undefined;
  /** The control plane's ticket (api/agent-tickets.ts): sent instead of an assertion while it is good. */
  private ticket: { token: string; exp: number } | undefined;
  private jwks: ReturnType<typeof createLocalJWKSet> | undefined;
  identity: AgentIdentity | undefined;
  /**
   * Refuse signatures over the sha256 alone (payload version 1, what control planes before
   * cluster-bound signatures made): set once a bound signature verified, and kept in the agent's
   * state (agents/agent.ts), so that an old unbound signature cannot be replayed after the upgrade.
   */
  refuseUnboundSignatures = false;

  constructor(opts: AgentClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.audience = (opts.audience ?? this.baseUrl).replace(/\/+$/, '');
    this.identity = opts.identity;
    this.fetchFn = opts.fetch ?? fetch;
    this.now = opts.now ?? (() => new Date());
    this.timeoutMs = opts.timeoutMs ?? 15_000;
  }

  private async request(method: string, path: string, init: { body?: unknown; headers?: Record<string, string>; auth?: boolean } = {}): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', ...init.headers };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const send = () => this.fetchFn(`${this.baseUrl}${path}`, {
      method, headers, ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}), signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (init.auth === false) return send();
    const ticket = this.currentTicket();
    headers.authorization = `Bearer ${ticket ?? await this.assertion()}`;
    let res = await send();
    if (res.status === 401 && ticket) {
      // A ticket the control plane no longer takes (a new secret key, a rotated agent key): prove
      // the key again. Whatever else made it refuse, the assertion's answer says.
      this.ticket = undefined;
      await res.body?.cancel();
      headers.authorization = `Bearer ${await this.assertion()}`;
      res = await send();
    }
    this.keepTicket(res.headers.get('metalfleet-agent-ticket'));
    return res;
  }

  /** The ticket to send, if one is held that stays good for a while yet. */
  private currentTicket(): string | undefined {
    if (!this.ticket) return undefined;
    return this.ticket.exp - this.now().getTime() / 1000 > TICKET_MARGIN_SECONDS ? this.ticket.token : undefined;
  }

  private keepTicket(token: string | null): void {
    // mfat1.<key id>.<agent id>.<agent key id>.<exp>.<mac>; anything else is not a ticket we understand.
    const exp = token ? /^mfat1\.[^.]+\.[^.]+\.[^.]+\.([0-9]{1,12})\.[^.]+$/.exec(token)?.[1] : undefined;
    if (token && exp) this.ticket = { token, exp: Number(exp) };
  }

  private static async fail(res: Response, what: string): Promise<never> {
    let problem: { code?: string; detail?: string } | undefined;
    try { problem = (await res.json()) as typeof problem; } catch { problem = undefined; }
    throw new ControlPlaneError(res.status, problem, what);
  }

  /** Enrolls with a single-use token; the private key stays with the caller. */
  async enroll(token: string, opts: { privateJwk: JWK; agentVersion?: string; capabilities?: StatusReport['capabilities'] }): Promise<AgentIdentity> {
    const res = await this.request('POST', '/v1/agent/enroll', {
      auth: false, body: { token, publicKeyJwk: publicPart(opts.privateJwk), agentVersion: opts.agentVersion, capabilities: opts.capabilities },
    });
    if (res.status !== 200) return AgentClient.fail(res, 'enrollment');
    const body = (await res.json()) as { agentId: string; clusterId: string; pollIntervalSeconds: number };
    this.identity = { agentId: body.agentId, clusterId: body.clusterId, privateJwk: opts.privateJwk };
    this.assertionCache = undefined;
    this.ticket = undefined;
    return this.identity;
  }

  /** A signed assertion, reused until shortly before it expires. */
  async assertion(): Promise<string> {
    if (!this.identity) throw new Error('the agent is not enrolled');
    const nowSeconds = Math.floor(this.now().getTime() / 1000);
    if (this.assertionCache && this.assertionCache.exp - nowSeconds > ASSERTION_REFRESH_SECONDS) return this.assertionCache.token;
    const key = await importJWK({ ...this.identity.privateJwk, alg: 'EdDSA' }, 'EdDSA');
    const exp = nowSeconds + ASSERTION_LIFETIME_SECONDS;
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA', kid: await calculateJwkThumbprint(publicPart(this.identity.privateJwk)), typ: 'JWT' })
      .setIssuer(this.identity.agentId).setSubject(this.identity.agentId).setAudience(this.audience)
      .setIssuedAt(nowSeconds).setExpirationTime(exp).setJti(randomUUID())
      .sign(key);
    this.assertionCache = { token, exp };
    return token;
  }

  private async serverKeys(refresh: boolean) {
    if (!this.jwks || refresh) {
      const res = await this.request('GET', '/.well-known/jwks.json', { auth: false });
      if (res.status !== 200) return AgentClient.fail(res, 'server keys');
      this.jwks = createLocalJWKSet((await res.json()) as { keys: JWK[] });
    }
    return this.jwks;
  }

  /** Checks sha256 and the server's signature; throws IntegrityError on any mismatch. */
  async verify(config: VerifiedConfig & { signature: string }): Promise<VerifiedConfig> {
    const digest = createHash('sha256').update(config.content, 'utf8').digest('hex');
    if (digest !== config.sha256) throw new IntegrityError(`content sha256 ${digest} does not match ${config.sha256}`);
    let verified: Awaited<ReturnType<typeof compactVerify>>;
    try {
      verified = await compactVerify(config.signature, await this.serverKeys(false), { algorithms: ['EdDSA'] });
    } catch {
      try {
        // The server key may have rotated since the keys were fetched.
        verified = await compactVerify(config.signature, await this.serverKeys(true), { algorithms: ['EdDSA'] });
      } catch (err) {
        throw new IntegrityError(`the config signature does not verify: ${(err as Error).message}`);
      }
    }
    this.checkSignedClaims(verified.protectedHeader.typ, new TextDecoder().decode(verified.payload), config);
    return { revision: config.revision, backend: config.backend, content: config.content, sha256: config.sha256 };
  }

  /** A verified signature must cover this config, of this agent's cluster, at this revision (api/rendering.ts signConfig). */
  private checkSignedClaims(type: string | undefined, payload: string, config: VerifiedConfig): void {
    if (type === BOUND_SIGNATURE_TYPE) {
      let claims: { v?: unknown; cluster?: unknown; revision?: unknown; sha256?: unknown };
      try { claims = JSON.parse(payload) as typeof claims; } catch { throw new IntegrityError('the signed payload is not JSON'); }
      if (claims.v !== 2 || claims.sha256 !== config.sha256) throw new IntegrityError('the signature covers another config');
      if (claims.cluster !== this.identity?.clusterId) {
        throw new IntegrityError(`the config is signed for cluster ${String(claims.cluster)}, not this agent's`);
      }
      if (claims.revision !== config.revision) {
        throw new IntegrityError(`the config is signed as revision ${String(claims.revision)}, not ${config.revision}`);
      }
      this.refuseUnboundSignatures = true;
      return;
    }
    if (type !== UNBOUND_SIGNATURE_TYPE) throw new IntegrityError(`unknown config signature type ${String(type)}`);
    if (this.refuseUnboundSignatures) {
      throw new IntegrityError('the config signature covers only the sha256 (an older control plane\'s), and this agent '
        + 'has seen cluster-bound signatures: refused as a possible replay');
    }
    if (payload !== config.sha256) throw new IntegrityError('the signature covers another config');
  }

  /** Polls the desired config; 304 when `etag` is still current. A 200 is verified before it is returned. */
  async fetchConfig(etag?: string): Promise<PollResult> {
    const res = await this.request('GET', '/v1/agent/config', { headers: etag ? { 'if-none-match': etag } : {} });
    const interval = Number(res.headers.get('metalfleet-poll-interval'));
    const pollIntervalSeconds = Number.isFinite(interval) && interval > 0 ? interval : undefined;
    if (res.status === 304) return { status: 304, etag: etag!, pollIntervalSeconds };
    if (res.status !== 200) return AgentClient.fail(res, 'config');
    const body = (await res.json()) as VerifiedConfig & { signature: string };
    return { status: 200, etag: res.headers.get('etag') ?? '', pollIntervalSeconds, config: await this.verify(body) };
  }

  async reportStatus(report: StatusReport): Promise<void> {
    const res = await this.request('POST', '/v1/agent/status', { body: report });
    if (res.status !== 204) await AgentClient.fail(res, 'status');
  }

  /** Replaces the agent key; the old one stays valid for a grace period on the server. */
  async rotateKey(newPrivateJwk: JWK): Promise<AgentIdentity> {
    const res = await this.request('POST', '/v1/agent/keys', { body: { publicKeyJwk: publicPart(newPrivateJwk) } });
    if (res.status !== 200) return AgentClient.fail(res, 'key rotation');
    this.identity = { ...this.identity!, privateJwk: newPrivateJwk };
    this.assertionCache = undefined;
    this.ticket = undefined;
    return this.identity;
  }
}
