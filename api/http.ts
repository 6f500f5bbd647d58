// Small HTTP mechanics shared by the routes: strong ETags, If-Match, keyset cursors and JSON
// merge patch (RFC 7396).
import { sha256Hex } from '../render/index.ts';
import { ApiError } from './errors.ts';

/** A strong ETag of a representation: the same bytes, the same tag. */
export function etagOf(representation: unknown): string {
  return `"${sha256Hex(JSON.stringify(representation)).slice(0, 32)}"`;
}

/** PATCH needs If-Match (428 without it) and it must match the current ETag (412 otherwise). */
export function checkIfMatch(header: string | undefined, current: string): void {
  if (!header) {
    throw new ApiError(428, 'precondition-required', 'Precondition required', 'send If-Match with the ETag of the object you read');
  }
  const tags = header.split(',').map((t) => t.trim());
  if (!tags.includes('*') && !tags.includes(current)) {
    throw new ApiError(412, 'precondition-failed', 'Precondition failed', 'the object changed since you read it; GET it again and reapply your change');
  }
}

/** RFC 7396: objects merge recursively, null deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const result: Record<string, unknown> = target && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 500;

/** Base64url without padding (RFC 4648 §5) of a binary string (one char per byte, as btoa takes). */
export function base64url(binary: string): string {
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Opaque keyset cursor: the sort key of the last item returned. */
export function encodeCursor(key: unknown[]): string {
  return base64url(JSON.stringify(key));
}

/** What a cursor's parts may be: only what this API puts there. */
const CURSOR_PARTS = {
  /** A name, slug or CIDR: a short single-line string. */
  text: (k: unknown) => typeof k === 'string' && k.length > 0 && k.length <= 256 && !/[\u0000-\u001f\u007f]/.test(k),
  /** A revision number. */
  integer: (k: unknown) => Number.isSafeInteger(k),
  /** Microseconds since the epoch, as decimal text (it outgrows a double's exact range). */
  micros: (k: unknown) => typeof k === 'string' && /^[0-9]{1,19}$/.test(k),
  uuid: (k: unknown) => typeof k === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(k),
} as const;
export type CursorPart = keyof typeof CURSOR_PARTS;

/** The key of a cursor this API returned for `parts`; anything else is 400 invalid-cursor (never a database cast error). */
export function decodeCursor(cursor: string | undefined, parts: CursorPart[]): unknown[] | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  try {
    const key = JSON.parse(atob(cursor.replace(/-/g, '+').replace(/_/g, '/'))) as unknown;
    if (Array.isArray(key) && key.length === parts.length && key.every((k, i) => CURSOR_PARTS[parts[i]!](k))) return key;
  } catch { /* fall through */ }
  throw new ApiError(400, 'invalid-cursor', 'Invalid cursor', 'the cursor is not one this API returned; start again without it');
}

/** A strict decimal count: no sign, no exponent, no hex, no leading zero. */
export const COUNT = /^[1-9][0-9]{0,9}$/;

export function pageLimit(text: string | undefined): number {
  if (text === undefined) return DEFAULT_PAGE;
  const n = Number(text);
  if (!COUNT.test(text) || n > MAX_PAGE) {
    throw new ApiError(400, 'invalid-limit', 'Invalid limit', `limit must be a whole number from 1 to ${MAX_PAGE}`);
  }
  return n;
}
