// Enrollment tokens, agents and their keys, and what agents report.
import { and, asc, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { resultRows } from '../client.ts';
import type { Tx } from '../tenant.ts';
import { agents, clusters, enrollmentTokens, sessionStates, type ClusterCapabilities } from '../schema.ts';

export interface EnrollmentTokenRecord {
  id: string; clusterId: string; expiresAt: Date; usedAt: Date | null; revokedAt: Date | null; createdBy: string | null; createdAt: Date;
}

const tokenColumns = {
  id: enrollmentTokens.id, clusterId: enrollmentTokens.clusterId, expiresAt: enrollmentTokens.expiresAt, usedAt: enrollmentTokens.usedAt,
  revokedAt: enrollmentTokens.revokedAt, createdBy: enrollmentTokens.createdBy, createdAt: enrollmentTokens.createdAt,
};

export async function createEnrollmentToken(tx: Tx, args: { tenantId: string; clusterId: string; tokenSha256: string; expiresAt: Date; createdBy: string }): Promise<EnrollmentTokenRecord> {
  const [row] = await tx.insert(enrollmentTokens).values(args).returning(tokenColumns);
  return row!;
}

export function listEnrollmentTokens(tx: Tx, { clusterId }: { clusterId: string }): Promise<EnrollmentTokenRecord[]> {
  return tx.select(tokenColumns).from(enrollmentTokens).where(eq(enrollmentTokens.clusterId, clusterId)).orderBy(desc(enrollmentTokens.createdAt)).limit(500);
}

export async function revokeEnrollmentToken(tx: Tx, { clusterId, id }: { clusterId: string; id: string }): Promise<boolean> {
  const rows = await tx.update(enrollmentTokens).set({ revokedAt: new Date() })
    .where(and(eq(enrollmentTokens.clusterId, clusterId), eq(enrollmentTokens.id, id))).returning({ id: enrollmentTokens.id });
  return rows.length > 0;
}

/**
 * Consumes a token in one atomic statement: of concurrent attempts with one token exactly one
 * sees `used_at IS NULL`; reuse, expiry and revocation find no row.
 */
export async function consumeEnrollmentToken(tx: Tx, { tokenSha256 }: { tokenSha256: string }): Promise<{ clusterId: string; tenantId: string } | undefined> {
  const [row] = await tx.update(enrollmentTokens).set({ usedAt: sql`now()` })
    .where(and(eq(enrollmentTokens.tokenSha256, tokenSha256), isNull(enrollmentTokens.usedAt), isNull(enrollmentTokens.revokedAt), sql`${enrollmentTokens.expiresAt} > now()`))
    .returning({ clusterId: enrollmentTokens.clusterId, tenantId: enrollmentTokens.tenantId });
  return row;
}

export type AgentRecord = typeof agents.$inferSelect;

export async function insertAgent(tx: Tx, args: { tenantId: string; clusterId: string; publicJwk: Record<string, string>; kid: string; agentVersion: string | null }): Promise<AgentRecord> {
  const [row] = await tx.insert(agents).values(args).returning();
  return row!;
}

export async function findAgent(tx: Tx, { agentId }: { agentId: string }): Promise<AgentRecord | undefined> {
  const [row] = await tx.select().from(agents).where(eq(agents.id, agentId));
  return row;
}

export function listAgents(tx: Tx, { clusterId }: { clusterId: string }): Promise<AgentRecord[]> {
  return tx.select().from(agents).where(eq(agents.clusterId, clusterId)).orderBy(asc(agents.createdAt));
}

export async function revokeAgent(tx: Tx, { clusterId, agentId }: { clusterId: string; agentId: string }): Promise<boolean> {
  const rows = await tx.update(agents).set({ revokedAt: new Date() }).where(and(eq(agents.clusterId, clusterId), eq(agents.id, agentId))).returning({ id: agents.id });
  return rows.length > 0;
}

/** The new key becomes current; the old one stays valid until `graceUntil`. */
export async function rotateAgentKey(tx: Tx, { agent, publicJwk, kid, graceUntil }: { agent: AgentRecord; publicJwk: Record<string, string>; kid: string; graceUntil: Date }): Promise<void> {
  await tx.update(agents).set({
    previousPublicJwk: agent.publicJwk, previousKid: agent.kid, previousKeyValidUntil: graceUntil, publicJwk, kid, updatedAt: new Date(),
  }).where(eq(agents.id, agent.id));
}

export interface SessionReport {
  node: string; peer: string; vrf: string; bgpState: string; bfdState: string | null;
  uptimeSeconds: number | null; prefixesReceived: number | null; prefixesSent: number | null; lastResetReason: string | null;
}

export interface StatusReport {
  agentId: string;
  clusterId: string;
  appliedRevision: number | null;
  applyError: string | null;
  agentVersion: string | null;
  capabilities: ClusterCapabilities | undefined;
  sessions: SessionReport[];
}

/** Whether two capability reports say the same, whatever the key order. */
function sameJson(a: unknown, b: unknown): boolean {
  const canonical = (v: unknown): unknown => (Array.isArray(v) ? v.map(canonical) : v && typeof v === 'object'
    ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => x.localeCompare(y)).map(([k, w]) => [k, canonical(w)])) : v);
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/**
 * Records a status report in a fixed, small number of statements (agents report often, and
 * ingest throughput is what lets one instance serve a large fleet): one statement updates the
 * cluster and the agent and reads the previous capabilities and sessions; then one upsert for
 * the session rows that changed and, when some vanished, one delete. Returns whether the
 * capabilities changed and how many session rows were written.
 */
export async function recordStatus(tx: Tx, report: StatusReport): Promise<{ capabilitiesChanged: boolean; sessionWrites: number }> {
  const caps = report.capabilities === undefined ? null : JSON.stringify(report.capabilities);
  const [state] = resultRows<{ tenant_id: string; old_capabilities: unknown; sessions: Array<{ id: string; node: string; peer: string; vrf: string; bgp_state: string; bfd_state: string | null; uptime_seconds: number | null; prefixes_received: number | null; prefixes_sent: number | null; last_reset_reason: string | null }> | null }>(await tx.execute(sql`
    with previous as (select tenant_id, capabilities from clusters where id = ${report.clusterId}),
    cluster_update as (
      update clusters set applied_revision = ${report.appliedRevision}, last_apply_error = ${report.applyError}, last_seen_at = now(), updated_at = now(),
        capabilities = coalesce(${caps}::jsonb, capabilities)
      where id = ${report.clusterId} returning 1),
    agent_update as (
      update agents set last_seen_at = now(), agent_version = coalesce(${report.agentVersion}, agent_version) where id = ${report.agentId} returning 1)
    select p.tenant_id, p.capabilities as old_capabilities,
      (select count(*) from cluster_update) + (select count(*) from agent_update) as touched,
      (select json_agg(s) from (select id, node, peer, vrf, bgp_state, bfd_state, uptime_seconds, prefixes_received, prefixes_sent, last_reset_reason
        from session_states where cluster_id = ${report.clusterId}) s) as sessions
    from previous p`));
  if (!state) throw new Error(`cluster ${report.clusterId} is not visible in this scope`);
  const capabilitiesChanged = report.capabilities !== undefined && !sameJson(state.old_capabilities ?? {}, report.capabilities);

  const existing = state.sessions ?? [];
  const key = (s: { node: string; peer: string; vrf: string }) => `${s.node}\u0000${s.peer}\u0000${s.vrf}`;
  const byKey = new Map(existing.map((s) => [key(s), s]));
  const seen = new Set<string>();
  const changed: Array<typeof sessionStates.$inferInsert> = [];
  for (const s of report.sessions) {
    const k = key(s);
    if (seen.has(k)) continue;
    seen.add(k);
    const old = byKey.get(k);
    // Uptime grows on every report; it is written only with another change, or when it went back
    // (a reset the other fields did not show).
    const unchanged = old && old.bgp_state === s.bgpState && old.bfd_state === s.bfdState && old.prefixes_received === s.prefixesReceived
      && old.prefixes_sent === s.prefixesSent && old.last_reset_reason === s.lastResetReason
      && (old.uptime_seconds === null) === (s.uptimeSeconds === null) && (s.uptimeSeconds ?? 0) >= Number(old.uptime_seconds ?? 0);
    if (unchanged) continue;
    changed.push({
      tenantId: state.tenant_id, clusterId: report.clusterId, node: s.node, peer: s.peer, vrf: s.vrf, bgpState: s.bgpState, bfdState: s.bfdState,
      uptimeSeconds: s.uptimeSeconds, prefixesReceived: s.prefixesReceived, prefixesSent: s.prefixesSent, lastResetReason: s.lastResetReason,
    });
  }
  if (changed.length > 0) {
    await tx.insert(sessionStates).values(changed).onConflictDoUpdate({
      target: [sessionStates.clusterId, sessionStates.node, sessionStates.peer, sessionStates.vrf],
      set: {
        bgpState: sql`excluded.bgp_state`, bfdState: sql`excluded.bfd_state`, uptimeSeconds: sql`excluded.uptime_seconds`,
        prefixesReceived: sql`excluded.prefixes_received`, prefixesSent: sql`excluded.prefixes_sent`, lastResetReason: sql`excluded.last_reset_reason`,
        updatedAt: sql`now()`,
      },
    });
  }
  const gone = existing.filter((s) => !seen.has(key(s))).map((s) => s.id);
  if (gone.length > 0) await tx.delete(sessionStates).where(inArray(sessionStates.id, gone));
  return { capabilitiesChanged, sessionWrites: changed.length + gone.length };
}

export function listSessions(tx: Tx, { clusterId }: { clusterId: string }) {
  return tx.select().from(sessionStates).where(eq(sessionStates.clusterId, clusterId))
    .orderBy(asc(sessionStates.node), asc(sessionStates.vrf), asc(sessionStates.peer)).limit(10_000);
}

export async function setRenderProblems(tx: Tx, { clusterId, problems }: { clusterId: string; problems: unknown[] | null }): Promise<void> {
  await tx.update(clusters).set({ renderProblems: problems as never }).where(eq(clusters.id, clusterId));
}

