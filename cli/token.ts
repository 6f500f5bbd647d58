// `metalfleet token create --role ROLE [--tenant SLUG] [--ttl 30d] [--name NAME]`: issues an API
// token straight into the database, for the first platform-admin token of a deployment (or to
// recover access). Everything else issues tokens through the API (POST /v1/tokens), which needs
// a token but not the database or any key. Needs DATABASE_URL (or the embedded data dir, while no
// server holds it open).
import { parseTtl, ROLES, type Role } from '../api/auth.ts';
import { issueToken } from '../api/routes/tokens.ts';
import { ApiError } from '../api/errors.ts';
import { migrationStatus } from '../db/migrate.ts';
import { withPlatform } from '../db/tenant.ts';
import { ConfigError, readConfig } from './config.ts';
import { openConfiguredDatabase } from './database.ts';

export async function tokenCommand(values: { role: string; tenant?: string; ttl?: string; name?: string }): Promise<void> {
  const config = readConfig();
  const role = values.role as Role | undefined;
  if (!role || !ROLES.includes(role)) throw new ConfigError(`--role must be one of ${ROLES.join(', ')}`);
  if (role !== 'platform-admin' && !values.tenant) throw new ConfigError(`--role ${role} needs --tenant SLUG`);
  if (role === 'platform-admin' && values.tenant) throw new ConfigError('a platform-admin token takes no --tenant');
  let ttl = config.tokenMaxTtlSeconds;
  try {
    if (values.ttl) ttl = parseTtl(values.ttl);
  } catch (err) {
    throw new ConfigError(`--ttl: ${(err as Error).message}`);
  }
  if (ttl > config.tokenMaxTtlSeconds) throw new ConfigError(`--ttl: a token may live at most ${config.tokenMaxTtlSeconds / 86_400} days (METALFLEET_TOKEN_MAX_TTL)`);
  const name = values.name ?? `cli:${role}${values.tenant ? `:${values.tenant}` : ''}`;
  const database = await openConfiguredDatabase(config);
  try {
    if ((await migrationStatus(database)).pending.length > 0) throw new ConfigError('the database is not migrated: run `metalfleet migrate` first');
    const { token } = await withPlatform(database.db, (tx) => issueToken(tx, {
      ...(values.tenant ? { tenantSlug: values.tenant } : {}), name, role, ttlSeconds: ttl, createdBy: 'metalfleet token create', now: new Date(),
    })).catch((err: unknown) => {
      if (err instanceof ApiError) throw new ConfigError(err.message);
      throw err;
    });
    process.stdout.write(`${token}\n`);
  } finally {
    await database.close();
  }
}
