// The warm start: before an instance says it is ready (/readyz), it loads every active agent's keys
// and every cluster's desired revision into the poll caches (api/caches.ts), page by page. Without
// it, each agent's first poll after a restart costs an agent read and a desired-revision read on
// top of its EdDSA verification, ~770 polls/s on 2 cores: 100,000 agents polling every 30 s
// (3,333/s) took minutes to re-warm, and every poll meanwhile queued. With it the first poll of
// each agent costs a ticket check (api/agent-tickets.ts). Meanwhile agent requests the caches
// cannot answer yet get 503 warming-up instead of a database read each: those reads starved the
// warm start itself (198 s to ready at 100,000 agents instead of 10).
//
// Entries are dated back at random by up to half the TTL, so that they do not all expire (and
// miss) in the same poll interval ten minutes later.
//
// Memory stays bounded by the caches themselves: pages of `pageSize` rows, read one after the
// other in keyset order (each an index range scan), each turned into cache entries and dropped.
// A notification that arrives during a page's read drops that key from the page (fillMany), so a
// revision written or an agent revoked while loading is never cached stale.
import type { Db } from '../db/client.ts';
import { listActiveAgentKeys } from '../db/queries/agents.ts';
import { listDesiredAfter } from '../db/queries/revisions.ts';
import { withPlatform } from '../db/tenant.ts';
import { cachedAgent } from './agent-auth.ts';
import type { PollCaches } from './caches.ts';

export interface WarmResult { agents: number; desired: number; ms: number }

export const WARM_PAGE_SIZE = 5_000;

/** Loads the agents' keys and the desired revisions into `caches`; resolves with what it cached. */
export async function warmPollCaches(db: Db, caches: Pick<PollCaches, 'agents' | 'desired'>, opts: { pageSize?: number } = {}): Promise<WarmResult> {
  const started = performance.now();
  const limit = opts.pageSize ?? WARM_PAGE_SIZE;
  let agents = 0;
  let afterId: string | undefined;
  for (;;) {
    let page = 0;
    agents += await caches.agents.fillMany(async () => {
      const rows = await withPlatform(db, (tx) => listActiveAgentKeys(tx, { ...(afterId ? { afterId } : {}), limit }));
      page = rows.length;
      afterId = rows.at(-1)?.id;
      return rows.map((row) => [row.id, cachedAgent({ ...row, revokedAt: null })]);
    }, { ageSpreadMs: caches.agents.ttlMs / 2 });
    if (page < limit) break;
  }
  let desired = 0;
  let afterClusterId: string | undefined;
  for (;;) {
    let page = 0;
    desired += await caches.desired.fillMany(async () => {
      const rows = await withPlatform(db, (tx) => listDesiredAfter(tx, { ...(afterClusterId ? { afterClusterId } : {}), limit }));
      page = rows.length;
      afterClusterId = rows.at(-1)?.clusterId;
      return rows.map((row) => [row.clusterId, { revision: row.revision, sha256: row.sha256 }]);
    }, { ageSpreadMs: caches.desired.ttlMs / 2 });
    if (page < limit) break;
  }
  return { agents, desired, ms: performance.now() - started };
}
