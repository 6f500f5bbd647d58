// The bootstrap platform-admin token of `metalfleet serve`.
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { apiTokenId, apiTokenValid } from '../api/auth.ts';
import { issueToken } from '../api/routes/tokens.ts';
import type { Database } from '../db/client.ts';
import { countActivePlatformTokens, findToken } from '../db/queries/tokens.ts';
import { withPlatform } from '../db/tenant.ts';
import { ensureDataDir, type NodeConfig } from './config.ts';

export const BOOTSTRAP_TOKEN_FILE = 'admin.token';

/**
 * The embedded database's bootstrap platform-admin token, kept in the data dir (0600) so that a
 * new user can call the API at once. It is issued when the file is missing, or when the token in it
 * does not work with this database (the token expired or was revoked). A server on a shared
 * PostgreSQL never issues one: it would print a credential into a log that outlives it, and
 * instances starting together would each issue one. There the first token comes from
 * `metalfleet token create` (a deploy step, or `kubectl exec` into an instance).
 */
export async function bootstrapToken(config: NodeConfig, database: Database, say: (line: string) => void): Promise<void> {
  if (database.kind !== 'pglite') {
    if (await withPlatform(database.db, (tx) => countActivePlatformTokens(tx)) === 0) {
      say('no platform-admin token yet: `metalfleet token create --role platform-admin --name ops` with this DATABASE_URL');
    }
    return;
  }
  const path = join(config.dataDir, BOOTSTRAP_TOKEN_FILE);
  const kept = existsSync(path) ? readFileSync(path, 'utf8').trim() : undefined;
  const id = kept === undefined ? undefined : apiTokenId(kept);
  const works = id !== undefined && apiTokenValid(await withPlatform(database.db, (tx) => findToken(tx, { id })), kept!, new Date());
  if (works) {
    say(`platform-admin token: ${path} (issue more with POST /v1/tokens)`);
    return;
  }
  const { token } = await withPlatform(database.db, (tx) => issueToken(tx, {
    name: 'bootstrap-admin', role: 'platform-admin', ttlSeconds: Math.min(30 * 86_400, config.tokenMaxTtlSeconds), createdBy: 'metalfleet serve', now: new Date(),
  }));
  ensureDataDir(config);
  writeFileSync(path, `${token}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  say(`bootstrap platform-admin token (valid 30 days, saved in ${path}):\n${token}`);
}

