// Applying migrations and telling whether a database is behind. Node only: the migrator reads
// SQL files from disk (a Worker never migrates; run `metalfleet migrate` from a deploy step).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { resultRows, type Database } from './client.ts';

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../migrations', import.meta.url));

interface JournalEntry { idx: number; when: number; tag: string }

export function journal(): JournalEntry[] {
  const raw = readFileSync(`${MIGRATIONS_FOLDER}/meta/_journal.json`, 'utf8');
  return (JSON.parse(raw) as { entries: JournalEntry[] }).entries;
}

/** pg_advisory_lock key of `migrate` (any constant; advisory locks are per database). */
const MIGRATION_LOCK = 0x6d66_6d67; // 'mfmg'

/**
 * Applies pending migrations. On PostgreSQL under a session advisory lock: two `migrate` runs at
 * once (a Job retried while the first still runs, two deploy pipelines) would otherwise both see
 * the same migrations pending and the second would fail half way; with it the second waits, then
 * finds nothing to do.
 */
export async function migrate(database: Database): Promise<void> {
  if (database.kind === 'pglite') {
    const { migrate: run } = await import('drizzle-orm/pglite/migrator');
    await run(database.db as never, { migrationsFolder: MIGRATIONS_FOLDER });
    return;
  }
  const { migrate: run } = await import('drizzle-orm/postgres-js/migrator');
  const apply = (db: Database['db']) => run(db as never, { migrationsFolder: MIGRATIONS_FOLDER });
  await (database.exclusive ? database.exclusive(MIGRATION_LOCK, apply) : apply(database.db));
}

export interface MigrationStatus {
  applied: number;
  known: number;
  /** Tags of migrations this code has that the database has not applied. */
  pending: string[];
}

export async function migrationStatus(database: Database): Promise<MigrationStatus> {
  const entries = journal();
  const exists = resultRows<{ present: boolean }>(await database.db.execute(
    sql`select to_regclass('drizzle.__drizzle_migrations') is not null as present`));
  let lastApplied = -Infinity;
  let applied = 0;
  if (exists[0]?.present) {
    const rows = resultRows<{ n: number | string; last: number | string | null }>(await database.db.execute(
      sql`select count(*) as n, max(created_at) as last from drizzle.__drizzle_migrations`));
    applied = Number(rows[0]?.n ?? 0);
    lastApplied = rows[0]?.last == null ? -Infinity : Number(rows[0].last);
  }
  // The drizzle migrator applies an entry when its `when` is newer than the last applied one.
  const pending = entries.filter((e) => e.when > lastApplied).map((e) => e.tag);
  return { applied, known: entries.length, pending };
}
