// Signing in to the console with the OpenID Connect provider: the authorization code flow with
// PKCE (RFC 6749 §4.1, RFC 7636, OpenID Connect Core §3.1), done by openid-client (panva; built on
// oauth4webapi, fetch and WebCrypto only, so it runs on Node and Workers alike). What this file
// adds: the configuration from the environment, the pending sign-in sealed for a cookie, and which
// of the provider's tokens the console then calls the API with. Runtime-neutral.
import { decodeJwt } from 'jose';
import * as oidcClient from 'openid-client';
import { openSecret, sealSecret, type SecretKey } from '../db/secrets.ts';
import type { OidcConfig } from './auth.ts';
import { ApiError } from './errors.ts';

export interface OidcLoginConfig {
  clientId: string;
  /** A confidential client's secret (sent with HTTP Basic); without it a public client, PKCE only. */
  clientSecret?: string;
  scopes: string;
}

/** Where the provider sends the browser back to, below METALFLEET_PUBLIC_URL. */
export const OIDC_CALLBACK_PATH = '/sign-in/oidc/callback';
/** How long a started sign-in can be completed. */
export const OIDC_LOGIN_SECONDS = 10 * 60;
export const DEFAULT_OIDC_SCOPES = 'openid profile email';

type Env = Record<string, string | undefined>;

/**
 * METALFLEET_OIDC_* (the Node entry and the Worker read the same names). Throws a TypeError that
 * names the variable.
 */
export function readOidcEnv(env: Env): OidcConfig | undefined {
  const issuer = env.METALFLEET_OIDC_ISSUER;
  const clientId = env.METALFLEET_OIDC_CLIENT_ID;
  if (!issuer) {
    if (clientId) throw new TypeError('METALFLEET_OIDC_CLIENT_ID needs METALFLEET_OIDC_ISSUER (and its _AUDIENCE and _JWKS_URL)');
    return undefined;
  }
  const audience = env.METALFLEET_OIDC_AUDIENCE;
  const jwksUrl = env.METALFLEET_OIDC_JWKS_URL;
  if (!audience || !jwksUrl) throw new TypeError('METALFLEET_OIDC_ISSUER needs METALFLEET_OIDC_AUDIENCE and METALFLEET_OIDC_JWKS_URL');
  if (env.METALFLEET_OIDC_CLIENT_SECRET && !clientId) throw new TypeError('METALFLEET_OIDC_CLIENT_SECRET needs METALFLEET_OIDC_CLIENT_ID');
  let login: OidcLoginConfig | undefined;
  if (clientId) {
    let url: URL;
    try {
      url = new URL(issuer);
    } catch {
      throw new TypeError(`METALFLEET_OIDC_ISSUER must be a URL, got ${JSON.stringify(issuer)}`);
    }
    // Codes and tokens cross the network in the clear over http: only on this machine.
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url))) {
      throw new TypeError('METALFLEET_OIDC_CLIENT_ID needs an https:// METALFLEET_OIDC_ISSUER (http:// only on loopback)');
    }
    const scopes = (env.METALFLEET_OIDC_SCOPES || DEFAULT_OIDC_SCOPES).trim().split(/\s+/);
    if (!scopes.includes('openid')) throw new TypeError('METALFLEET_OIDC_SCOPES must include openid');
    const clientSecret = env.METALFLEET_OIDC_CLIENT_SECRET;
    login = { clientId, scopes: scopes.join(' '), ...(clientSecret ? { clientSecret } : {}) };
  }
  return {
    issuer, audience, jwksUrl,
    roleClaim: env.METALFLEET_OIDC_ROLE_CLAIM || 'metalfleet_role',
    tenantClaim: env.METALFLEET_OIDC_TENANT_CLAIM || 'metalfleet_tenant',
    ...(login ? { login } : {}),
  };
}

const isLoopback = (url: URL) => ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) || url.hostname.startsWith('127.');

/** A sign-in that did not work out: the console shows it on the sign-in page with this status. */
export class OidcLoginError extends Error {
  constructor(readonly status: 400 | 401 | 502, readonly title: string, detail: string) {
    super(detail);
  }
}

export interface OidcLoginDeps {
  /** The app's own (discovery is kept per configuration object). */
  oidc: OidcConfig;
  login: OidcLoginConfig;
  secretKey: SecretKey;
  publicUrl: string;
  now: Date;
  log?: (entry: Record<string, unknown>) => void;
}

// The provider's metadata, discovered once per process or isolate and kept for an hour; a failed
// discovery is not kept.
const DISCOVERY_SECONDS = 3600;
const discovered = new WeakMap<OidcConfig, { at: number; configuration: Promise<oidcClient.Configuration> }>();

function providerConfiguration(deps: OidcLoginDeps): Promise<oidcClient.Configuration> {
  const { oidc } = deps;
  const hit = discovered.get(oidc);
  if (hit && Date.now() - hit.at < DISCOVERY_SECONDS * 1000) return hit.configuration;
  const { clientId, clientSecret } = deps.login;
  const issuer = new URL(oidc.issuer);
  const configuration = oidcClient.discovery(issuer, clientId, clientSecret,
    clientSecret ? oidcClient.ClientSecretBasic(clientSecret) : oidcClient.None(),
    { timeout: 10, ...(issuer.protocol === 'http:' ? { execute: [oidcClient.allowInsecureRequests] } : {}) })
    .catch((err: unknown) => {
      discovered.delete(oidc);
      deps.log?.({ level: 'warn', msg: 'OIDC discovery failed', issuer: oidc.issuer, error: (err as Error).message });
      throw new OidcLoginError(502, 'Identity provider unreachable', `${oidc.issuer} did not answer its discovery document; try again later`);
    });
  discovered.set(oidc, { at: Date.now(), configuration });
  return configuration;
}

interface PendingLogin {
  state: string;
  nonce: string;
  codeVerifier: string;
  expiresAt: number;
}

const PENDING_CONTEXT = 'console-oidc-login';
const redirectUri = (publicUrl: string) => `${publicUrl.replace(/\/+$/, '')}${OIDC_CALLBACK_PATH}`;

/**
 * Starts a sign-in: the provider's authorization URL, and the sealed state, nonce and PKCE
 * verifier for the browser's cookie (only this server can read or make one).
 */
export async function startOidcLogin(deps: OidcLoginDeps): Promise<{ authorizationUrl: URL; pending: string }> {
  const configuration = await providerConfiguration(deps);
  const login: PendingLogin = {
    state: oidcClient.randomState(), nonce: oidcClient.randomNonce(), codeVerifier: oidcClient.randomPKCECodeVerifier(),
    expiresAt: deps.now.getTime() + OIDC_LOGIN_SECONDS * 1000,
  };
  const authorizationUrl = oidcClient.buildAuthorizationUrl(configuration, {
    redirect_uri: redirectUri(deps.publicUrl), scope: deps.login.scopes, state: login.state, nonce: login.nonce,
    code_challenge: await oidcClient.calculatePKCECodeChallenge(login.codeVerifier), code_challenge_method: 'S256',
  });
  return { authorizationUrl, pending: await sealSecret(deps.secretKey, JSON.stringify(login), PENDING_CONTEXT) };
}

const startAgain = 'start again from the sign-in page';

/**
 * Completes a sign-in at the callback: the pending sign-in must be this browser's, unexpired, and
 * match the answer's state; then the code is exchanged (with the PKCE verifier) and the ID token
 * checked by the library (issuer, audience = client id, nonce, expiry). Returns the tokens.
 */
export async function finishOidcLogin(deps: OidcLoginDeps, pendingCookie: string | undefined, search: URLSearchParams)
  : Promise<{ idToken: string; accessToken?: string }> {
  if (!pendingCookie) {
    throw new OidcLoginError(400, 'Sign-in not in progress',
      `this browser has no sign-in under way (it was completed or never started); ${startAgain}`);
  }
  let login: PendingLogin;
  try {
    login = JSON.parse(await openSecret(deps.secretKey, pendingCookie, PENDING_CONTEXT)) as PendingLogin;
  } catch {
    throw new OidcLoginError(400, 'Sign-in not in progress', `this browser's sign-in could not be read; ${startAgain}`);
  }
  if (login.expiresAt <= deps.now.getTime()) {
    throw new OidcLoginError(400, 'Sign-in expired', `a sign-in must be completed within ${OIDC_LOGIN_SECONDS / 60} minutes; ${startAgain}`);
  }
  if (search.get('state') !== login.state) {
    throw new OidcLoginError(400, 'Sign-in refused',
      `the answer does not belong to the sign-in this browser started (state mismatch); ${startAgain}`);
  }
  const error = search.get('error');
  if (error !== null) {
    const description = search.get('error_description');
    throw new OidcLoginError(401, 'Not signed in', `the identity provider answered ${printable(error, 64)}`
      + `${description ? `: ${printable(description, 200)}` : ''}`);
  }
  const configuration = await providerConfiguration(deps);
  const callback = new URL(redirectUri(deps.publicUrl));
  callback.search = search.toString();
  let tokens: Awaited<ReturnType<typeof oidcClient.authorizationCodeGrant>>;
  try {
    tokens = await oidcClient.authorizationCodeGrant(configuration, callback, {
      pkceCodeVerifier: login.codeVerifier, expectedState: login.state, expectedNonce: login.nonce, idTokenExpected: true,
    });
  } catch (err) {
    const code = (err as { code?: string }).code;
    deps.log?.({ level: 'warn', msg: 'OIDC sign-in failed', issuer: deps.oidc.issuer, error: (err as Error).message, code });
    if (err instanceof oidcClient.ResponseBodyError) {
      throw new OidcLoginError(400, 'Sign-in refused', `the identity provider did not accept the sign-in code (${printable(err.error, 64)}): `
        + `it was used already or has expired; ${startAgain}`);
    }
    if (/^OAUTH_/.test(code ?? '')) {
      throw new OidcLoginError(401, 'Not signed in',
        'the identity provider\'s answer did not check out (ID token issuer, audience, nonce or expiry)');
    }
    throw new OidcLoginError(502, 'Identity provider unreachable', `${deps.oidc.issuer} did not complete the sign-in; try again later`);
  }
  if (!tokens.id_token) throw new OidcLoginError(401, 'Not signed in', 'the identity provider sent no ID token');
  return { idToken: tokens.id_token, ...(tokens.access_token ? { accessToken: tokens.access_token } : {}) };
}

/** At most `max` characters of what a provider put in a URL, controls removed (the page escapes it too). */
function printable(text: string, max: number): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/**
 * Signs in with the credential the API accepts: the access token when it is a JWT for this API
 * (aud = METALFLEET_OIDC_AUDIENCE), else the ID token (when the audience is the client id). When
 * neither is accepted, the refusal of the token addressed to this API explains why.
 */
export async function signInWithProviderTokens<T>(oidc: OidcConfig, tokens: { idToken: string; accessToken?: string },
  start: (credential: string) => Promise<T>): Promise<T> {
  const refusals: Array<{ credential: string; error: ApiError }> = [];
  for (const credential of [tokens.accessToken, tokens.idToken]) {
    if (!credential) continue;
    try {
      return await start(credential);
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 401) throw err;
      refusals.push({ credential, error: err });
    }
  }
  const addressed = refusals.find((r) => audiences(r.credential).includes(oidc.audience));
  throw (addressed ?? refusals.at(-1)!).error;
}

function audiences(token: string): string[] {
  try {
    const { aud } = decodeJwt(token);
    return aud === undefined ? [] : Array.isArray(aud) ? aud : [aud];
  } catch {
    return [];
  }
}
