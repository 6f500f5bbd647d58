// Staged rollouts: a change to a tenant with a rollout policy stores every affected cluster's new
// revision at once (api/rendering.ts), but a cluster's desired revision moves only when its wave
// starts. State lives in the database and is advanced by events, never by a loop in one instance:
// status reports (evidence for the gates) and the maintenance job / Cron Trigger (bake time and
// timeouts). Everything runs under the tenant's write lock, so a rollout advances in turn with the
// tenant's writes.
//
// The invariant (test/api/rollouts-consistency.test.ts): a cluster of an unfinished rollout
// serves the revision it served when the rollout started (from) or the rollout's revision (to),
// and the rollout's row says which: pending and rolled back serve `from`, progressing and passed
// serve `to`; while queued, a cluster serves the `from` of its oldest queued rollout. A cluster in
// no unfinished rollout serves the render of the committed intent, unless its last rollout was
// aborted (then `from`). At most one rollout of a tenant has started and not finished.
import { recordAudit } from '../db/queries/audit.ts';
import type { ClusterRecord } from '../db/queries/clusters.ts';
import { listSessions } from '../db/queries/agents.ts';
import {
  clustersInProgressingWaves, getRolloutPolicy, insertRollout, moveBack, moveWaveForward, rolloutClusterRows, setClusterGates, settleUnreached,
  tenantsWithProgressingRollouts, unfinishedRollouts, updateRollout, type RolloutClusterView, type RolloutRecord,
} from '../db/queries/rollouts.ts';
import type { Db } from '../db/client.ts';
import { withPlatform, withTenantWrite, type Tx } from '../db/tenant.ts';
import { evaluateGates, expectedSessions, planWaves, type ReportedSession } from '../render/rollout.ts';
import { revisionIntent, type RenderDeps } from './rendering.ts';

/** Who or what changes a rollout, for the audit trail. */
export interface RolloutActor { actor: string; requestId: string | null; now: Date }
/** The actor of what rollouts do on their own (a wave passing, a gate failing). */
export const ROLLOUT_ACTOR = 'system:rollout';

/** Waves started by this instance: its ProgressingClusters reload at once instead of after their TTL. */
let wavesStarted = 0;

/**
 * Opens a rollout for the clusters a change gives new revisions, before they are stored (so that
 * storeRevisions stages them). Without a policy, or without a cluster that serves something
 * already (a first config has nothing to protect), nothing is opened: the change reaches its
 * clusters at once, as without rollouts. Returns the rollout to start once revisions are stored.
 */
export async function openRollout(tx: Tx, args: {
  tenantId: string; cause: string; clusters: ClusterRecord[]; by: RolloutActor;
}): Promise<RolloutRecord | undefined> {
  const policy = await getRolloutPolicy(tx, { tenantId: args.tenantId });
  if (!policy) return undefined;
  const staged = args.clusters.filter((c) => c.desiredRevision > 0 && c.withdrawingSince === null);
  const unfinished = await unfinishedRollouts(tx, { tenantId: args.tenantId });
  const inherited: Array<{ clusterId: string; toRevision: number; desiredRevision: number; name: string; labels: ClusterRecord['labels'] }> = [];
  if (policy.onNewChange === 'supersede') {
    // The superseded rollouts' clusters that do not serve their revision yet come along, so none is left behind.
    for (const old of unfinished) {
      for (const row of await rolloutClusterRows(tx, { rolloutId: old.id })) {
        if ((row.state === 'pending' || row.state === 'rolled-back') && !staged.some((c) => c.id === row.clusterId)
          && !inherited.some((i) => i.clusterId === row.clusterId)) {
          inherited.push({ clusterId: row.clusterId, toRevision: row.toRevision, desiredRevision: row.desiredRevision, name: row.name, labels: row.labels });
        }
      }
      await updateRollout(tx, { id: old.id, state: 'superseded' });
      await audit(tx, args.tenantId, old, args.by, { state: 'superseded', by: args.cause });
    }
  }
  if (staged.length === 0 && inherited.length === 0) return undefined;
  const plan = planWaves(policy, [...staged.map((c) => ({ id: c.id, name: c.name, labels: c.labels })),
    ...inherited.map((i) => ({ id: i.clusterId, name: i.name, labels: i.labels }))]);
  const inheritedTo = new Map(inherited.map((i) => [i.clusterId, i.toRevision]));
  const serving = new Map([...staged.map((c) => [c.id, c.desiredRevision] as const), ...inherited.map((i) => [i.clusterId, i.desiredRevision] as const)]);
  const waiting = policy.onNewChange === 'queue' && unfinished.length > 0;
  const rollout = await insertRollout(tx, {
    tenantId: args.tenantId, state: waiting ? 'queued' : 'progressing', cause: args.cause, createdBy: args.by.actor,
    waves: plan.map(({ name, bakeSeconds, timeoutSeconds }) => ({ name, bakeSeconds, timeoutSeconds })),
    // The revision stored next replaces the placeholder (storeRevisions retargets the newest rollout).
    clusters: plan.flatMap((w, wave) => w.clusterIds.map((clusterId) => ({
      clusterId, wave, fromRevision: serving.get(clusterId)!, toRevision: inheritedTo.get(clusterId) ?? 0,
    }))),
  });
  await audit(tx, args.tenantId, rollout, args.by, { state: rollout.state, waves: plan.map((w) => ({ name: w.name, clusters: w.clusterIds.length })) }, 'create');
  return waiting ? undefined : rollout;
}

/** Starts a rollout's wave (its clusters are given the new revision) and remembers when. */
export async function startWave(tx: Tx, rollout: RolloutRecord, wave: number, by: RolloutActor): Promise<void> {
  await updateRollout(tx, { id: rollout.id, state: 'progressing', currentWave: wave, waveStartedAt: by.now, pausedReason: null });
  const moved = await moveWaveForward(tx, { rolloutId: rollout.id, wave });
  await audit(tx, rollout.tenantId, rollout, by, { state: 'progressing', wave: rollout.waves[wave]?.name, clustersMoved: moved.length });
  wavesStarted++;
}

/**
 * Evaluates the gates of the progressing rollout's current wave and acts: a failed gate moves the
 * wave back and pauses the rollout; a wave whose clusters all passed starts the next one, or
 * completes the rollout and starts the next queued one. Idempotent.
 */
export async function advanceRollout(tx: Tx, deps: Pick<RenderDeps, 'secretKey'>, tenantId: string, by: RolloutActor): Promise<void> {
  for (let step = 0; step < 100; step++) {
    const [rollout] = (await unfinishedRollouts(tx, { tenantId })).filter((r) => r.state === 'progressing');
    if (!rollout) return startNextQueued(tx, tenantId, by);
    const wave = rollout.waves[rollout.currentWave]!;
    const rows = await rolloutClusterRows(tx, { rolloutId: rollout.id, wave: rollout.currentWave });
    const elapsedSeconds = (by.now.getTime() - (rollout.waveStartedAt ?? by.now).getTime()) / 1000;
    const failed: string[] = [];
    for (const row of rows.filter((r) => r.state === 'progressing')) {
      // The report that first showed the revision applied, by its time: only later reports are evidence.
      const appliedSeenAt = row.appliedRevision === row.toRevision
        ? (row.gates as { appliedSeenAt?: string } | null)?.appliedSeenAt ?? row.lastSeenAt?.toISOString() : undefined;
      const verdict = evaluateGates({
        toRevision: row.toRevision, appliedRevision: row.appliedRevision, lastApplyError: row.lastApplyError,
        reportedSinceApplied: appliedSeenAt !== undefined && row.lastSeenAt !== null && row.lastSeenAt.getTime() > Date.parse(appliedSeenAt),
        sessions: (await listSessions(tx, { clusterId: row.clusterId })).map(reported), baseline: (row.baseline ?? []) as ReportedSession[],
        expected: await expectations(tx, deps, row), elapsedSeconds, bakeSeconds: wave.bakeSeconds, timeoutSeconds: wave.timeoutSeconds,
      });
      const state = verdict.verdict === 'pass' ? 'passed' : 'progressing';
      await setClusterGates(tx, { rolloutId: rollout.id, clusterId: row.clusterId, state, gates: { ...verdict, at: by.now.toISOString(), appliedSeenAt } });
      if (verdict.verdict === 'fail') failed.push(`${row.name}: ${verdict.reason}`);
      row.state = state;
    }
    if (failed.length > 0) {
      const back = await moveBack(tx, { rolloutId: rollout.id, wave: rollout.currentWave, states: ['progressing', 'passed'] });
      const reason = `wave ${wave.name} failed its gates: ${failed.join('; ')}`.slice(0, 2000);
      await updateRollout(tx, { id: rollout.id, state: 'paused', pausedReason: reason });
      await audit(tx, tenantId, rollout, { ...by, actor: ROLLOUT_ACTOR }, { state: 'paused', reason, clustersMovedBack: back.length });
      return;
    }
    if (rows.some((r) => r.state !== 'passed' && r.state !== 'skipped')) return;
    await nextWaveOrComplete(tx, rollout, { ...by, actor: ROLLOUT_ACTOR });
  }
}

/** After the current wave: the next one starts, or the rollout completes and the next queued one starts. */
async function nextWaveOrComplete(tx: Tx, rollout: RolloutRecord, by: RolloutActor): Promise<void> {
  if (rollout.currentWave + 1 < rollout.waves.length) return startWave(tx, rollout, rollout.currentWave + 1, by);
  await updateRollout(tx, { id: rollout.id, state: 'completed' });
  await audit(tx, rollout.tenantId, rollout, by, { state: 'completed' });
}

async function startNextQueued(tx: Tx, tenantId: string, by: RolloutActor): Promise<void> {
  const unfinished = await unfinishedRollouts(tx, { tenantId });
  if (unfinished.some((r) => r.state !== 'queued')) return;
  const next = unfinished[0];
  if (next) await startWave(tx, next, 0, { ...by, actor: ROLLOUT_ACTOR });
}

/** What an operator does to a rollout: tenant-admins, through the API or the CLI. */
export type RolloutAction = 'pause' | 'resume' | 'abort' | 'promote';

export class RolloutActionRefused extends Error {
  constructor(readonly rollout: RolloutRecord, readonly action: RolloutAction) {
    super(`rollout ${rollout.number} is ${rollout.state}: it cannot be ${action === 'abort' ? 'aborted' : `${action}d`}`);
  }
}

/**
 * pause: stops advancing (nothing moves back). resume: advances again, retrying a wave that
 * failed. promote: the current wave counts as passed whatever its gates say, and the next starts.
 * abort: every cluster given the rollout's revision goes back to the one it served before; the
 * clusters not reached keep theirs; the next queued rollout starts.
 */
export async function actOnRollout(tx: Tx, deps: Pick<RenderDeps, 'secretKey'>, rollout: RolloutRecord, action: RolloutAction, by: RolloutActor): Promise<void> {
  const allowed: Record<RolloutAction, RolloutRecord['state'][]> = {
    pause: ['progressing', 'queued'], resume: ['paused'], promote: ['progressing', 'paused'], abort: ['progressing', 'paused', 'queued'],
  };
  if (!allowed[action].includes(rollout.state)) throw new RolloutActionRefused(rollout, action);
  const others = (await unfinishedRollouts(tx, { tenantId: rollout.tenantId })).filter((r) => r.id !== rollout.id);
  const anotherRuns = others.some((r) => r.state === 'progressing' || r.state === 'paused');
  if (action === 'pause') {
    await updateRollout(tx, { id: rollout.id, state: 'paused', pausedReason: `paused by ${by.actor}` });
  } else if (action === 'abort') {
    const back = await moveBack(tx, { rolloutId: rollout.id, states: ['progressing', 'passed'] });
    await settleUnreached(tx, { rolloutId: rollout.id });
    await updateRollout(tx, { id: rollout.id, state: 'aborted' });
    await audit(tx, rollout.tenantId, rollout, by, { state: 'aborted', clustersMovedBack: back.length });
    return advanceRollout(tx, deps, rollout.tenantId, by);
  } else if (action === 'resume') {
    if (anotherRuns) throw new RolloutActionRefused(rollout, action);
    // A wave moved back by a failed gate is started again (the gates are evaluated afresh).
    if (rollout.waveStartedAt === null) await updateRollout(tx, { id: rollout.id, state: 'queued', pausedReason: null });
    else await startWave(tx, rollout, rollout.currentWave, by);
  } else {
    if (anotherRuns && rollout.waveStartedAt === null) throw new RolloutActionRefused(rollout, action);
    const rows = await rolloutClusterRows(tx, { rolloutId: rollout.id, wave: rollout.currentWave });
    if (rows.some((r) => r.state === 'rolled-back' || r.state === 'pending')) await moveWaveForward(tx, { rolloutId: rollout.id, wave: rollout.currentWave });
    for (const row of rows) await setClusterGates(tx, { rolloutId: rollout.id, clusterId: row.clusterId, state: 'passed', gates: { verdict: 'promoted', by: by.actor, at: by.now.toISOString() } });
    await audit(tx, rollout.tenantId, rollout, by, { promoted: rollout.waves[rollout.currentWave]?.name });
    await nextWaveOrComplete(tx, { ...rollout, state: 'progressing' }, by);
  }
  if (action !== 'promote') await audit(tx, rollout.tenantId, rollout, by, { action });
  await advanceRollout(tx, deps, rollout.tenantId, by);
}

/** Advances every progressing rollout (bake times, timeouts): the maintenance job and the Cron Trigger. */
export async function advanceRollouts(db: Db, deps: Pick<RenderDeps, 'secretKey'>, now: Date): Promise<number> {
  const tenants = await withPlatform(db, (tx) => tenantsWithProgressingRollouts(tx));
  for (const tenantId of tenants) {
    await withTenantWrite(db, tenantId, (tx) => advanceRollout(tx, deps, tenantId, { actor: ROLLOUT_ACTOR, requestId: null, now }));
  }
  return tenants.length;
}

/**
 * Which clusters' status reports can advance a rollout, refreshed from the database at most every
 * `ttlMs` on each instance: a report from any other cluster costs nothing.
 */
export class ProgressingClusters {
  private known = new Map<string, string>();
  private loadedAt = -Infinity;
  private loadedWaves = -1;
  private loading: Promise<void> | undefined;
  constructor(private readonly db: Db, private readonly ttlMs = 2_000, private readonly clock: () => number = Date.now) {}

  async tenantOf(clusterId: string): Promise<string | undefined> {
    if (this.clock() - this.loadedAt > this.ttlMs || this.loadedWaves !== wavesStarted) {
      const waves = wavesStarted;
      this.loading ??= withPlatform(this.db, (tx) => clustersInProgressingWaves(tx)).then((rows) => {
        this.known = new Map(rows.map((r) => [r.clusterId, r.tenantId]));
        this.loadedAt = this.clock();
        this.loadedWaves = waves;
      }).finally(() => { this.loading = undefined; });
      await this.loading;
    }
    return this.known.get(clusterId);
  }
}

const reported = (s: { node: string; peer: string; vrf: string; bgpState: string; bfdState: string | null; prefixesSent: number | null }): ReportedSession =>
  ({ node: s.node, peer: s.peer, vrf: s.vrf, bgpState: s.bgpState, bfdState: s.bfdState, prefixesSent: s.prefixesSent });

async function expectations(tx: Tx, deps: Pick<RenderDeps, 'secretKey'>, row: RolloutClusterView) {
  const intent = await revisionIntent(tx, deps, row.clusterId, row.toRevision);
  return intent ? expectedSessions(intent) : [];
}

function audit(tx: Tx, tenantId: string, rollout: RolloutRecord, by: RolloutActor, after: unknown, action: 'create' | 'update' = 'update') {
  return recordAudit(tx, { tenantId, actor: by.actor, action, resource: 'rollout', resourceId: String(rollout.number), before: null, after, requestId: by.requestId });
}
