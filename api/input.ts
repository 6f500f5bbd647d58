// One place that bounds every request before any handler sees it: the path and query (no control
// characters, well-formed percent-encoding) and every JSON body (depth, keys per object, string
// length, control characters, keys that would reach an object's prototype, numbers JavaScript
// cannot hold exactly). A request that breaks a bound is refused with a problem naming the field;
// nothing downstream (validation, merge patch, the database, a renderer) ever sees it. The rules per
// field (grammars, ranges) stay with each schema; these are the ones every field shares.
import type { MiddlewareHandler } from 'hono';
import { ApiError, httpExceptionToApiError, type FieldError } from './errors.ts';

export const MAX_JSON_DEPTH = 32;
export const MAX_OBJECT_KEYS = 1000;
/** Longer strings are only ever a mistake or an attack: the longest field anyone needs is far shorter. */
export const MAX_STRING_LENGTH = 64 * 1024;

/**
 * Fields that may hold text of several lines (tab, line feed and carriage return allowed there):
 * an agent's apply error carries the daemon's multi-line message, an import its YAML document
 * (which may also be long). Everywhere else every control character is refused.
 */
const MULTILINE_FIELDS: Array<{ method: string; path: RegExp; field: RegExp; maxLength?: number }> = [
  { method: 'POST', path: /^\/v1\/agent\/status$/, field: /^applyError$/ },
  { method: 'POST', path: /^\/v1\/tenants\/[^/]+\/imports$/, field: /^document$/, maxLength: 1024 * 1024 },
];

/** How a field's strings are bounded: single-line and short, unless MULTILINE_FIELDS says otherwise. */
export interface StringRule { multiline: boolean; maxLength: number }

// C0 controls (NUL included) and DEL, and the C1 controls; in multi-line fields TAB, LF and CR pass.
// Also everywhere: the bidirectional controls (a name that reads differently from how it is
// stored, "Trojan Source"), the line and paragraph separators (line breaks to JavaScript and some
// YAML readers), the BOM, and lone surrogates (not text: stored as U+FFFD, so not what was sent).
const INVISIBLE = '\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ufeff';
const CONTROL = new RegExp(`[\u0000-\u001f\u007f-\u009f${INVISIBLE}]|\\p{Cs}`, 'u');
const CONTROL_MULTILINE = new RegExp(`[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f${INVISIBLE}]|\\p{Cs}`, 'u');
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

const describe = (ch: string) => `U+${ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;

const SINGLE_LINE: StringRule = { multiline: false, maxLength: MAX_STRING_LENGTH };

/**
 * Problems of one parsed JSON value (iteratively: a deep document cannot exhaust the stack). Every
 * status report passes through here: paths are built as strings and only for values that are
 * walked, with no array per node.
 */
export function jsonProblems(value: unknown, rule: (path: string) => StringRule = () => SINGLE_LINE): FieldError[] {
  const problems: FieldError[] = [];
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path: '', depth: 0 }];
  const child = (path: string, key: string) => (path === '' ? key : `${path}/${key}`);
  while (stack.length > 0 && problems.length < 20) {
    const { value: v, path: at, depth } = stack.pop()!;
    if (typeof v === 'string') {
      const { multiline, maxLength } = rule(at);
      const bad = (multiline ? CONTROL_MULTILINE : CONTROL).exec(v);
      if (bad) problems.push({ path: at, code: 'control-character', message: `control character ${describe(bad[0])} is not allowed` });
      else if (v.length > maxLength) problems.push({ path: at, code: 'too-long', message: `at most ${maxLength} characters` });
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v) || (Number.isInteger(v) && !Number.isSafeInteger(v))) {
        problems.push({ path: at, code: 'number-out-of-range', message: 'the number is too large to be exact' });
      }
    } else if (v !== null && typeof v === 'object') {
      if (depth >= MAX_JSON_DEPTH) {
        problems.push({ path: at, code: 'too-deep', message: `nested deeper than ${MAX_JSON_DEPTH} levels` });
        continue;
      }
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) stack.push({ value: v[i], path: child(at, String(i)), depth: depth + 1 });
        continue;
      }
      const keys = Object.keys(v);
      if (keys.length > MAX_OBJECT_KEYS) {
        problems.push({ path: at, code: 'too-many-keys', message: `at most ${MAX_OBJECT_KEYS} keys` });
        continue;
      }
      for (const key of keys) {
        if (FORBIDDEN_KEYS.has(key)) {
          problems.push({ path: child(at, key), code: 'forbidden-key', message: `the key ${JSON.stringify(key)} is not allowed` });
          continue;
        }
        const bad = CONTROL.exec(key);
        if (bad) {
          problems.push({ path: at, code: 'control-character', message: `a key holds control character ${describe(bad[0])}` });
          continue;
        }
        stack.push({ value: (v as Record<string, unknown>)[key], path: child(at, key), depth: depth + 1 });
      }
    }
  }
  return problems;
}

function refused(status: 400 | 422, code: string, title: string, errors: FieldError[]): ApiError {
  const first = errors[0]!;
  const detail = errors.length === 1 ? `${first.path || 'request'}: ${first.message}` : `${errors.length} fields are not valid; see errors`;
  return new ApiError(status, code, title, detail, { errors });
}

/**
 * A path or query string: decoded, and free of control characters. Raw control bytes never get
 * past Node's HTTP parser, so only a URL with a percent-encoding or a query needs a look (the agent
 * poll has neither, and pays nothing).
 */
function urlProblems(c: Parameters<MiddlewareHandler>[0]): ApiError | undefined {
  const raw = c.req.url;
  if (!raw.includes('%') && !raw.includes('?')) return undefined;
  const url = new URL(raw);
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    return refused(400, 'invalid-path', 'Invalid path', [{ path: 'path', code: 'invalid-encoding', message: 'malformed percent-encoding' }]);
  }
  const inPath = CONTROL.exec(path);
  if (inPath) return refused(400, 'invalid-path', 'Invalid path', [{ path: 'path', code: 'control-character', message: `control character ${describe(inPath[0])} is not allowed` }]);
  let params: URLSearchParams;
  try {
    params = new URLSearchParams(url.search);
    for (const [name, value] of params) {
      const bad = CONTROL.exec(name) ?? CONTROL.exec(value);
      if (bad) return refused(400, 'invalid-query', 'Invalid query', [{ path: name, code: 'control-character', message: `control character ${describe(bad[0])} is not allowed` }]);
      if (value.length > 4096) return refused(400, 'invalid-query', 'Invalid query', [{ path: name, code: 'too-long', message: 'at most 4096 characters' }]);
    }
  } catch {
    return refused(400, 'invalid-query', 'Invalid query', [{ path: 'query', code: 'invalid-encoding', message: 'malformed query string' }]);
  }
  return undefined;
}

const JSON_TYPES = /^application\/(merge-patch\+)?json\b/i;

/** The middleware: after the body limit, before any route. GET and HEAD skip the body part. */
export function boundRequests(): MiddlewareHandler {
  return async (c, next) => {
    const problem = urlProblems(c);
    if (problem) throw problem;
    const json = JSON_TYPES.test(c.req.header('content-type') ?? '');
    // PUT and PATCH always carry a document: without a JSON content type the validator would see no
    // body at all and a PATCH would "change" nothing into a new updatedAt.
    if ((c.req.method === 'PATCH' || c.req.method === 'PUT') && !json && c.req.path.startsWith('/v1/')) throw httpExceptionToApiError(415);
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || !json) return next();
    const text = await c.req.text();
    if (text.trim() === '') return next(); // an empty body: the route's validator says whether it may be
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      if (err instanceof RangeError) throw refused(422, 'validation-failed', 'Invalid request', [{ path: '', code: 'too-deep', message: `nested deeper than ${MAX_JSON_DEPTH} levels` }]);
      throw new ApiError(400, 'malformed-request', 'Malformed request', 'the request body is not valid JSON');
    }
    const method = c.req.method;
    const route = MULTILINE_FIELDS.filter((m) => m.method === method && m.path.test(c.req.path));
    const problems = jsonProblems(parsed, (path) => {
      const field = route.find((m) => m.field.test(path));
      return field ? { multiline: true, maxLength: field.maxLength ?? MAX_STRING_LENGTH } : SINGLE_LINE;
    });
    if (problems.length > 0) throw refused(422, 'validation-failed', 'Invalid request', problems);
    return next();
  };
}
