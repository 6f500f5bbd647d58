// A tenant's staged rollouts (docs/rollouts.md): the list (state, wave progress, the change each
// carries), one rollout's waves with each cluster's revision and gate evidence, and the operator's
// buttons (pause, resume, abort, promote: writers only, only those the rollout's state allows; the
// API refuses the rest all the same). Also the tenant page's read-only rollout-policy section.
import { seg } from '../api.ts';
import { Csrf, duration, Head, State, when, writer } from '../layout.tsx';
import type { ConsoleRouter } from '../routes.tsx';
import type { LabelSelectorView, RolloutClusterView, RolloutPolicyView, RolloutSummaryView, RolloutView } from './types.ts';

type RolloutAction = 'pause' | 'resume' | 'abort' | 'promote';

/** Which actions a rollout in each state takes (api/rollouts.ts actOnRollout). */
export const ACTIONS_BY_STATE: Record<string, RolloutAction[]> = {
  queued: ['pause', 'abort'], progressing: ['pause', 'promote', 'abort'], paused: ['resume', 'promote', 'abort'],
};

const ACTION_TEXT: Record<RolloutAction, { label: string; done: string; help: string }> = {
  pause: { label: 'Pause', done: 'Paused', help: 'no wave starts until it is resumed; nothing moves back' },
  resume: { label: 'Resume', done: 'Resumed', help: 'advance again; a wave whose gates failed starts again' },
  promote: {
    label: 'Promote', done: 'Promoted',
    help: 'count the current wave as passed whatever its gates say, and start the next',
  },
  abort: {
    label: 'Abort', done: 'Aborted',
    help: 'every cluster given the new revision goes back to the one it served before',
  },
};

const isAction = (s: string | undefined): s is RolloutAction => s !== undefined && Object.hasOwn(ACTION_TEXT, s);

/** A few lines on what a rollout, a wave and a gate are (the long version is docs/rollouts.md). */
export const RolloutsExplained = () => (
  <p class="muted">
    With a rollout policy, a change becomes a <strong>rollout</strong>: every affected cluster's new revision is rendered
    at once, but a cluster is given it only when its <strong>wave</strong> starts. A wave passes when each of its
    clusters passes its <strong>gates</strong> (the agent applied the revision, no apply error, every BGP session
    Established, at least the expected prefixes advertised, BFD up where configured) and its bake time is over;
    then the next wave starts. A failed gate moves the wave's clusters back to their previous revision and pauses
    the rollout. Details: <code>docs/rollouts.md</code>.
  </p>
);

function selectorText(selector: LabelSelectorView | undefined): string {
  if (!selector) return 'any cluster';
  const labels = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  const exprs = (selector.matchExpressions ?? [])
    .map((e) => `${e.key} ${e.operator}${e.values ? ` (${e.values.join(', ')})` : ''}`);
  return [...labels, ...exprs].join(', ') || 'any cluster';
}

/** The tenant page's section: the policy (read-only), how to change it, and what rollouts are. */
export function RolloutPolicySection({ tenant, policy }: { tenant: string; policy: RolloutPolicyView | null }) {
  return (
    <section aria-labelledby="rollout-policy">
      <h2 id="rollout-policy">Rollout policy</h2>
      <RolloutsExplained />
      {policy === null ? <p>No rollout policy: every change reaches all its clusters at once.</p> : <>
        <div class="table-wrap"><table class="whole-words">
          <caption class="muted">{`Waves in order; a change made while a rollout is unfinished ${
            policy.onNewChange === 'supersede' ? 'supersedes it' : 'queues behind it'} (${policy.onNewChange}).`}</caption>
          <Head cols={['Wave', 'Clusters selected', ['Up to %', 'num'], ['Max clusters', 'num'], 'Bake', 'Timeout']} />
          <tbody>{policy.waves.map((w) => (
            <tr><th scope="row">{w.name}</th><td class="mono">{selectorText(w.selector)}</td>
              <td class="num">{w.percent ?? '—'}</td><td class="num">{w.maxClusters ?? '—'}</td>
              <td>{duration(w.bakeSeconds)}</td><td>{duration(w.timeoutSeconds)}</td></tr>
          ))}</tbody>
        </table></div>
      </>}
      <p>
        To change it: <code>PUT /v1/tenants/{tenant}/rollout-policy</code> (tenant-admins; <code>{'{"policy": null}'}</code>
        {' '}for all at once). Act on a rollout here or with
        {' '}<code>metalfleet rollout status|pause|resume|abort|promote</code>.
        {' '}<a href={`/t/${seg(tenant)}/rollouts`}>Rollouts of {tenant}</a>
      </p>
    </section>
  );
}

/** How far a rollout is: the current wave's position and how many clusters are on the new revision. */
export function waveProgress(r: RolloutView): string {
  const clusters = r.waves.flatMap((w) => w.clusters);
  const onNew = clusters.filter((c) => c.serving === 'new').length;
  const index = r.currentWave === null ? -1 : r.waves.findIndex((w) => w.name === r.currentWave);
  const wave = index < 0 ? (r.state === 'completed' ? `all ${r.waves.length} waves` : 'no wave started')
    : `wave ${index + 1} of ${r.waves.length} (${r.currentWave})`;
  return `${wave}; ${onNew} of ${clusters.length} clusters on the new revision`;
}

function served(c: RolloutClusterView): string {
  const from = c.fromRevision === null ? 'nothing' : `r${c.fromRevision}`;
  return c.serving === 'new' ? `new: r${c.toRevision} (was ${from})` : `previous: ${from} (new: r${c.toRevision})`;
}

function ClusterRow({ tenant, c }: { tenant: string; c: RolloutClusterView }) {
  return (
    <tr>
      <th scope="row"><a href={`/t/${seg(tenant)}/clusters/${seg(c.cluster)}`}>{c.cluster}</a></th>
      <td><State value={c.state} /></td><td>{served(c)}</td>
      <td class="num">r{c.desiredRevision}</td>
      <td class="num">{c.appliedRevision === null ? '—' : `r${c.appliedRevision}`}</td>
      <td>
        {c.gates.length === 0 ? <span class="muted">{c.verdict ?? 'not evaluated yet'}</span> : (
          <ul class="gates">{c.gates.map((g) => (
            <li><State value={g.ok ? 'pass' : 'fail'} /> <code>{g.gate}</code>{g.evidence && <>: {g.evidence}</>}</li>
          ))}</ul>
        )}
        {c.reason && <p class="muted">{c.reason}</p>}
        {c.evaluatedAt && <p class="muted">evaluated {when(c.evaluatedAt)}</p>}
      </td>
    </tr>
  );
}

export function registerRolloutPages(router: ConsoleRouter) {
  router.get('/t/:tenant/rollouts', async ({ c, api, render }) => {
    const slug = c.req.param('tenant')!;
    const base = `/v1/tenants/${seg(slug)}`;
    const cursor = c.req.query('cursor');
    const page = await api.get<{ items: RolloutSummaryView[]; nextCursor: string | null }>(
      `${base}/rollouts?limit=25${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    const [policy, details] = await Promise.all([
      api.get<{ policy: RolloutPolicyView | null }>(`${base}/rollout-policy`),
      Promise.all(page.items.map((r) => api.get<RolloutView>(`${base}/rollouts/${r.number}`))),
    ]);
    return render(`Rollouts of ${slug}`, <>
      <RolloutsExplained />
      {policy.policy === null && <p>This tenant has no rollout policy: its changes reach every cluster at once and open
        no rollout (<a href={`/t/${seg(slug)}#rollout-policy`}>how to set one</a>).</p>}
      {details.length === 0 ? <p class="muted">No rollouts{cursor ? ' on this page' : ''}.</p> : (
        <div class="table-wrap"><table class="whole-words">
          <caption class="muted">Newest first.</caption>
          <Head cols={['Rollout', 'State', 'Waves', 'Created', 'Change']} />
          <tbody>{details.map((r) => (
            <tr>
              <th scope="row"><a href={`/t/${seg(slug)}/rollouts/${r.number}`}>Rollout {r.number}</a></th>
              <td><State value={r.state} />{r.pausedReason && <p class="muted">{r.pausedReason}</p>}</td>
              <td>{waveProgress(r)}</td><td>{when(r.createdAt)}</td><td>{r.cause}</td>
            </tr>
          ))}</tbody>
        </table></div>
      )}
      {page.nextCursor && (
        <p><a href={`/t/${seg(slug)}/rollouts?cursor=${encodeURIComponent(page.nextCursor)}`}>Older rollouts</a></p>
      )}
    </>, { tenant: slug });
  });

  router.get('/t/:tenant/rollouts/:number{[0-9]+}', async ({ c, api, viewer, render }) => {
    const slug = c.req.param('tenant')!;
    const number = c.req.param('number')!;
    const r = await api.get<RolloutView>(`/v1/tenants/${seg(slug)}/rollouts/${number}`);
    const done = c.req.query('done');
    const page = `/t/${seg(slug)}/rollouts/${r.number}`;
    const actions = writer(viewer) ? ACTIONS_BY_STATE[r.state] ?? [] : [];
    return render(`Rollout ${r.number} of ${slug}`, <>
      {isAction(done) && (
        <div class="notice" role="status">{`${ACTION_TEXT[done].done}: rollout ${r.number} is ${r.state}.`}</div>
      )}
      <p><a href={`/t/${seg(slug)}/rollouts`}>Every rollout of {slug}</a></p>
      <dl class="facts">
        <dt>State</dt><dd><State value={r.state} /></dd>
        {r.pausedReason && <><dt>Paused because</dt><dd>{r.pausedReason}</dd></>}
        <dt>Progress</dt><dd>{waveProgress(r)}</dd>
        <dt>Wave started</dt><dd>{r.waveStartedAt ? when(r.waveStartedAt) : 'no wave running'}</dd>
        <dt>Change</dt><dd>{r.cause}</dd>
        <dt>Created</dt><dd>{`${when(r.createdAt)} by ${r.createdBy}`}</dd>
        <dt>Updated</dt><dd>{when(r.updatedAt)}</dd>
      </dl>
      {actions.length > 0 && (
        <section aria-labelledby="actions">
          <h2 id="actions">Act on this rollout</h2>
          <ul class="actions">{actions.map((a) => (
            <li>
              <form class="inline" method="post" action={`${page}/${a}`}>
                <Csrf viewer={viewer} />
                <button type="submit" class={a === 'abort' ? 'danger' : a === 'promote' ? 'secondary' : ''}
                  aria-describedby={`help-${a}`}>{ACTION_TEXT[a].label}</button>
              </form> <span id={`help-${a}`} class="muted">{ACTION_TEXT[a].help}</span>
            </li>
          ))}</ul>
        </section>
      )}
      {r.waves.map((w, i) => (
        <section aria-labelledby={`wave-${i}`}>
          <h2 id={`wave-${i}`}>{`Wave ${i + 1}: ${w.name}`}{w.name === r.currentWave && r.waveStartedAt && ' (current)'}</h2>
          <p class="muted">{`Bake ${duration(w.bakeSeconds)}, timeout ${duration(w.timeoutSeconds)}; ${w.clusters.length} `
            + `cluster${w.clusters.length === 1 ? '' : 's'}.`}</p>
          <div class="table-wrap"><table class="whole-words">
            <Head cols={['Cluster', 'State', 'Serving', ['Desired', 'num'], ['Applied', 'num'], 'Gates and evidence']} />
            <tbody>{w.clusters.map((cl) => <ClusterRow tenant={slug} c={cl} />)}</tbody>
          </table></div>
        </section>
      ))}
      <RolloutsExplained />
    </>, { tenant: slug });
  });

  router.post('/t/:tenant/rollouts/:number{[0-9]+}/:action{pause|resume|abort|promote}', async ({ c, api }) => {
    const slug = c.req.param('tenant')!;
    const number = c.req.param('number')!;
    const action = c.req.param('action')!;
    await api.call('POST', `/v1/tenants/${seg(slug)}/rollouts/${number}/${action}`);
    return c.redirect(`/t/${seg(slug)}/rollouts/${number}?done=${action}`, 303);
  });
}
