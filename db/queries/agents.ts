// Enrollment tokens, agents and their keys, and what agents report.
import { and, asc, desc, eq, isNull, sql, type SQL } from 'drizzle-orm';
import { resultRows, type Database } from '../client.ts';
import { scopedScript } from '../one-trip.ts';
import type { Tx } from '../tenant.ts';
import { agents, CLUSTER_SETTING, clusters, enrollmentTokens, sessionStates, type ClusterCapabilities } from '../schema.ts';

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
 * The status report as one statement (agents report often; ingest throughput is what lets one
 * instance serve a large fleet): the cluster and agent rows are updated, session rows are
 * written only where something other than a growing uptime changed (`ON CONFLICT ... WHERE`),
 * sessions no longer reported are removed, and the previous capabilities come back so that the
 * caller can tell whether they changed. Run in the agent scope of `report.clusterId`.
 */
export function statusStatement(report: StatusReport): SQL {
  const caps = report.capabilities === undefined ? null : JSON.stringify(report.capabilities);
  const sessions = JSON.stringify(report.sessions.map((s) => ({
    node: s.node, peer: s.peer, vrf: s.vrf, bgp_state: s.bgpState, bfd_state: s.bfdState, uptime_seconds: s.uptimeSeconds,
    prefixes_received: s.prefixesReceived, prefixes_sent: s.prefixesSent, last_reset_reason: s.lastResetReason,
  })));
  return sql`
    with previous as (select tenant_id, capabilities from clusters where id = ${report.clusterId}),
    cluster_update as (
      update clusters set applied_revision = ${report.appliedRevision}, last_apply_error = ${report.applyError}, last_seen_at = now(), updated_at = now(),
        capabilities = coalesce(${caps}::jsonb, capabilities)
      where id = ${report.clusterId} returning 1),
    agent_update as (
      update agents set last_seen_at = now(), agent_version = coalesce(${report.agentVersion}, agent_version) where id = ${report.agentId} returning 1),
    reported as (
      select distinct on (node, peer, vrf) * from jsonb_to_recordset(${sessions}::jsonb) as r(
        node text, peer text, vrf text, bgp_state text, bfd_state text, uptime_seconds bigint, prefixes_received integer, prefixes_sent integer, last_reset_reason text)),
    written as (
      insert into session_states (tenant_id, cluster_id, node, peer, vrf, bgp_state, bfd_state, uptime_seconds, prefixes_received, prefixes_sent, last_reset_reason)
      select p.tenant_id, ${report.clusterId}, r.node, r.peer, r.vrf, r.bgp_state, r.bfd_state, r.uptime_seconds, r.prefixes_received, r.prefixes_sent, r.last_reset_reason
      from reported r cross join previous p
      on conflict (cluster_id, node, peer, vrf) do update set
        bgp_state = excluded.bgp_state, bfd_state = excluded.bfd_state, uptime_seconds = excluded.uptime_seconds,
        prefixes_received = excluded.prefixes_received, prefixes_sent = excluded.prefixes_sent, last_reset_reason = excluded.last_reset_reason, updated_at = now()
      -- Uptime grows on every report: alone it is no change, unless it went back (a reset).
      where session_states.bgp_state is distinct from excluded.bgp_state or session_states.bfd_state is distinct from excluded.bfd_state
        or session_states.prefixes_received is distinct from excluded.prefixes_received or session_states.prefixes_sent is distinct from excluded.prefixes_sent
        or session_states.last_reset_reason is distinct from excluded.last_reset_reason
        or (session_states.uptime_seconds is null) <> (excluded.uptime_seconds is null)
        or excluded.uptime_seconds < session_states.uptime_seconds
      returning 1),
    vanished as (
      delete from session_states s where s.cluster_id = ${report.clusterId}
        and not exists (select 1 from reported r where r.node = s.node and r.peer = s.peer and r.vrf = s.vrf)
      returning 1)
    select p.capabilities as old_capabilities,
      (select count(*) from written) + (select count(*) from vanished) + 0 * ((select count(*) from cluster_update) + (select count(*) from agent_update)) as writes
    from previous p`;
}

export interface StatusOutcome { capabilitiesChanged: boolean; sessionWrites: number }

function interpretStatus(report: StatusReport, row: { old_capabilities: unknown; writes: number | string } | undefined): StatusOutcome {
  if (!row) throw new Error(`cluster ${report.clusterId} is not visible in this scope`);
  return {
    capabilitiesChanged: report.capabilities !== undefined && !sameJson(row.old_capabilities ?? {}, report.capabilities),
    sessionWrites: Number(row.writes),
  };
}

/** Records a status report inside a scoped transaction (any driver). */
export async function recordStatus(tx: Tx, report: StatusReport): Promise<StatusOutcome> {
  const [row] = resultRows<{ old_capabilities: unknown; writes: number | string }>(await tx.execute(statusStatement(report)));
  return interpretStatus(report, row);
}

/**
 * Records a status report in one round trip: scope and statement in one message (db/one-trip.ts).
 * Telemetry: the commit does not wait for the WAL flush (agents report again every interval).
 */
export async function recordStatusInOneTrip(simpleQuery: NonNullable<Database['simpleQuery']>, report: StatusReport): Promise<StatusOutcome> {
  const script = scopedScript('metalfleet_agent', { [CLUSTER_SETTING]: report.clusterId, synchronous_commit: 'off' }, statusStatement(report));
  const [row] = await simpleQuery(script) as Array<{ old_capabilities: unknown; writes: number | string }>;
  return interpretStatus(report, row);
}

export function listSessions(tx: Tx, { clusterId }: { clusterId: string }) {
  return tx.select().from(sessionStates).where(eq(sessionStates.clusterId, clusterId))
    .orderBy(asc(sessionStates.node), asc(sessionStates.vrf), asc(sessionStates.peer)).limit(10_000);
}

export async function setRenderProblems(tx: Tx, { clusterId, problems }: { clusterId: string; problems: unknown[] | null }): Promise<void> {
  await tx.update(clusters).set({ renderProblems: problems as never }).where(eq(clusters.id, clusterId));
}

