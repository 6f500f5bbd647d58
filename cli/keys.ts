// `metalfleet keys generate`: fresh values for METALFLEET_SIGNING_KEY and METALFLEET_SECRET_KEY,
// for deployments with a shared DATABASE_URL.
import { generateSigningKeyJwk } from '../api/auth.ts';
import { generateSecretKeyText } from '../db/secrets.ts';
import { ConfigError } from './config.ts';

export async function keysCommand(argv: string[]): Promise<void> {
  if (argv[0] !== 'generate') throw new ConfigError('usage: metalfleet keys generate');
  process.stdout.write(`METALFLEET_SIGNING_KEY='${JSON.stringify(await generateSigningKeyJwk())}'\n`);
  process.stdout.write(`METALFLEET_SECRET_KEY='${generateSecretKeyText()}'\n`);
}
