// API tokens: issued (the token is shown once; only its SHA-256 is stored), listed, revoked.
// Platform admins issue any role for any tenant; a tenant admin issues tokens for its own tenant,
// up to its own role. Revocation takes effect at once on every instance (api/caches.ts).
import { createRoute, z } from '@hono/zod-openapi';
import { recordAudit } from '../../db/queries/audit.ts';
import { findTenantBySlug } from '../../db/queries/tenants.ts';
import { findToken, insertToken, listTokens, revokeToken, type TokenRecord } from '../../db/queries/tokens.ts';
import { withPlatform, type Tx } from '../../db/tenant.ts';
import { newApiToken, parseTtl, ROLE_RANK, ROLES, type Principal, type Role, type TokenVerifier } from '../auth.ts';
import { now, type App, type AppDeps, type Ctx } from '../context.ts';
import { ApiError, forbidden, notFound } from '../errors.ts';
import { decodeCursor, encodeCursor, pageLimit } from '../http.ts';
import { errorResponses, jsonContent, PageQuery } from '../openapi.ts';
import { tenantDeleting } from '../writes.ts';
import { refuse, Timestamp } from './shared.ts';

export const DEFAULT_TOKEN_MAX_TTL_SECONDS = 90 * 86_400;
const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9._@:+-]{0,99}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const TokenInput = z.strictObject({
  name: z.string().regex(TOKEN_NAME, 'must be 1 to 100 characters [A-Za-z0-9._@:+-], starting with a letter or digit').openapi({ example: 'ci-deployer' }),
  role: z.enum(ROLES),
  tenant: z.string().max(63).optional().openapi({ description: 'Tenant slug; required for tenant roles, absent for platform-admin' }),
  ttl: z.string().max(16).optional().openapi({ description: 'Lifetime, e.g. 12h or 30d (default and maximum: METALFLEET_TOKEN_MAX_TTL, 90d)', example: '30d' }),
}).openapi('TokenInput');
const TokenSchema = z.object({
  id: z.string(), name: z.string(), role: z.enum(ROLES), tenant: z.string().nullable(), createdBy: z.string(),
  createdAt: Timestamp, expiresAt: Timestamp, lastUsedAt: Timestamp.nullable().openapi({ description: 'To the minute' }), revokedAt: Timestamp.nullable(),
}).openapi('Token');
const TokenPage = z.object({ items: z.array(TokenSchema), nextCursor: z.string().nullable() }).openapi('TokenPage');
const IdParam = z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' }, description: 'Token id' }) });

const present = (t: TokenRecord) => ({
  id: t.id, name: t.name, role: t.role, tenant: t.tenantSlug, createdBy: t.createdBy, createdAt: t.createdAt.toISOString(),
  expiresAt: t.expiresAt.toISOString(), lastUsedAt: t.lastUsedAt?.toISOString() ?? null, revokedAt: t.revokedAt?.toISOString() ?? null,
});

/**
 * Issues a token in a platform-scope transaction: the route's and `metalfleet token create`'s one
 * way to do it. The token string is returned once; only its hash is stored.
 */
export async function issueToken(tx: Tx, args: {
  tenantSlug?: string; allowedTenantId?: string; name: string; role: Role; ttlSeconds: number; createdBy: string; now: Date;
}): Promise<{ record: TokenRecord; token: string }> {
  let tenantId: string | null = null;
  if (args.tenantSlug !== undefined) {
    const tenant = await findTenantBySlug(tx, args.tenantSlug);
    if (!tenant || (args.allowedTenantId && tenant.id !== args.allowedTenantId)) throw notFound(`tenant ${JSON.stringify(args.tenantSlug)}`);
    if (tenant.deletingSince) throw tenantDeleting(tenant.slug);
    tenantId = tenant.id;
  }
  const issued = newApiToken();
  const record = await insertToken(tx, {
    id: issued.id, tenantId, name: args.name, role: args.role, tokenSha256: issued.sha256, createdBy: args.createdBy,
    expiresAt: new Date(args.now.getTime() + args.ttlSeconds * 1000),
  });
  return { record, token: issued.token };
}

/** Platform admins see every token; a tenant admin its tenant's; nobody else manages tokens. */
function tokenScope(principal: Principal): { tenantId?: string } {
  if (principal.role === 'platform-admin') return {};
  if (principal.role === 'tenant-admin' && principal.tenantId) return { tenantId: principal.tenantId };
  throw forbidden(principal.role === 'tenant-admin' ? 'an OIDC tenant-admin cannot manage API tokens; use an API token' : 'a tenant-viewer cannot manage tokens');
}

export function registerTokenRoutes(app: App, deps: AppDeps, verifier: TokenVerifier) {
  const maxTtl = deps.tokenMaxTtlSeconds ?? DEFAULT_TOKEN_MAX_TTL_SECONDS;
  const audit = (c: Ctx, action: 'create' | 'delete', token: TokenRecord) => (tx: Parameters<Parameters<typeof withPlatform>[1]>[0]) => recordAudit(tx, {
    tenantId: token.tenantId, actor: c.get('principal').sub, action, resource: 'token', resourceId: token.id,
    before: action === 'delete' ? present(token) : null, after: action === 'create' ? present(token) : null, requestId: c.get('requestId'),
  });

  app.openapi(createRoute({
    operationId: 'createToken',
    method: 'post', path: '/v1/tokens', tags: ['Tokens'], summary: 'Issue an API token (shown once)', security: [{ bearer: [] }],
    request: { body: { required: true, content: jsonContent(TokenInput) } },
    responses: {
      201: { description: 'Issued: keep the token, it is not shown again', content: jsonContent(TokenSchema.extend({ token: z.string() })) },
      ...errorResponses(401, 403, 404, 409, 422),
    },
  }), async (c) => {
    const input = c.req.valid('json');
    const principal = c.get('principal');
    const scope = tokenScope(principal);
    if (ROLE_RANK[input.role] > ROLE_RANK[principal.role]) throw forbidden(`a ${principal.role} token cannot issue a ${input.role} token`);
    if ((input.role === 'platform-admin') !== (input.tenant === undefined)) {
      refuse([{ code: 'tenant-role-mismatch', path: 'tenant', message: 'tenant roles need a tenant; platform-admin takes none', remedy: 'set tenant for tenant roles only' }]);
    }
    let ttl = maxTtl;
    try {
      if (input.ttl !== undefined) ttl = parseTtl(input.ttl);
    } catch (err) {
      refuse([{ code: 'invalid-ttl', path: 'ttl', message: (err as Error).message, remedy: 'use e.g. 12h or 30d' }]);
    }
    if (ttl > maxTtl) refuse([{ code: 'invalid-ttl', path: 'ttl', message: `a token may live at most ${maxTtl / 86_400} days`, remedy: `use at most ${maxTtl / 86_400}d` }]);
    // A tenant's token never outlives the API token that issued it: a short-lived credential must not
    // be a way to mint a long-lived one. Without a ttl the new token ends with its issuer; with one
    // past it: 422. Platform admins (who can mint tokens offline with `metalfleet token create`
    // anyway) issue up to the maximum.
    if (principal.expiresAt && principal.role !== 'platform-admin') {
      const left = Math.floor((principal.expiresAt.getTime() - now(deps).getTime()) / 1000);
      if (input.ttl === undefined) ttl = Math.min(ttl, left);
      else if (ttl > left) {
        refuse([{ code: 'ttl-exceeds-issuer', path: 'ttl', message: `the issuing token expires in ${left} s; a token it issues may not outlive it`,
          remedy: 'ask for a shorter ttl, or issue it with a longer-lived token or through the identity provider' }]);
      }
    }
    const { record, token } = await withPlatform(deps.db, async (tx) => {
      const issued = await issueToken(tx, {
        ...(input.tenant !== undefined ? { tenantSlug: input.tenant } : {}), ...(scope.tenantId ? { allowedTenantId: scope.tenantId } : {}),
        name: input.name, role: input.role, ttlSeconds: ttl, createdBy: principal.sub, now: now(deps),
      });
      await audit(c, 'create', issued.record)(tx);
      return issued;
    });
    c.header('Location', `/v1/tokens/${record.id}`);
    return c.json({ ...present(record), token }, 201);
  });

  app.openapi(createRoute({
    operationId: 'listTokens',
    method: 'get', path: '/v1/tokens', tags: ['Tokens'], summary: 'List API tokens, newest first (never the tokens themselves)', security: [{ bearer: [] }],
    request: { query: PageQuery },
    responses: { 200: { description: 'One page of tokens', content: jsonContent(TokenPage) }, ...errorResponses(400, 401, 403) },
  }), async (c) => {
    const scope = tokenScope(c.get('principal'));
    const query = c.req.valid('query');
    const limit = pageLimit(query.limit);
    const before = decodeCursor(query.cursor, ['micros', 'uuid']) as [string, string] | undefined;
    const rows = await withPlatform(deps.db, (tx) => listTokens(tx, { ...scope, ...(before ? { before } : {}), limit: limit + 1 }));
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return c.json({ items: items.map(present), nextCursor: rows.length > limit && last ? encodeCursor([last.atMicros, last.id]) : null }, 200);
  });

  app.openapi(createRoute({
    operationId: 'deleteToken',
    method: 'delete', path: '/v1/tokens/{id}', tags: ['Tokens'], summary: 'Revoke an API token (refused at once on every instance)', security: [{ bearer: [] }],
    request: { params: IdParam },
    responses: { 204: { description: 'Revoked' }, ...errorResponses(401, 403, 404, 409) },
  }), async (c) => {
    const { id } = c.req.valid('param');
    const principal = c.get('principal');
    // Any token may revoke itself; otherwise the same rules as issuing.
    const scope = principal.tokenId === id ? {} : tokenScope(principal);
    if (!UUID.test(id)) throw notFound('token');
    await withPlatform(deps.db, async (tx) => {
      const token = await findToken(tx, { id });
      if (!token || (scope.tenantId && token.tenantId !== scope.tenantId)) throw notFound('token');
      if (!(await revokeToken(tx, { id }))) throw new ApiError(409, 'already-revoked', 'Already revoked', 'this token was already revoked');
      await audit(c, 'delete', token)(tx);
    });
    verifier.evict(id);
    return c.body(null, 204);
  });
}
