// Database clients. `DATABASE_URL` set → postgres.js (here); unset → embedded PGlite (db/pglite.ts,
// kept apart so the Workers bundle never includes it). Both give the same drizzle `Db`, so nothing
// above the db layer knows which it has.
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from './schema.ts';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;
export type DatabaseKind = 'postgres' | 'pglite';

export interface Database {
  db: Db;
  kind: DatabaseKind;
  close(): Promise<void>;
  /**
   * LISTEN on a channel (Node drivers); `onListen` runs on every (re)subscription, after which
   * notifications sent meanwhile may have been missed. Resolves to a function that stops.
   */
  listen?(channel: string, onPayload: (payload: string) => void, onListen?: () => void): Promise<() => Promise<void>>;
  /**
   * Runs several statements (no parameters) in one round trip, as one implicit transaction (an
   * error rolls all of them back); resolves to the rows of each statement. See db/one-trip.ts.
   */
  simpleQuery?(text: string): Promise<Array<Array<Record<string, unknown>>>>;
  /**
   * Runs `fn` on a connection of its own that holds the session advisory lock `key` (waiting for
   * it); the lock goes with the connection when `fn` ends. PostgreSQL only.
   */
  exclusive?<T>(key: number, fn: (db: Db) => Promise<T>): Promise<T>;
}

export interface PostgresOptions {
  /** Pool size; the Workers entry uses a small per-request client. */
  max?: number;
  /** Workers/Hyperdrive: no type fetching round trip. */
  fetchTypes?: boolean;
  applicationName?: string;
  /** Sees every SQL statement drizzle sends (tests count the queries of a code path). */
  onQuery?: (sql: string) => void;
  /**
   * Where LISTEN goes, when it must not go through `url`: a pooler in transaction mode (PgBouncer)
   * hands the server connection that ran LISTEN to other clients, and the notifications are lost.
   * One connection of its own, direct to PostgreSQL.
   */
  listenUrl?: string;
}

export function openPostgres(url: string, opts: PostgresOptions = {}): Database {
  const client = connect(url, opts.max ?? 10, opts);
  const listener = opts.listenUrl ? connect(opts.listenUrl, 1, opts) : client;
  const logger = opts.onQuery ? { logQuery: (query: string) => opts.onQuery!(query) } : undefined;
  return {
    db: drizzlePostgres({ client, schema, ...(logger ? { logger } : {}) }) as unknown as Db,
    kind: 'postgres',
    close: async () => {
      await client.end({ timeout: 5 });
      if (listener !== client) await listener.end({ timeout: 5 });
    },
    async listen(channel, onPayload, onListen) {
      const { unlisten } = await listener.listen(channel, onPayload, onListen);
      return unlisten;
    },
    async exclusive(key, fn) {
      const single = connect(url, 1, opts);
      try {
        await single`select pg_advisory_lock(${key})`;
        return await fn(drizzlePostgres({ client: single, schema }) as unknown as Db);
      } finally {
        await single.end({ timeout: 5 });
      }
    },
    async simpleQuery(text) {
      const result = (await client.unsafe(text).simple()) as unknown as Array<unknown>;
      // postgres.js: several statements give one row list each, a single statement its rows.
      const lists = Array.isArray(result[0]) ? (result as Array<Array<Record<string, unknown>>>) : [result as Array<Record<string, unknown>>];
      return lists.map((rows) => Array.from(rows));
    },
  };
}

function connect(url: string, max: number, opts: PostgresOptions): postgres.Sql {
  return postgres(url, {
    max,
    idle_timeout: 20,
    max_lifetime: 60 * 30,
    connect_timeout: 10,
    // postgres.js delays a reconnect by a failure count the whole pool shares (up to 20 s), so
    // after a database restart a query handed to a waiting connection waited that long although
    // the server was back. Capped at 1 s, with jitter so that instances do not reconnect in step.
    backoff: (attempt: number) => Math.min(0.05 * 2 ** attempt, 1) * (0.5 + Math.random() / 2),
    fetch_types: opts.fetchTypes ?? true,
    onnotice: () => {},
    connection: { application_name: opts.applicationName ?? 'metalfleet' },
  });
}

/** Rows of a `db.execute()` result, whichever driver produced it. */
export function resultRows<T>(result: unknown): T[] {
  if (Array.isArray(result)) return Array.from(result as T[]); // postgres.js: an Array subclass
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

/** The driver error behind a drizzle error (postgres.js and PGlite name their fields differently). */
export interface PgErrorInfo { code: string; constraint?: string }
export function pgErrorInfo(err: unknown): PgErrorInfo | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const candidate = e as { code?: unknown; constraint?: unknown; constraint_name?: unknown };
    if (typeof candidate.code === 'string' && /^[0-9A-Z]{5}$/.test(candidate.code)) {
      const constraint = candidate.constraint_name ?? candidate.constraint;
      return { code: candidate.code, ...(typeof constraint === 'string' ? { constraint } : {}) };
    }
  }
  return undefined;
}
