// Enrollment tokens, agents and their keys, and what agents report.
import { and, asc, desc, eq, isNull, sql } from 'drizzle-orm';
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
 * Records a status report. Session rows are written only when they changed (and removed when no
 * longer reported); returns whether the capabilities changed and how many session rows it wrote.
 */
export async function recordStatus(tx: Tx, report: StatusReport): Promise<{ capabilitiesChanged: boolean; sessionWrites: number }> {
  const [cluster] = await tx.select({ capabilities: clusters.capabilities }).from(clusters).where(eq(clusters.id, report.clusterId));
  const capabilitiesChanged = report.capabilities !== undefined && !sameJson(cluster?.capabilities ?? {}, report.capabilities);
  await tx.update(clusters).set({
    appliedRevision: report.appliedRevision, lastApplyError: report.applyError, lastSeenAt: sql`now()`, updatedAt: new Date(),
    ...(capabilitiesChanged ? { capabilities: report.capabilities } : {}),
  }).where(eq(clusters.id, report.clusterId));
  await tx.update(agents).set({ lastSeenAt: sql`now()`, ...(report.agentVersion ? { agentVersion: report.agentVersion } : {}) })
    .where(eq(agents.id, report.agentId));

  const existing = await tx.select().from(sessionStates).where(eq(sessionStates.clusterId, report.clusterId));
  const key = (s: { node: string; peer: string; vrf: string }) => `${s.node}\u0000${s.peer}\u0000${s.vrf}`;
  const byKey = new Map(existing.map((s) => [key(s), s]));
  const seen = new Set<string>();
  let sessionWrites = 0;
  const [tenant] = await tx.select({ tenantId: clusters.tenantId }).from(clusters).where(eq(clusters.id, report.clusterId));
  for (const s of report.sessions) {
    const k = key(s);
    if (seen.has(k)) continue;
    seen.add(k);
    const old = byKey.get(k);
    const fields = {
      bgpState: s.bgpState, bfdState: s.bfdState, uptimeSeconds: s.uptimeSeconds, prefixesReceived: s.prefixesReceived,
      prefixesSent: s.prefixesSent, lastResetReason: s.lastResetReason,
    };
    // Uptime grows on every report; it is written only with another change, or when it went back
    // (a reset the other fields did not show).
    const unchanged = old && old.bgpState === fields.bgpState && old.bfdState === fields.bfdState && old.prefixesReceived === fields.prefixesReceived
      && old.prefixesSent === fields.prefixesSent && old.lastResetReason === fields.lastResetReason
      && (old.uptimeSeconds === null) === (fields.uptimeSeconds === null) && (fields.uptimeSeconds ?? 0) >= (old.uptimeSeconds ?? 0);
    if (unchanged) continue;
    sessionWrites++;
    await tx.insert(sessionStates).values({ tenantId: tenant!.tenantId, clusterId: report.clusterId, node: s.node, peer: s.peer, vrf: s.vrf, ...fields })
      .onConflictDoUpdate({ target: [sessionStates.clusterId, sessionStates.node, sessionStates.peer, sessionStates.vrf], set: { ...fields, updatedAt: new Date() } });
  }
  const gone = existing.filter((s) => !seen.has(key(s)));
  for (const s of gone) {
    await tx.delete(sessionStates).where(eq(sessionStates.id, s.id));
    sessionWrites++;
  }
  return { capabilitiesChanged, sessionWrites };
}

export function listSessions(tx: Tx, { clusterId }: { clusterId: string }) {
  return tx.select().from(sessionStates).where(eq(sessionStates.clusterId, clusterId))
    .orderBy(asc(sessionStates.node), asc(sessionStates.vrf), asc(sessionStates.peer)).limit(10_000);
}

export async function setRenderProblems(tx: Tx, { clusterId, problems }: { clusterId: string; problems: unknown[] | null }): Promise<void> {
  await tx.update(clusters).set({ renderProblems: problems as never }).where(eq(clusters.id, clusterId));
}

