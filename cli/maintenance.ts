// The maintenance job (worker/jobs.ts) on Node: a minute after start, then every hour. A failed
// run is logged and tried again at the next hour; shutting down waits for a run in progress.
import type { Db } from '../db/client.ts';
import { runMaintenance, type MaintenanceResult } from '../worker/jobs.ts';

export function startMaintenance(db: Db, opts: {
  revisionsKept: number; firstRunMs?: number; everyMs?: number; log?: (entry: Record<string, unknown>) => void; onResult?: (result: MaintenanceResult | Error) => void;
}): () => Promise<void> {
  const log = opts.log ?? ((entry) => console.log(JSON.stringify(entry)));
  let running: Promise<void> | undefined;
  const run = () => {
    running ??= runMaintenance(db, { revisionsKept: opts.revisionsKept, now: new Date() })
      .then((result) => {
        log({ msg: 'maintenance', ...result });
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
  return async () => {
    clearTimeout(first);
    clearInterval(every);
    await running;
  };
}
