// Maintenance shared by both runtimes: `metalfleet serve` runs it every hour on Node, a Cron
// Trigger runs it on Workers (wrangler.toml). Every write renders a new revision for each cluster
// it changes, so without this config_revisions grows without end (a busy fleet adds revisions by
// the hundred thousand a day, each up to megabytes).
//
// It works tenant by tenant in the tenant's own scope (row-level security as for any write), and
// every step is idempotent: two instances running it at once only repeat each other.
import { pruneEnrollmentTokens } from '../db/queries/agents.ts';
import { pruneRevisions } from '../db/queries/revisions.ts';
import type { Db } from '../db/client.ts';
import { tenants } from '../db/schema.ts';
import { withPlatform, withTenant } from '../db/tenant.ts';

export const DEFAULT_REVISIONS_KEPT = 100;
/** Expired enrollment tokens are listed (used or not) for this long, then deleted. */
export const EXPIRED_TOKENS_KEPT_DAYS = 30;

/** METALFLEET_REVISIONS_KEPT: how many revisions each cluster keeps (the applied one is always kept too). */
export function parseRevisionsKept(text: string | undefined): number {
  if (text === undefined || text === '') return DEFAULT_REVISIONS_KEPT;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 1_000_000) throw new RangeError(`METALFLEET_REVISIONS_KEPT must be a whole number from 1 to 1000000, got ${JSON.stringify(text)}`);
  return n;
}

export interface MaintenanceResult { tenants: number; revisionsDeleted: number; tokensDeleted: number }

export async function runMaintenance(db: Db, opts: { revisionsKept: number; now: Date }): Promise<MaintenanceResult> {
  const expiredBefore = new Date(opts.now.getTime() - EXPIRED_TOKENS_KEPT_DAYS * 86_400_000);
  const ids = await withPlatform(db, (tx) => tx.select({ id: tenants.id }).from(tenants));
  const result: MaintenanceResult = { tenants: ids.length, revisionsDeleted: 0, tokensDeleted: 0 };
  for (const { id } of ids) {
    await withTenant(db, id, async (tx) => {
      result.revisionsDeleted += await pruneRevisions(tx, { keep: opts.revisionsKept });
      result.tokensDeleted += await pruneEnrollmentTokens(tx, { expiredBefore });
    });
  }
  return result;
}
