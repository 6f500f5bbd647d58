// A real OpenID Provider for tests: panva's oidc-provider on loopback, with one public client
// (PKCE required, as for every public client) whose redirect URI is the console's callback, and a
// few accounts whose ID tokens carry metalfleet_role / metalfleet_tenant. People sign in at its
// development login page (any password); consent is taken as given (a first-party client).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';

export const OIDC_CLIENT_ID = 'metalfleet-console';

/** Accounts by login: their claims (no role: signing in must be refused). */
export const OIDC_ACCOUNTS: Record<string, Record<string, string>> = {
  alice: { metalfleet_role: 'platform-admin', name: 'Alice Admin' },
  vera: { metalfleet_role: 'tenant-viewer', metalfleet_tenant: 'demo' },
  nora: {},
  ghost: { metalfleet_role: 'tenant-admin', metalfleet_tenant: 'no-such-tenant' },
};

export interface TestProvider {
  issuer: string;
  close(): Promise<void>;
}

/**
 * `accessTokenAudience`: access tokens become JWTs for that audience (a resource indicator, RFC
 * 8707) carrying the role and tenant, and the ID token carries neither (as with providers that
 * keep such claims for APIs).
 */
export async function startOidcProvider(redirectUri: string, opts: { accessTokenAudience?: string } = {}): Promise<TestProvider> {
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const server: Server = createServer((req, res) => handler!(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const claims = ['metalfleet_role', 'metalfleet_tenant', 'name'];
  const configuration: Configuration = {
    clients: [{
      client_id: OIDC_CLIENT_ID, token_endpoint_auth_method: 'none', redirect_uris: [redirectUri],
      grant_types: ['authorization_code'], response_types: ['code'],
    }],
    claims: { openid: ['sub', ...claims] },
    // The role and tenant in the ID token itself (the console calls the API with it), unless the
    // access token is the API's.
    conformIdTokenClaims: opts.accessTokenAudience !== undefined,
    cookies: { keys: ['test-cookie-key-0123456789abcdef'] },
    features: { devInteractions: { enabled: true } },
    async findAccount(_ctx: KoaContextWithOIDC, sub: string) {
      const account = OIDC_ACCOUNTS[sub];
      if (!account) return undefined;
      return { accountId: sub, claims: async () => ({ sub, ...account }) };
    },
    // A first-party client: no consent screen.
    async loadExistingGrant(ctx: KoaContextWithOIDC) {
      const { oidc } = ctx;
      const grantId = oidc.result?.consent?.grantId || oidc.session!.grantIdFor(oidc.client!.clientId);
      if (grantId) return oidc.provider.Grant.find(grantId);
      const grant = new oidc.provider.Grant({ clientId: oidc.client!.clientId, accountId: oidc.session!.accountId! });
      grant.addOIDCScope('openid profile email');
      grant.addOIDCClaims(claims);
      if (opts.accessTokenAudience) grant.addResourceScope(opts.accessTokenAudience, 'metalfleet');
      await grant.save();
      return grant;
    },
  };
  const resource = opts.accessTokenAudience;
  if (resource) {
    configuration.features!.resourceIndicators = {
      enabled: true,
      defaultResource: async () => resource,
      useGrantedResource: async () => true,
      getResourceServerInfo: async () => ({ scope: 'metalfleet', audience: resource, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } }),
    };
    configuration.extraTokenClaims = async (_ctx, token) => {
      const account = OIDC_ACCOUNTS[(token as { accountId?: string }).accountId ?? ''] ?? {};
      return Object.fromEntries(Object.entries(account).filter(([k]) => k.startsWith('metalfleet_')));
    };
  }
  const provider = new Provider(issuer, configuration);
  handler = provider.callback();
  return {
    issuer,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** A cookie jar per site, as a browser keeps one: name → value, dropped when the server expires it. */
export class Jar {
  private cookies = new Map<string, string>();
  take(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      const name = pair!.slice(0, at).trim();
      const value = pair!.slice(at + 1);
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  has(name: string): boolean {
    return this.cookies.has(name);
  }
}

/** At the provider, as a browser would: its login page (any password), until it sends the browser back to the console. */
export async function loginAtProvider(authorizationUrl: string, login: string, consoleOrigin: string): Promise<URL> {
  const jar = new Jar();
  let url = new URL(authorizationUrl);
  let init: RequestInit = {};
  for (let hop = 0; hop < 10; hop++) {
    const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as object), cookie: jar.header() } });
    jar.take(res);
    if (res.status >= 300 && res.status < 400) {
      const next = new URL(res.headers.get('location')!, url);
      if (next.origin === consoleOrigin) return next;
      url = next;
      init = {};
      continue;
    }
    const page = await res.text();
    assert.equal(res.status, 200, page);
    const action = /<form[^>]*action="([^"]+)"/.exec(page)?.[1];
    assert.ok(action && page.includes('name="login"'), `the provider's login page: ${page.slice(0, 500)}`);
    url = new URL(action.replace(/&amp;/g, '&'), url);
    init = {
      method: 'POST', body: new URLSearchParams({ prompt: 'login', login, password: 'any' }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    };
  }
  throw new Error('the provider never sent the browser back');
}
