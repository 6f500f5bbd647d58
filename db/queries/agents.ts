// Enrollment tokens, agents and their keys, and what agents report.
import { and, asc, desc, eq, gt, isNull, lt, sql, type SQL } from 'drizzle-orm';
import { resultRows, type Database } from '../client.ts';
import { scopedBatchScript, scopedScript } from '../one-trip.ts';
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

/** Deletes the scope's enrollment tokens that expired before `expiredBefore`, used or not. */
export async function pruneEnrollmentTokens(tx: Tx, { expiredBefore }: { expiredBefore: Date }): Promise<number> {
  const gone = await tx.delete(enrollmentTokens).where(lt(enrollmentTokens.expiresAt, expiredBefore)).returning({ id: enrollmentTokens.id });
  return gone.length;
}

/**
 * Revokes a token that is neither used nor revoked, in one statement (a compare-and-set: of a
 * revocation and an enrollment racing for the token, exactly one wins). Otherwise says why not.
 */
export async function revokeEnrollmentToken(tx: Tx, { clusterId, id }: { clusterId: string; id: string }): Promise<'revoked-now' | 'used' | 'revoked' | 'unknown'> {
  const rows = await tx.update(enrollmentTokens).set({ revokedAt: new Date() })
    .where(and(eq(enrollmentTokens.clusterId, clusterId), eq(enrollmentTokens.id, id), isNull(enrollmentTokens.usedAt), isNull(enrollmentTokens.revokedAt)))
    .returning({ id: enrollmentTokens.id });
  if (rows.length > 0) return 'revoked-now';
  const [row] = await tx.select({ usedAt: enrollmentTokens.usedAt, revokedAt: enrollmentTokens.revokedAt }).from(enrollmentTokens)
    .where(and(eq(enrollmentTokens.clusterId, clusterId), eq(enrollmentTokens.id, id)));
  return !row ? 'unknown' : row.revokedAt ? 'revoked' : 'used';
}

/** The token whose hash the enrollment scope presents (the scope shows no other). */
export async function findEnrollmentToken(tx: Tx, { tokenSha256 }: { tokenSha256: string }): Promise<{ tenantId: string; clusterId: string } | undefined> {
  const [row] = await tx.select({ tenantId: enrollmentTokens.tenantId, clusterId: enrollmentTokens.clusterId }).from(enrollmentTokens)
    .where(eq(enrollmentTokens.tokenSha256, tokenSha256));
  return row;
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

/** Revokes an agent that is not revoked yet (compare-and-set), or says why not. */
export async function revokeAgent(tx: Tx, { clusterId, agentId }: { clusterId: string; agentId: string }): Promise<'revoked-now' | 'revoked' | 'unknown'> {
  const rows = await tx.update(agents).set({ revokedAt: new Date() })
    .where(and(eq(agents.clusterId, clusterId), eq(agents.id, agentId), isNull(agents.revokedAt))).returning({ id: agents.id });
  if (rows.length > 0) return 'revoked-now';
  const [row] = await tx.select({ id: agents.id }).from(agents).where(and(eq(agents.clusterId, clusterId), eq(agents.id, agentId)));
  return row ? 'revoked' : 'unknown';
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
 * instance serve a large fleet): a call of metalfleet_record_status, which updates the cluster
 * and agent rows, writes only the session rows that changed, removes vanished sessions, and
 * returns the previous capabilities. Run in the agent scope of `report.clusterId`.
 */
export function statusStatement(report: StatusReport): SQL {
  const caps = report.capabilities === undefined ? null : JSON.stringify(report.capabilities);
  const sessions = JSON.stringify(report.sessions.map((s) => ({
    node: s.node, peer: s.peer, vrf: s.vrf, bgp_state: s.bgpState, bfd_state: s.bfdState, uptime_seconds: s.uptimeSeconds,
    prefixes_received: s.prefixesReceived, prefixes_sent: s.prefixesSent, last_reset_reason: s.lastResetReason,
  })));
  // The statement itself lives in the database (PL/pgSQL, migrations/0008_record_status_plpgsql.sql).
  return sql`select old_capabilities, writes, released from metalfleet_record_status(${report.clusterId}::uuid, ${report.agentId}::uuid,
    ${report.appliedRevision}::integer, ${report.applyError}::text, ${report.agentVersion}::text, ${caps}::jsonb, ${sessions}::jsonb)`;
}

export interface StatusOutcome {
  capabilitiesChanged: boolean;
  sessionWrites: number;
  /** Address holds released: the agent applied a revision that no longer carries them. */
  released: number;
}

type StatusRow = { old_capabilities: unknown; writes: number | string; released: number | string };

function interpretStatus(report: StatusReport, row: StatusRow | undefined): StatusOutcome {
  if (!row) throw new Error(`cluster ${report.clusterId} is not visible in this scope`);
  return {
    capabilitiesChanged: report.capabilities !== undefined && !sameJson(row.old_capabilities ?? {}, report.capabilities),
    sessionWrites: Number(row.writes),
    released: Number(row.released),
  };
}

/** Records a status report inside a scoped transaction (any driver). */
export async function recordStatus(tx: Tx, report: StatusReport): Promise<StatusOutcome> {
  const [row] = resultRows<StatusRow>(await tx.execute(statusStatement(report)));
  return interpretStatus(report, row);
}

/**
 * Records a status report in one round trip: scope and statement in one message (db/one-trip.ts).
 * Telemetry: the commit does not wait for the WAL flush (agents report again every interval).
 */
export async function recordStatusInOneTrip(simpleQuery: NonNullable<Database['simpleQuery']>, report: StatusReport): Promise<StatusOutcome> {
  const script = scopedScript('metalfleet_agent', { [CLUSTER_SETTING]: report.clusterId, synchronous_commit: 'off' }, statusStatement(report));
  const [row] = ((await simpleQuery(script)).at(-1) ?? []) as StatusRow[];
  return interpretStatus(report, row);
}

/**
 * Several agents' reports in one round trip (group commit): each in the agent scope of its own
 * cluster (db/one-trip.ts scopedBatchScript). Each report gets its own outcome (a report whose
 * cluster is not visible gets an error, the others are stored). If a statement fails in the
 * database, the whole message rolls back and this rejects: the caller records them one by one.
 */
export async function recordStatusesInOneTrip(simpleQuery: NonNullable<Database['simpleQuery']>, reports: StatusReport[]): Promise<Array<StatusOutcome | Error>> {
  const script = scopedBatchScript('metalfleet_agent', { synchronous_commit: 'off' },
    reports.map((report) => ({ settings: { [CLUSTER_SETTING]: report.clusterId }, statement: statusStatement(report) })));
  const results = await simpleQuery(script);
  // Results: the shared settings, then for every report its settings and its status row.
  return reports.map((report, i) => {
    try {
      return interpretStatus(report, results[2 + 2 * i]?.[0] as StatusRow | undefined);
    } catch (err) {
      return err as Error;
    }
  });
}

export function listSessions(tx: Tx, { clusterId }: { clusterId: string }) {
  return tx.select().from(sessionStates).where(eq(sessionStates.clusterId, clusterId))
    .orderBy(asc(sessionStates.node), asc(sessionStates.vrf), asc(sessionStates.peer)).limit(10_000);
}

export async function setRenderProblems(tx: Tx, { clusterId, problems }: { clusterId: string; problems: unknown[] | null }): Promise<void> {
  await tx.update(clusters).set({ renderProblems: problems as never }).where(eq(clusters.id, clusterId));
}


/** What the poll path caches of an agent (api/caches.ts CachedAgent), read in bulk at start. */
export interface AgentKeysRow {
  id: string; tenantId: string; clusterId: string; kid: string; publicJwk: Record<string, string>;
  previousKid: string | null; previousPublicJwk: Record<string, string> | null; previousKeyValidUntil: Date | null;
}

/**
 * The agents not revoked, in id order after `afterId`, at most `limit`: one page of a keyset walk
 * (each page one indexed range scan on the primary key, however far the walk has gone).
 */
export function listActiveAgentKeys(tx: Tx, { afterId, limit }: { afterId?: string; limit: number }): Promise<AgentKeysRow[]> {
  return tx.select({
    id: agents.id, tenantId: agents.tenantId, clusterId: agents.clusterId, kid: agents.kid, publicJwk: agents.publicJwk,
    previousKid: agents.previousKid, previousPublicJwk: agents.previousPublicJwk, previousKeyValidUntil: agents.previousKeyValidUntil,
  }).from(agents)
    .where(and(isNull(agents.revokedAt), afterId ? gt(agents.id, afterId) : undefined))
    .orderBy(asc(agents.id)).limit(limit);
}
