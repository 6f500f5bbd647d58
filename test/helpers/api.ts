// The API in-process on a fresh test database, with a token minter and a small request helper.
import { createApp } from '../../api/app.ts';
import { generateSigningKeyJwk, importSigningKey, type AuthConfig, type Role } from '../../api/auth.ts';
import { issueToken } from '../../api/routes/tokens.ts';
import { withPlatform } from '../../db/tenant.ts';
import { generateSecretKeyText, importSecretKey, type SecretKey } from '../../db/secrets.ts';
import { openTestDatabase, type TestDatabase } from './db.ts';
import { AgentClient } from '../../agents/client.ts';
import { listenForInvalidations, notifiedPollCaches, type PollCaches } from '../../api/caches.ts';

export interface Harness {
  app: ReturnType<typeof createApp>;
  database: TestDatabase;
  auth: AuthConfig;
  secretKey: SecretKey;
  /** How often things happened: `render`, `poll-read`. */
  metrics: Map<string, number>;
  /** Every SQL statement the app sent, in order (drizzle's logger). */
  queries: string[];
  caches: PollCaches;
  /** An agent client talking to this app in-process. */
  agentClient(): AgentClient;
  /** An API token, issued straight into the database (`tenant`: a slug that exists). */
  token(principal: TestPrincipal, ttlSeconds?: number): Promise<string>;
  call(method: string, path: string, opts?: { token?: string; body?: unknown; headers?: Record<string, string>; raw?: string }): Promise<ApiResponse>;
  close(): Promise<void>;
}

export interface TestPrincipal { sub: string; role: Role; tenant?: string }

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export const PUBLIC_URL = 'http://metalfleet.test';

/** A fetch that hands requests for PUBLIC_URL to the app itself. */
export function inProcessFetch(app: { request: (path: string, init?: RequestInit) => Response | Promise<Response> }): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.toString() : input.url;
    const { signal: _signal, ...rest } = init ?? {};
    return app.request(url.replace(PUBLIC_URL, ''), rest);
  }) as typeof fetch;
}

export async function startHarness(opts: { database?: TestDatabase } = {}): Promise<Harness> {
  const queries: string[] = [];
  const database = opts.database ?? await openTestDatabase({ onQuery: (q) => queries.push(q) });
  const auth: AuthConfig = { signingKey: await importSigningKey(await generateSigningKeyJwk()) };
  const secretKey = await importSecretKey(generateSecretKeyText());
  const metrics = new Map<string, number>();
  const caches = notifiedPollCaches();
  const stopListening = await listenForInvalidations(database, caches);
  const app = createApp({
    db: database.db, secretKey, auth, log: () => {}, publicUrl: PUBLIC_URL, pollIntervalSeconds: 30, caches, simpleQuery: database.simpleQuery,
    metrics: { count: (name, by = 1) => metrics.set(name, (metrics.get(name) ?? 0) + by) },
  });
  return {
    app, database, auth, secretKey, metrics, queries,
    agentClient: () => new AgentClient({ baseUrl: PUBLIC_URL, fetch: inProcessFetch(app) }),
    token: async (principal, ttl = 3600) => (await withPlatform(database.db, (tx) => issueToken(tx, {
      ...(principal.tenant !== undefined ? { tenantSlug: principal.tenant } : {}), name: principal.sub, role: principal.role, ttlSeconds: ttl,
      createdBy: 'test', now: new Date(),
    }))).token,
    async call(method, path, { token, body, headers, raw } = {}) {
      const res = await app.request(path, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        ...(raw !== undefined ? { body: raw } : body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      let parsed: unknown = undefined;
      try { parsed = text ? JSON.parse(text) : undefined; } catch { parsed = undefined; }
      return { status: res.status, headers: res.headers, body: parsed, text };
    },
    caches,
    close: async () => {
      await stopListening?.();
      await database.close();
    },
  };
}

/** A tenant with grants and a policy that allows typical peers, and tokens for each role. */
export async function seedApiTenant(h: Harness, slug: string) {
  const admin = await h.token({ sub: 'test-platform', role: 'platform-admin' });
  const created = await h.call('POST', '/v1/tenants', { token: admin, body: { slug, name: slug.toUpperCase() } });
  if (created.status !== 201) throw new Error(`tenant: ${created.text}`);
  // Each slug its own /16 (a hash of every character; distinct for the slugs the tests use).
  const octet = 100 + [...slug].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) % 9973, 7) % 100;
  for (const cidr of [`198.${octet}.0.0/16`, `2001:db8:${octet.toString(16)}::/48`]) {
    const g = await h.call('POST', `/v1/tenants/${slug}/grants`, { token: admin, body: { cidr } });
    if (g.status !== 201) throw new Error(`grant: ${g.text}`);
  }
  const p = await h.call('PUT', `/v1/tenants/${slug}/policy`, {
    token: admin, body: { allowedASNs: [{ from: 64512, to: 65534 }], allowedPeerCIDRs: ['10.0.0.0/8', 'fd00::/8'] },
  });
  if (p.status !== 200) throw new Error(`policy: ${p.text}`);
  return {
    slug, v4Grant: `198.${octet}.0.0/16`, v6Grant: `2001:db8:${octet.toString(16)}::/48`,
    admin,
    tenantAdmin: await h.token({ sub: `${slug}-admin`, role: 'tenant-admin', tenant: slug }),
    viewer: await h.token({ sub: `${slug}-viewer`, role: 'tenant-viewer', tenant: slug }),
  };
}
