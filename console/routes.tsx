// The web console at /: server-rendered pages (Hono JSX) over the API. A person signs in with an
// API token or an OIDC token (pasted, or by the provider's redirect sign-in: console/oidc-sign-
// in.tsx); the browser keeps only a session id in an HttpOnly, SameSite=Strict cookie (Secure
// under TLS). Every page calls the API in-process with the session's credential
// (console/api.ts), so roles, tenant isolation and revocation are the API's own. Forms carry a
// token derived from the session id and must come from this origin. Runtime-neutral: it runs on
// Node and Workers alike.
import type { Context, Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { TokenVerifier } from '../api/auth.ts';
import { csrfToken, endSession, findSession, followSignInLink, startConsoleSession, type ConsoleSession } from '../api/console-sessions.ts';
import { DEFAULT_POLL_INTERVAL_SECONDS, type AppDeps } from '../api/context.ts';
import { ApiError } from '../api/errors.ts';
import { ApiClient, ApiProblem } from './api.ts';
import { CONSOLE_CSS, CONSOLE_JS } from './assets.ts';
import { Layout, ProblemNotice, type Viewer } from './layout.tsx';
import { oidcSignInLabel, registerOidcSignIn } from './oidc-sign-in.tsx';
import { registerFleetPages } from './pages/fleet.tsx';
import { registerTenantPages } from './pages/tenant.tsx';
import { registerAuditPage } from './pages/audit.tsx';
import { registerClusterPages } from './pages/cluster.tsx';
import { registerChangePages } from './pages/change.tsx';
import { registerRolloutPages } from './pages/rollouts.tsx';
import type { Child } from 'hono/jsx';

export interface View {
  c: Context;
  viewer: Viewer;
  api: ApiClient;
  session: ConsoleSession;
  /** The submitted form (POST), CSRF-checked. */
  form: Record<string, string | File>;
  render(title: string, body: Child, opts?: { status?: number; tenant?: string }): Response;
  /** What agents are told to poll at: when a cluster counts as stale (api/fleet.ts syncState). */
  pollIntervalSeconds: number;
}

export type PageHandler = (v: View) => Promise<Response>;
export interface ConsoleRouter {
  get(path: string, handler: PageHandler): void;
  post(path: string, handler: PageHandler): void;
}

/**
 * The console's own paths (pages, sign-in, its assets): HTML for browsers, not part of the API's
 * OpenAPI document (docs/console.md describes them, POST /sign-in/links included).
 */
export function isConsolePath(path: string): boolean {
  return path === '/' || path === '/sign-out' || /^\/(sign-in|t|console)(\/|$)/.test(path);
}

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; connect-src 'self'; "
    + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  // Sign-in links carry their secret in the URL: never pass it to another origin. (no-referrer
  // would make browsers send `Origin: null` on forms, which the origin check refuses.)
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};

function html(c: Context, node: Child, status = 200): Response {
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.header(k, v);
  return c.html(`<!DOCTYPE html>${String(node)}`, status as 200);
}

export function registerConsole(app: Hono<any>, deps: AppDeps, verifier: TokenVerifier) {
  const tls = (c: Context) => new URL(c.req.url).protocol === 'https:' || deps.publicUrl.startsWith('https:');
  const cookieName = (c: Context) => (tls(c) ? '__Host-metalfleet-session' : 'metalfleet-session');
  const setSession = (c: Context, secret: string, expiresAt: Date) => setCookie(c, cookieName(c), secret, {
    httpOnly: true, sameSite: 'Strict', secure: tls(c), path: '/', expires: expiresAt,
  });
  /** A form must come from a page of this origin (browsers send Origin on every POST). */
  const sameOrigin = (c: Context) => {
    const origin = c.req.header('origin');
    return origin === undefined || origin === new URL(c.req.url).origin || origin === new URL(deps.publicUrl).origin;
  };
  const formOf = async (c: Context) => {
    try {
      return (await c.req.parseBody()) as Record<string, string | File>;
    } catch {
      throw new ApiError(400, 'malformed-request', 'Malformed request', 'the form could not be read (form-urlencoded or multipart)');
    }
  };

  const asset = (body: string, type: string) => (c: Context) => c.body(body, 200, { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'public, max-age=3600' });
  app.get('/console/assets/console.css', asset(CONSOLE_CSS, 'text/css'));
  app.get('/console/assets/console.js', asset(CONSOLE_JS, 'text/javascript'));

  const signInPage = (c: Context, problem?: { title: string; detail?: string }, status = 200) => html(c, (
    <Layout title="Sign in">
      {problem && <ProblemNotice title={problem.title} detail={problem.detail} />}
      {deps.auth.oidc?.login && <p><a class="button" href="/sign-in/oidc">{oidcSignInLabel(deps.auth.oidc.issuer)}</a></p>}
      <form method="post" action="/sign-in">
        <label for="token">API token{deps.auth.oidc ? ' or a token of your identity provider' : ''}</label>
        <input type="password" id="token" name="token" autocomplete="off" required aria-describedby="token-help" />
        <p id="token-help" class="muted">
          An <code>mft_…</code> token from <code>metalfleet token create</code> or <code>POST /v1/tokens</code>
          {deps.auth.oidc ? <>, or an ID token issued by <code>{deps.auth.oidc.issuer}</code></> : ''}.
          It stays on the server; the browser keeps only a session cookie.
        </p>
        <button type="submit">Sign in</button>
      </form>
    </Layout>
  ), status);

  app.get('/sign-in', (c) => signInPage(c));
  app.post('/sign-in', async (c) => {
    if (!sameOrigin(c)) return signInPage(c, { title: 'Refused', detail: 'the form did not come from this console' }, 403);
    const token = String((await formOf(c)).token ?? '').trim();
    try {
      const { secret, expiresAt } = await startConsoleSession(deps, verifier, token);
      setSession(c, secret, expiresAt);
      return c.redirect('/', 303);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return signInPage(c, { title: 'Not signed in', detail: err.message }, 401);
      throw err;
    }
  });

  registerOidcSignIn(app, deps, verifier, { tls, html, signInPage, setSession });

  // A sign-in link (metalfleet demo prints one) shows a button rather than signing in on GET: link
  // previews and prefetches must not use it up, and the session cookie is set by a same-site POST.
  app.get('/sign-in/link', (c) => html(c, (
    <Layout title="Sign in with a link">
      <form method="post" action="/sign-in/link">
        <input type="hidden" name="link" value={c.req.query('code') ?? ''} />
        <p>This one-time link signs you in to the console.</p>
        <button type="submit">Continue</button>
      </form>
    </Layout>
  )));
  app.post('/sign-in/link', async (c) => {
    if (!sameOrigin(c)) return signInPage(c, { title: 'Refused', detail: 'the form did not come from this console' }, 403);
    const session = await followSignInLink(deps, String((await formOf(c)).link ?? ''));
    if (!session) return signInPage(c, { title: 'Link not valid', detail: 'the sign-in link is unknown, used or expired; sign in with a token' }, 401);
    setSession(c, session.secret, session.expiresAt);
    return c.redirect('/', 303);
  });

  // A one-time sign-in link for whoever holds a token (metalfleet demo prints one). Bearer only:
  // a browser never sends that header across sites, so no form can be forged to reach this.
  app.post('/sign-in/links', async (c) => {
    const authorization = c.req.header('authorization');
    const credential = /^bearer +(\S+) *$/i.exec(authorization ?? '')?.[1];
    if (!credential) throw new ApiError(401, 'unauthorized', 'Unauthorized', 'send Authorization: Bearer <token>');
    const { secret, expiresAt } = await startConsoleSession(deps, verifier, credential, { link: true });
    return c.json({ url: `${deps.publicUrl.replace(/\/$/, '')}/sign-in/link?code=${secret}`, expiresAt: expiresAt.toISOString() }, 201);
  });

  app.post('/sign-out', async (c) => {
    const secret = getCookie(c, cookieName(c));
    const form = await formOf(c);
    if (secret) {
      if (!sameOrigin(c) || form.csrf !== csrfToken(secret)) {
        return html(c, <Layout title="Refused"><ProblemNotice title="Refused" detail="the form did not come from this session" /></Layout>, 403);
      }
      await endSession(deps, secret);
    }
    deleteCookie(c, cookieName(c), { path: '/', secure: tls(c) });
    return c.redirect('/sign-in', 303);
  });

  const handle = (method: 'GET' | 'POST', handler: PageHandler) => async (c: Context) => {
    const secret = getCookie(c, cookieName(c));
    const session = secret ? await findSession(deps, secret) : undefined;
    if (!secret || !session) return c.redirect('/sign-in', 303);
    const viewer: Viewer = { subject: session.subject, role: session.role, csrf: csrfToken(secret) };
    const render: View['render'] = (title, body, opts = {}) =>
      html(c, <Layout title={title} viewer={viewer} tenant={opts.tenant}>{body}</Layout>, opts.status ?? 200);
    let form: View['form'] = {};
    if (method === 'POST') {
      form = await formOf(c);
      if (!sameOrigin(c) || form.csrf !== viewer.csrf) {
        const detail = 'the form did not come from this session; reload the page and try again';
        return render('Refused', <ProblemNotice title="Refused" detail={detail} />, { status: 403 });
      }
    }
    const api = new ApiClient(app, session.credential);
    try {
      if (session.role !== 'platform-admin') {
        const tenants = await api.get<{ items: Array<{ slug: string }> }>('/v1/tenants?limit=1');
        viewer.tenantSlug = tenants.items[0]?.slug;
      }
      const pollIntervalSeconds = deps.pollIntervalSeconds ?? DEFAULT_POLL_INTERVAL_SECONDS;
      return await handler({ c, viewer, api, session, form, render, pollIntervalSeconds });
    } catch (err) {
      if (!(err instanceof ApiProblem)) throw err;
      const p = err.problem;
      if (p.status === 401) {
        // The credential was revoked or expired: the session ends with it.
        await endSession(deps, secret);
        deleteCookie(c, cookieName(c), { path: '/', secure: tls(c) });
        return signInPage(c, { title: 'Signed out', detail: p.detail }, 401);
      }
      const title = p.status === 404 ? 'Not found' : p.status === 403 ? 'Not allowed' : p.title;
      return render(title, <ProblemNotice title={p.title} detail={p.detail} errors={p.errors} />, { status: p.status });
    }
  };
  const router: ConsoleRouter = {
    get: (path, handler) => { app.get(path, handle('GET', handler)); },
    post: (path, handler) => { app.post(path, handle('POST', handler)); },
  };
  registerFleetPages(router);
  registerTenantPages(router);
  registerAuditPage(router);
  registerClusterPages(router);
  registerChangePages(router);
  registerRolloutPages(router);
}
