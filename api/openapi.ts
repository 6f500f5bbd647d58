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

export const jsonContent = <T extends z.ZodType>(schema: T) => ({ 'application/json': { schema } });
export const mergePatchContent = <T extends z.ZodType>(schema: T) => ({ 'application/merge-patch+json': { schema }, 'application/json': { schema } });

export const SLUG = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
export const TenantParam = z.object({
  tenant: z.string().openapi({ param: { name: 'tenant', in: 'path' }, description: 'Tenant slug', example: 'acme' }),
});
export const NameParam = z.object({
  name: z.string().openapi({ param: { name: 'name', in: 'path' }, example: 'web' }),
});
export const PageQuery = z.object({
  limit: z.string().optional().openapi({ param: { name: 'limit', in: 'query' }, description: 'Page size, 1..500 (default 50)' }),
  cursor: z.string().optional().openapi({ param: { name: 'cursor', in: 'query' }, description: 'nextCursor of the previous page' }),
});
