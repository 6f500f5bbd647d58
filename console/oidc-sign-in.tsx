// The console's redirect sign-in with the OpenID Connect provider (api/oidc-login.ts does the
// protocol): GET /sign-in/oidc sends the browser to the provider, GET /sign-in/oidc/callback
// brings it back signed in, with a console session as a pasted token would make. Runtime-neutral.
import type { Context, Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Child } from 'hono/jsx';
import type { TokenVerifier } from '../api/auth.ts';
import { startConsoleSession } from '../api/console-sessions.ts';
import { now, type AppDeps } from '../api/context.ts';
import { ApiError } from '../api/errors.ts';
import {
  finishOidcLogin, OIDC_CALLBACK_PATH, OIDC_LOGIN_SECONDS, OidcLoginError, signInWithProviderTokens, startOidcLogin, type OidcLoginDeps,
} from '../api/oidc-login.ts';
import { Layout } from './layout.tsx';

export interface SignInUi {
  tls(c: Context): boolean;
  html(c: Context, node: Child, status?: number): Response;
  signInPage(c: Context, problem?: { title: string; detail?: string }, status?: number): Response;
  setSession(c: Context, secret: string, expiresAt: Date): void;
}

/** What the sign-in page's button says: the provider by its host. */
export const oidcSignInLabel = (issuer: string) => `Sign in with ${new URL(issuer).host}`;

export function registerOidcSignIn(app: Hono<any>, deps: AppDeps, verifier: TokenVerifier, ui: SignInUi) {
  // The pending sign-in (state, nonce, PKCE verifier, sealed with the secret key so that it can be
  // neither read nor made elsewhere). SameSite=Lax, unlike the session cookie: the provider sends
  // the browser back with a cross-site top-level GET, which carries Lax cookies and not Strict ones.
  // It binds the answer to the browser that asked, so nobody can sign someone else in as themselves.
  const pendingName = (c: Context) => (ui.tls(c) ? '__Host-metalfleet-oidc' : 'metalfleet-oidc');
  const loginDeps = (): OidcLoginDeps | undefined => {
    const oidc = deps.auth.oidc;
    if (!oidc?.login) return undefined;
    return {
      oidc, login: oidc.login, secretKey: deps.secretKey, publicUrl: deps.publicUrl, now: now(deps), ...(deps.log ? { log: deps.log } : {}),
    };
  };
  const notConfigured = (c: Context) =>
    ui.signInPage(c, { title: 'Not available', detail: 'no identity provider is configured for signing in here' }, 404);

  // Starting on GET only sends the browser away (a link, not a form: the console's CSP allows
  // forms to post to itself only, and Chromium applies form-action to a form's redirects too).
  app.get('/sign-in/oidc', async (c) => {
    const flow = loginDeps();
    if (!flow) return notConfigured(c);
    try {
      const { authorizationUrl, pending } = await startOidcLogin(flow);
      setCookie(c, pendingName(c), pending, { httpOnly: true, sameSite: 'Lax', secure: ui.tls(c), path: '/', maxAge: OIDC_LOGIN_SECONDS });
      return c.redirect(authorizationUrl.href, 302);
    } catch (err) {
      if (err instanceof OidcLoginError) return ui.signInPage(c, { title: err.title, detail: err.message }, err.status);
      throw err;
    }
  });

  app.get(OIDC_CALLBACK_PATH, async (c) => {
    const flow = loginDeps();
    if (!flow) return notConfigured(c);
    // Single use: whatever happens next, this browser's pending sign-in is gone.
    const pending = getCookie(c, pendingName(c));
    deleteCookie(c, pendingName(c), { path: '/', secure: ui.tls(c) });
    try {
      const tokens = await finishOidcLogin(flow, pending, new URL(c.req.url).searchParams);
      const session = await signInWithProviderTokens(flow.oidc, tokens,
        (credential) => startConsoleSession(deps, verifier, credential));
      ui.setSession(c, session.secret, session.expiresAt);
    } catch (err) {
      if (err instanceof OidcLoginError) return ui.signInPage(c, { title: err.title, detail: err.message }, err.status);
      if (err instanceof ApiError && err.status === 401) return ui.signInPage(c, { title: 'Not signed in', detail: err.message }, 401);
      throw err;
    }
    // Not a redirect to /: this response ends a chain the provider's site started, so a browser
    // would treat that redirect as cross-site and leave out the SameSite=Strict session cookie it
    // has just stored. A page of this origin that moves on by itself (meta refresh: the CSP allows
    // no inline script) or by its link makes the next request same-site.
    return ui.html(c, (
      <Layout title="Signed in" head={<meta http-equiv="refresh" content="0; url=/" />}>
        <p><a href="/">Continue to the console</a></p>
      </Layout>
    ));
  });
}
