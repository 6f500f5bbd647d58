// A tenant's pages: its clusters (backend, revisions, last seen, last error, drift), pools with the
// utilisation of each grant, peers, policy; its sessions across clusters (its audit log: audit.tsx).
import { SYNC_STATES, syncState } from '../../api/fleet.ts';
import { seg } from '../api.ts';
import { Bar, duration, Head, State, when } from '../layout.tsx';
import type { ConsoleRouter } from '../routes.tsx';
import { RolloutPolicySection } from './rollouts.tsx';
import { addresses, grantUtilisation, percent } from '../utilisation.ts';
import type {
  ClusterView, GrantView, PeerView, PoolView, RolloutPolicyView, SessionView,
} from './types.ts';

export const clusterSync = (cl: ClusterView, pollIntervalSeconds: number) =>
  syncState({ ...cl, lastSeenAt: cl.lastSeenAt ? new Date(cl.lastSeenAt) : null }, Date.now(), pollIntervalSeconds);

/** What differs between what the cluster should run and what it runs. */
export function drift(cl: ClusterView): string {
  if (cl.renderProblems?.length) return `cannot follow its capabilities: ${cl.renderProblems.map((p) => p.code).join(', ')}`;
  if (cl.appliedRevision === null) return 'nothing applied yet';
  if (cl.appliedRevision !== cl.desiredRevision) return `applied r${cl.appliedRevision}, desired r${cl.desiredRevision}`;
  return 'none';
}

export function registerTenantPages(router: ConsoleRouter) {
  router.get('/t/:tenant', async ({ c, api, render, pollIntervalSeconds }) => {
    const slug = c.req.param('tenant')!;
    const base = `/v1/tenants/${seg(slug)}`;
    const tenant = await api.get<{ slug: string; name: string }>(base);
    const [clusters, pools, grants, peers, policy, rolloutPolicy] = await Promise.all([
      api.all<ClusterView>(`${base}/clusters`), api.all<PoolView>(`${base}/pools`), api.all<GrantView>(`${base}/grants`),
      api.all<PeerView>(`${base}/peers`), api.get<Record<string, unknown>>(`${base}/policy`),
      api.get<{ policy: RolloutPolicyView | null }>(`${base}/rollout-policy`),
    ]);
    const sync = c.req.query('sync');
    const shown = sync ? clusters.filter((cl) => clusterSync(cl, pollIntervalSeconds) === sync) : clusters;
    const uses = grantUtilisation(grants, pools);
    return render(`Tenant ${tenant.name}`, <>
      <section aria-labelledby="clusters">
        <h2 id="clusters">Clusters{sync ? ` (${sync})` : ''}</h2>
        <form class="filters" method="get" action={`/t/${seg(slug)}#clusters`}>
          <div><label for="sync">Sync state</label>
            <select id="sync" name="sync">
              <option value="">any</option>
              {SYNC_STATES.map((s) => <option value={s} selected={s === sync}>{s}</option>)}
            </select></div>
          <button type="submit" class="secondary">Filter</button>
        </form>
        <div class="table-wrap"><table>
          <Head cols={['Cluster', 'Backend', 'State', ['Desired', 'num'], ['Applied', 'num'], 'Last seen', 'Last error', 'Drift']} />
          <tbody>{shown.map((cl) => (
            <tr>
              <th scope="row"><a href={`/t/${seg(slug)}/clusters/${seg(cl.name)}`}>{cl.name}</a></th>
              <td>{cl.backend}</td><td><State value={clusterSync(cl, pollIntervalSeconds)} /></td>
              <td class="num">r{cl.desiredRevision}</td>
              <td class="num">{cl.appliedRevision === null ? '—' : `r${cl.appliedRevision}`}</td>
              <td>{when(cl.lastSeenAt)}</td><td>{cl.lastApplyError ?? <span class="muted">none</span>}</td><td>{drift(cl)}</td>
            </tr>
          ))}</tbody>
        </table></div>
        {shown.length === 0 && <p class="muted">No clusters{sync ? ' in this state' : ''}.</p>}
      </section>
      <section aria-labelledby="pools">
        <h2 id="pools">Pools and grants</h2>
        <div class="table-wrap"><table>
          <Head cols={['Grant', 'Family', 'Used', 'Pools']} />
          <tbody>{uses.map((u) => (
            <tr><th scope="row" class="mono">{u.cidr}</th><td>IPv{u.family}</td>
              <td>
                {`${percent(u)} (${addresses(u.used)} of ${addresses(u.size)} addresses)`}
                <Bar fraction={u.fraction} label={`${u.cidr}: ${percent(u)} used`} />
              </td>
              <td>{u.pools.join(', ') || <span class="muted">none</span>}</td></tr>
          ))}</tbody>
        </table></div>
        <div class="table-wrap"><table>
          <Head cols={['Pool', 'Addresses', 'Auto-assign']} />
          <tbody>{pools.map((p) => (
            <tr><th scope="row">{p.name}</th><td class="mono">{p.cidrs.join(', ')}</td><td>{p.autoAssign === false ? 'no' : 'yes'}</td></tr>
          ))}</tbody>
        </table></div>
      </section>
      <section aria-labelledby="peers">
        <h2 id="peers">Peers</h2>
        <div class="table-wrap"><table>
          <Head cols={['Peer', 'Address', ['My ASN', 'num'], ['Peer ASN', 'num'], 'BFD profile']} />
          <tbody>{peers.map((p) => (
            <tr><th scope="row">{p.name}</th><td class="mono">{p.peerAddress ?? p.interface}</td><td class="num">{p.myASN}</td>
              <td class="num">{p.peerASN ?? p.dynamicASN}</td><td>{p.bfdProfile ?? <span class="muted">none</span>}</td></tr>
          ))}</tbody>
        </table></div>
      </section>
      <section aria-labelledby="policy">
        <h2 id="policy">Policy</h2>
        <dl class="facts">
          {Object.entries(policy).map(([k, v]) => <><dt>{k}</dt><dd class="mono">{JSON.stringify(v)}</dd></>)}
        </dl>
      </section>
      <RolloutPolicySection tenant={slug} policy={rolloutPolicy.policy} />
    </>, { tenant: slug });
  });

  router.get('/t/:tenant/sessions', async ({ c, api, render }) => {
    const slug = c.req.param('tenant')!;
    const base = `/v1/tenants/${seg(slug)}`;
    const clusters = await api.all<ClusterView>(`${base}/clusters`);
    const state = c.req.query('state');
    const sessionsOf = async (cl: ClusterView) => (await api.get<{ items: SessionView[] }>(`${base}/clusters/${seg(cl.name)}/sessions`)).items
      .map((s) => ({ cluster: cl.name, ...s }));
    const rows = (await Promise.all(clusters.map(sessionsOf))).flat()
      .filter((s) => state === 'up' ? s.bgpState === 'Established' : state === 'down' ? s.bgpState !== 'Established' : true);
    return render(`Sessions of ${slug}${state ? ` (${state})` : ''}`, <>
      <form class="filters" method="get" action={`/t/${seg(slug)}/sessions`}>
        <div><label for="state">State</label><select id="state" name="state">
          <option value="">any</option>
          <option value="up" selected={state === 'up'}>up</option>
          <option value="down" selected={state === 'down'}>down</option>
        </select></div>
        <button type="submit" class="secondary">Filter</button>
      </form>
      <SessionsTable sessions={rows} tenant={slug} />
    </>, { tenant: slug });
  });
}

export function SessionsTable({ sessions, tenant }: { sessions: Array<SessionView & { cluster?: string }>; tenant: string }) {
  if (sessions.length === 0) return <p class="muted">No sessions reported.</p>;
  return (
    <div class="table-wrap"><table>
      <Head cols={[...(sessions[0]!.cluster !== undefined ? ['Cluster'] : []), 'Node', 'Peer', 'BGP', 'BFD', 'Uptime',
        ['Prefixes sent', 'num'], ['received', 'num']]} />
      <tbody>{sessions.map((s) => (
        <tr>
          {s.cluster !== undefined && <td><a href={`/t/${seg(tenant)}/clusters/${seg(s.cluster)}`}>{s.cluster}</a></td>}
          <td>{s.node}</td><td class="mono">{s.peer}</td><td><State value={s.bgpState} /></td>
          <td><State value={s.bfdState} /></td><td>{duration(s.uptimeSeconds)}</td>
          <td class="num">{s.prefixesSent ?? '—'}</td><td class="num">{s.prefixesReceived ?? '—'}</td>
        </tr>
      ))}</tbody>
    </table></div>
  );
}
