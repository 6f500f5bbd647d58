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
  /** Sent as Retry-After: the request may succeed if repeated after this many seconds. */
  readonly retryAfterSeconds: number | undefined;

  constructor(status: ContentfulStatusCode, code: string, title: string, detail: string,
    opts: { errors?: FieldError[]; extensions?: Record<string, unknown>; cause?: unknown; retryAfterSeconds?: number } = {}) {
    super(status, { message: detail, cause: opts.cause });
    this.code = code;
    this.title = title;
    this.errors = opts.errors;
    this.extensions = opts.extensions ?? {};
    this.retryAfterSeconds = opts.retryAfterSeconds;
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
  const headers: Record<string, string> = { 'content-type': PROBLEM_CONTENT_TYPE };
  if (err.retryAfterSeconds !== undefined) headers['retry-after'] = String(err.retryAfterSeconds);
  return c.body(JSON.stringify(problemBody(c, err)), err.status as ContentfulStatusCode, headers);
}

/** The database cannot be reached (or is restarting): retryable, never the client's fault. */
export const databaseUnavailable = (cause?: unknown) => new ApiError(503, 'database-unavailable', 'Database unavailable',
  'the database is not reachable right now; nothing was changed by this request unless a retry shows otherwise', { retryAfterSeconds: 2, cause });

// What a lost, refused or restarting database looks like: postgres.js's own codes, the socket's
// errno codes, and SQLSTATEs of class 08 (connection exception), 57P01-57P03 (the server shutting
// down or starting) and 53300 (no connection slot).
const UNAVAILABLE_CODES = new Set([
  'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT',
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND',
  '57P01', '57P02', '57P03', '53300',
]);

/** Whether `err` (or what caused it) says the database is unreachable rather than the request wrong. */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 6; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
    const errors = (e as { errors?: unknown }).errors; // AggregateError: every address refused
    if (Array.isArray(errors) && errors.length > 0 && errors.every((inner) => isDatabaseUnavailable(inner))) return true;
  }
  return false;
}

/**
 * A stored secret this server cannot open (db/secrets.ts SecretKeyError): sealed under a key it is
 * not configured with (a rotation that dropped METALFLEET_SECRET_KEY_PREVIOUS too early, or the
 * wrong key), or damaged. The operator must act; the client did nothing wrong, and an agent keeps
 * what it applied (503, as for a database outage). The key id is a digest prefix, not the key.
 */
export function secretUnavailable(failure: 'unknown-key' | 'unreadable' | 'malformed-key', keyId: string | undefined): ApiError {
  return failure === 'unknown-key'
    ? new ApiError(503, 'secret-key-unknown', 'Secret key not configured',
      `a stored secret was sealed with key ${keyId ?? '?'}, which this server is not configured with; `
      + 'the operator must add it to METALFLEET_SECRET_KEY_PREVIOUS (then run `metalfleet secrets reseal`)')
    : new ApiError(503, 'secret-unreadable', 'Stored secret unreadable',
      `a stored secret${keyId ? ` of key ${keyId}` : ''} failed authentication (damaged or moved data); the operator must restore it`);
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

/**
 * zod's issue codes as the API's (kebab-case, documented in docs/problem-codes.md). zod's own codes
 * are snake_case and could change with zod: they never reach a client.
 */
export const ZOD_ISSUE_CODES: Record<string, string> = {
  invalid_type: 'invalid-type', unrecognized_keys: 'unknown-field', too_small: 'too-small', too_big: 'too-big',
  invalid_format: 'invalid-format', invalid_value: 'invalid-value', invalid_union: 'invalid-union', invalid_key: 'invalid-key',
  invalid_element: 'invalid-element', not_multiple_of: 'not-multiple-of', custom: 'invalid',
};

/** zod issues (request validation) as field errors. */
export function zodIssuesToFieldErrors(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string; code?: string }>): FieldError[] {
  return issues.map((i) => ({ path: i.path.map(String).join('/'), message: i.message, code: ZOD_ISSUE_CODES[i.code ?? 'custom'] ?? 'invalid' }));
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
      return new ApiError(503, 'conflict-retry', 'Try again', 'the request conflicted with a concurrent change; retry it', { retryAfterSeconds: 1 });
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

/**
 * An instance that is still loading its poll caches (api/warm.ts) refuses agent requests its caches
 * cannot answer yet, instead of reading the database for each: at 100,000 agents those reads starved
 * the warm start itself (ready after 198 s instead of 10). Agents keep their config and come back on
 * their jittered backoff; a load balancer sends them elsewhere meanwhile (/readyz says the same).
 */
export const warmingUp = () => new ApiError(503, 'warming-up', 'Warming up',
  'this instance is loading the agents\' keys and desired revisions; send requests to another one', { retryAfterSeconds: 1 });
