// The self-check of the write path's invariant: every cluster's desired config is the render of
// its committed intent (api/rendering.ts expectedClusterIntent). The maintenance job checks a
// random sample of clusters each run; `metalfleet verify` checks all. A cluster whose desired
// config differs is reported (log line, metric) and, with `repair`, given the right config as a
// new revision; one whose intent no longer renders (only capabilities reported since can do that,
// writes are refused) must say why in its status, and is given its problems if it does not.
import { sql } from 'drizzle-orm';
import { resultRows, type Db } from '../db/client.ts';
import { setRenderProblems } from '../db/queries/agents.ts';
import { loadTenantIntent } from '../db/queries/intent.ts';
import { latestShas, storeRevisions } from '../db/queries/revisions.ts';
import { withPlatform, withTenantWrite } from '../db/tenant.ts';
import { expectedClusterIntent, newRevision, renderIntent, type RenderDeps } from './rendering.ts';

export interface VerifyFinding {
  tenantId: string;
  cluster: string;
  /** drift: the desired config is not the render of the intent; unrenderable: the intent renders nowhere and the status did not say so. */
  kind: 'drift' | 'unrenderable';
  desiredRevision: number;
  desiredSha256: string | null;
  expectedSha256: string | null;
  /** The revision stored by the repair, if any. */
  repairedRevision?: number;
}

export interface VerifyResult { checked: number; findings: VerifyFinding[] }

/** Checks (and with `repair`, mends) the given clusters of one tenant, under its write lock. */
export async function verifyTenant(db: Db, deps: RenderDeps, tenantId: string, opts: { clusterIds?: string[]; repair: boolean }): Promise<VerifyResult> {
  return withTenantWrite(db, tenantId, async (tx) => {
    const tenant = await loadTenantIntent(tx, { tenantId, secretKey: deps.secretKey });
    const wanted = opts.clusterIds ? new Set(opts.clusterIds) : undefined;
    const targets = tenant.clusters.filter((c) => !wanted || wanted.has(c.id));
    const current = await latestShas(tx, { clusterIds: targets.map((c) => c.id) });
    const findings: VerifyFinding[] = [];
    for (const cluster of targets) {
      const expected = await expectedClusterIntent(tx, deps, tenant, cluster, { keepPin: true });
      const result = renderIntent(deps, expected.intent);
      const desired = current.get(cluster.id);
      const base = { tenantId, cluster: cluster.name, desiredRevision: cluster.desiredRevision, desiredSha256: desired?.sha256 ?? null };
      if (!result.ok || expected.problems.length > 0) {
        if (cluster.renderProblems === null) {
          findings.push({ ...base, kind: 'unrenderable', expectedSha256: null });
          if (opts.repair) await setRenderProblems(tx, { clusterId: cluster.id, problems: [...expected.problems, ...(result.ok ? [] : result.problems)] });
        }
        continue;
      }
      if (desired?.sha256 === result.sha256) continue;
      const finding: VerifyFinding = { ...base, kind: 'drift', expectedSha256: result.sha256 };
      if (opts.repair) {
        const revision = await newRevision(deps, { tenantId, cluster, intent: expected.intent, result, cause: 'verify: repaired a config that differed from its intent' });
        finding.repairedRevision = (await storeRevisions(tx, [revision], { pin: expected.pinned })).get(cluster.id);
      }
      findings.push(finding);
    }
    return { checked: targets.length, findings };
  });
}

/**
 * Checks `sample` clusters picked at random across the fleet (all of them when `sample` is
 * undefined), tenant by tenant in each tenant's own scope.
 */
export async function verifyFleet(db: Db, deps: RenderDeps, opts: { sample?: number; repair: boolean }): Promise<VerifyResult> {
  const picked = await withPlatform(db, async (tx) => resultRows<{ id: string; tenant_id: string }>(await tx.execute(opts.sample === undefined
    ? sql`select id, tenant_id from clusters`
    : sql`select id, tenant_id from clusters order by random() limit ${opts.sample}`)));
  const byTenant = new Map<string, string[]>();
  for (const row of picked) byTenant.set(row.tenant_id, [...(byTenant.get(row.tenant_id) ?? []), row.id]);
  const total: VerifyResult = { checked: 0, findings: [] };
  for (const [tenantId, clusterIds] of byTenant) {
    const result = await verifyTenant(db, deps, tenantId, { clusterIds, repair: opts.repair });
    total.checked += result.checked;
    total.findings.push(...result.findings);
  }
  return total;
}
