// `column = any(<list>)` with the whole list as ONE parameter. A statement takes at most 65535
// parameters, and `inArray` (or `in (…)`) binds one per value: a fan-out to 10,000 clusters failed
// with a 500 when its revisions, holds and listings grew past it. The list travels as a JSON
// array (any string is safe in it) and is cast to the column's type on the server.
import { sql, type SQL, type SQLWrapper } from 'drizzle-orm';

export type ListType = 'uuid' | 'text';

/**
 * The list as rows of one column `value` of `type`, from one JSON parameter (a set for `in (…)` or a join).
 * `offset 0` keeps the subquery from being flattened into the query around it: flattened, the cast
 * (`uuid_in`, not leakproof) lands in the join condition on a table under row-level security, which
 * PostgreSQL then may not use as an index condition (RLS quals go first). `latestShas` over 10,000
 * clusters became a sequential scan of config_revisions per cluster: minutes instead of 0.1 s.
 */
export function listRows(values: readonly string[], type: ListType): SQL {
  return sql`select value::${sql.raw(type)} as value from jsonb_array_elements_text(${JSON.stringify(values)}::jsonb) offset 0`;
}

/**
 * `column in (values)`: a semi-join the planner hashes. (`= any(array(…))` over the same list was
 * evaluated row by row: 17 s for 7,000 clusters.)
 */
export function anyOf(column: SQLWrapper, values: readonly string[], type: ListType = 'uuid'): SQL {
  return sql`${column} in (${listRows(values, type)})`;
}
