// Embedded Postgres (PGlite, WebAssembly) for `npm start` and the tests. Node only.
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import * as schema from './schema.ts';
import type { Database, Db } from './client.ts';

/** `dataDir` undefined → in memory (tests). */
export async function openPglite(dataDir?: string, opts: { onQuery?: (sql: string) => void } = {}): Promise<Database> {
  const client = dataDir ? new PGlite(dataDir) : new PGlite();
  await client.waitReady;
  const logger = opts.onQuery ? { logQuery: (query: string) => opts.onQuery!(query) } : undefined;
  return {
    db: drizzle({ client, schema, ...(logger ? { logger } : {}) }) as unknown as Db,
    kind: 'pglite',
    close: () => client.close(),
    async listen(channel, onPayload, onListen) {
      const unlisten = await client.listen(channel, onPayload);
      onListen?.();
      return async () => { await unlisten(); };
    },
    async simpleQuery(text) {
      const results = await client.exec(text);
      return results.map((r) => r.rows as Array<Record<string, unknown>>);
    },
  };
}
