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
  return new Response(JSON.stringify(problemBody(c, err)), {
    status: err.status,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE },
  });
}

export const notFound = (what: string) => new ApiError(404, 'not-found', 'Not found', `${what} was not found`);
