// OpenAPI building blocks shared by the routes: the problem+json schema, error responses,
// content helpers and the common path and query parameters.
import { z } from '@hono/zod-openapi';
import { PROBLEM_CONTENT_TYPE } from './errors.ts';

export const ProblemSchema = z.object({
  type: z.string().openapi({ example: 'https://metalfleet.dev/problems/validation-failed' }),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  code: z.string().openapi({ description: 'Stable machine-readable code (docs/problem-codes.md)' }),
  requestId: z.string(),
  errors: z.array(z.object({ path: z.string(), message: z.string(), code: z.string().optional() })).optional(),
}).openapi('Problem');

const STATUS_TEXT: Record<number, string> = {
  400: 'Malformed request', 401: 'Missing or invalid token', 403: 'The token may not do this', 404: 'Not found (or not yours)',
  409: 'Conflict (exists, overlaps, or in use)', 412: 'The ETag in If-Match is stale', 413: 'Body over 1 MiB',
  422: 'Invalid, or refused by the tenant policy', 428: 'If-Match is required', 503: 'Unavailable',
};

export function errorResponses(...statuses: number[]) {
  return Object.fromEntries(statuses.map((s) => [s, {
    description: STATUS_TEXT[s] ?? 'Error',
    content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } },
  }])) as Record<number, { description: string; content: Record<string, { schema: typeof ProblemSchema }> }>;
}

/**
 * Security of the operations anyone may call (health, the JWKS, this document, enrollment, which
 * proves itself with its single-use token in the body). Every other operation names its scheme:
 * `bearer` (people: API tokens and OIDC) or `agentAssertion` (the agent protocol).
 */
export const PUBLIC: Array<Record<string, string[]>> = [];

export const jsonContent = <T extends z.ZodType>(schema: T) => ({ 'application/json': { schema } });
export const mergePatchContent = <T extends z.ZodType>(schema: T) => ({ 'application/merge-patch+json': { schema }, 'application/json': { schema } });

export const SLUG = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
export const TenantParam = z.object({
  tenant: z.string().openapi({ param: { name: 'tenant', in: 'path' }, description: 'Tenant slug', example: 'acme' }),
});
export const NameParam = z.object({
  name: z.string().openapi({ param: { name: 'name', in: 'path' }, example: 'web' }),
});
/**
 * If-Match, required: without it the route answers 428 precondition-required. The schema itself is
 * optional, so that request validation lets the request through to that answer instead of a 422.
 */
export const IfMatchHeader = z.object({
  'if-match': z.string().optional().openapi({
    param: { required: true },
    description: 'The ETag you read (or *); without it the answer is 428',
    example: '"9b1d3f0c2a4e6b8d0f1a3c5e7b9d1f3a"',
  }),
});
/** The ETag of the representation answered, for If-Match. */
export const ETagHeader = {
  ETag: { schema: { type: 'string' as const }, description: 'Send it back as If-Match to change the object' },
};
/** If-Match where it may be left out (a write without it replaces whatever is there). */
export const OptionalIfMatchHeader = z.object({
  'if-match': z.string().optional().openapi({ description: 'The ETag you read; a stale one answers 412' }),
});
export const PageQuery = z.object({
  limit: z.string().optional().openapi({ param: { name: 'limit', in: 'query' }, description: 'Page size, 1..500 (default 50)' }),
  cursor: z.string().optional().openapi({ param: { name: 'cursor', in: 'query' }, description: 'nextCursor of the previous page' }),
});
