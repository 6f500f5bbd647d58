// A tenant's whole intent as one document: export it, plan a desired document against it, apply it.
// Every object goes through its collection's own contract (the same validation, policy, grants and
// quarantine as a POST, PATCH or DELETE), in one transaction under the tenant's write lock, which
// then renders every cluster the changes can affect. A plan is that same transaction rolled back,
// so what a plan shows is exactly what an apply of the same document against the same intent does
// (object changes, and each cluster's new revision or refusal).
import type { z } from '@hono/zod-openapi';
import { createTwoFilesPatch } from 'diff';
import { recordAudit } from '../db/queries/audit.ts';
import type { ClusterRecord } from '../db/queries/clusters.ts';
import { getRevision, latestShas } from '../db/queries/revisions.ts';
import { openSecret } from '../db/secrets.ts';
import type { Tx } from '../db/tenant.ts';
import { pgErrorInfo } from '../db/client.ts';
import { redactConfig } from '../render/redact.ts';
import { parseInput, type CollectionSpec, type Stored } from './collection.ts';
import { now, renderDeps, type AppDeps, type WriteContext } from './context.ts';
import { ApiError, mapDbError } from './errors.ts';
import { etagOf, mergePatch } from './http.ts';
import { renderClusters, revisionContext, type ClusterProblems } from './rendering.ts';
import { EVERY_CLUSTER, unionOf, type ClusterScope } from '../render/scope.ts';
import { advertisementCollection } from './routes/advertisements.ts';
import { bfdProfileCollection } from './routes/bfd-profiles.ts';
import { clusterCollection } from './routes/clusters.ts';
import { communityCollection } from './routes/communities.ts';
import { peerCollection } from './routes/peers.ts';
import { poolCollection } from './routes/pools.ts';
import { writeTenant } from './writes.ts';

export const INTENT_API_VERSION = 'metalfleet.io/v1';

/**
 * The document's kinds, in the order objects are created and changed (what others name comes
 * first); deletions run in the reverse order. `keepWhenAbsent`: fields a document may leave out
 * without removing them (a peer's write-only password; a pool's CIDRs when it was allocated).
 */
const KINDS = [
  { key: 'bfdProfiles', spec: bfdProfileCollection, keepWhenAbsent: () => [] },
  { key: 'communities', spec: communityCollection, keepWhenAbsent: () => [] },
  { key: 'clusters', spec: clusterCollection, keepWhenAbsent: () => [] },
  { key: 'pools', spec: poolCollection, keepWhenAbsent: (body: Record<string, unknown>) => ('allocate' in body ? ['cidrs'] : []) },
  { key: 'peers', spec: peerCollection, keepWhenAbsent: () => ['password'] },
  { key: 'bgpAdvertisements', spec: (deps: AppDeps) => advertisementCollection(deps, 'bgp'), keepWhenAbsent: () => [] },
  { key: 'l2Advertisements', spec: (deps: AppDeps) => advertisementCollection(deps, 'l2'), keepWhenAbsent: () => [] },
] as const;

export type IntentKind = (typeof KINDS)[number]['key'];
export const INTENT_KINDS: readonly IntentKind[] = KINDS.map((k) => k.key);

export type IntentDocument = { apiVersion: typeof INTENT_API_VERSION; kind: 'TenantIntent' } & Record<IntentKind, Array<Record<string, unknown>>>;

export interface IntentChange { kind: IntentKind; name: string; action: 'create' | 'update' | 'delete' | 'withdraw'; fields?: string[] }
export interface IntentProblem { code: string; path: string; message: string }
export interface ClusterChange { cluster: string; backend: string; fromRevision: number | null; toRevision: number; diff: string }

export interface IntentOutcome {
  applied: boolean;
  /** The ETag of the intent this was planned (or applied) against. */
  etag: string;
  /** After an apply: the ETag of the intent now. */
  appliedEtag?: string;
  changes: IntentChange[];
  /** Objects the document cannot have (policy, grants, names in use, …): nothing is applied while there are any. */
  problems: IntentProblem[];
  /** Clusters whose config changes, with the diff (passwords redacted). */
  clusters: ClusterChange[];
  /** Clusters that cannot take the result: nothing is applied while there are any. */
  refused: ClusterProblems[];
}

type AnySpec = CollectionSpec<unknown, Stored>;
const specOf = (deps: AppDeps, kind: (typeof KINDS)[number]) => kind.spec(deps) as unknown as AnySpec;

/** Each kind's objects as its collection's create body (the schema a POST validates against). */
export function intentObjectSchemas(deps: AppDeps): Record<IntentKind, z.ZodType<unknown>> {
  return Object.fromEntries(KINDS.map((k) => {
    const spec = specOf(deps, k);
    return [k.key, spec.createInput ?? spec.input];
  })) as Record<IntentKind, z.ZodType<unknown>>;
}

/** Every object of a kind, by name (the collection's own pages, all of them). */
async function listAll(tx: Tx, spec: AnySpec, tenantId: string): Promise<Stored[]> {
  const all: Stored[] = [];
  for (let after: string | undefined; ;) {
    const page = await spec.list(tx, { tenantId, limit: 500, ...(after ? { after } : {}) });
    all.push(...page);
    if (page.length < 500) return all;
    after = page.at(-1)!.name;
  }
}

const exported = (record: Stored) => !(record as Partial<ClusterRecord>).withdrawingSince;

/** The tenant's intent as a document (clusters being withdrawn are no longer part of it). */
export async function readIntent(tx: Tx, deps: AppDeps, tenantId: string): Promise<IntentDocument> {
  const document = { apiVersion: INTENT_API_VERSION, kind: 'TenantIntent' } as IntentDocument;
  for (const kind of KINDS) {
    const spec = specOf(deps, kind);
    document[kind.key] = (await listAll(tx, spec, tenantId)).filter(exported).map((r) => spec.writable(r));
  }
  return document;
}

/** Thrown to roll back a plan (or a refused apply) while keeping what it found. */
class RollBack extends Error {
  constructor(readonly outcome: IntentOutcome) { super('rolled back'); }
}
/** Rolls back one update's savepoint when it changed nothing. */
class Unchanged extends Error {}

/** An API refusal, or a constraint the database decided (a taken name, an overlap), as problems. */
function problemsOf(err: unknown, path: string): IntentProblem[] | undefined {
  const pg = pgErrorInfo(err);
  const problem = err instanceof ApiError ? err : pg ? mapDbError(err, pg.code, pg.constraint) : undefined;
  if (!problem) return undefined;
  const fields = problem.errors?.length ? problem.errors : [{ path: '', code: problem.code, message: problem.message }];
  return fields.map((f) => ({ code: f.code ?? problem.code, path: f.path ? `${path}/${f.path}` : path, message: f.message }));
}

/**
 * What turns `current` into `desired`: every field of the document, and null (remove) for every
 * field the document leaves out, except those it may leave out without removing them.
 */
function replacement(current: Record<string, unknown>, desired: Record<string, unknown>, keep: string[]): Record<string, unknown> {
  const patch: Record<string, unknown> = { ...desired };
  for (const field of Object.keys(current)) if (!(field in desired) && !keep.includes(field)) patch[field] = null;
  for (const field of keep) if (!(field in desired)) delete patch[field];
  delete patch.allocate; // creation only: an existing pool keeps the CIDRs it was given
  return patch;
}

const changedFields = (a: Record<string, unknown>, b: Record<string, unknown>) =>
  [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).sort();

/** Whether a patch's password differs from the sealed one (write-only: never compared as ciphertext). */
async function passwordChanges(deps: AppDeps, tenantId: string, current: Stored, patch: Record<string, unknown>): Promise<boolean> {
  if (!('password' in patch)) return false;
  const sealed = (current as { passwordEncrypted?: string }).passwordEncrypted;
  const now = sealed ? await openSecret(deps.secretKey, sealed, tenantId) : null;
  return now !== (patch.password ?? null);
}

export interface IntentRequest { document: IntentDocument; prune: boolean; apply: boolean; ifMatch?: string }

/** Plans (apply false) or applies a desired document; see the module comment. */
export async function planIntent(deps: AppDeps, ctx: WriteContext, request: IntentRequest): Promise<IntentOutcome> {
  try {
    return await writeTenant(deps, ctx.tenantId, async (tx) => {
      const etag = etagOf(await readIntent(tx, deps, ctx.tenantId));
      if (request.ifMatch !== undefined && request.ifMatch !== '*' && !request.ifMatch.split(',').map((t) => t.trim()).includes(etag)) {
        throw new ApiError(412, 'precondition-failed', 'Precondition failed', 'the intent changed since it was planned; plan again and review the new plan');
      }
      const outcome: IntentOutcome = { applied: false, etag, changes: [], problems: [], clusters: [], refused: [] };
      const scopes: ClusterScope[] = [];
      const clustersBefore = await listAll(tx, clusterCollection(deps) as unknown as AnySpec, ctx.tenantId) as ClusterRecord[];
      const revisionsBefore = await latestShas(tx, { clusterIds: clustersBefore.map((c) => c.id) });
      const pruned: Array<{ kind: (typeof KINDS)[number]; spec: AnySpec; name: string; record: Stored }> = [];
      const existing = new Map<IntentKind, Map<string, Stored>>();
      for (const kind of KINDS) existing.set(kind.key, new Map((await listAll(tx, specOf(deps, kind), ctx.tenantId)).map((r) => [r.name, r])));

      // Each object in a savepoint: a refusal becomes a problem of the plan, not its end.
      const step = async (kind: IntentKind, name: string, work: (sp: Tx) => Promise<void>) => {
        try {
          await tx.transaction(work);
        } catch (err) {
          if (err instanceof Unchanged) return;
          const problems = problemsOf(err, `${kind}/${name}`);
          if (!problems) throw err;
          outcome.problems.push(...problems);
        }
      };

      for (const kind of KINDS) {
        const spec = specOf(deps, kind);
        const current = existing.get(kind.key)!;
        const seen = new Set<string>();
        for (const body of request.document[kind.key] ?? []) {
          const name = String(body.name); // the document's schema requires one (its collection's create body)
          if (seen.has(name)) {
            outcome.problems.push({ code: 'duplicate-name', path: `${kind.key}/${name}/name`, message: `${kind.key} names ${name} twice` });
            continue;
          }
          seen.add(name);
          const record = current.get(name);
          await step(kind.key, name, async (sp) => {
            if (!record) {
              const created = await spec.create(sp, ctx, body);
              await audit(sp, ctx, spec, 'create', null, spec.present(created), created.id);
              outcome.changes.push({ kind: kind.key, name, action: 'create' });
              scopes.push(spec.affects?.({ after: created }) ?? EVERY_CLUSTER);
              return;
            }
            spec.beforeUpdate?.(record);
            const before = spec.writable(record);
            const patch = replacement(before, body, [...kind.keepWhenAbsent(body)]);
            const input = parseInput(spec.input, mergePatch(before, patch));
            const secretChanged = await passwordChanges(deps, ctx.tenantId, record, patch);
            const updated = await spec.update(sp, ctx, record, input, secretChanged ? patch : Object.fromEntries(Object.entries(patch).filter(([k]) => k !== 'password')));
            const fields = [...changedFields(before, spec.writable(updated)), ...(secretChanged ? ['password'] : [])];
            if (fields.length === 0) throw new Unchanged();
            await audit(sp, ctx, spec, 'update', spec.present(record), spec.present(updated), updated.id);
            outcome.changes.push({ kind: kind.key, name, action: 'update', fields });
            scopes.push(spec.affects?.({ before: record, after: updated }) ?? EVERY_CLUSTER);
          });
        }
        if (request.prune) {
          for (const [name, record] of current) if (!seen.has(name) && exported(record)) pruned.push({ kind, spec, name, record });
        }
      }
      for (const { kind, spec, name, record } of pruned.reverse()) {
        await step(kind.key, name, async (sp) => {
          const removed = (await spec.remove(sp, ctx, record, { force: false })) ?? {};
          await audit(sp, ctx, spec, 'delete', spec.present(record), removed.audit ?? null, record.id);
          outcome.changes.push({ kind: kind.key, name, action: removed.withdrawing ? 'withdraw' : 'delete' });
          scopes.push(spec.affects?.({ before: record, ...(removed.withdrawing ? { after: removed.withdrawing.after } : {}) }) ?? EVERY_CLUSTER);
        });
      }

      if (scopes.length > 0 && outcome.problems.length === 0) {
        const rendered = await renderClusters(tx, renderDeps(deps), {
          tenantId: ctx.tenantId, scope: unionOf(scopes), refuseOnProblems: false, cause: `intent applied by ${ctx.actor}`,
          rollout: { actor: ctx.actor, requestId: ctx.requestId, now: now(deps) },
        });
        outcome.refused = rendered.failed;
        outcome.clusters = await clusterDiffs(tx, deps, ctx.tenantId, rendered.revisions, revisionsBefore);
      }
      if (!request.apply || outcome.problems.length > 0 || outcome.refused.length > 0) throw new RollBack(outcome);
      if (outcome.changes.length > 0) {
        await recordAudit(tx, { tenantId: ctx.tenantId, actor: ctx.actor, action: 'update', resource: 'intent', resourceId: null,
          before: { etag }, after: { changes: outcome.changes, prune: request.prune }, requestId: ctx.requestId });
      }
      return { ...outcome, applied: true, appliedEtag: etagOf(await readIntent(tx, deps, ctx.tenantId)) };
    });
  } catch (err) {
    if (err instanceof RollBack) return err.outcome;
    throw err;
  }
}

const audit = (tx: Tx, ctx: WriteContext, spec: AnySpec, action: 'create' | 'update' | 'delete', before: unknown, after: unknown, id: string) =>
  recordAudit(tx, { tenantId: ctx.tenantId, actor: ctx.actor, action, resource: spec.resource, resourceId: id, before, after, requestId: ctx.requestId });

/** Each cluster's change as a unified diff of its configs (passwords redacted), by cluster name. */
async function clusterDiffs(tx: Tx, deps: AppDeps, tenantId: string, revisions: Map<string, number>,
  before: Map<string, { revision: number }>): Promise<ClusterChange[]> {
  const clusters = new Map((await listAll(tx, clusterCollection(deps) as unknown as AnySpec, tenantId) as ClusterRecord[]).map((c) => [c.id, c]));
  const changes: ClusterChange[] = [];
  const content = async (clusterId: string, revision: number) => {
    const row = await getRevision(tx, { clusterId, revision });
    return row ? redactConfig(row.backend, await openSecret(deps.secretKey, row.content, revisionContext(clusterId))) : '';
  };
  for (const [clusterId, toRevision] of revisions) {
    const cluster = clusters.get(clusterId)!;
    const fromRevision = before.get(clusterId)?.revision ?? null;
    const diff = createTwoFilesPatch(`${cluster.name}@r${fromRevision ?? 0}`, `${cluster.name}@r${toRevision}`,
      fromRevision === null ? '' : await content(clusterId, fromRevision), await content(clusterId, toRevision));
    changes.push({ cluster: cluster.name, backend: cluster.backend, fromRevision, toRevision, diff });
  }
  return changes.sort((a, b) => a.cluster.localeCompare(b.cluster));
}
