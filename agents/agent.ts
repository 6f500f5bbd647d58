// The agent's loop. Each round: collect health (always, even when the control plane is away),
// poll the desired config (ETag/304), apply a new verified revision, report status. It never
// makes a cluster worse: a config is applied only after the client verified its sha256 and the
// server's signature, a failed apply is not retried on every poll, and while the control plane is
// unreachable nothing is applied at all; the agent backs off and reports once it is back.
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Counter, Gauge, Registry } from 'prom-client';
import type { AgentClient, SessionReport, StatusReport, VerifiedConfig } from './client.ts';
import { ControlPlaneError } from './client.ts';

export type ApplyOutcome = { ok: true } | { ok: false; error: string };

/**
 * What applies a config to a data plane. Host daemons implement it with one flow (host-daemon.ts:
 * test, write, reload, roll back); Kubernetes with server-side apply.
 */
export interface Applier {
  apply(config: VerifiedConfig): Promise<ApplyOutcome>;
  /**
   * Puts back, every round, what the data plane forgets on its own restart and no config file
   * holds (GoBGP: the routes the agent added through its API).
   */
  reconcile?(): Promise<void>;
}

export interface Health {
  sessions: SessionReport[];
  /** Errors the data plane reports about the applied config (MetalLB ConfigurationState). */
  applyErrors?: string[];
  capabilities?: StatusReport['capabilities'];
}

export interface HealthSource {
  collect(): Promise<Health>;
}

/** What the agent remembers across restarts (beside its key). */
export interface AgentState {
  etag?: string;
  appliedRevision?: number | null;
  appliedSha256?: string;
  applyError?: string | null;
  /** The sha256 of a revision that failed to apply, and when: not retried on every poll. */
  failedSha256?: string;
  failedAt?: number;
  /** A cluster-bound config signature verified once: unbound ones are refused from then on (AgentClient.refuseUnboundSignatures). */
  boundSignatures?: boolean;
}

export class FileState {
  private readonly path: string;
  constructor(stateDir: string) {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    this.path = join(stateDir, 'state.json');
  }
  load(): AgentState {
    return existsSync(this.path) ? (JSON.parse(readFileSync(this.path, 'utf8')) as AgentState) : {};
  }
  save(state: AgentState): void {
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify(state), { mode: 0o600 });
    renameSync(tmp, this.path);
  }
}

export class AgentMetrics {
  readonly registry = new Registry();
  readonly polls = new Counter({ name: 'metalfleet_agent_polls_total', help: 'Config polls answered by the control plane', registers: [this.registry] });
  readonly notModified = new Counter({ name: 'metalfleet_agent_polls_not_modified_total', help: 'Polls answered 304 Not Modified', registers: [this.registry] });
  readonly pollFailures = new Counter({ name: 'metalfleet_agent_poll_failures_total', help: 'Polls and reports that failed (control plane unreachable or refusing)', registers: [this.registry] });
  readonly applies = new Counter({ name: 'metalfleet_agent_applies_total', help: 'Revisions applied', registers: [this.registry] });
  readonly applyFailures = new Counter({ name: 'metalfleet_agent_apply_failures_total', help: 'Revisions the data plane rejected (rolled back where possible)', registers: [this.registry] });
  readonly sessions = new Gauge({ name: 'metalfleet_agent_sessions', help: 'BGP sessions by state', labelNames: ['state'], registers: [this.registry] });
  readonly appliedRevision = new Gauge({ name: 'metalfleet_agent_applied_revision', help: 'The revision last applied', registers: [this.registry] });
}

export interface AgentOptions {
  /** What a round needs of the client (a test may stand in for the control plane). */
  client: Pick<AgentClient, 'fetchConfig' | 'reportStatus' | 'refuseUnboundSignatures'>;
  applier: Applier;
  health: HealthSource;
  state: { load(): AgentState; save(state: AgentState): void };
  agentVersion: string;
  metrics?: AgentMetrics;
  log?: (entry: Record<string, unknown>) => void;
  random?: () => number;
  /** When the server does not say (Metalfleet-Poll-Interval). */
  defaultIntervalMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** A revision that failed to apply is tried again after this long. */
  retryFailedAfterMs?: number;
  now?: () => number;
}

/**
 * Waits `ms`, or less if `signal` aborts. The abort listener goes when the wait ends: one left per
 * round would pile up on the agent's one long-lived signal (Node warns at 11) and keep every
 * round's timer closure alive for as long as the agent runs.
 */
export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const onAbort = () => { clearTimeout(timer); resolve(); };
    const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(); }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export const BACKOFF_MAX_MS = 5 * 60_000;

export class Agent {
  private state: AgentState;
  private failures = 0;
  private intervalMs: number;
  readonly metrics: AgentMetrics;
  /** When the last round finished, for /healthz. */
  lastRoundAt = 0;
  lastRoundOk = false;

  constructor(private readonly opts: AgentOptions) {
    this.state = opts.state.load();
    this.intervalMs = opts.defaultIntervalMs ?? 30_000;
    this.metrics = opts.metrics ?? new AgentMetrics();
    if (this.state.boundSignatures) opts.client.refuseUnboundSignatures = true;
    if (typeof this.state.appliedRevision === 'number') this.metrics.appliedRevision.set(this.state.appliedRevision);
  }

  private log(entry: Record<string, unknown>) {
    (this.opts.log ?? ((e) => console.log(JSON.stringify(e))))({ at: new Date().toISOString(), ...entry });
  }

  private now() {
    return (this.opts.now ?? Date.now)();
  }

  private save(patch: Partial<AgentState>) {
    this.state = { ...this.state, ...patch };
    this.opts.state.save(this.state);
  }

  /** ±20 % jitter, so that a fleet restarted together does not poll together. */
  private jitter(ms: number): number {
    return Math.round(ms * (0.8 + 0.4 * (this.opts.random ?? Math.random)()));
  }

  /** Exponential backoff after consecutive failures, capped (5 minutes by default). */
  backoffMs(failures: number): number {
    const base = this.opts.backoffBaseMs ?? 1000;
    return Math.min(this.opts.backoffMaxMs ?? BACKOFF_MAX_MS, base * 2 ** Math.max(0, failures - 1));
  }

  private async applyIfNew(config: VerifiedConfig, etag: string): Promise<void> {
    if (config.sha256 === this.state.appliedSha256) {
      // What is running already is what is wanted (say, the intent went back to it): in sync.
      this.save({ etag, appliedRevision: config.revision, applyError: null, failedSha256: undefined, failedAt: undefined });
      this.metrics.appliedRevision.set(config.revision);
      return;
    }
    const retryAfter = this.opts.retryFailedAfterMs ?? 5 * 60_000;
    if (config.sha256 === this.state.failedSha256 && this.now() - (this.state.failedAt ?? 0) < retryAfter) return;
    this.log({ msg: 'applying', revision: config.revision, backend: config.backend, sha256: config.sha256 });
    const outcome = await this.opts.applier.apply(config);
    if (outcome.ok) {
      this.metrics.applies.inc();
      this.metrics.appliedRevision.set(config.revision);
      this.save({ etag, appliedRevision: config.revision, appliedSha256: config.sha256, applyError: null, failedSha256: undefined, failedAt: undefined });
      this.log({ msg: 'applied', revision: config.revision });
    } else {
      this.metrics.applyFailures.inc();
      // The etag is not kept: the revision is looked at again, but re-applied only after retryFailedAfterMs.
      this.save({ etag: undefined, applyError: outcome.error, failedSha256: config.sha256, failedAt: this.now() });
      this.log({ msg: 'apply failed', revision: config.revision, error: outcome.error });
    }
  }

  /** One round; returns how long to wait before the next. */
  async round(): Promise<number> {
    let failed = false;
    let health: Health = { sessions: [] };
    if (this.opts.applier.reconcile && this.state.appliedSha256 !== undefined) {
      try {
        await this.opts.applier.reconcile();
      } catch (err) {
        this.log({ msg: 'reconcile failed', error: String(err) });
      }
    }
    try {
      health = await this.opts.health.collect();
    } catch (err) {
      this.log({ msg: 'health collection failed', error: String(err) });
    }
    const up = health.sessions.filter((s) => s.bgpState === 'Established').length;
    this.metrics.sessions.set({ state: 'up' }, up);
    this.metrics.sessions.set({ state: 'down' }, health.sessions.length - up);

    try {
      const result = await this.opts.client.fetchConfig(this.state.etag);
      this.metrics.polls.inc();
      if (result.pollIntervalSeconds) this.intervalMs = result.pollIntervalSeconds * 1000;
      if (result.status === 304) this.metrics.notModified.inc();
      else {
        if (this.opts.client.refuseUnboundSignatures && !this.state.boundSignatures) this.save({ boundSignatures: true });
        await this.applyIfNew(result.config, result.etag);
      }
    } catch (err) {
      failed = true;
      this.metrics.pollFailures.inc();
      this.log({ msg: 'poll failed; keeping the applied config', error: String(err), ...(err instanceof ControlPlaneError ? { status: err.status } : {}) });
    }

    if (!failed) {
      try {
        const applyErrors = [this.state.applyError, ...(health.applyErrors ?? [])].filter((e): e is string => !!e);
        await this.opts.client.reportStatus({
          appliedRevision: this.state.appliedRevision ?? null,
          applyError: applyErrors.length > 0 ? applyErrors.join('\n') : null,
          agentVersion: this.opts.agentVersion,
          ...(health.capabilities ? { capabilities: health.capabilities } : {}),
          sessions: health.sessions,
        });
      } catch (err) {
        failed = true;
        this.metrics.pollFailures.inc();
        this.log({ msg: 'status report failed', error: String(err) });
      }
    }

    this.failures = failed ? this.failures + 1 : 0;
    this.lastRoundAt = this.now();
    this.lastRoundOk = !failed;
    return this.jitter(failed ? this.backoffMs(this.failures) : this.intervalMs);
  }

  /** Rounds until `signal` aborts. */
  async run(signal: AbortSignal, sleep = (ms: number) => sleepUnlessAborted(ms, signal)): Promise<void> {
    while (!signal.aborted) {
      const delay = await this.round();
      if (signal.aborted) break;
      await sleep(delay);
    }
  }
}
