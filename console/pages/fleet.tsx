// The fleet page (platform admins): clusters by sync state and backend, sessions up and down,
// stale agents, and each tenant's grant utilisation. Every number links to the list behind it.
import { SYNC_STATES, syncState } from '../../api/fleet.ts';
import { seg } from '../api.ts';
import { Bar, Head, State, when } from '../layout.tsx';
import type { ConsoleRouter } from '../routes.tsx';
import { grantUtilisation, percent } from '../utilisation.ts';
import type { ClusterView, GrantView, PoolView } from './types.ts';

interface TenantHealth {
  tenant: string; clusters: Record<string, number>; sessions: Record<string, number>;
  pausedRollouts?: Array<{ number: number; reason: string | null }>;
}

export function registerFleetPages(router: ConsoleRouter) {
  router.get('/', async ({ c, viewer, api, render, pollIntervalSeconds }) => {
    if (viewer.role !== 'platform-admin') {
      if (!viewer.tenantSlug) return render('No tenant', <p>This token's tenant is gone.</p>, { status: 404 });
      return c.redirect(`/t/${seg(viewer.tenantSlug)}`, 303);
    }
    const [{ tenants: health }, tenants] = await Promise.all([
      api.get<{ tenants: TenantHealth[] }>('/v1/fleet/health'),
      api.all<{ slug: string; name: string; deletingSince: string | null }>('/v1/tenants'),
    ]);
    const nowMs = Date.now();
    // Per tenant: its clusters (backend, stale agents) and grant utilisation, through the same
    // list routes a client would call.
    const details = await Promise.all(tenants.map(async (t) => {
      const base = `/v1/tenants/${seg(t.slug)}`;
      const [clusters, grants, pools] = await Promise.all([
        api.all<ClusterView>(`${base}/clusters`), api.all<GrantView>(`${base}/grants`), api.all<PoolView>(`${base}/pools`),
      ]);
      return { tenant: t, clusters, uses: grantUtilisation(grants, pools) };
    }));
    const total = (pick: (h: TenantHealth) => number) => health.reduce((n, h) => n + pick(h), 0);
    const up = total((h) => h.sessions.Established ?? 0);
    const all = total((h) => Object.values(h.sessions).reduce((a, b) => a + b, 0));
    const byBackend = new Map<string, number>();
    const everyCluster = details.flatMap((d) => d.clusters.map((cluster) => ({
      tenant: d.tenant.slug, cluster,
      state: syncState({ ...cluster, lastSeenAt: cluster.lastSeenAt ? new Date(cluster.lastSeenAt) : null },
        nowMs, pollIntervalSeconds),
    })));
    for (const { cluster } of everyCluster) byBackend.set(cluster.backend, (byBackend.get(cluster.backend) ?? 0) + 1);
    const stale = everyCluster.filter((x) => x.state === 'stale');
    const paused = health.flatMap((h) => (h.pausedRollouts ?? []).map((p) => ({ tenant: h.tenant, ...p })));
    const sync = c.req.query('sync');
    const backend = c.req.query('backend');
    const listed = everyCluster.filter((x) => (!sync || x.state === sync) && (!backend || x.cluster.backend === backend));
    return render('Fleet', <>
      <section aria-labelledby="sync">
        <h2 id="sync">Clusters by sync state</h2>
        <ul class="tiles">
          {SYNC_STATES.map((s) => (
            <li><a href={`/?sync=${s}#clusters`}><span class="n">{total((h) => h.clusters[s] ?? 0)}</span></a><State value={s} /></li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="backends">
        <h2 id="backends">Clusters by backend</h2>
        <ul class="tiles">
          {[...byBackend].sort().map(([b, n]) => <li><a href={`/?backend=${b}#clusters`}><span class="n">{n}</span></a>{b}</li>)}
        </ul>
      </section>
      <section aria-labelledby="sessions">
        <h2 id="sessions">BGP sessions</h2>
        <ul class="tiles">
          <li><a href="#tenants"><span class="n">{up}</span></a><State value="up" /> (Established)</li>
          <li><a href="#tenants"><span class="n">{all - up}</span></a><State value="down" /> (any other state)</li>
          <li><a href="#stale"><span class="n">{stale.length}</span></a>stale agents</li>
        </ul>
      </section>
      <section aria-labelledby="tenants">
        <h2 id="tenants">Tenants</h2>
        <div class="table-wrap"><table>
          <Head cols={['Tenant', ...SYNC_STATES.map((s) => [s, 'num'] as [string, 'num']), ['sessions up', 'num'], ['down', 'num'], 'Grants used']} />
          <tbody>
            {details.map(({ tenant, uses }) => {
              const h = health.find((x) => x.tenant === tenant.slug);
              const tUp = h?.sessions.Established ?? 0;
              const tAll = h ? Object.values(h.sessions).reduce((a, b) => a + b, 0) : 0;
              const t = `/t/${seg(tenant.slug)}`;
              return (
                <tr>
                  <th scope="row">
                    <a href={t}>{tenant.slug}</a>{tenant.deletingSince && <span class="state-warn"> deleting</span>}
                  </th>
                  {SYNC_STATES.map((s) => <td class="num"><a href={`${t}?sync=${s}#clusters`}>{h?.clusters[s] ?? 0}</a></td>)}
                  <td class="num"><a href={`/t/${seg(tenant.slug)}/sessions?state=up`}>{tUp}</a></td>
                  <td class="num"><a href={`/t/${seg(tenant.slug)}/sessions?state=down`}>{tAll - tUp}</a></td>
                  <td>{uses.length === 0 ? <span class="muted">no grants</span> : uses.map((u) => (
                    <div>
                      <a href={`${t}#pools`} class="mono">{u.cidr}</a>{` ${percent(u)}`}
                      <Bar fraction={u.fraction} label={`${u.cidr}: ${percent(u)} used`} />
                    </div>
                  ))}</td>
                </tr>
              );
            })}
          </tbody>
        </table></div>
      </section>
      <section aria-labelledby="clusters">
        <h2 id="clusters">Clusters{sync ? ` (${sync})` : ''}{backend ? ` (${backend})` : ''}</h2>
        {(sync || backend) && <p><a href="/#clusters">Every cluster</a></p>}
        <div class="table-wrap"><table>
          <Head cols={['Cluster', 'Tenant', 'Backend', 'State', 'Last seen']} />
          <tbody>{listed.map(({ tenant, cluster, state }) => (
            <tr><th scope="row"><a href={`/t/${seg(tenant)}/clusters/${seg(cluster.name)}`}>{cluster.name}</a></th><td>{tenant}</td>
              <td>{cluster.backend}</td><td><State value={state} /></td><td>{when(cluster.lastSeenAt)}</td></tr>
          ))}</tbody>
        </table></div>
        {listed.length === 0 && <p class="muted">No clusters.</p>}
      </section>
      <section aria-labelledby="paused-rollouts">
        <h2 id="paused-rollouts">Paused rollouts</h2>
        {paused.length === 0 ? <p class="muted">None: no tenant has a rollout waiting for an operator.</p> : (
          <ul>{paused.map((p) => (
            <li>
              <a href={`/t/${seg(p.tenant)}/rollouts/${p.number}`}>{`${p.tenant}: rollout ${p.number}`}</a>
              {`, ${p.reason ?? 'no reason recorded'}`}
            </li>
          ))}</ul>
        )}
      </section>
      <section aria-labelledby="stale">
        <h2 id="stale">Stale agents</h2>
        {stale.length === 0 ? <p class="muted">None: every agent that reported has reported recently.</p> : (
          <ul>{stale.map((s) => (
            <li>
              <a href={`/t/${seg(s.tenant)}/clusters/${seg(s.cluster.name)}`}>{s.tenant}/{s.cluster.name}</a>
              {`, last seen ${when(s.cluster.lastSeenAt)}`}
            </li>
          ))}</ul>
        )}
      </section>
    </>);
  });
}
