// Staged rollouts, the pure part: the policy's shape, how a change's clusters are split into waves
// (deterministic: the same policy and clusters always give the same plan), what the rendered
// intent implies each BGP session must show, and whether a cluster's gates pass. The database
// side (state, waves starting, rollbacks) is api/rollouts.ts.
import { z } from 'zod';
import { buildNeighbors } from './announce.ts';
import { ClusterIntent, type ClusterIntentInput } from './model.ts';
import { LabelSelector, selectorMatches, type Labels } from './policy.ts';

export const RolloutWave = z.strictObject({
  name: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/, 'must be a short lowercase name (a-z, 0-9, -)'),
  selector: LabelSelector.optional().meta({ description: 'Only clusters these labels select join this wave' }),
  percent: z.number().int().min(1).max(100).optional()
    .meta({ description: 'Cumulative share of the change\'s clusters placed by the end of this wave' }),
  maxClusters: z.number().int().min(1).max(1_000_000).optional(),
  bakeSeconds: z.number().int().min(0).max(7 * 86_400).default(300)
    .meta({ description: 'How long the gates must hold after the wave starts before the next wave starts' }),
  timeoutSeconds: z.number().int().min(1).max(7 * 86_400).default(600)
    .meta({ description: 'How long the wave\'s clusters have to pass every gate; then the wave fails' }),
}).refine((w) => w.timeoutSeconds >= w.bakeSeconds, { message: 'timeoutSeconds must be at least bakeSeconds', path: ['timeoutSeconds'] });
export type RolloutWave = z.infer<typeof RolloutWave>;

export const RolloutPolicy = z.strictObject({
  waves: z.array(RolloutWave).min(1).max(10)
    .refine((ws) => new Set(ws.map((w) => w.name)).size === ws.length, 'wave names must be unique'),
  onNewChange: z.enum(['queue', 'supersede']).default('queue')
    .meta({ description: 'A change made while a rollout is unfinished waits for it (queue) or replaces it (supersede)' }),
});
export type RolloutPolicy = z.infer<typeof RolloutPolicy>;

export interface PlanCluster { id: string; name: string; labels: Labels }
export interface PlannedWave { name: string; bakeSeconds: number; timeoutSeconds: number; clusterIds: string[] }

/**
 * Splits the clusters of a change into the policy's waves, in wave order: each wave takes the
 * clusters not yet placed that its selector selects, up to its cumulative percentage of all of
 * them (rounded up) and its maxClusters, in name order. The last wave also takes every cluster no
 * wave placed, so a change reaches all its clusters. Waves left empty are dropped.
 */
export function planWaves(policy: RolloutPolicy, clusters: PlanCluster[]): PlannedWave[] {
  const ordered = [...clusters].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : 1));
  const placed = new Set<string>();
  const waves: PlannedWave[] = [];
  policy.waves.forEach((wave, index) => {
    const last = index === policy.waves.length - 1;
    let room = Number.POSITIVE_INFINITY;
    if (wave.percent !== undefined) room = Math.max(0, Math.ceil((wave.percent * ordered.length) / 100) - placed.size);
    if (wave.maxClusters !== undefined) room = Math.min(room, wave.maxClusters);
    const taken = ordered.filter((c) => !placed.has(c.id) && (!wave.selector || selectorMatches(wave.selector, c.labels))).slice(0, room);
    for (const c of taken) placed.add(c.id);
    if (last) for (const c of ordered) if (!placed.has(c.id)) { taken.push(c); placed.add(c.id); }
    if (taken.length > 0) {
      waves.push({ name: wave.name, bakeSeconds: wave.bakeSeconds, timeoutSeconds: wave.timeoutSeconds, clusterIds: taken.map((c) => c.id) });
    }
  });
  return waves;
}

/** What the rendered intent implies a session must show: per neighbor address, prefixes it must advertise and whether BFD is on. */
export interface SessionExpectation { peer: string; vrf: string; prefixes: number; bfd: boolean }

export function expectedSessions(input: ClusterIntentInput): SessionExpectation[] {
  const parsed = ClusterIntent.safeParse(input);
  if (!parsed.success) return [];
  return buildNeighbors(parsed.data).map((n) => ({
    peer: n.target, vrf: n.vrf, prefixes: n.allowed[4].size + n.allowed[6].size, bfd: Boolean(n.peer.bfdProfile),
  }));
}

export interface ReportedSession {
  node: string; peer: string; vrf: string; bgpState: string; bfdState: string | null; prefixesSent: number | null;
}
export interface GateInput {
  toRevision: number;
  appliedRevision: number | null;
  /**
   * A report came after the one that first showed the revision applied. Agents collect health
   * before they poll and apply, so only a later report's sessions are evidence about the new config.
   */
  reportedSinceApplied: boolean;
  lastApplyError: string | null;
  /** Sessions reported now, and those reported when the wave started (a session down then may stay down). */
  sessions: ReportedSession[];
  baseline: ReportedSession[];
  expected: SessionExpectation[];
  /** Seconds since the wave started. */
  elapsedSeconds: number;
  bakeSeconds: number;
  timeoutSeconds: number;
}
export interface Gate { gate: 'applied' | 'sessions-established' | 'prefixes-advertised' | 'bfd-up' | 'no-apply-error'; ok: boolean; evidence: string }
export interface GateVerdict { verdict: 'pass' | 'wait' | 'fail'; gates: Gate[]; reason?: string }

const key = (s: { node?: string; peer: string; vrf: string }) => `${s.node ?? ''}|${s.vrf}|${s.peer}`;
const established = (s: ReportedSession) => s.bgpState.toLowerCase() === 'established';

/**
 * One cluster's gates: its agent applied the revision without error; every session is
 * Established (or as down as it was before the change); per session, at least the prefixes the
 * rendered config gives that neighbor are advertised; BFD is up where the intent configures it.
 * An apply error fails at once; other gates fail only when still red at the timeout; all green
 * passes once the bake time is over.
 */
export function evaluateGates(input: GateInput): GateVerdict {
  const reportsApplied = input.appliedRevision === input.toRevision;
  const applied = reportsApplied && input.reportedSinceApplied;
  const gates: Gate[] = [];
  gates.push({ gate: 'applied', ok: applied, evidence: `agent reports revision ${input.appliedRevision ?? 'none'}, wanted ${input.toRevision}`
    + (reportsApplied && !applied ? '; waiting for a report of the sessions since' : '') });
  // An error reported while the new revision is not applied is the new revision's error.
  const applyFailed = input.lastApplyError !== null && !reportsApplied;
  gates.push({ gate: 'no-apply-error', ok: !applyFailed, evidence: applyFailed ? `apply error: ${input.lastApplyError!.slice(0, 300)}` : 'none' });
  const wasDown = new Set(input.baseline.filter((s) => !established(s)).map((s) => key(s)));
  const down = input.sessions.filter((s) => !established(s) && !wasDown.has(key(s)));
  gates.push({ gate: 'sessions-established', ok: applied && down.length === 0 && (input.sessions.length > 0 || input.expected.length === 0),
    evidence: down.length > 0 ? down.map((s) => `${s.node} ${s.peer}${s.vrf ? ` vrf ${s.vrf}` : ''}: ${s.bgpState}`).join('; ')
      : `${input.sessions.length} session(s) reported, none newly down` });
  const short: string[] = [];
  const bfdDown: string[] = [];
  for (const want of input.expected) {
    for (const s of input.sessions.filter((r) => r.peer === want.peer && r.vrf === want.vrf)) {
      if (want.prefixes > 0 && (s.prefixesSent ?? 0) < want.prefixes && !wasDown.has(key(s))) short.push(`${s.node} ${s.peer}: ${s.prefixesSent ?? 'unknown'} < ${want.prefixes}`);
      if (want.bfd && s.bfdState !== null && s.bfdState.toLowerCase() !== 'up') bfdDown.push(`${s.node} ${s.peer}: ${s.bfdState}`);
    }
  }
  gates.push({ gate: 'prefixes-advertised', ok: applied && short.length === 0, evidence: short.length > 0 ? short.join('; ') : 'every session advertises what its config gives it' });
  gates.push({ gate: 'bfd-up', ok: bfdDown.length === 0, evidence: bfdDown.length > 0 ? bfdDown.join('; ') : 'up where configured' });
  if (applyFailed) return { verdict: 'fail', gates, reason: 'the agent could not apply the revision' };
  const red = gates.filter((g) => !g.ok);
  if (red.length === 0 && input.elapsedSeconds >= input.bakeSeconds) return { verdict: 'pass', gates };
  if (input.elapsedSeconds >= input.timeoutSeconds) {
    return { verdict: 'fail', gates, reason: red.length > 0 ? `gates still failing after ${input.timeoutSeconds}s: ${red.map((g) => g.gate).join(', ')}` : 'timed out' };
  }
  return { verdict: 'wait', gates };
}
