// Importing an existing cluster's MetalLB objects (`kubectl get ipaddresspools,bgppeers,
// bgpadvertisements,l2advertisements,bfdprofiles,communities -n metallb-system -o yaml`) into a
// tenant's intent. render/import.ts reads them; each object is then created through its
// collection's own contract (the same validation, policy and grants as a POST), in one transaction
// that also renders every cluster of the tenant. A dry run (the default) does all of that and rolls
// back, so its answer is exactly what an apply would do; an apply stores it only if nothing at all
// was refused.
import { recordAudit } from '../db/queries/audit.ts';
import type { Tx } from '../db/tenant.ts';
import { formatDuration } from '../render/grammar.ts';
import { importMetallb, type ImportedIntent, type ImportProblem } from '../render/import.ts';
import type { LabelSelector } from '../render/policy.ts';
import type { CollectionSpec, Stored } from './collection.ts';
import { now, renderDeps, type AppDeps, type WriteContext } from './context.ts';
import { pgErrorInfo } from '../db/client.ts';
import { ApiError, mapDbError } from './errors.ts';
import { renderClusters, type ClusterProblems } from './rendering.ts';
import { advertisementCollection } from './routes/advertisements.ts';
import { bfdProfileCollection } from './routes/bfd-profiles.ts';
import { communityCollection } from './routes/communities.ts';
import { peerCollection } from './routes/peers.ts';
import { poolCollection } from './routes/pools.ts';
import { writeTenant } from './writes.ts';
import { EVERY_CLUSTER } from '../render/scope.ts';

export interface ImportRequest {
  /** The YAML stream (a List, or multi-document). */
  document: string;
  /** The MetalLB namespace of the objects (default metallb-system). */
  namespace?: string;
  /** Clusters that get the imported pools, peers and advertisements; absent: every cluster. */
  clusterSelector?: LabelSelector;
  apply: boolean;
}

export interface ImportChange { collection: string; name: string; action: 'create' }

export interface ImportOutcome {
  applied: boolean;
  /** The objects as the API takes them, by collection, in the order they are created. */
  objects: Record<string, Array<Record<string, unknown>>>;
  changes: ImportChange[];
  problems: ImportProblem[];
  /** Clusters that could not take the result, with their problems. */
  clusters: ClusterProblems[];
}

/** Thrown to roll back a dry run (or a refused apply) while keeping what it found. */
class RollBack extends Error {
  constructor(readonly outcome: ImportOutcome) { super('rolled back'); }
}

const withSelector = (selector: LabelSelector | undefined, body: Record<string, unknown>) => (selector ? { ...body, clusterSelector: selector } : body);
const seconds = (value: unknown) => (typeof value === 'number' ? formatDuration(value) : undefined);

/** The imported model objects as the API's request bodies, by collection, in creation order. */
function apiBodies(intent: ImportedIntent, selector: LabelSelector | undefined): Array<[string, Array<Record<string, unknown>>]> {
  const drop = <T extends Record<string, unknown>>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  return [
    ['bfd-profiles', intent.bfdProfiles.map((b) => drop({ ...b }))],
    ['communities', intent.communities.map((c) => drop({ ...c }))],
    ['pools', intent.pools.map((p) => withSelector(selector, drop({ ...p })))],
    ['peers', intent.peers.map(({ holdTime, keepaliveTime, connectTime, ...p }) => withSelector(selector, drop({
      ...p, holdTime: seconds(holdTime), keepaliveTime: seconds(keepaliveTime), connectTime: seconds(connectTime),
    })))],
    ['bgp-advertisements', intent.advertisements.filter((a) => a.type === 'bgp').map(({ type: _t, interfaces: _i, ...a }) => withSelector(selector, drop({ ...a })))],
    ['l2-advertisements', intent.advertisements.filter((a) => a.type === 'l2')
      .map(({ type: _t, peers: _p, communities: _c, localPref: _l, aggregationLength: _a, aggregationLengthV6: _a6, ...a }) => withSelector(selector, drop({ ...a })))],
  ];
}

export async function importIntent(deps: AppDeps, ctx: WriteContext, request: ImportRequest): Promise<ImportOutcome> {
  const parsed = importMetallb(request.document, request.namespace ? { namespace: request.namespace } : {});
  const bodies = apiBodies(parsed.intent, request.clusterSelector);
  const outcome: ImportOutcome = { applied: false, objects: Object.fromEntries(bodies), changes: [], problems: [...parsed.problems], clusters: [] };
  if (parsed.problems.some((p) => p.severity === 'error')) return outcome;
  const collections: Record<string, CollectionSpec<unknown, Stored>> = {
    'bfd-profiles': bfdProfileCollection(deps), communities: communityCollection(deps), pools: poolCollection(deps), peers: peerCollection(deps),
    'bgp-advertisements': advertisementCollection(deps, 'bgp'), 'l2-advertisements': advertisementCollection(deps, 'l2'),
  } as unknown as Record<string, CollectionSpec<unknown, Stored>>;
  try {
    return await writeTenant(deps, ctx.tenantId, async (tx) => {
      for (const [collection, items] of bodies) {
        for (const body of items) await createOne(tx, ctx, collections[collection]!, collection, body, outcome);
      }
      // Every cluster of the tenant at once (a POST renders after each object).
      const rendered = await renderClusters(tx, renderDeps(deps), {
        tenantId: ctx.tenantId, scope: EVERY_CLUSTER, refuseOnProblems: false, cause: `import by ${ctx.actor}`,
        rollout: { actor: ctx.actor, requestId: ctx.requestId, now: now(deps) },
      });
      outcome.clusters = rendered.failed;
      const refused = outcome.problems.some((p) => p.severity === 'error') || outcome.clusters.length > 0;
      if (!request.apply || refused) throw new RollBack(outcome);
      await recordAudit(tx, { tenantId: ctx.tenantId, actor: ctx.actor, action: 'create', resource: 'import', resourceId: null,
        before: null, after: { changes: outcome.changes }, requestId: ctx.requestId });
      return { ...outcome, applied: true };
    });
  } catch (err) {
    if (err instanceof RollBack) return err.outcome;
    throw err;
  }
}

/** Creates one object in a savepoint: a refusal becomes a problem of the import, not its end. */
async function createOne(tx: Tx, ctx: WriteContext, spec: CollectionSpec<unknown, Stored>, collection: string, body: Record<string, unknown>,
  outcome: ImportOutcome): Promise<void> {
  const name = String(body.name);
  try {
    await tx.transaction(async (sp) => {
      const record = await spec.create(sp, ctx, body);
      await recordAudit(sp, { tenantId: ctx.tenantId, actor: ctx.actor, action: 'create', resource: spec.resource, resourceId: record.id,
        before: null, after: spec.present(record), requestId: ctx.requestId });
    });
    outcome.changes.push({ collection, name, action: 'create' });
  } catch (err) {
    const problem = asProblem(err);
    if (!problem) throw err;
    const fields = problem.errors?.length ? problem.errors : [{ path: '', code: problem.code, message: problem.message }];
    for (const f of fields) {
      outcome.problems.push({ severity: 'error', code: f.code ?? problem.code, path: `${collection}/${name}${f.path ? `/${f.path}` : ''}`,
        message: f.message, remedy: 'fix the object in the document, or change or delete the one in the way' });
    }
  }
}

/** An API refusal, or a constraint the database decided (a taken name, an overlap). */
function asProblem(err: unknown): ApiError | undefined {
  if (err instanceof ApiError) return err;
  const pg = pgErrorInfo(err);
  return pg ? mapDbError(err, pg.code, pg.constraint) : undefined;
}
