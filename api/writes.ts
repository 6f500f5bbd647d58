// How a change to a tenant runs, and how withdrawals finish. Every write to a tenant's intent,
// address space or clusters opens `writeTenant`: one transaction that first takes the tenant's write
// lock (so the tenant's writes take turns and each renders from everything committed before it),
// then refuses to change a tenant that is being deleted. Deleting a cluster that may be
// announcing something withdraws it first; `finishWithdrawals` deletes what has withdrawn.
import { recordAudit } from '../db/queries/audit.ts';
import { deleteWithdrawnClusters } from '../db/queries/clusters.ts';
import { deleteWithdrawnTenant, getTenant } from '../db/queries/tenants.ts';
import { clusters } from '../db/schema.ts';
import { withPlatform, withTenantWrite, type Tx } from '../db/tenant.ts';
import { and, eq, isNotNull } from 'drizzle-orm';
import type { AppDeps } from './context.ts';
import { ApiError, notFound } from './errors.ts';

/** The actor of what the control plane does on its own (finishing withdrawals). */
export const SYSTEM_ACTOR = 'system:withdrawal';

export function tenantDeleting(slug: string): ApiError {
  return new ApiError(409, 'tenant-deleting', 'Tenant is being deleted',
    `tenant ${slug} is being deleted: its clusters are withdrawing what they announced, and it can no longer change`, {
      errors: [{ path: '', code: 'tenant-deleting', message: 'wait for the withdrawal to finish (GET the tenant), then create a new tenant if needed' }],
    });
}

/** A change to one tenant: the tenant's write lock first, then the change; refused while it is being deleted. */
export async function writeTenant<T>(deps: Pick<AppDeps, 'db'>, tenantId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return withTenantWrite(deps.db, tenantId, async (tx) => {
    const tenant = await getTenant(tx, { tenantId });
    if (!tenant) throw notFound('tenant');
    if (tenant.deletingSince) throw tenantDeleting(tenant.slug);
    return fn(tx);
  });
}

/**
 * Deletes the tenant's withdrawing clusters that hold no address space any more (their agents
 * applied the withdrawal), and the tenant itself when it is being deleted and no cluster is left.
 * Idempotent; run after a status report released holds, after a deletion, and by maintenance.
 * Returns the names of the clusters deleted and whether the tenant went.
 */
export async function finishWithdrawals(deps: Pick<AppDeps, 'db'>, tenantId: string, opts: { requestId?: string } = {}): Promise<{ clusters: string[]; tenantDeleted: boolean }> {
  const deleted = await withTenantWrite(deps.db, tenantId, async (tx) => {
    const withdrawing = await tx.select({ id: clusters.id }).from(clusters)
      .where(and(eq(clusters.tenantId, tenantId), isNotNull(clusters.withdrawingSince)));
    const names = await deleteWithdrawnClusters(tx, { clusterIds: withdrawing.map((c) => c.id) });
    for (const name of names) {
      await recordAudit(tx, { tenantId, actor: SYSTEM_ACTOR, action: 'delete', resource: 'cluster', resourceId: name,
        before: { state: 'withdrawing' }, after: null, requestId: opts.requestId ?? null });
    }
    const tenant = await getTenant(tx, { tenantId });
    return { names, deleting: tenant?.deletingSince != null, slug: tenant?.slug ?? tenantId };
  });
  let tenantDeleted = false;
  if (deleted.deleting) {
    tenantDeleted = await withPlatform(deps.db, async (tx) => {
      const gone = await deleteWithdrawnTenant(tx, { tenantId });
      if (gone) {
        await recordAudit(tx, { tenantId: null, actor: SYSTEM_ACTOR, action: 'delete', resource: 'tenant', resourceId: deleted.slug,
          before: { state: 'deleting' }, after: null, requestId: opts.requestId ?? null });
      }
      return gone;
    });
  }
  return { clusters: deleted.names, tenantDeleted };
}
