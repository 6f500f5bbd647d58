import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import { openPostgres, resultRows } from '../../db/client.ts';
import { journal, migrate, migrationStatus } from '../../db/migrate.ts';
import { createScratchDatabase, onRealPostgres, openTestDatabase } from '../helpers/db.ts';

const needsServer = onRealPostgres ? false : 'needs a PostgreSQL server: set DATABASE_URL (CI does)';

test('migrations apply from scratch and a second run changes nothing', async () => {
  const database = await openTestDatabase({ migrated: false });
  try {
    const fresh = await migrationStatus(database);
    assert.deepEqual(fresh.pending, journal().map((e) => e.tag));
    await migrate(database);
    await migrate(database);
    const done = await migrationStatus(database);
    assert.deepEqual(done.pending, []);
    assert.equal(done.applied, journal().length);
    const forced = resultRows<{ relname: string }>(await database.db.execute(
      sql`select relname from pg_class where relkind = 'r' and relnamespace = 'public'::regnamespace and not (relrowsecurity and relforcerowsecurity)`));
    assert.deepEqual(forced, [], 'every table has ENABLE and FORCE row level security');
  } finally {
    await database.close();
  }
});

test('two databases on one server migrate, even at the same time', { skip: needsServer }, async () => {
  const scratches = await Promise.all([createScratchDatabase('mf_twin'), createScratchDatabase('mf_twin')]);
  const databases = scratches.map((scratch) => openPostgres(scratch.url, { max: 2 }));
  try {
    await Promise.all(databases.map((d) => migrate(d)));
    for (const d of databases) assert.deepEqual((await migrationStatus(d)).pending, []);
  } finally {
    for (const d of databases) await d.close();
    for (const scratch of scratches) await scratch.drop();
  }
});

test('several migrate runs on one database at once: one applies, the others wait and find nothing to do', { skip: needsServer }, async () => {
  const scratch = await createScratchDatabase('mf_race');
  const databases = Array.from({ length: 4 }, () => openPostgres(scratch.url, { max: 2 }));
  try {
    const outcomes = await Promise.allSettled(databases.map((d) => migrate(d)));
    assert.deepEqual(outcomes.map((o) => o.status === 'rejected' ? String(o.reason) : 'ok'), ['ok', 'ok', 'ok', 'ok']);
    assert.deepEqual((await migrationStatus(databases[0]!)).pending, []);
    const applied = resultRows<{ n: string }>(await databases[0]!.db.execute(sql`select count(*) as n from drizzle.__drizzle_migrations`));
    assert.equal(Number(applied[0]!.n), (await migrationStatus(databases[0]!)).known, 'each migration recorded once');
  } finally {
    for (const d of databases) await d.close();
    await scratch.drop();
  }
});

test('the scope roles cannot log in, are not superusers and cannot bypass RLS', async () => {
  const database = await openTestDatabase();
  try {
    const roles = resultRows<{ rolname: string; rolcanlogin: boolean; rolsuper: boolean; rolbypassrls: boolean }>(await database.db.execute(
      sql`select rolname, rolcanlogin, rolsuper, rolbypassrls from pg_roles where rolname like 'metalfleet\_%' order by rolname`));
    assert.deepEqual(roles.map((r) => r.rolname), ['metalfleet_agent', 'metalfleet_app', 'metalfleet_platform']);
    for (const r of roles) assert.deepEqual([r.rolcanlogin, r.rolsuper, r.rolbypassrls], [false, false, false], r.rolname);
  } finally {
    await database.close();
  }
});
