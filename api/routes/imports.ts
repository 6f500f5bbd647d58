// POST /v1/tenants/{tenant}/imports: an existing cluster's MetalLB objects into the tenant's intent
// (api/imports.ts). A dry run by default: it answers with the objects it would create and every
// problem; `apply: true` stores them in one transaction, or nothing at all.
import { createRoute, z } from '@hono/zod-openapi';
import { importIntent } from '../imports.ts';
import { tenantWriterOnly, writeContext, type App, type AppDeps } from '../context.ts';
import { ApiError } from '../errors.ts';
import { errorResponses, jsonContent, TenantParam } from '../openapi.ts';
import { LabelSelector } from './shared.ts';

const ImportInput = z.strictObject({
  document: z.string().min(1).max(900_000).openapi({
    description: 'MetalLB objects as `kubectl get ipaddresspools,bgppeers,bgpadvertisements,l2advertisements,bfdprofiles,communities -n metallb-system -o yaml` prints them (a List or several documents)',
  }),
  namespace: z.string().max(63).optional().openapi({ description: 'The MetalLB namespace of the objects (default metallb-system)' }),
  clusterSelector: LabelSelector.optional().openapi({ description: 'Clusters that get the imported pools, peers and advertisements; absent: every cluster' }),
  apply: z.boolean().default(false).openapi({ description: 'Store the objects (default: a dry run that stores nothing)' }),
}).openapi('ImportInput');

const ImportProblem = z.object({ severity: z.enum(['error', 'warning']), code: z.string(), path: z.string(), message: z.string(), remedy: z.string() });
const ImportOutcome = z.object({
  applied: z.boolean(),
  objects: z.record(z.string(), z.array(z.record(z.string(), z.unknown()))).openapi({ description: 'What would be (or was) created, by collection, as the API takes it' }),
  changes: z.array(z.object({ collection: z.string(), name: z.string(), action: z.literal('create') })),
  problems: z.array(ImportProblem),
  clusters: z.array(z.object({ cluster: z.string(), backend: z.string(), problems: z.array(z.unknown()) }))
    .openapi({ description: 'Clusters that could not take the result' }),
}).openapi('ImportOutcome');

export function registerImportRoutes(app: App, deps: AppDeps) {
  app.openapi(createRoute({
    operationId: 'importMetallbObjects',
    method: 'post', path: '/v1/tenants/{tenant}/imports', middleware: [tenantWriterOnly] as const, tags: ['Import'],
    summary: 'Import MetalLB objects (a dry run unless apply is true)', security: [{ bearer: [] }],
    request: { params: TenantParam, body: { required: true, content: jsonContent(ImportInput) } },
    responses: {
      200: { description: 'Dry run: what an apply would create, and every problem (nothing stored)', content: jsonContent(ImportOutcome) },
      201: { description: 'Applied: every object stored, in one transaction', content: jsonContent(ImportOutcome) },
      ...errorResponses(401, 403, 404, 409, 413, 422),
    },
  }), async (c) => {
    const input = c.req.valid('json');
    const outcome = await importIntent(deps, writeContext(c, deps), {
      document: input.document, apply: input.apply,
      ...(input.namespace !== undefined ? { namespace: input.namespace } : {}),
      ...(input.clusterSelector !== undefined ? { clusterSelector: input.clusterSelector } : {}),
    });
    if (outcome.applied) return c.json(outcome, 201);
    const refused = outcome.problems.filter((p) => p.severity === 'error');
    if (input.apply) {
      throw new ApiError(422, 'import-refused', 'Import refused', `nothing was imported: ${refused.length} problem(s)${outcome.clusters.length ? ` and ${outcome.clusters.length} cluster(s) that cannot take it` : ''}`, {
        errors: refused.map((p) => ({ path: p.path, code: p.code, message: `${p.message}; ${p.remedy}` })), extensions: { ...outcome },
      });
    }
    return c.json(outcome, 200);
  });
}
