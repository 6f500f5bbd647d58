// `metalfleet token create --role ROLE [--tenant SLUG] [--ttl 12h] [--subject NAME]`: mints an API
// token with the local signing key (the same one `serve` uses).
import { parseArgs } from 'node:util';
import { mintToken, parseTtl, ROLES, type Role } from '../api/auth.ts';
import { authConfig, ConfigError, readConfig } from './config.ts';

export async function tokenCommand(argv: string[]): Promise<void> {
  const [verb, ...rest] = argv;
  if (verb !== 'create') throw new ConfigError('usage: metalfleet token create --role ROLE [--tenant SLUG] [--ttl 12h] [--subject NAME]');
  const { values } = parseArgs({
    args: rest,
    options: { role: { type: 'string' }, tenant: { type: 'string' }, ttl: { type: 'string', default: '12h' }, subject: { type: 'string' } },
    strict: true,
  });
  const role = values.role as Role | undefined;
  if (!role || !ROLES.includes(role)) throw new ConfigError(`--role must be one of ${ROLES.join(', ')}`);
  if (role !== 'platform-admin' && !values.tenant) throw new ConfigError(`--role ${role} needs --tenant SLUG`);
  if (role === 'platform-admin' && values.tenant) throw new ConfigError('a platform-admin token takes no --tenant');
  let ttl: number;
  try {
    ttl = parseTtl(values.ttl!);
  } catch (err) {
    throw new ConfigError(`--ttl: ${(err as Error).message}`);
  }
  const auth = await authConfig(readConfig());
  const subject = values.subject ?? `cli:${role}${values.tenant ? `:${values.tenant}` : ''}`;
  process.stdout.write(`${await mintToken(auth, { sub: subject, role, ...(values.tenant ? { tenant: values.tenant } : {}) }, ttl)}\n`);
}
