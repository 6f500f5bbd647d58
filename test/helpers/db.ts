// A migrated database for one test file. With DATABASE_URL set (CI does), a fresh database is
// created on that server for the file and dropped afterwards, so the real-Postgres path is what
// runs; otherwise an in-memory PGlite.
import postgres from 'postgres';
import { openPostgres, type Database } from '../../db/client.ts';
import { openPglite } from '../../db/pglite.ts';
import { migrate } from '../../db/migrate.ts';

export interface TestDatabase extends Database {
  /** The URL of the per-file database (real Postgres only). */
  url?: string;
}

export const onRealPostgres = Boolean(process.env.DATABASE_URL);

/** A URL for a brand-new empty database on the DATABASE_URL server, and how to drop it. */
export async function createScratchDatabase(prefix = 'mf_test'): Promise<{ url: string; drop: () => Promise<void> }> {
  const adminUrl = process.env.DATABASE_URL!;
  const name = `${prefix}_${process.pid}_${crypto.randomUUID().slice(0, 8)}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const again = postgres(adminUrl, { max: 1, onnotice: () => {} });
      try {
        await again.unsafe(`drop database if exists "${name}" with (force)`);
      } finally {
        await again.end();
      }
    },
  };
}

export async function openTestDatabase(opts: { migrated?: boolean; max?: number; onQuery?: (sql: string) => void } = {}): Promise<TestDatabase> {
  let database: TestDatabase;
  if (onRealPostgres) {
    const scratch = await createScratchDatabase();
    const opened = openPostgres(scratch.url, { max: opts.max ?? 10, ...(opts.onQuery ? { onQuery: opts.onQuery } : {}) });
    database = {
      ...opened,
      url: scratch.url,
      close: async () => {
        await opened.close();
        await scratch.drop();
      },
    };
  } else {
    database = await openPglite(undefined, opts.onQuery ? { onQuery: opts.onQuery } : {});
  }
  if (opts.migrated ?? true) await migrate(database);
  return database;
}
