// Deleting a tenant without letting two tenants announce one prefix. A tenant whose clusters have
// no agent announces nothing and goes at once. One whose clusters have agents is refused (409)
// unless the platform admin forces it; then its intent and grants go at once, its clusters become
// withdrawing (each gets an empty config), and the tenant row (with clusters and agents) goes once
// every agent has applied that (api/writes.ts finishWithdrawals). Until then its address space
// stays held (db/queries/holds.ts): nobody can be granted it.
import { recordAudit } from '../db/queries/audit.ts';
import { clustersWithAgents, listClusters, markWithdrawing } from '../db/queries/clusters.ts';
import { clusterHolds } from '../db/queries/holds.ts';
import { deleteTenant, deleteTenantIntent, getTenant, lockTenantRow, markTenantDeleting, type TenantRecord } from '../db/queries/tenants.ts';
import { continueAsPlatform, lockTenantWrites, withPlatform, withTenantWrite } from '../db/tenant.ts';
import { renderDeps, type AppDeps, type Ctx } from './context.ts';
import { ApiError, notFound } from './errors.ts';
import { renderClusters } from './rendering.ts';
import { finishWithdrawals, tenantDeleting } from './writes.ts';
import { EVERY_CLUSTER } from '../render/scope.ts';

const present = (t: TenantRecord) => ({ slug: t.slug, name: t.name });

/** Without force: at once, or 409 while any cluster has an agent (which may be announcing). */
export async function deleteTenantAtOnce(deps: AppDeps, c: Ctx, tenant: TenantRecord): Promise<undefined> {
  await withPlatform(deps.db, async (tx) => {
    await lockTenantWrites(tx, tenant.id);
    const current = await lockTenantRow(tx, { tenantId: tenant.id });
    if (!current) throw notFound(`tenant ${JSON.stringify(tenant.slug)}`);
    if (current.deletingSince) throw tenantDeleting(current.slug);
    const withAgents = await clustersWithAgents(tx, { tenantId: tenant.id });
    if (withAgents.length > 0) {
      const names = withAgents.map((cl) => cl.name);
      throw new ApiError(409, 'tenant-has-agents', 'Tenant has enrolled agents',
        `clusters ${names.join(', ')} have agents that may be announcing the tenant's addresses; nothing was deleted`, {
          errors: [{ path: 'force', code: 'tenant-has-agents',
            message: 'DELETE with ?force=true withdraws every cluster first and deletes the tenant once their agents applied that; or delete the clusters first' }],
          extensions: { clusters: names },
        });
    }
    await deleteTenant(tx, { tenantId: tenant.id });
    await recordAudit(tx, { tenantId: null, actor: c.get('principal').sub, action: 'delete', resource: 'tenant', resourceId: current.slug,
      before: present(current), after: null, requestId: c.get('requestId') });
  });
  return undefined;
}

/** With force: withdraw, then delete once withdrawn. Undefined when the tenant is gone already (204). */
export async function deleteTenantWithdrawing(deps: AppDeps, c: Ctx, tenant: TenantRecord) {
  const started = await withTenantWrite(deps.db, tenant.id, async (tx) => {
    const current = await getTenant(tx, { tenantId: tenant.id });
    if (!current) throw notFound(`tenant ${JSON.stringify(tenant.slug)}`);
    const clusters = await listClusters(tx, { tenantId: tenant.id, limit: 1_000_000 });
    if (!current.deletingSince) {
      await deleteTenantIntent(tx, { tenantId: tenant.id });
      await markWithdrawing(tx, { clusterIds: clusters.map((cl) => cl.id) });
      await markTenantDeleting(tx, { tenantId: tenant.id });
      await renderClusters(tx, renderDeps(deps), {
        tenantId: tenant.id, scope: EVERY_CLUSTER, refuseOnProblems: false, cause: `delete tenant ${current.slug} by ${c.get('principal').sub}`,
      });
    }
    const holds = await clusterHolds(tx, { clusterIds: clusters.map((cl) => cl.id) });
    const deletingSince = (await getTenant(tx, { tenantId: tenant.id }))!.deletingSince!;
    if (!current.deletingSince) {
      await continueAsPlatform(tx);
      await recordAudit(tx, { tenantId: null, actor: c.get('principal').sub, action: 'delete', resource: 'tenant', resourceId: current.slug,
        before: present(current), after: { state: 'deleting', force: true }, requestId: c.get('requestId') });
    }
    const waitingFor = new Map<string, string[]>();
    for (const hold of holds) waitingFor.set(hold.clusterName, [...(waitingFor.get(hold.clusterName) ?? []), hold.cidr]);
    return { deletingSince, waitingFor: [...waitingFor].map(([cluster, cidrs]) => ({ cluster, cidrs })) };
  });
  const finished = await finishWithdrawals(deps, tenant.id, { requestId: c.get('requestId') });
  if (finished.tenantDeleted) return undefined;
  return { tenant: tenant.slug, state: 'deleting' as const, deletingSince: started.deletingSince.toISOString(), waitingFor: started.waitingFor };
}
