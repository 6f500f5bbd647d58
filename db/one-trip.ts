// One round trip for a scoped statement on the hottest write path (agent status reports): the
// scope (role and settings, transaction-local) and the statement go to Postgres as one
// multi-statement message, which Postgres runs as one implicit transaction: the scope ends with
// it, and an error rolls everything back and leaves the pooled connection clean. The statement
// is an ordinary drizzle template (one source of SQL); its parameters become dollar-quoted
// literals with a random tag that the value cannot contain, so no value is ever parsed as SQL.
import { type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { ScopeRole } from './tenant.ts';

const dialect = new PgDialect();

function randomTag(): string {
  return `$mf${Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, '0')).join('')}$`;
}

/** A value as an SQL literal that Postgres can only read as data (`tag`: reuse one known not to occur in it). */
export function sqlLiteral(value: unknown, tag?: string): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('a number literal must be finite');
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  const text = String(value);
  if (text.includes('\0')) throw new TypeError('text with a NUL byte cannot be sent to PostgreSQL');
  let quote = tag ?? randomTag();
  while (text.includes(quote)) quote = randomTag();
  return `${quote}${text}${quote}`;
}

/**
 * The statement with its parameters inlined as literals. `tag`: one tag for the whole message
 * (random bytes are not free on a hot path); a value that holds it gets a tag of its own.
 */
export function inlineStatement(statement: SQL, tag = randomTag()): string {
  const { sql, params } = dialect.sqlToQuery(statement);
  return sql.replace(/\$(\d+)/g, (_, n: string) => sqlLiteral(params[Number(n) - 1], tag));
}

const assignments = (settings: Record<string, string>, tag: string) =>
  Object.entries(settings).map(([name, value]) => `set_config(${sqlLiteral(name, tag)}, ${sqlLiteral(value, tag)}, true)`);

/** The scope's settings and the statement, as one message. */
export function scopedScript(role: ScopeRole, settings: Record<string, string>, statement: SQL): string {
  return scopedBatchScript(role, settings, [{ settings: {}, statement }]);
}

/**
 * Several statements for one role, each in the scope of its own settings: the role once, then for
 * every statement its settings followed by it. All in one message, one implicit transaction.
 * Each statement runs under the settings set just before it, so row-level security confines
 * each to its own scope.
 */
export function scopedBatchScript(role: ScopeRole, shared: Record<string, string>, items: Array<{ settings: Record<string, string>; statement: SQL }>): string {
  const tag = randomTag();
  const parts = [`select ${[`set_config('role', ${sqlLiteral(role, tag)}, true)`, ...assignments(shared, tag)].join(', ')}`];
  for (const item of items) {
    const own = assignments(item.settings, tag);
    if (own.length > 0) parts.push(`select ${own.join(', ')}`);
    parts.push(inlineStatement(item.statement, tag));
  }
  return parts.join(';\n');
}
