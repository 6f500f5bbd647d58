// One cluster: its state, BGP/BFD sessions, revision history (side-by-side diff, rollback) and
// enrollment tokens (create: shown once with a copy button; revoke). Writes appear only to roles
// that may make them; the API refuses them to anyone else all the same.
import { seg } from '../api.ts';
import { sideBySide } from '../diff.ts';
import { Csrf, Head, SideBySide, State, when, writer } from '../layout.tsx';
import type { ConsoleRouter, View } from '../routes.tsx';
import { clusterSync, drift, SessionsTable } from './tenant.tsx';
import type { ClusterView, RevisionSummary, SessionView } from './types.ts';

interface EnrollmentToken { id: string; expiresAt: string; state: string; createdBy: string | null; createdAt: string; token?: string }
interface Agent { id: string; agentVersion: string | null; lastSeenAt: string | null; revokedAt: string | null }

async function clusterPage(v: View, extra?: { created?: EnrollmentToken; notice?: string }): Promise<Response> {
  const { c, api, viewer, render, pollIntervalSeconds } = v;
  const slug = c.req.param('tenant')!;
  const name = c.req.param('name')!;
  const base = `/v1/tenants/${seg(slug)}/clusters/${seg(name)}`;
  const cluster = await api.get<ClusterView>(base);
  const [sessions, revisions, tokens, agents] = await Promise.all([
    api.get<{ items: SessionView[] }>(`${base}/sessions`), api.get<{ items: RevisionSummary[] }>(`${base}/revisions?limit=20`),
    api.get<{ items: EnrollmentToken[] }>(`${base}/enrollment-tokens`), api.get<{ items: Agent[] }>(`${base}/agents`),
  ]);
  const page = `/t/${seg(slug)}/clusters/${seg(name)}`;
  return render(`Cluster ${name}`, <>
    {extra?.notice && <div class="notice" role="status">{extra.notice}</div>}
    {extra?.created && (
      <div class="notice" role="status">
        <p><strong>Enrollment token created.</strong> It is shown once: give it to the agent now.</p>
        <pre id="new-token" class="secret">{extra.created.token}</pre>
        <button type="button" class="secondary" data-copy="new-token" hidden>Copy token</button> <span id="new-token-status" role="status"></span>
        <p class="muted">Expires {when(extra.created.expiresAt)}. <code>metalfleet agent --token … --cluster {name}</code></p>
      </div>
    )}
    <dl class="facts">
      <dt>Tenant</dt><dd><a href={`/t/${seg(slug)}`}>{slug}</a></dd>
      <dt>Backend</dt><dd>{cluster.backend}</dd>
      <dt>State</dt><dd><State value={clusterSync(cluster, pollIntervalSeconds)} /></dd>
      <dt>Desired revision</dt><dd>r{cluster.desiredRevision}{cluster.pinnedRevision !== null && <> (rolled back to r{cluster.pinnedRevision})</>}</dd>
      <dt>Applied revision</dt><dd>{cluster.appliedRevision === null ? '—' : `r${cluster.appliedRevision}`}</dd>
      <dt>Last seen</dt><dd>{when(cluster.lastSeenAt)}</dd>
      <dt>Last error</dt><dd>{cluster.lastApplyError ?? 'none'}</dd>
      <dt>Drift</dt><dd>{drift(cluster)}</dd>
    </dl>
    <section aria-labelledby="sessions"><h2 id="sessions">Sessions</h2><SessionsTable sessions={sessions.items} tenant={slug} /></section>
    <section aria-labelledby="revisions">
      <h2 id="revisions">Revisions</h2>
      <div class="table-wrap"><table>
        <Head cols={['Revision', 'When', 'Cause', 'Diff', ...(writer(viewer) ? ['Roll back'] : [])]} />
        <tbody>{revisions.items.map((r) => (
          <tr>
            <th scope="row">r{r.revision}{r.revision === cluster.desiredRevision && <span class="muted"> (desired)</span>}</th>
            <td>{when(r.createdAt)}</td><td>{r.cause}</td>
            <td><a href={`${page}/revisions/${r.revision}`}>diff r{r.revision}</a></td>
            {writer(viewer) && <td>{r.revision !== cluster.desiredRevision && (
              <form class="inline" method="post" action={`${page}/rollback`}>
                <Csrf viewer={viewer} /><input type="hidden" name="revision" value={String(r.revision)} />
                <button type="submit" class="secondary" aria-label={`Roll back to r${r.revision}`}>Roll back to r{r.revision}</button>
              </form>
            )}</td>}
          </tr>
        ))}</tbody>
      </table></div>
    </section>
    <section aria-labelledby="enrollment">
      <h2 id="enrollment">Enrollment tokens</h2>
      {writer(viewer) && (
        <form method="post" action={`${page}/enrollment-tokens`} class="filters">
          <Csrf viewer={viewer} />
          <div>
            <label for="ttl">Valid for</label>
            <select id="ttl" name="ttl"><option value="1h">1 hour</option><option value="1d">1 day</option><option value="7d">7 days</option></select>
          </div>
          <button type="submit">Create enrollment token</button>
        </form>
      )}
      <div class="table-wrap"><table>
        <Head cols={['Token', 'State', 'Expires', 'Created by', ...(writer(viewer) ? ['Revoke'] : [])]} />
        <tbody>{tokens.items.map((t) => (
          <tr>
            <th scope="row" class="mono">{t.id.slice(0, 8)}</th><td><State value={t.state} /></td><td>{when(t.expiresAt)}</td><td>{t.createdBy}</td>
            {writer(viewer) && <td>{t.state === 'active' && (
              <form class="inline" method="post" action={`${page}/enrollment-tokens/${t.id}/revoke`}>
                <Csrf viewer={viewer} /><button type="submit" class="danger" aria-label={`Revoke token ${t.id.slice(0, 8)}`}>Revoke</button>
              </form>
            )}</td>}
          </tr>
        ))}</tbody>
      </table></div>
    </section>
    <section aria-labelledby="agents">
      <h2 id="agents">Agents</h2>
      {agents.items.length === 0 ? <p class="muted">No agent has enrolled.</p> : (
        <ul>{agents.items.map((a) => (
          <li class="mono">{`${a.id.slice(0, 8)} ${a.agentVersion ?? ''} last seen ${when(a.lastSeenAt)}${a.revokedAt ? ' (revoked)' : ''}`}</li>
        ))}</ul>
      )}
    </section>
  </>, { tenant: slug });
}

export function registerClusterPages(router: ConsoleRouter) {
  const P = '/t/:tenant/clusters/:name';
  router.get(P, (v) => clusterPage(v));

  router.get(`${P}/revisions/:revision{[0-9]+}`, async ({ c, api, render }) => {
    const slug = c.req.param('tenant')!;
    const name = c.req.param('name')!;
    const revision = Number(c.req.param('revision'));
    const base = `/v1/tenants/${seg(slug)}/clusters/${seg(name)}`;
    const unified = await api.text(`${base}/revisions/${revision}/diff`);
    const page = `/t/${seg(slug)}/clusters/${seg(name)}`;
    return render(`Revision r${revision} of ${name}`, <>
      <p><a href={page}>Back to cluster {name}</a>{revision > 1 && <> · <a href={`${page}/revisions/${revision - 1}`}>r{revision - 1}</a></>}</p>
      <SideBySide rows={sideBySide(unified)} caption={`r${revision - 1} on the left, r${revision} on the right (passwords redacted)`} />
    </>, { tenant: slug });
  });

  router.post(`${P}/rollback`, async (v) => {
    const { c, api, form } = v;
    const base = `/v1/tenants/${seg(c.req.param('tenant')!)}/clusters/${seg(c.req.param('name')!)}`;
    const created = (await api.call<RevisionSummary>('POST', `${base}/rollback`, { body: { revision: Number(form.revision) } })).body;
    return clusterPage(v, { notice: `Rolled back: r${created.revision} serves the objects of r${Number(form.revision)}.` });
  });

  router.post(`${P}/enrollment-tokens`, async (v) => {
    const { c, api, form } = v;
    const base = `/v1/tenants/${seg(c.req.param('tenant')!)}/clusters/${seg(c.req.param('name')!)}`;
    const ttl = typeof form.ttl === 'string' && form.ttl ? form.ttl : '1h';
    const created = (await api.call<EnrollmentToken>('POST', `${base}/enrollment-tokens`, { body: { ttl } })).body;
    return clusterPage(v, { created });
  });

  router.post(`${P}/enrollment-tokens/:id/revoke`, async (v) => {
    const { c, api } = v;
    const base = `/v1/tenants/${seg(c.req.param('tenant')!)}/clusters/${seg(c.req.param('name')!)}`;
    await api.call('DELETE', `${base}/enrollment-tokens/${seg(c.req.param('id')!)}`);
    return clusterPage(v, { notice: 'Enrollment token revoked.' });
  });
}

