// Group commit for agent status reports: reports that arrive within a couple of milliseconds are
// written in one message (each in its own cluster's scope), so that a busy instance pays one
// round trip per batch instead of one per report. Each report has its own outcome; if the
// database fails the batch (one transaction, rolled back whole), each report is written alone,
// so only the report at fault fails.
import { recordStatusesInOneTrip, recordStatusInOneTrip, type StatusOutcome, type StatusReport } from '../db/queries/agents.ts';
import type { Database } from '../db/client.ts';

interface Pending { report: StatusReport; resolve: (outcome: StatusOutcome) => void; reject: (err: unknown) => void }

export class StatusBatcher {
  private queue: Pending[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly simpleQuery: NonNullable<Database['simpleQuery']>, private readonly maxBatch = 64, private readonly maxWaitMs = 2) {}

  submit(report: StatusReport): Promise<StatusOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ report, resolve, reject });
      if (this.queue.length >= this.maxBatch) void this.flush();
      else this.timer ??= setTimeout(() => void this.flush(), this.maxWaitMs);
    });
  }

  private async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue.splice(0, this.maxBatch);
    if (this.queue.length > 0) this.timer = setTimeout(() => void this.flush(), this.maxWaitMs);
    if (batch.length === 0) return;
    try {
      const outcomes = batch.length === 1
        ? [await recordStatusInOneTrip(this.simpleQuery, batch[0]!.report).catch((err: Error) => err)]
        : await recordStatusesInOneTrip(this.simpleQuery, batch.map((p) => p.report));
      batch.forEach((p, i) => {
        const outcome = outcomes[i]!;
        if (outcome instanceof Error) p.reject(outcome);
        else p.resolve(outcome);
      });
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
      // Somebody's report failed the batch: write each alone, so only that one fails.
      await Promise.all(batch.map((p) => recordStatusInOneTrip(this.simpleQuery, p.report).then(p.resolve, p.reject)));
    }
  }
}
