// A tenant's whole intent as one document (api/intent.ts): GET exports it (JSON, or YAML with
// ?format=yaml) with an ETag over all of it; POST …/intent/plan answers what applying a document
// would do, storing nothing; PUT applies it in one transaction (If-Match on the intent's ETag;
// objects the document leaves out are deleted only with ?prune=true).
import { createRoute, z } from '@hono/zod-openapi';
import { withTenant } from '../../db/tenant.ts';
import { toYaml } from '../../render/yaml.ts';
import { tenantWriterOnly, writeContext, type App, type AppDeps } from '../context.ts';
import { ApiError } from '../errors.ts';
import { etagOf } from '../http.ts';
import { INTENT_API_VERSION, INTENT_KINDS, intentObjectSchemas, planIntent, readIntent, type IntentDocument } from '../intent.ts';
import { errorResponses, ETagHeader, IfMatchHeader, jsonContent, TenantParam } from '../openapi.ts';

const MAX_OBJECTS_PER_KIND = 10_000;

/** The document: each kind a list of its collection's create bodies (what a POST validates). */
function intentDocumentSchema(deps: AppDeps): z.ZodType<IntentDocument> {
  const objects = intentObjectSchemas(deps);
  return z.strictObject({
    apiVersion: z.literal(INTENT_API_VERSION).default(INTENT_API_VERSION),
    kind: z.literal('TenantIntent').default('TenantIntent'),
    ...Object.fromEntries(INTENT_KINDS.map((k) => [k, z.array(objects[k]).max(MAX_OBJECTS_PER_KIND).default([]).openapi({
      description: `The tenant's ${k}, each as its collection's create body (MetalLB field names)`,
    })])),
  }).openapi('IntentDocument', {
    description: 'A tenant\'s whole intent. A peer\'s write-only `password` left out keeps the stored one; a pool given as `allocate` keeps the CIDRs it was given.',
  }) as unknown as z.ZodType<IntentDocument>;
}

const Problem = z.object({ code: z.string(), path: z.string(), message: z.string() });
const IntentOutcomeSchema = z.object({
  applied: z.boolean(),
  etag: z.string().openapi({ description: 'The ETag of the intent this was planned or applied against: send it as If-Match to apply this plan' }),
  appliedEtag: z.string().optional().openapi({ description: 'After an apply: the ETag of the intent now' }),
  changes: z.array(z.object({
    kind: z.enum(INTENT_KINDS as [string, ...string[]]), name: z.string(), action: z.enum(['create', 'update', 'delete', 'withdraw']),
    fields: z.array(z.string()).optional(),
  })),
  problems: z.array(Problem).openapi({ description: 'Objects the document cannot have (policy, grants, names in use, …); nothing is applied while there are any' }),
  clusters: z.array(z.object({
    cluster: z.string(), backend: z.string(), fromRevision: z.number().int().nullable(), toRevision: z.number().int(),
    diff: z.string().openapi({ description: 'Unified diff of the config, passwords redacted' }),
  })),
  refused: z.array(z.object({ cluster: z.string(), backend: z.string(), problems: z.array(z.unknown()) }))
    .openapi({ description: 'Clusters that cannot take the result: nothing is applied while there are any' }),
}).openapi('IntentOutcome');

const PruneQuery = z.object({
  prune: z.enum(['true', 'false']).optional().openapi({ param: { name: 'prune', in: 'query' }, description: 'Delete the objects the document leaves out' }),
});

export function registerIntentRoutes(app: App, deps: AppDeps) {
  const IntentDocumentSchema = intentDocumentSchema(deps);
  app.openapi(createRoute({
    method: 'get', path: '/v1/tenants/{tenant}/intent', operationId: 'getIntent', tags: ['Intent'], summary: 'Export the tenant\'s whole intent', security: [{ bearer: [] }],
    request: {
      params: TenantParam,
      query: z.object({ format: z.enum(['json', 'yaml']).optional().openapi({ param: { name: 'format', in: 'query' } }) }),
    },
    responses: {
      200: {
        description: 'The intent; ETag over all of it', headers: ETagHeader,
        content: { ...jsonContent(IntentDocumentSchema), 'application/yaml': { schema: z.string() } },
      },
      ...errorResponses(400, 401, 404),
    },
  }), async (c) => {
    const document = await withTenant(deps.db, c.get('tenant').id, (tx) => readIntent(tx, deps, c.get('tenant').id));
    c.header('ETag', etagOf(document));
    if (c.req.valid('query').format === 'yaml') return c.body(toYaml(document), 200, { 'content-type': 'application/yaml' });
    return c.json(document, 200);
  });

  app.openapi(createRoute({
    method: 'post', path: '/v1/tenants/{tenant}/intent/plan', operationId: 'planIntent', middleware: [tenantWriterOnly] as const, tags: ['Intent'],
    summary: 'What applying a document would do: object changes, each cluster\'s diff or refusal (nothing is stored)', security: [{ bearer: [] }],
    request: { params: TenantParam, query: PruneQuery, body: { required: true, content: jsonContent(IntentDocumentSchema) } },
    responses: { 200: { description: 'The plan', content: jsonContent(IntentOutcomeSchema) }, ...errorResponses(401, 403, 404, 409, 413, 422) },
  }), async (c) => {
    const outcome = await planIntent(deps, writeContext(c, deps), {
      document: c.req.valid('json'), prune: c.req.valid('query').prune === 'true', apply: false,
    });
    return c.json(outcome, 200);
  });

  app.openapi(createRoute({
    method: 'put', path: '/v1/tenants/{tenant}/intent', operationId: 'applyIntent', middleware: [tenantWriterOnly] as const, tags: ['Intent'],
    summary: 'Apply a document in one transaction (If-Match: the ETag of the intent it was planned against)', security: [{ bearer: [] }],
    request: {
      params: TenantParam, query: PruneQuery,
      headers: IfMatchHeader,
      body: { required: true, content: jsonContent(IntentDocumentSchema) },
    },
    responses: {
      200: { description: 'Applied (changes empty: the intent already was the document)', headers: ETagHeader, content: jsonContent(IntentOutcomeSchema) },
      ...errorResponses(401, 403, 404, 409, 412, 413, 422, 428),
    },
  }), async (c) => {
    const ifMatch = c.req.header('if-match');
    if (!ifMatch) {
      throw new ApiError(428, 'precondition-required', 'Precondition required', 'send If-Match with the intent\'s ETag (from GET …/intent or a plan), or * to apply to whatever it is now');
    }
    const outcome = await planIntent(deps, writeContext(c, deps), {
      document: c.req.valid('json'), prune: c.req.valid('query').prune === 'true', apply: true, ifMatch,
    });
    if (!outcome.applied) {
      throw new ApiError(422, 'intent-refused', 'Intent refused',
        `nothing was applied: ${outcome.problems.length} problem(s) and ${outcome.refused.length} cluster(s) that cannot take it`, {
          errors: [...outcome.problems, ...outcome.refused.flatMap((r) => (r.problems as Array<{ code: string; path: string; message: string }>)
            .map((p) => ({ code: p.code, path: `clusters/${r.cluster}/${p.path}`, message: p.message })))],
          extensions: { ...outcome },
        });
    }
    c.header('ETag', outcome.appliedEtag!);
    return c.json(outcome, 200);
  });
}
