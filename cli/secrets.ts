// `metalfleet secrets reseal`: the secret key rotation's sweep (api/key-rotation.ts). Seals every
// stored secret again under METALFLEET_SECRET_KEY, opening each with the key it names (the current
// one or METALFLEET_SECRET_KEY_PREVIOUS), and reports what is left of other keys: 0 means the
// previous keys can be dropped. Exit code 1 when anything is left.
import { resealSecrets } from '../api/key-rotation.ts';
import { loadSecretKey, readConfig } from './config.ts';
import { describeDatabase, withMigratedDatabase } from './database.ts';

export async function secretsResealCommand(values: { json: boolean }): Promise<void> {
  const config = readConfig();
  const secretKey = await loadSecretKey(config);
  const result = await withMigratedDatabase(config, (database) => resealSecrets(database.db, secretKey));
  const remaining = result.remaining.reduce((n, r) => n + r.count, 0);
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ keyId: secretKey.id, ...result })}\n`);
  } else {
    const { resealed } = result;
    console.log(`${describeDatabase(config)}: resealed under key ${secretKey.id} in ${result.tenants} tenant(s): `
      + `${resealed['peer-password']} peer password(s), ${resealed['revision-content']} revision content(s), `
      + `${resealed['revision-intent']} revision intent(s)`);
    for (const r of result.remaining) console.log(`left: ${r.count} ${r.kind} envelope(s) of key ${r.keyId}`);
    for (const id of result.unknownKeyIds) console.log(`key ${id} is not configured: add it to METALFLEET_SECRET_KEY_PREVIOUS and run this again`);
    console.log(remaining === 0
      ? '0 envelopes of other keys remain: METALFLEET_SECRET_KEY_PREVIOUS can go'
      : `${remaining} envelope(s) of other keys remain`);
  }
  if (remaining > 0) process.exitCode = 1;
}
