// A tenant's audit log: one page of events at a time, newest first, filtered by the API (actor,
// resource, action), so a filter reaches every event the tenant has, not only the latest few.
import { AUDIT_ACTIONS, AUDIT_RESOURCES, MAX_ACTOR_FILTER } from '../../api/audit.ts';
import { ApiProblem, seg } from '../api.ts';
import { Head, ProblemNotice, when } from '../layout.tsx';
import type { ConsoleRouter } from '../routes.tsx';
import type { AuditEvent } from './types.ts';

export const AUDIT_PAGE_SIZE = 100;

const FILTERS = ['actor', 'resource', 'action'] as const;
type Filters = Record<typeof FILTERS[number], string>;

/** The filters that are set, as a query string (no leading ?), plus the cursor when there is one. */
function queryOf(filters: Filters, cursor?: string): string {
  const params = new URLSearchParams();
  for (const name of FILTERS) if (filters[name] !== '') params.set(name, filters[name]);
  if (cursor) params.set('cursor', cursor);
  return params.toString();
}

export function registerAuditPage(router: ConsoleRouter) {
  router.get('/t/:tenant/audit', async ({ c, api, render }) => {
    const slug = c.req.param('tenant')!;
    const filters = Object.fromEntries(FILTERS.map((name) => [name, c.req.query(name) ?? ''])) as Filters;
    const cursor = c.req.query('cursor') || undefined;
    const here = `/t/${seg(slug)}/audit`;
    let page: { items: AuditEvent[]; nextCursor: string | null } | undefined;
    let refused: ApiProblem | undefined;
    try {
      const rest = queryOf(filters, cursor);
      page = await api.get(`/v1/tenants/${seg(slug)}/audit?limit=${AUDIT_PAGE_SIZE}${rest ? `&${rest}` : ''}`);
    } catch (err) {
      // A filter the API refuses is shown above the form, which keeps what was typed.
      if (!(err instanceof ApiProblem) || (err.problem.status !== 400 && err.problem.status !== 422)) throw err;
      refused = err;
    }
    const newest = queryOf(filters);
    return render(`Audit log of ${slug}`, <>
      {refused && <ProblemNotice title={refused.problem.title} detail={refused.problem.detail}
        errors={refused.problem.errors} />}
      <form class="filters" method="get" action={here}>
        <div><label for="actor">Actor contains</label>
          <input type="search" id="actor" name="actor" value={filters.actor} maxlength={MAX_ACTOR_FILTER} /></div>
        <div><label for="resource">Resource</label><select id="resource" name="resource"><option value="">any</option>
          {AUDIT_RESOURCES.map((r) => <option value={r} selected={r === filters.resource}>{r}</option>)}</select></div>
        <div><label for="action">Action</label><select id="action" name="action"><option value="">any</option>
          {AUDIT_ACTIONS.map((a) => <option value={a} selected={a === filters.action}>{a}</option>)}</select></div>
        <button type="submit" class="secondary">Filter</button>
      </form>
      {page && (page.items.length === 0
        ? <p class="muted">No events{newest ? ' match the filter' : ''}.</p>
        : <div class="table-wrap"><table>
          <caption class="muted">Newest first, {AUDIT_PAGE_SIZE} at a time.</caption>
          <Head cols={['When', 'Actor', 'Action', 'Resource', 'Id']} />
          <tbody>{page.items.map((e) => (
            <tr><td>{when(e.at)}</td><td>{e.actor}</td><td>{e.action}</td><td>{e.resource}</td>
              <td class="mono">{e.resourceId}</td></tr>
          ))}</tbody>
        </table></div>)}
      {(cursor || page?.nextCursor) && (
        <nav aria-label="Pages of the audit log"><p>
          {cursor && <a href={newest ? `${here}?${newest}` : here}>Newest</a>}
          {cursor && page?.nextCursor && ' · '}
          {page?.nextCursor && <a href={`${here}?${queryOf(filters, page.nextCursor)}`}>Older</a>}
        </p></nav>
      )}
    </>, { tenant: slug, ...(refused ? { status: refused.problem.status } : {}) });
  });
}
