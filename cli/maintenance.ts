// The maintenance job (worker/jobs.ts) on Node: a minute after start, then every hour. A failed
// run is logged and tried again at the next hour; shutting down waits for a run in progress.
// Rollouts advance on their own tick (seconds: bake times are minutes, not hours).
import type { Db } from '../db/client.ts';
import type { RenderDeps } from '../api/rendering.ts';
import { runMaintenance, type MaintenanceResult } from '../worker/jobs.ts';
import { advanceRollouts } from '../api/rollouts.ts';

export function startMaintenance(db: Db, opts: {
  revisionsKept: number; verify?: { deps: RenderDeps; sample: number }; firstRunMs?: number; everyMs?: number;
  log?: (entry: Record<string, unknown>) => void; onResult?: (result: MaintenanceResult | Error) => void;
  /** Rollouts' bake times and timeouts are checked this often (status reports advance them on evidence). */
  rollouts?: { deps: Pick<RenderDeps, 'secretKey'>; everyMs?: number };
}): () => Promise<void> {
  const log = opts.log ?? ((entry) => console.log(JSON.stringify(entry)));
  let running: Promise<void> | undefined;
  const run = () => {
    running ??= runMaintenance(db, { revisionsKept: opts.revisionsKept, now: new Date(), ...(opts.verify ? { verify: opts.verify } : {}) })
      .then((result) => {
        const { drift, ...counts } = result;
        // A drifted cluster is a bug somewhere (or a change made behind the API's back): say which, loudly.
        for (const finding of drift) log({ msg: 'config drift repaired', level: 'error', ...finding });
        log({ msg: 'maintenance', ...counts, drift: drift.length });
        opts.onResult?.(result);
      }, (err: unknown) => {
        log({ msg: 'maintenance failed', error: String(err) });
        opts.onResult?.(err instanceof Error ? err : new Error(String(err)));
      })
      .finally(() => { running = undefined; });
  };
  let every: ReturnType<typeof setInterval> | undefined;
  const first = setTimeout(() => {
    run();
    every = setInterval(run, opts.everyMs ?? 3_600_000);
    every.unref();
  }, opts.firstRunMs ?? 60_000);
  first.unref();
  let advancing: Promise<void> | undefined;
  const rolloutTick = opts.rollouts && setInterval(() => {
    advancing ??= advanceRollouts(db, opts.rollouts!.deps, new Date()).then(() => undefined, (err: unknown) => {
      log({ msg: 'rollout advance failed', error: String(err) });
    }).finally(() => { advancing = undefined; });
  }, opts.rollouts.everyMs ?? 5_000);
  rolloutTick?.unref();
  return async () => {
    clearTimeout(first);
    clearInterval(every);
    clearInterval(rolloutTick);
    await running;
    await advancing;
  };
}
