// `metalfleet keys generate`: fresh values for METALFLEET_SIGNING_KEY and METALFLEET_SECRET_KEY,
// for deployments with a shared DATABASE_URL. `metalfleet keys resign`: the signing key rotation's
// sweep (api/key-rotation.ts), run once every instance signs with the new key.
import { generateSigningKeyJwk } from '../api/auth.ts';
import { resignRevisions } from '../api/key-rotation.ts';
import { generateSecretKeyText } from '../db/secrets.ts';
import { authConfig, readConfig } from './config.ts';
import { describeDatabase, withMigratedDatabase } from './database.ts';

export async function keysCommand(): Promise<void> {
  process.stdout.write(`METALFLEET_SIGNING_KEY='${JSON.stringify(await generateSigningKeyJwk())}'\n`);
  process.stdout.write(`METALFLEET_SECRET_KEY='${generateSecretKeyText()}'\n`);
}

/** Exit code 1 when revisions not signed by the current key remain (an instance still signs with an old one). */
export async function keysResignCommand(values: { json: boolean }): Promise<void> {
  const config = readConfig();
  const auth = await authConfig(config);
  const result = await withMigratedDatabase(config, (database) => resignRevisions(database.db, auth.signingKey));
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ kid: auth.signingKey.kid, ...result })}\n`);
  } else {
    for (const [kid, count] of Object.entries(result.byKid)) console.log(`re-signed ${count} revision(s) signed by ${kid}`);
    console.log(`${describeDatabase(config)}: ${result.resigned} revision(s) of ${result.tenants} tenant(s) re-signed with ${auth.signingKey.kid}; `
      + `${result.remaining} signed by another key remain${result.remaining === 0 ? ' (METALFLEET_SIGNING_KEYS_PREVIOUS can go)' : ''}`);
  }
  if (result.remaining > 0) process.exitCode = 1;
}
