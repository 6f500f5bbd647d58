// `metalfleet verify [--no-repair] [--json]`: checks every cluster's desired config against the
// render of its committed intent (api/verify.ts) and repairs those that differ. The maintenance job
// does the same for a sample of clusters every hour. Exit code 0: all matched; 1: some differed
// (repaired unless --no-repair).
import { migrationStatus } from '../db/migrate.ts';
import { verifyFleet } from '../api/verify.ts';
import { authConfig, ConfigError, readConfig, loadSecretKey } from './config.ts';
import { describeDatabase, openConfiguredDatabase, unreachable } from './database.ts';

export async function verifyCommand(values: { repair: boolean; json: boolean }): Promise<void> {
  const config = readConfig();
  const secretKey = await loadSecretKey(config);
  const auth = await authConfig(config);
  const database = await openConfiguredDatabase(config);
  try {
    const status = await migrationStatus(database).catch((err: unknown) => { throw unreachable(config, err); });
    if (status.pending.length > 0) throw new ConfigError(`the database is ${status.pending.length} migration(s) behind: run \`metalfleet migrate\` first`);
    const { repair } = values;
    const result = await verifyFleet(database.db, { secretKey, signingKey: auth.signingKey }, { repair });
    if (values.json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } else {
      for (const f of result.findings) {
        const what = f.kind === 'drift' ? `desired r${f.desiredRevision} differs from its intent` : 'its intent no longer renders and its status did not say so';
        const done = f.repairedRevision !== undefined ? `; repaired as r${f.repairedRevision}` : repair ? '; status now names the problems' : '';
        console.log(`cluster ${f.cluster} (tenant ${f.tenantId}): ${what}${done}`);
      }
      console.log(`${result.checked} cluster(s) checked in ${describeDatabase(config)}: ${result.findings.length} differed`);
    }
    if (result.findings.length > 0) process.exitCode = 1;
  } finally {
    await database.close();
  }
}
