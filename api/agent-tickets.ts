// Agent tickets: what spares a control plane the Ed25519 verification of every agent after a
// restart. An agent proves possession of its key with a signed assertion (api/agent-auth.ts); the
// answer carries a ticket, an HMAC by a key derived from METALFLEET_SECRET_KEY over the agent id,
// the key id it proved and an expiry. The agent sends the ticket instead of an assertion while it
// is good, and every answer renews it once half its life is gone.
//
// Why: a verified assertion is cached in the instance's memory, so a restarted instance (or another
// instance behind the same balancer) must verify every agent's assertion again: about 250 µs of CPU
// each here, 0.8 of a core for the first poll interval of 100,000 agents polling every 30 s, which
// is exactly when the instance is busiest. A ticket costs one HMAC (a few µs) on any instance that
// has the secret key, and survives restarts.
//
// What a ticket is not: a longer-lived credential. It lives as long as an assertion may (5 minutes);
// revocation is checked on every request exactly as for assertions (the agent record, announced to
// every instance); a ticket names the agent key it was issued for and stops working when that key
// does (rotation, after the grace period). It is a bearer credential like the assertion it replaces.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SecretKey } from '../db/secrets.ts';

export const AGENT_TICKET_HEADER = 'Metalfleet-Agent-Ticket';
/** As long as an assertion may live (MAX_ASSERTION_LIFETIME_SECONDS, api/agent-auth.ts; a test holds them equal). */
export const AGENT_TICKET_LIFETIME_SECONDS = 300;

/** `mfat1.<secret key id>.<agent id>.<agent key id>.<exp>.<mac>`: every part from a fixed alphabet. */
const TICKET = /^mfat1\.([0-9a-f]{8})\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([A-Za-z0-9_-]{43})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})$/;

export interface AgentTicket { agentId: string; kid: string; exp: number }

export const isAgentTicket = (token: string) => token.startsWith('mfat1.');

const mac = (key: Uint8Array, text: string) => createHmac('sha256', key).update(text).digest();

/** A ticket for an agent that just proved it holds the key `kid`, good until `nowMs` + the lifetime. */
export function issueAgentTicket(secretKey: SecretKey, { agentId, kid }: { agentId: string; kid: string }, nowMs: number): string {
  const body = `mfat1.${secretKey.id}.${agentId}.${kid}.${Math.floor(nowMs / 1000) + AGENT_TICKET_LIFETIME_SECONDS}`;
  return `${body}.${mac(secretKey.ticketKey, body).toString('base64url')}`;
}

/**
 * The ticket's claims if it is well formed, made by the current or a previous secret key, and not
 * expired; otherwise why not. Whether the agent and its key are still good is for the caller.
 */
export function openAgentTicket(secretKey: SecretKey, token: string, nowMs: number): AgentTicket | { refused: string } {
  const parts = TICKET.exec(token);
  if (!parts) return { refused: 'the agent ticket is malformed' };
  const [keyId, agentId, kid, exp, given] = [parts[1]!, parts[2]!, parts[3]!, parts[4]!, parts[5]!];
  const key = secretKey.id === keyId ? secretKey : secretKey.previous?.find((k) => k.id === keyId);
  if (!key) return { refused: 'the agent ticket was issued under a secret key this control plane no longer has' };
  const expected = mac(key.ticketKey, token.slice(0, token.length - given.length - 1));
  const presented = Buffer.from(given, 'base64url');
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return { refused: 'the agent ticket does not verify' };
  if (Number(exp) * 1000 <= nowMs) return { refused: 'the agent ticket has expired' };
  return { agentId, kid, exp: Number(exp) };
}

/** Renew a ticket once half its life is gone (so an agent polling every 30 s never needs an assertion). */
export const ticketNeedsRenewal = (exp: number, nowMs: number) => exp * 1000 - nowMs < (AGENT_TICKET_LIFETIME_SECONDS * 1000) / 2;
