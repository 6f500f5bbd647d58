// Changing a tenant: paste or upload an intent document (YAML or JSON, the API's own format), see
// the plan (object changes, each cluster's diff, refusals), then apply exactly what was planned
// (If-Match: the intent the plan was made against).
import { parse as parseYaml } from 'yaml';
import { seg } from '../api.ts';
import { sideBySide } from '../diff.ts';
import { Csrf, Head, ProblemNotice, SideBySide, writer } from '../layout.tsx';
import type { ConsoleRouter, View } from '../routes.tsx';

interface IntentOutcome {
  applied: boolean; etag: string; appliedEtag?: string;
  changes: Array<{ kind: string; name: string; action: string; fields?: string[] }>;
  problems: Array<{ code: string; path: string; message: string }>;
  clusters: Array<{ cluster: string; backend: string; fromRevision: number | null; toRevision: number; diff: string }>;
  refused: Array<{ cluster: string; backend: string; problems: Array<{ code?: string; path?: string; message?: string }> }>;
}

/** The document a form carries: the uploaded file if one was chosen, else the text area. */
async function documentText(form: View['form']): Promise<string> {
  const file = form.file;
  if (file instanceof File && file.size > 0) return file.text();
  return typeof form.document === 'string' ? form.document : '';
}

function Editor({ v, slug, text, problem }: { v: View; slug: string; text: string; problem?: { title: string; detail?: string } }) {
  return (
    <form method="post" action={`/t/${seg(slug)}/change/plan`} enctype="multipart/form-data">
      <Csrf viewer={v.viewer} />
      {problem && <ProblemNotice title={problem.title} detail={problem.detail} />}
      <label for="document">Intent document (YAML or JSON)</label>
      <textarea id="document" name="document" spellcheck={false}>{text}</textarea>
      <label for="file">Or upload a file</label>
      <input type="file" id="file" name="file" accept=".yaml,.yml,.json,application/json,application/yaml" />
      <p><label><input type="checkbox" name="prune" value="true" /> Delete objects the document leaves out (prune)</label></p>
      <button type="submit">Plan</button>
    </form>
  );
}

export function registerChangePages(router: ConsoleRouter) {
  router.get('/t/:tenant/change', async (v) => {
    const slug = v.c.req.param('tenant')!;
    const current = await v.api.text(`/v1/tenants/${seg(slug)}/intent?format=yaml`);
    if (!writer(v.viewer)) {
      const readOnly = <><p class="muted">A tenant-viewer can read the intent but not change it.</p><pre tabindex={0} aria-label="The intent document">{current}</pre></>;
      return v.render(`Intent of ${slug}`, readOnly, { tenant: slug });
    }
    return v.render(`Change ${slug}`, <Editor v={v} slug={slug} text={current} />, { tenant: slug });
  });

  router.post('/t/:tenant/change/plan', async (v) => {
    const slug = v.c.req.param('tenant')!;
    const text = await documentText(v.form);
    let document: unknown;
    try {
      document = parseYaml(text, { maxAliasCount: 100 });
    } catch (err) {
      const problem = { title: 'Not a YAML or JSON document', detail: (err as Error).message.split('\n')[0] };
      return v.render(`Change ${slug}`, <Editor v={v} slug={slug} text={text} problem={problem} />, { tenant: slug, status: 422 });
    }
    const prune = v.form.prune === 'true';
    const plan = (await v.api.call<IntentOutcome>('POST', `/v1/tenants/${seg(slug)}/intent/plan${prune ? '?prune=true' : ''}`, { body: document })).body;
    const blocked = plan.problems.length > 0 || plan.refused.length > 0;
    return v.render(`Plan for ${slug}`, <>
      <Outcome outcome={plan} />
      {!blocked && plan.changes.length > 0 && (
        <form method="post" action={`/t/${seg(slug)}/change/apply`}>
          <Csrf viewer={v.viewer} />
          <input type="hidden" name="document" value={JSON.stringify(document)} />
          <input type="hidden" name="etag" value={plan.etag} />
          {prune && <input type="hidden" name="prune" value="true" />}
          <button type="submit">Apply this plan</button>
        </form>
      )}
      {blocked && <p>Nothing can be applied while there are problems or refusals.</p>}
      <h2>Edit the document</h2>
      <Editor v={v} slug={slug} text={text} />
    </>, { tenant: slug, status: blocked ? 422 : 200 });
  });

  router.post('/t/:tenant/change/apply', async (v) => {
    const slug = v.c.req.param('tenant')!;
    let document: unknown;
    try {
      document = JSON.parse(String(v.form.document ?? ''));
    } catch {
      const problem = { title: 'Not a planned document', detail: 'plan the document first, then apply the plan' };
      return v.render(`Change ${slug}`, <Editor v={v} slug={slug} text="" problem={problem} />, { tenant: slug, status: 422 });
    }
    const prune = v.form.prune === 'true';
    const outcome = (await v.api.call<IntentOutcome>('PUT', `/v1/tenants/${seg(slug)}/intent${prune ? '?prune=true' : ''}`, {
      body: document, headers: { 'if-match': String(v.form.etag ?? '') },
    })).body;
    return v.render(`Applied to ${slug}`, <>
      <div class="notice" role="status">{`Applied: ${plural(outcome.changes.length, 'object change')}, `
        + `${plural(outcome.clusters.length, 'new cluster revision')}.`}</div>
      <Outcome outcome={outcome} />
    </>, { tenant: slug });
  });
}

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

function Outcome({ outcome }: { outcome: IntentOutcome }) {
  return <>
    {outcome.problems.length > 0 && <ProblemNotice title="The document has problems" errors={outcome.problems} />}
    {outcome.refused.map((r) => <ProblemNotice title={`Cluster ${r.cluster} (${r.backend}) refuses the result`}
      errors={r.problems.map((p) => ({ code: p.code ?? '', path: p.path ?? '', message: p.message ?? '' }))} />)}
    <h2>Object changes</h2>
    {outcome.changes.length === 0 ? <p>No change: the intent already is this document.</p> : (
      <div class="table-wrap"><table>
        <Head cols={['Kind', 'Name', 'Action', 'Fields']} />
        <tbody>{outcome.changes.map((ch) => (
          <tr><td>{ch.kind}</td><th scope="row">{ch.name}</th><td>{ch.action}</td><td>{(ch.fields ?? []).join(', ')}</td></tr>
        ))}</tbody>
      </table></div>
    )}
    <h2>Cluster configs</h2>
    {outcome.clusters.length === 0 && <p class="muted">No cluster's config changes.</p>}
    {outcome.clusters.map((cl) => (
      <section aria-label={`Cluster ${cl.cluster}`}>
        <h3>{cl.cluster} ({cl.backend}): {cl.fromRevision === null ? 'first revision' : `r${cl.fromRevision}`} → r{cl.toRevision}</h3>
        <SideBySide rows={sideBySide(cl.diff)} caption={`${cl.cluster}: before on the left, after on the right`} />
      </section>
    ))}
  </>;
}
