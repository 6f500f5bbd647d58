// The poll path's in-memory index: cluster → its desired revision and sha256, so that a poll
// whose If-None-Match is current answers 304 without touching the database. Entries are dropped
// when Postgres announces a change (LISTEN/NOTIFY, see migrations/0005), and expire after a short
// TTL in any case, so a missed notification delays an agent by at most that long. Runtimes
// without LISTEN (Workers) run without an index: one indexed read per poll.
export interface Desired { revision: number; sha256: string }

export const DESIRED_CHANNEL = 'metalfleet_desired';

export class DesiredIndex {
  private readonly entries = new Map<string, Desired & { at: number }>();

  constructor(private readonly ttlMs = 60_000, private readonly now: () => number = Date.now) {}

  get(clusterId: string): Desired | undefined {
    const entry = this.entries.get(clusterId);
    if (!entry) return undefined;
    if (this.now() - entry.at > this.ttlMs) {
      this.entries.delete(clusterId);
      return undefined;
    }
    return entry;
  }

  set(clusterId: string, desired: Desired): void {
    this.entries.set(clusterId, { ...desired, at: this.now() });
  }

  invalidate(clusterId: string): void {
    this.entries.delete(clusterId);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Keeps the index fresh from the database's notifications; resolves to a stop function. */
  static async listen(database: { listen?: (channel: string, fn: (payload: string) => void) => Promise<() => Promise<void>> }, index: DesiredIndex) {
    if (!database.listen) return undefined;
    return database.listen(DESIRED_CHANNEL, (clusterId) => index.invalidate(clusterId));
  }
}
