// RFC 9457 problem details for every error the API returns. Database errors are mapped here and
// their driver `detail` (which can name another tenant's rows) never reaches a client.
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Context } from 'hono';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
export const PROBLEM_TYPE_BASE = 'https://metalfleet.dev/problems/';

export interface FieldError {
  /** JSON pointer-ish path of the offending field, e.g. `cidrs/1`. */
  path: string;
  message: string;
  code?: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  requestId: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

/** An error the API means to return: a stable `code`, an HTTP status and a human `detail`. */
export class ApiError extends HTTPException {
  readonly code: string;
  readonly title: string;
  readonly errors: FieldError[] | undefined;
  readonly extensions: Record<string, unknown>;

  constructor(status: ContentfulStatusCode, code: string, title: string, detail: string,
    opts: { errors?: FieldError[]; extensions?: Record<string, unknown>; cause?: unknown } = {}) {
    super(status, { message: detail, cause: opts.cause });
    this.code = code;
    this.title = title;
    this.errors = opts.errors;
    this.extensions = opts.extensions ?? {};
  }
}

export function problemBody(c: Context, err: ApiError): Problem {
  return {
    type: PROBLEM_TYPE_BASE + err.code,
    title: err.title,
    status: err.status,
    detail: err.message,
    code: err.code,
    requestId: (c.get('requestId' as never) as string | undefined) ?? '',
    ...(err.errors ? { errors: err.errors } : {}),
    ...err.extensions,
  };
}

export function problemResponse(c: Context, err: ApiError): Response {
  // Through the context, so the headers set for every response (X-Request-Id) are on it too.
  return c.body(JSON.stringify(problemBody(c, err)), err.status as ContentfulStatusCode, { 'content-type': PROBLEM_CONTENT_TYPE });
}

export const notFound = (what: string) => new ApiError(404, 'not-found', 'Not found', `${what} was not found`);

/** Field errors from render-core problems (paths relative to the request body). */
export function problemsToFieldErrors(problems: Array<{ code: string; path: string; message: string; remedy: string }>): FieldError[] {
  return problems.map((p) => ({ path: p.path, code: p.code, message: `${p.message}; ${p.remedy}` }));
}

const POLICY_CODES = new Set([
  'asn-not-allowed', 'peer-address-not-allowed', 'bfd-required', 'password-required', 'community-not-allowed',
  'backend-not-allowed', 'local-peering-not-allowed', 'pool-outside-grant', 'too-many-pools',
]);

/** 422 for one or more field problems; `policy-violation` when the tenant policy is what refuses. */
export function invalidRequest(errors: FieldError[]): ApiError {
  const policy = errors.length > 0 && errors.every((e) => e.code && POLICY_CODES.has(e.code));
  const first = errors[0];
  const detail = errors.length === 1 && first ? `${first.path || 'request'}: ${first.message}` : `${errors.length} fields are not valid; see errors`;
  return policy
    ? new ApiError(422, 'policy-violation', 'Refused by the tenant policy', detail, { errors })
    : new ApiError(422, 'validation-failed', 'Invalid request', detail, { errors });
}

/** zod issues (request validation) as field errors. */
export function zodIssuesToFieldErrors(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string; code?: string }>): FieldError[] {
  return issues.map((i) => ({ path: i.path.map(String).join('/'), message: i.message, code: i.code ?? 'invalid' }));
}

/**
 * Database errors as problems. The driver's message and detail can name other tenants' rows
 * (an exclusion conflict prints the conflicting CIDR), so nothing of them is passed on.
 */
export function mapDbError(err: unknown, pgCode: string | undefined, constraint: string | undefined): ApiError | undefined {
  switch (pgCode) {
    case '23505':
      return new ApiError(409, 'already-exists', 'Already exists', 'an object with this name already exists');
    case '23P01':
      return constraint === 'address_grants_no_overlap'
        ? new ApiError(409, 'address-overlap', 'Address overlap', 'the CIDR overlaps an existing grant')
        : new ApiError(409, 'address-overlap', 'Address overlap', 'the CIDR overlaps an existing allocation');
    case '23503': // foreign_key_violation (PostgreSQL 15 for ON DELETE RESTRICT)
    case '23001': // restrict_violation (newer PostgreSQL, PGlite)
      return new ApiError(409, 'in-use', 'In use', 'the object is referenced by another object; remove the reference first');
    case '23514':
    case '22P02':
    case '22003':
      return new ApiError(422, 'validation-failed', 'Invalid request', 'a value is out of range or malformed');
    case '42501':
      return new ApiError(404, 'not-found', 'Not found', 'the object was not found');
    case '40001':
    case '40P01':
      return new ApiError(503, 'conflict-retry', 'Try again', 'the request conflicted with a concurrent change; retry it');
    default:
      void err;
      return undefined;
  }
}

/** Status codes Hono raises itself (malformed JSON, body limit) as problems. */
export function httpExceptionToApiError(status: number): ApiError {
  switch (status) {
    case 400: return new ApiError(400, 'malformed-request', 'Malformed request', 'the request body is not valid JSON');
    case 413: return new ApiError(413, 'payload-too-large', 'Payload too large', 'the request body exceeds 1 MiB');
    case 415: return new ApiError(415, 'unsupported-media-type', 'Unsupported media type', 'send Content-Type: application/json');
    case 401: return new ApiError(401, 'unauthorized', 'Unauthorized', 'authentication is required');
    default: return new ApiError(status as ContentfulStatusCode, 'http-error', 'Request failed', `the request failed with status ${status}`);
  }
}

export const forbidden = (detail: string) => new ApiError(403, 'forbidden', 'Forbidden', detail);
