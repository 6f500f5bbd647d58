// The page shell every console page shares: a skip link, a header with the navigation (banner and
// nav landmarks), the page's main landmark and a footer; plus the small pieces pages repeat.
import type { Child } from 'hono/jsx';
import type { DiffRow } from './diff.ts';

export interface Viewer {
  subject: string;
  role: string;
  /** The tenant a tenant token belongs to (slug), for the navigation. */
  tenantSlug?: string;
  csrf: string;
}

export interface PageProps {
  title: string;
  viewer?: Viewer;
  /** The tenant the page is about, for the navigation. */
  tenant?: string;
  /** More of the document's head (the page after an OIDC sign-in moves on with a meta refresh). */
  head?: Child;
  children?: Child;
}

export function Layout({ title, viewer, tenant, head, children }: PageProps) {
  const slug = tenant ?? viewer?.tenantSlug;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <title>{`${title} · metalfleet`}</title>
        <link rel="stylesheet" href="/console/assets/console.css" />
        <script src="/console/assets/console.js" defer></script>
        {head}
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <a class="brand" href="/">metalfleet</a>
          {viewer && (
            <nav aria-label="Main">
              <ul>
                {viewer.role === 'platform-admin' && <li><a href="/">Fleet</a></li>}
                {slug && <li><a href={`/t/${slug}`}>Tenant {slug}</a></li>}
                {slug && <li><a href={`/t/${slug}/sessions`}>Sessions</a></li>}
                {slug && <li><a href={`/t/${slug}/change`}>Change</a></li>}
                {slug && <li><a href={`/t/${slug}/rollouts`}>Rollouts</a></li>}
                {slug && <li><a href={`/t/${slug}/audit`}>Audit log</a></li>}
              </ul>
            </nav>
          )}
          {viewer && (
            <div class="who">
              <span>{viewer.subject} ({viewer.role})</span>
              <form class="inline" method="post" action="/sign-out">
                <input type="hidden" name="csrf" value={viewer.csrf} />
                <button type="submit" class="secondary">Sign out</button>
              </form>
            </div>
          )}
        </header>
        <main id="main" tabindex={-1}>
          <h1>{title}</h1>
          {children}
        </main>
        <footer>metalfleet console · <a href="/docs">API reference</a></footer>
      </body>
    </html>
  );
}

/** A table's header row; a column named `[name, 'num']` holds numbers (right-aligned). */
export const Head = ({ cols }: { cols: Array<string | [string, 'num']> }) => (
  <thead><tr>{cols.map((col) => (typeof col === 'string'
    ? <th scope="col">{col}</th>
    : <th scope="col" class="num">{col[0]}</th>))}</tr></thead>
);

/** A form field that carries the session's CSRF token. */
export const Csrf = ({ viewer }: { viewer: Viewer }) => <input type="hidden" name="csrf" value={viewer.csrf} />;

export const writer = (viewer: Viewer) => viewer.role !== 'tenant-viewer';

export function when(at: string | null | undefined): string {
  if (!at) return 'never';
  return at.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function duration(seconds: number | null): string {
  if (seconds === null) return '—';
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : `${m}m ${seconds % 60}s`;
}

const STATE_CLASS: Record<string, string> = {
  'in-sync': 'state-ok', Established: 'state-ok', up: 'state-ok', active: 'state-ok',
  pending: 'state-warn', 'never-seen': 'state-warn', used: 'muted', expired: 'muted', revoked: 'muted',
  failed: 'state-bad', stale: 'state-bad', down: 'state-bad',
  // Rollouts (docs/rollouts.md): a rollout's state, a cluster's state in it, a gate's result.
  completed: 'state-ok', passed: 'state-ok', pass: 'state-ok', queued: 'state-warn', progressing: 'state-warn',
  paused: 'state-bad', 'rolled-back': 'state-bad', fail: 'state-bad',
  aborted: 'muted', superseded: 'muted', skipped: 'muted',
};

/** A state as text with its colour (the text carries the meaning; colour only repeats it). */
export const State = ({ value }: { value: string | null }) =>
  <span class={STATE_CLASS[value ?? ''] ?? (value === null ? 'muted' : 'state-bad')}>{value ?? '—'}</span>;

/** A share as a native progress bar (announced by screen readers with its label). */
export const Bar = ({ fraction, label }: { fraction: number; label: string }) =>
  <progress class="bar" max={10000} value={Math.round(Math.min(1, Math.max(0, fraction)) * 10000)} aria-label={label}>{label}</progress>;

type FieldErrors = Array<{ path: string; code: string; message: string }>;

export function ProblemNotice({ title, detail, errors }: { title: string; detail?: string; errors?: FieldErrors }) {
  return (
    <div class="notice error" role="alert">
      <strong>{title}</strong>
      {detail && <p>{detail}</p>}
      {errors && errors.length > 0 && (
        <ul>{errors.map((e) => <li><code>{e.code}</code> {e.path && <code>{e.path}</code>} {e.message}</li>)}</ul>
      )}
    </div>
  );
}

export function SideBySide({ rows, caption }: { rows: DiffRow[]; caption: string }) {
  return (
    <div class="table-wrap">
      <table class="diff">
        <caption class="muted">{caption}</caption>
        <thead><tr><th class="ln" scope="col">#</th><th scope="col">Before</th><th class="ln" scope="col">#</th><th scope="col">After</th></tr></thead>
        <tbody>
          {rows.map((r) => r.kind === 'hunk'
            ? <tr class="hunk"><td colspan={4}>{r.header}</td></tr>
            : (
              <tr>
                <td class="ln">{r.left?.line ?? ''}</td>
                <td class={r.left?.removed ? 'del' : ''}>{r.left ? `${r.left.removed ? '− ' : '  '}${r.left.text}` : ''}</td>
                <td class="ln">{r.right?.line ?? ''}</td>
                <td class={r.right?.added ? 'add' : ''}>{r.right ? `${r.right.added ? '+ ' : '  '}${r.right.text}` : ''}</td>
              </tr>
            ))}
        </tbody>
      </table>
    </div>
  );
}
