// Maintenance shared by both runtimes: `metalfleet serve` runs it every hour on Node, a Cron
// Trigger runs it on Workers (wrangler.toml). Every write renders a new revision for each cluster
// it changes, so without this config_revisions grows without end (a busy fleet adds revisions by
// the hundred thousand a day, each up to megabytes).
//
// It works tenant by tenant in the tenant's own scope (row-level security as for any write), and
// every step is idempotent: two instances running it at once only repeat each other.
//
// It also finishes withdrawals whose agents applied them without a status report reaching the
// API that could have finished them (api/writes.ts), and checks a random sample of clusters
// against their intent (api/verify.ts), repairing any that differ.
import { isNotNull } from 'drizzle-orm';
import { pruneEnrollmentTokens } from '../db/queries/agents.ts';
import { deleteExpiredConsoleSessions } from '../db/queries/console-sessions.ts';
import { pruneRevisions } from '../db/queries/revisions.ts';
import type { Db } from '../db/client.ts';
import { clusters, tenants } from '../db/schema.ts';
import { withPlatform, withTenant } from '../db/tenant.ts';
import type { RenderDeps } from '../api/rendering.ts';
import { verifyFleet, type VerifyFinding } from '../api/verify.ts';
import { finishWithdrawals } from '../api/writes.ts';
import { advanceRollouts } from '../api/rollouts.ts';

export const DEFAULT_REVISIONS_KEPT = 100;
/** Expired enrollment tokens are listed (used or not) for this long, then deleted. */
export const EXPIRED_TOKENS_KEPT_DAYS = 30;

/** METALFLEET_VERIFY_SAMPLE: how many clusters each maintenance run checks against their intent (0: none). */
export function parseVerifySample(text: string | undefined): number {
  if (text === undefined || text === '') return DEFAULT_VERIFY_SAMPLE;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 1_000_000) throw new RangeError(`METALFLEET_VERIFY_SAMPLE must be a whole number from 0 to 1000000, got ${JSON.stringify(text)}`);
  return n;
}

/** METALFLEET_REVISIONS_KEPT: how many revisions each cluster keeps (the applied one is always kept too). */
export function parseRevisionsKept(text: string | undefined): number {
  if (text === undefined || text === '') return DEFAULT_REVISIONS_KEPT;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 1_000_000) throw new RangeError(`METALFLEET_REVISIONS_KEPT must be a whole number from 1 to 1000000, got ${JSON.stringify(text)}`);
  return n;
}

/** Clusters checked against their intent per maintenance run (METALFLEET_VERIFY_SAMPLE). */
export const DEFAULT_VERIFY_SAMPLE = 200;

export interface MaintenanceResult {
  tenants: number;
  revisionsDeleted: number;
  tokensDeleted: number;
  /** Console sessions and sign-in links past their expiry. */
  consoleSessionsDeleted: number;
  /** Withdrawn clusters (and tenants) deleted. */
  withdrawalsFinished: number;
  verified: number;
  /** Clusters whose desired config was not the render of their intent (repaired). */
  drift: VerifyFinding[];
  /** Tenants whose progressing rollouts were advanced (bake times, timeouts). */
  rolloutTenants?: number;
}

export async function runMaintenance(db: Db, opts: {
  revisionsKept: number; now: Date; verify?: { deps: RenderDeps; sample: number }; rollouts?: { deps: Pick<RenderDeps, 'secretKey'> };
}): Promise<MaintenanceResult> {
  const expiredBefore = new Date(opts.now.getTime() - EXPIRED_TOKENS_KEPT_DAYS * 86_400_000);
  const { ids, withdrawing, consoleSessionsDeleted } = await withPlatform(db, async (tx) => ({
    ids: await tx.select({ id: tenants.id }).from(tenants),
    withdrawing: await tx.selectDistinct({ tenantId: clusters.tenantId }).from(clusters).where(isNotNull(clusters.withdrawingSince)),
    consoleSessionsDeleted: await deleteExpiredConsoleSessions(tx, { now: opts.now }),
  }));
  const result: MaintenanceResult = {
    tenants: ids.length, revisionsDeleted: 0, tokensDeleted: 0, consoleSessionsDeleted, withdrawalsFinished: 0, verified: 0, drift: [],
    rolloutTenants: 0,
  };
  if (opts.rollouts) result.rolloutTenants = await advanceRollouts(db, opts.rollouts.deps, opts.now);
  for (const { id } of ids) {
    await withTenant(db, id, async (tx) => {
      result.revisionsDeleted += await pruneRevisions(tx, { keep: opts.revisionsKept });
      result.tokensDeleted += await pruneEnrollmentTokens(tx, { expiredBefore });
    });
  }
  for (const { tenantId } of withdrawing) {
    const finished = await finishWithdrawals({ db }, tenantId);
    result.withdrawalsFinished += finished.clusters.length + (finished.tenantDeleted ? 1 : 0);
  }
  if (opts.verify) {
    const verified = await verifyFleet(db, opts.verify.deps, { sample: opts.verify.sample, repair: true });
    result.verified = verified.checked;
    result.drift = verified.findings;
  }
  return result;
}
