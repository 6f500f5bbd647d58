// `metalfleet migrate`: apply pending migrations to the configured database.
import { migrate, migrationStatus } from '../db/migrate.ts';
import { readConfig } from './config.ts';
import { openConfiguredDatabase, describeDatabase, unreachable } from './database.ts';

export async function migrateCommand(): Promise<void> {
  const config = readConfig();
  const database = await openConfiguredDatabase(config);
  try {
    const before = await migrationStatus(database).catch((err: unknown) => { throw unreachable(config, err); });
    await migrate(database);
    const after = await migrationStatus(database);
    if (after.pending.length > 0) throw new Error(`migrations still pending after migrate: ${after.pending.join(', ')}`);
    console.log(before.pending.length === 0
      ? `${describeDatabase(config)} is up to date (${after.known} migrations)`
      : `applied ${before.pending.join(', ')} to ${describeDatabase(config)}`);
  } finally {
    await database.close();
  }
}
