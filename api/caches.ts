// What the poll path keeps in memory so that a 304 touches neither the database nor a key
// import: each cluster's desired revision and sha256, and each agent's record with its public
// key(s); and, for every other request, each API token seen (api/auth.ts). Postgres announces every change to either (LISTEN/NOTIFY, migrations 0005 and 0006) and
// the entry is dropped at once on every instance; whenever the listener (re)subscribes,
// everything is dropped, since a notification may have been missed meanwhile. The TTL is only a
// backstop. Without a listener (Workers) there is no desired index (one indexed read per poll),
// and agent records live for a short TTL only.
//
// The caches are trusted only while the listener demonstrably works: every instance sends a
// heartbeat notification every couple of seconds, and a listener that has heard none for a few
// intervals (a killed or silently dead connection) makes the caches answer nothing, so that polls
// read the database, until it hears one again (then everything is dropped first). While the
// database itself cannot be reached, the last desired revision read still answers a matching poll
// (lastKnown): a 304 only tells an agent to keep the config it has, as a 503 would; an agent or a
// token a notification invalidated is never accepted from memory.
import { sql } from 'drizzle-orm';
import type { Database, Db } from '../db/client.ts';
import type { CachedToken } from './auth.ts';

/**
 * What lastKnown() answers with while the database is away:
 * - `always` (desired revisions): the last value read, even after a notification invalidated it
 *   (a stale 304 only tells an agent to keep what it has, as a 503 would);
 * - `until-announced` (identities: agents, tokens): the last value read unless a notification
 *   named the key since (a revocation holds even while the database is away). A clear() on
 *   resubscribing announces nothing and keeps it: dropping it there turned every poll of a
 *   database outage that followed a listener reconnect into a 503.
 */
export type LastKnown = 'always' | 'until-announced';

export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; at: number }>();
  /** Counts deletions and clears: a read that overlaps one may hold what was just invalidated. */
  private invalidations = 0;
  /** Counts deletions only (notifications naming a key). */
  private announcements = 0;
  /** The last value read for each key, for lastKnown(). */
  private readonly lastRead = new Map<string, V>();
  /** Counts clears only: a bulk read that overlaps one caches nothing. */
  private clears = 0;
  /** The keys notifications name while bulk reads are in flight (fillMany). */
  private readonly watchers = new Set<Set<string>>();

  constructor(readonly ttlMs: number, private readonly now: () => number = Date.now, private readonly trusted: () => boolean = () => true,
    private readonly keep: LastKnown = 'until-announced') {}

  /** The entry while it is fresh and the cache is trusted. */
  get(key: string): V | undefined {
    if (!this.trusted()) return undefined;
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (this.now() - entry.at > this.ttlMs) return undefined;
    return entry.value;
  }

  /** The last value known for `key`, however old (see LastKnown): for when the database is away. */
  lastKnown(key: string): V | undefined {
    return this.lastRead.get(key);
  }

  set(key: string, value: V): void {
    this.entries.set(key, { value, at: this.now() });
    this.lastRead.set(key, value);
  }

  /**
   * Reads `key` from the database and caches the answer, unless an invalidation arrived while the
   * read was in flight: that read may have seen the rows from before the change the notification
   * announced, and caching it would keep a stale desired revision (or an agent revoked meanwhile)
   * for the whole TTL. Skipping the cache then only costs the next request one more read.
   */
  async fill(key: string, read: () => Promise<V | undefined>): Promise<V | undefined> {
    const before = this.invalidations;
    const announcedBefore = this.announcements;
    const value = await read();
    if (value !== undefined && (this.keep === 'always' || this.announcements === announcedBefore)) this.lastRead.set(key, value);
    if (value !== undefined && this.invalidations === before) this.entries.set(key, { value, at: this.now() });
    return value;
  }

  /**
   * Reads many entries at once (the warm start, api/warm.ts) and caches them, leaving out those a
   * notification named while the read was in flight (as fill() does for one), and all of them if
   * the cache was cleared meanwhile (a resubscription: anything may have been missed). Returns how
   * many were cached. `ageSpreadMs`: entries are dated up to that much in the past, at random, so
   * that a cache filled at once does not expire at once (all its misses in one poll interval).
   */
  async fillMany(read: () => Promise<Array<[string, V]>>, opts: { ageSpreadMs?: number } = {}): Promise<number> {
    const named = new Set<string>();
    const clearsBefore = this.clears;
    this.watchers.add(named);
    let rows: Array<[string, V]>;
    try {
      rows = await read();
    } finally {
      this.watchers.delete(named);
    }
    if (this.clears !== clearsBefore) return 0;
    const at = this.now();
    let cached = 0;
    for (const [key, value] of rows) {
      if (named.has(key)) continue;
      this.entries.set(key, { value, at: opts.ageSpreadMs ? at - Math.random() * opts.ageSpreadMs : at });
      this.lastRead.set(key, value);
      cached++;
    }
    return cached;
  }

  delete(key: string): void {
    this.invalidations++;
    this.announcements++;
    for (const named of this.watchers) named.add(key);
    this.entries.delete(key);
    if (this.keep === 'until-announced') this.lastRead.delete(key);
  }

  clear(): void {
    this.invalidations++;
    this.clears++;
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}

export interface Desired { revision: number; sha256: string }

/**
 * An agent as the poll path needs it, flat: its ids, whether it is revoked, and its Ed25519 public
 * key(s) as the JWK's base64url `x` (the JWK is rebuilt and imported only to verify a new assertion,
 * roughly once per assertion lifetime per agent; an imported key costs kilobytes of native memory).
 * Measured with V8 heap snapshots at 20,000 agents: the nested form this replaced (a record object,
 * a keys array, a key object and a JWK object each) took ~690 bytes of heap per agent with its map
 * entries; this ~570, ~510 where a tenant's agents share its id (api/agent-auth.ts interns it). What
 * is left is the data (five ids and keys, ~300 bytes) and the two maps' tables and entry wrappers.
 */
export interface CachedAgent {
  id: string;
  clusterId: string;
  tenantId: string;
  revoked: boolean;
  kid: string;
  x: string;
  /** During a rotation's grace period: the previous key, and until when (epoch ms) it is good. */
  previous?: { kid: string; x: string; validUntil: number };
}

/** Whether notifications are known to arrive: the caches answer only while they are. */
export class ListenerHealth {
  private lastHeardAt = Number.NEGATIVE_INFINITY;
  private wasTrusted = false;

  /** `toleranceMs`: how long without a heartbeat before the caches stop answering. */
  constructor(readonly toleranceMs: number, private readonly now: () => number = Date.now, private readonly onRegained: () => void = () => {}) {}

  /** A heartbeat (or a fresh subscription) was heard. */
  heard(): void {
    if (!this.trusted()) {
      // Notifications may have been missed while it was deaf: nothing cached before may be kept.
      this.onRegained();
    }
    this.lastHeardAt = this.now();
    this.wasTrusted = true;
  }

  trusted(): boolean {
    return this.wasTrusted && this.now() - this.lastHeardAt <= this.toleranceMs;
  }
}

export interface PollCaches {
  desired: TtlCache<Desired>;
  agents: TtlCache<CachedAgent>;
  tokens: TtlCache<CachedToken>;
  /** Set where a listener keeps the caches fresh (listenForInvalidations). */
  health?: ListenerHealth;
  /**
   * Called after everything was dropped (a resubscription, or the listener heard again after a
   * silence): `serve` loads the caches again in bulk (api/warm.ts), since refilling them poll by
   * poll costs two database reads per agent, which under load delayed the heartbeat again.
   */
  afterClear?: () => void;
}

export const DESIRED_CHANNEL = 'metalfleet_desired';
export const AGENTS_CHANNEL = 'metalfleet_agents';
export const TOKENS_CHANNEL = 'metalfleet_tokens';
export const HEARTBEAT_CHANNEL = 'metalfleet_heartbeat';
export const HEARTBEAT_MS = 2_000;

/** Caches kept fresh by notifications: entries may live long, while the listener is heard. */
export function notifiedPollCaches(opts: { ttlMs?: number; heartbeatMs?: number; now?: () => number } = {}): PollCaches {
  const now = opts.now ?? Date.now;
  const caches: PollCaches = {} as PollCaches;
  const health = new ListenerHealth(3 * (opts.heartbeatMs ?? HEARTBEAT_MS), now, () => clearAll(caches));
  const trusted = () => health.trusted();
  caches.desired = new TtlCache(opts.ttlMs ?? 10 * 60_000, now, trusted, 'always');
  caches.agents = new TtlCache(opts.ttlMs ?? 10 * 60_000, now, trusted);
  caches.tokens = new TtlCache(opts.ttlMs ?? 10 * 60_000, now, trusted);
  caches.health = health;
  return caches;
}

/**
 * Subscribes the caches to the database's change notifications and starts the heartbeat;
 * resolves to a stop function. Without LISTEN (Workers) there is nothing to subscribe.
 */
export async function listenForInvalidations(database: Pick<Database, 'listen'> & { db: Db }, caches: PollCaches,
  opts: { heartbeatMs?: number } = {}): Promise<(() => Promise<void>) | undefined> {
  if (!database.listen) return undefined;
  const health = caches.health;
  const resubscribed = () => {
    clearAll(caches);
    health?.heard();
  };
  const stops = [
    await database.listen(DESIRED_CHANNEL, (clusterId) => caches.desired.delete(clusterId), resubscribed),
    await database.listen(AGENTS_CHANNEL, (agentId) => caches.agents.delete(agentId), resubscribed),
    await database.listen(TOKENS_CHANNEL, (tokenId) => caches.tokens.delete(tokenId), resubscribed),
    await database.listen(HEARTBEAT_CHANNEL, () => health?.heard(), resubscribed),
  ];
  // Any instance's heartbeat proves this listener hears the database; a failed send is what an
  // outage looks like, and the missing heartbeat then says so.
  const beat = setInterval(() => {
    database.db.execute(sql`select pg_notify(${HEARTBEAT_CHANNEL}, '')`).catch(() => {});
  }, opts.heartbeatMs ?? HEARTBEAT_MS);
  beat.unref();
  return async () => {
    clearInterval(beat);
    for (const stop of stops) await stop();
  };
}

function clearAll(caches: PollCaches): void {
  caches.desired.clear();
  caches.agents.clear();
  caches.tokens.clear();
  caches.afterClear?.();
}
