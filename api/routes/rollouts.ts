// Rollouts over HTTP: the tenant's rollout policy, the rollouts (state, waves, per-cluster gate
// results with their evidence) and what tenant-admins do to one: pause, resume, abort, promote.
// The state machine is api/rollouts.ts; viewers read, tenant-admins act, every act is audited.
import { createRoute, z } from '@hono/zod-openapi';
import { recordAudit } from '../../db/queries/audit.ts';
import {
  getRollout, getRolloutPolicy, listRollouts, putRolloutPolicy, rolloutClusterRows, type RolloutClusterView, type RolloutRecord,
} from '../../db/queries/rollouts.ts';
import { withTenant, type Tx } from '../../db/tenant.ts';
import { RolloutPolicy } from '../../render/rollout.ts';
import { now, tenantWriterOnly, type App, type AppDeps } from '../context.ts';
import { ApiError, notFound } from '../errors.ts';
import { COUNT, decodeCursor, encodeCursor, pageLimit } from '../http.ts';
import { errorResponses, jsonContent, PageQuery, TenantParam } from '../openapi.ts';
import { actOnRollout, advanceRollout, RolloutActionRefused, type RolloutAction } from '../rollouts.ts';
import { writeTenant } from '../writes.ts';
import { Timestamp } from './shared.ts';

const PolicySchema = RolloutPolicy.meta({ id: 'RolloutPolicy' }); // .meta, not .openapi: see routes/shared.ts
const PolicyView = z.object({
  policy: PolicySchema.nullable().openapi({ description: 'null: every change reaches all its clusters at once' }),
}).openapi('RolloutPolicyView');

const RolloutParam = TenantParam.extend({
  rollout: z.string().regex(COUNT, 'must be a rollout number: 1 or more, in decimal').refine((t) => Number(t) <= 2_147_483_647, 'no such rollout')
    .openapi({ param: { name: 'rollout', in: 'path' } }),
});

const GateResult = z.object({ gate: z.string(), ok: z.boolean(), evidence: z.string() }).openapi('RolloutGate');
const RolloutClusterView = z.object({
  cluster: z.string(),
  state: z.enum(['pending', 'progressing', 'passed', 'rolled-back', 'skipped']),
  serving: z.enum(['previous', 'new']).openapi({ description: 'Which of the two revisions the cluster is given now' }),
  fromRevision: z.number().int().nullable().openapi({ description: 'The revision it served when its wave started' }),
  toRevision: z.number().int(),
  desiredRevision: z.number().int(), appliedRevision: z.number().int().nullable(),
  verdict: z.string().nullable(), reason: z.string().nullable(), evaluatedAt: Timestamp.nullable(),
  gates: z.array(GateResult),
}).openapi('RolloutCluster');
const RolloutView = z.object({
  number: z.number().int(), state: z.enum(['queued', 'progressing', 'paused', 'completed', 'aborted', 'superseded']),
  cause: z.string(), createdBy: z.string(), createdAt: Timestamp, updatedAt: Timestamp,
  currentWave: z.string().nullable(), waveStartedAt: Timestamp.nullable(), pausedReason: z.string().nullable(),
  waves: z.array(z.object({ name: z.string(), bakeSeconds: z.number().int(), timeoutSeconds: z.number().int(), clusters: z.array(RolloutClusterView) })),
}).openapi('Rollout');
const RolloutSummary = RolloutView.omit({ waves: true }).openapi('RolloutSummary');
const RolloutPage = z.object({ items: z.array(RolloutSummary), nextCursor: z.string().nullable() }).openapi('RolloutPage');

const summary = (r: RolloutRecord) => ({
  number: r.number, state: r.state, cause: r.cause, createdBy: r.createdBy, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString(),
  currentWave: r.waveStartedAt ? r.waves[r.currentWave]?.name ?? null : null, waveStartedAt: r.waveStartedAt?.toISOString() ?? null,
  pausedReason: r.pausedReason,
});

function clusterView(row: RolloutClusterView) {
  const gates = (row.gates ?? null) as { verdict?: string; reason?: string; at?: string; gates?: Array<{ gate: string; ok: boolean; evidence: string }> } | null;
  return {
    cluster: row.name, state: row.state, serving: row.state === 'progressing' || row.state === 'passed' ? 'new' as const : 'previous' as const,
    fromRevision: row.fromRevision, toRevision: row.toRevision, desiredRevision: row.desiredRevision, appliedRevision: row.appliedRevision,
    verdict: gates?.verdict ?? null, reason: gates?.reason ?? null, evaluatedAt: gates?.at ?? null, gates: gates?.gates ?? [],
  };
}

async function rolloutView(tx: Tx, rollout: RolloutRecord) {
  const rows = await rolloutClusterRows(tx, { rolloutId: rollout.id });
  return {
    ...summary(rollout),
    waves: rollout.waves.map((w, i) => ({ ...w, clusters: rows.filter((r) => r.wave === i).map(clusterView) })),
  };
}

const ACTIONS: Array<{ action: RolloutAction; operationId: string; summary: string }> = [
  { action: 'pause', operationId: 'pauseRollout', summary: 'Pause a rollout: no wave starts until it is resumed (nothing moves back)' },
  { action: 'resume', operationId: 'resumeRollout', summary: 'Resume a paused rollout; a wave its gates failed starts again' },
  { action: 'abort', operationId: 'abortRollout', summary: 'Abort a rollout: every cluster it gave its revision goes back to the one it served before' },
  { action: 'promote', operationId: 'promoteRollout', summary: 'Count the current wave as passed whatever its gates say, and start the next one' },
];

export function registerRolloutRoutes(app: App, deps: AppDeps) {
  app.openapi(createRoute({
    operationId: 'getRolloutPolicy',
    method: 'get', path: '/v1/tenants/{tenant}/rollout-policy', tags: ['Rollouts'], summary: "The tenant's rollout policy", security: [{ bearer: [] }],
    request: { params: TenantParam },
    responses: { 200: { description: 'The policy (null: all at once)', content: jsonContent(PolicyView) }, ...errorResponses(401, 404) },
  }), async (c) => {
    const tenantId = c.get('tenant').id;
    const policy = await withTenant(deps.db, tenantId, (tx) => getRolloutPolicy(tx, { tenantId }));
    return c.json({ policy: policy ?? null }, 200);
  });

  app.openapi(createRoute({
    operationId: 'replaceRolloutPolicy',
    method: 'put', path: '/v1/tenants/{tenant}/rollout-policy', middleware: [tenantWriterOnly] as const, tags: ['Rollouts'],
    summary: "Replace the tenant's rollout policy (`{\"policy\": null}`: every change reaches its clusters at once)", security: [{ bearer: [] }],
    request: { params: TenantParam, body: { required: true, content: jsonContent(PolicyView) } },
    responses: { 200: { description: 'The stored policy', content: jsonContent(PolicyView) }, ...errorResponses(401, 403, 404, 409, 422) },
  }), async (c) => {
    const { policy } = c.req.valid('json');
    const tenantId = c.get('tenant').id;
    await writeTenant(deps, tenantId, async (tx) => {
      const before = await getRolloutPolicy(tx, { tenantId });
      await putRolloutPolicy(tx, { tenantId, policy });
      await recordAudit(tx, { tenantId, actor: c.get('principal').sub, action: 'replace', resource: 'rollout-policy', resourceId: null,
        before: before ?? null, after: policy, requestId: c.get('requestId') });
    });
    return c.json({ policy }, 200);
  });

  app.openapi(createRoute({
    operationId: 'listRollouts',
    method: 'get', path: '/v1/tenants/{tenant}/rollouts', tags: ['Rollouts'], summary: "The tenant's rollouts, newest first", security: [{ bearer: [] }],
    request: { params: TenantParam, query: PageQuery },
    responses: { 200: { description: 'One page of rollouts', content: jsonContent(RolloutPage) }, ...errorResponses(400, 401, 404) },
  }), async (c) => {
    const query = c.req.valid('query');
    const limit = pageLimit(query.limit);
    const before = decodeCursor(query.cursor, ['integer'])?.[0] as number | undefined;
    const tenantId = c.get('tenant').id;
    const rows = await withTenant(deps.db, tenantId, (tx) => listRollouts(tx, { tenantId, before, limit: limit + 1 }));
    const items = rows.slice(0, limit);
    return c.json({ items: items.map(summary), nextCursor: rows.length > limit ? encodeCursor([items.at(-1)!.number]) : null }, 200);
  });

  app.openapi(createRoute({
    operationId: 'getRollout',
    method: 'get', path: '/v1/tenants/{tenant}/rollouts/{rollout}', tags: ['Rollouts'],
    summary: 'A rollout: its state, waves, and per cluster the revision it serves and its gates with their evidence', security: [{ bearer: [] }],
    request: { params: RolloutParam },
    responses: { 200: { description: 'The rollout', content: jsonContent(RolloutView) }, ...errorResponses(400, 401, 404) },
  }), async (c) => {
    const number = Number(c.req.valid('param').rollout);
    const tenantId = c.get('tenant').id;
    const view = await withTenant(deps.db, tenantId, async (tx) => {
      const rollout = await getRollout(tx, { tenantId, number });
      if (!rollout) throw notFound(`rollout ${number}`);
      return rolloutView(tx, rollout);
    });
    return c.json(view, 200);
  });

  for (const { action, operationId, summary: text } of ACTIONS) {
    app.openapi(createRoute({
      operationId,
      method: 'post', path: `/v1/tenants/{tenant}/rollouts/{rollout}/${action}`, middleware: [tenantWriterOnly] as const, tags: ['Rollouts'],
      summary: text, security: [{ bearer: [] }],
      request: { params: RolloutParam },
      responses: { 200: { description: 'The rollout afterwards', content: jsonContent(RolloutView) }, ...errorResponses(400, 401, 403, 404, 409) },
    }), async (c) => {
      const number = Number(c.req.valid('param').rollout);
      const tenantId = c.get('tenant').id;
      const by = { actor: c.get('principal').sub, requestId: c.get('requestId'), now: now(deps) };
      const view = await writeTenant(deps, tenantId, async (tx) => {
        const rollout = await getRollout(tx, { tenantId, number });
        if (!rollout) throw notFound(`rollout ${number}`);
        try {
          await actOnRollout(tx, deps, rollout, action, by);
        } catch (err) {
          if (err instanceof RolloutActionRefused) throw new ApiError(409, 'rollout-action-refused', 'Rollout cannot do that now', err.message);
          throw err;
        }
        await advanceRollout(tx, deps, tenantId, by);
        return rolloutView(tx, (await getRollout(tx, { tenantId, number }))!);
      });
      return c.json(view, 200);
    });
  }
}
