// What the poll path keeps in memory so that a 304 touches neither the database nor a key
// import: each cluster's desired revision and sha256, and each agent's record with its imported
// public key(s). Postgres announces every change to either (LISTEN/NOTIFY, migrations 0005 and
// 0006) and the entry is dropped at once on every instance; whenever the listener (re)subscribes,
// everything is dropped, since a notification may have been missed meanwhile. The TTL is only a
// backstop. Without a listener (Workers) there is no desired index (one indexed read per poll),
// and agent records live for a short TTL only.
import type { Database } from '../db/client.ts';

export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; at: number }>();
  /** Counts deletions and clears: a read that overlaps one may hold what was just invalidated. */
  private invalidations = 0;

  constructor(readonly ttlMs: number, private readonly now: () => number = Date.now) {}

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (this.now() - entry.at > this.ttlMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: V): void {
    this.entries.set(key, { value, at: this.now() });
  }

  /**
   * Reads `key` from the database and caches the answer, unless an invalidation arrived while the
   * read was in flight: that read may have seen the rows from before the change the notification
   * announced, and caching it would keep a stale desired revision (or an agent revoked meanwhile)
   * for the whole TTL. Skipping the cache then only costs the next request one more read.
   */
  async fill(key: string, read: () => Promise<V | undefined>): Promise<V | undefined> {
    const before = this.invalidations;
    const value = await read();
    if (value !== undefined && this.invalidations === before) this.set(key, value);
    return value;
  }

  delete(key: string): void {
    this.invalidations++;
    this.entries.delete(key);
  }

  clear(): void {
    this.invalidations++;
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}

export interface Desired { revision: number; sha256: string }

/**
 * An agent as the poll path needs it: the row, and its current (and grace-period) public keys.
 * Keys stay JWKs (about 100 bytes); they are imported only to verify a new assertion, roughly
 * once per assertion lifetime per agent, while an imported key costs kilobytes of native memory.
 */
export interface CachedAgent {
  record: { id: string; clusterId: string; tenantId: string; revokedAt: Date | null };
  keys: Array<{ kid: string; jwk: Record<string, string>; validUntil?: number }>;
}

export interface PollCaches {
  desired: TtlCache<Desired>;
  agents: TtlCache<CachedAgent>;
}

export const DESIRED_CHANNEL = 'metalfleet_desired';
export const AGENTS_CHANNEL = 'metalfleet_agents';

/** Caches kept fresh by notifications: entries may live long. */
export function notifiedPollCaches(ttlMs = 10 * 60_000): PollCaches {
  return { desired: new TtlCache(ttlMs), agents: new TtlCache(ttlMs) };
}

/** Subscribes the caches to the database's change notifications; resolves to a stop function. */
export async function listenForInvalidations(database: Pick<Database, 'listen'>, caches: PollCaches): Promise<(() => Promise<void>) | undefined> {
  if (!database.listen) return undefined;
  const resubscribed = () => { caches.desired.clear(); caches.agents.clear(); };
  const stopDesired = await database.listen(DESIRED_CHANNEL, (clusterId) => caches.desired.delete(clusterId), resubscribed);
  const stopAgents = await database.listen(AGENTS_CHANNEL, (agentId) => caches.agents.delete(agentId), resubscribed);
  return async () => { await stopDesired(); await stopAgents(); };
}
