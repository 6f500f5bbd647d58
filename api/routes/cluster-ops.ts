// What people do with one cluster beyond its intent: read its rendered config and revisions
// (passwords redacted), diff and roll back, mint enrollment tokens, see and revoke its agents,
// and read its sync state and BGP/BFD sessions. Plus the fleet-wide health view.
import { createRoute, z } from '@hono/zod-openapi';
import { createTwoFilesPatch } from 'diff';
import { parseAllDocuments } from 'yaml';
import { recordAudit } from '../../db/queries/audit.ts';
import {
  createEnrollmentToken, listAgents, listEnrollmentTokens, listSessions, revokeAgent, revokeEnrollmentToken,
} from '../../db/queries/agents.ts';
import { getCluster, type ClusterRecord } from '../../db/queries/clusters.ts';
import { rolloutOfCluster } from '../../db/queries/rollouts.ts';
import { desiredShas, getRevision, listRevisions, storeRevisions } from '../../db/queries/revisions.ts';
import { loadTenantIntent } from '../../db/queries/intent.ts';
import { openSecret } from '../../db/secrets.ts';
import { clusterIntent, pinnedIntent } from '../../render/select.ts';
import { withTenant, type Tx } from '../../db/tenant.ts';
import { parseTtl } from '../auth.ts';
import type { AgentVerifier } from '../agent-auth.ts';
import { redactConfig } from '../../render/redact.ts';
import { sha256Hex } from '../../render/index.ts';
import { DEFAULT_POLL_INTERVAL_SECONDS, now, platformAdminOnly, renderDeps, tenantWriterOnly, type App, type AppDeps, type Ctx } from '../context.ts';
import { ApiError, notFound } from '../errors.ts';
import { base64url, COUNT, decodeCursor, encodeCursor, pageLimit } from '../http.ts';
import { errorResponses, jsonContent, NameParam, PageQuery, TenantParam } from '../openapi.ts';
import { clusterRef, clustersRefuse, newRevision, renderIntent, revisionContext, revisionIntent } from '../rendering.ts';
import { writeTenant } from '../writes.ts';
import { clusterWithdrawing } from './clusters.ts';
import { refuse, Timestamp } from './shared.ts';
import { readFleetHealth, SYNC_STATES, syncState } from '../fleet.ts';
import { clusterById } from '../../render/scope.ts';

const ClusterParam = TenantParam.extend(NameParam.shape);
const RevisionNumber = z.string().regex(COUNT, 'must be a revision number: 1 or more, in decimal').refine((t) => Number(t) <= 2_147_483_647, 'no such revision');
const RevisionParam = ClusterParam.extend({ revision: RevisionNumber.openapi({ param: { name: 'revision', in: 'path' } }) });
const IdParam = (name: string) => ClusterParam.extend({ [name]: z.string().openapi({ param: { name, in: 'path' } }) });
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const RevisionView = z.object({
  cluster: z.string(), revision: z.number().int(), backend: z.string(), sha256: z.string(), cause: z.string(), createdAt: Timestamp,
  content: z.string().openapi({ description: 'The rendered config, passwords redacted' }),
}).openapi('ConfigRevision');
const RevisionSummary = z.object({ revision: z.number().int(), backend: z.string(), sha256: z.string(), cause: z.string(), createdAt: Timestamp }).openapi('RevisionSummary');


const StatusView = z.object({
  cluster: z.string(), backend: z.string(), syncState: z.enum(SYNC_STATES), desiredRevision: z.number().int(), appliedRevision: z.number().int().nullable(),
  lastApplyError: z.string().nullable(), lastSeenAt: Timestamp.nullable(), capabilities: z.record(z.string(), z.unknown()),
  renderProblems: z.array(z.object({ code: z.string(), path: z.string(), message: z.string(), remedy: z.string() })).nullable()
    .openapi({ description: 'Why the config could not follow the last reported capabilities (the previous config stays)' }),
}).openapi('ClusterStatus');

const SessionView = z.object({
  node: z.string(), peer: z.string(), vrf: z.string(), bgpState: z.string(), bfdState: z.string().nullable(), uptimeSeconds: z.number().int().nullable(),
  prefixesReceived: z.number().int().nullable(), prefixesSent: z.number().int().nullable(), lastResetReason: z.string().nullable(), updatedAt: Timestamp,
}).openapi('BgpSession');

/**
 * An enrollment token: 256 random bits as 43 base64url characters, of which only the SHA-256 is
 * stored. Never with a leading "-" (one in 64 would have one), which command lines take for an
 * option: `scripted-agent.ts --token -Xy…` fails to parse.
 */
export function newEnrollmentToken(): string {
  for (;;) {
    const token = base64url(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
    if (!token.startsWith('-')) return token;
  }
}

export function registerClusterOpsRoutes(app: App, deps: AppDeps, verifier: AgentVerifier) {
  const pollInterval = deps.pollIntervalSeconds ?? DEFAULT_POLL_INTERVAL_SECONDS;
  const findCluster = (name: string, fn: (tx: Tx, cluster: ClusterRecord) => Promise<unknown>) => async (tx: Tx, tenantId: string) => {
    const cluster = await getCluster(tx, { tenantId, name });
    if (!cluster) throw notFound(`cluster ${JSON.stringify(name)}`);
    return fn(tx, cluster);
  };
  const inCluster = <T>(c: Ctx, name: string, fn: (tx: Tx, cluster: ClusterRecord) => Promise<T>) =>
    withTenant(deps.db, c.get('tenant').id, (tx) => findCluster(name, fn)(tx, c.get('tenant').id) as Promise<T>);
  /** A change about one cluster: the tenant's write lock first (api/writes.ts). */
  const writeInCluster = <T>(c: Ctx, name: string, fn: (tx: Tx, cluster: ClusterRecord) => Promise<T>) =>
    writeTenant(deps, c.get('tenant').id, (tx) => findCluster(name, fn)(tx, c.get('tenant').id) as Promise<T>);
  const readRevision = async (tx: Tx, cluster: ClusterRecord, revision?: number) => {
    const row = await getRevision(tx, { clusterId: cluster.id, ...(revision !== undefined ? { revision } : {}) });
    if (!row) throw notFound(revision === undefined ? `a config for cluster ${cluster.name}` : `revision ${revision} of cluster ${cluster.name}`);
    return { ...row, content: await openSecret(deps.secretKey, row.content, revisionContext(cluster.id)) };
  };
  const path = (suffix: string) => `/v1/tenants/{tenant}/clusters/{name}${suffix}`;

  app.openapi(createRoute({
    operationId: 'getClusterConfig',
    method: 'get', path: path('/config'), tags: ['Revisions'],
    summary: 'The rendered config (latest, or ?revision=N), passwords redacted; ?format=yaml|json exports the objects themselves',
    security: [{ bearer: [] }],
    request: {
      params: ClusterParam,
      query: z.object({
        revision: RevisionNumber.optional().openapi({ param: { name: 'revision', in: 'query' } }),
        format: z.enum(['yaml', 'json']).optional().openapi({ param: { name: 'format', in: 'query' },
          description: 'yaml: the MetalLB objects as one YAML stream (host FRR: frr.conf as text); json: the MetalLB objects as a List' }),
      }),
    },
    responses: {
      200: {
        description: 'A revision',
        content: { ...jsonContent(RevisionView), 'application/yaml': { schema: z.string() }, 'text/plain': { schema: z.string() } },
      },
      ...errorResponses(401, 404, 422),
    },
  }), async (c) => {
    const { name } = c.req.valid('param');
    const { revision, format } = c.req.valid('query');
    const row = await inCluster(c, name, (tx, cluster) => readRevision(tx, cluster, revision === undefined ? undefined : Number(revision)));
    const content = redactConfig(row.backend, row.content);
    if (format === 'yaml') return c.body(content, 200, { 'content-type': row.backend === 'frr' ? 'text/plain; charset=utf-8' : 'application/yaml' });
    if (format === 'json') {
      if (row.backend === 'frr') {
        throw new ApiError(422, 'format-unsupported', 'Format unsupported', 'a host FRR config is frr.conf text, not objects', {
          errors: [{ path: 'format', code: 'format-unsupported', message: 'use format=yaml for frr.conf as text' }],
        });
      }
      return c.json({ apiVersion: 'v1', kind: 'List', items: parseAllDocuments(content).map((d) => d.toJSON()) }, 200);
    }
    return c.json({ cluster: name, revision: row.revision, backend: row.backend, sha256: row.sha256, cause: row.cause, createdAt: row.createdAt.toISOString(), content }, 200);
  });

  app.openapi(createRoute({
    operationId: 'listClusterRevisions',
    method: 'get', path: path('/revisions'), tags: ['Revisions'], summary: 'Revisions, newest first', security: [{ bearer: [] }],
    request: { params: ClusterParam, query: PageQuery },
    responses: { 200: { description: 'One page', content: jsonContent(z.object({ items: z.array(RevisionSummary), nextCursor: z.string().nullable() })) }, ...errorResponses(400, 401, 404) },
  }), async (c) => {
    const { name } = c.req.valid('param');
    const query = c.req.valid('query');
    const limit = pageLimit(query.limit);
    const before = decodeCursor(query.cursor, ['integer'])?.[0] as number | undefined;
    const rows = await inCluster(c, name, (tx, cluster) => listRevisions(tx, { clusterId: cluster.id, before, limit: limit + 1 }));
    const items = rows.slice(0, limit);
    return c.json({ items: items.map((r) => ({ ...r, createdAt: r.createdAt.toISOString() })), nextCursor: rows.length > limit ? encodeCursor([items.at(-1)!.revision]) : null }, 200);
  });

  app.openapi(createRoute({
    operationId: 'getRevisionDiff',
    method: 'get', path: path('/revisions/{revision}/diff'), tags: ['Revisions'], summary: 'Unified diff of a revision against another (?from=, default the one before)',
    security: [{ bearer: [] }],
    request: { params: RevisionParam, query: z.object({ from: RevisionNumber.optional().openapi({ param: { name: 'from', in: 'query' } }) }) },
    responses: { 200: { description: 'A unified diff (passwords redacted)', content: { 'text/x-diff': { schema: z.string() } } }, ...errorResponses(401, 404, 422) },
  }), async (c) => {
    const { name, revision } = c.req.valid('param');
    const to = Number(revision);
    const from = c.req.valid('query').from === undefined ? to - 1 : Number(c.req.valid('query').from);
    const [a, b] = await inCluster(c, name, async (tx, cluster) => [from >= 1 ? await readRevision(tx, cluster, from) : undefined, await readRevision(tx, cluster, to)] as const);
    const patch = createTwoFilesPatch(`${name}@r${from}`, `${name}@r${to}`, a ? redactConfig(a.backend, a.content) : '', redactConfig(b.backend, b.content));
    return c.body(patch, 200, { 'content-type': 'text/x-diff; charset=utf-8' });
  });

  app.openapi(createRoute({
    operationId: 'rollbackCluster',
    method: 'post', path: path('/rollback'), tags: ['Revisions'], middleware: [tenantWriterOnly] as const,
    summary: 'Serve an earlier revision again: its objects are re-validated against today\'s policy, grants and capabilities; '
      + 'the cluster keeps them until the next change that affects it',
    security: [{ bearer: [] }],
    request: { params: ClusterParam, body: { required: true, content: jsonContent(z.strictObject({ revision: z.number().int().min(1).max(2_147_483_647) }).openapi('Rollback')) } },
    responses: { 201: { description: 'The new revision', content: jsonContent(RevisionSummary) }, ...errorResponses(401, 403, 404, 409, 422) },
  }), async (c) => {
    const { name } = c.req.valid('param');
    const { revision } = c.req.valid('json');
    const actor = c.get('principal').sub;
    const tenantId = c.get('tenant').id;
    const created = await writeInCluster(c, name, async (tx, cluster) => {
      if (cluster.withdrawingSince) throw clusterWithdrawing(name);
      const inRollout = await rolloutOfCluster(tx, { clusterId: cluster.id });
      if (inRollout !== undefined) {
        throw new ApiError(409, 'cluster-in-rollout', 'Cluster is part of an unfinished rollout',
          `cluster ${name} is part of rollout ${inRollout}, which decides its revision; abort or finish that rollout first`);
      }
      const snapshot = await revisionIntent(tx, deps, cluster.id, revision);
      if (!snapshot) {
        if (!(await getRevision(tx, { clusterId: cluster.id, revision }))) throw notFound(`revision ${revision} of cluster ${name}`);
        throw new ApiError(409, 'rollback-unavailable', 'Revision cannot be restored',
          `revision ${revision} was stored before revisions kept the intent they were rendered from; roll back to a newer revision`);
      }
      const tenant = await loadTenantIntent(tx, { tenantId, secretKey: deps.secretKey, scope: clusterById(cluster.id) });
      const { intent, problems } = pinnedIntent(snapshot, clusterIntent(tenant.objects, clusterRef(cluster)), revision);
      const result = renderIntent(renderDeps(deps), intent);
      if (problems.length > 0 || !result.ok) {
        throw clustersRefuse([{ cluster: name, backend: cluster.backend, problems: [...problems, ...(result.ok ? [] : result.problems)] }]);
      }
      const current = (await desiredShas(tx, { clusterIds: [cluster.id] })).get(cluster.id);
      if (current?.sha256 === result.sha256) {
        throw new ApiError(409, 'already-current', 'Already current', `revision ${revision} renders today as the current revision ${current.revision} does`);
      }
      const cause = `rollback to r${revision} by ${actor}`;
      const stored = await newRevision(renderDeps(deps), { tenantId, cluster, intent, result, cause });
      const number = (await storeRevisions(tx, [stored], { pin: true })).get(cluster.id)!;
      await recordAudit(tx, { tenantId, actor, action: 'create', resource: 'rollback', resourceId: cluster.id,
        before: { revision: current?.revision ?? null }, after: { revision: number, from: revision }, requestId: c.get('requestId') });
      return { revision: number, backend: result.backend, sha256: result.sha256, cause, createdAt: now(deps).toISOString() };
    });
    return c.json(created, 201);
  });

  // Enrollment tokens.
  const TokenView = z.object({ id: z.string(), expiresAt: Timestamp, usedAt: Timestamp.nullable(), revokedAt: Timestamp.nullable(), createdBy: z.string().nullable(), createdAt: Timestamp,
    state: z.enum(['active', 'used', 'expired', 'revoked']) }).openapi('EnrollmentToken');
  const tokenState = (t: { usedAt: Date | null; revokedAt: Date | null; expiresAt: Date }) =>
    t.revokedAt ? 'revoked' as const : t.usedAt ? 'used' as const : t.expiresAt.getTime() <= now(deps).getTime() ? 'expired' as const : 'active' as const;

  app.openapi(createRoute({
    operationId: 'createEnrollmentToken',
    method: 'post', path: path('/enrollment-tokens'), tags: ['Agents'], middleware: [tenantWriterOnly] as const,
    summary: 'Mint a single-use enrollment token (shown once; TTL default 1h, at most 7d)', security: [{ bearer: [] }],
    request: { params: ClusterParam, body: { required: false, content: jsonContent(z.strictObject({ ttl: z.string().optional().openapi({ example: '1h' }) }).openapi('EnrollmentTokenRequest')) } },
    responses: { 201: { description: 'The token: keep it, it is not shown again', content: jsonContent(TokenView.extend({ token: z.string() })) }, ...errorResponses(401, 403, 404, 422) },
  }), async (c) => {
    const { name } = c.req.valid('param');
    const body = c.req.valid('json') ?? {};
    let ttl = 3600;
    try {
      if (body.ttl) ttl = parseTtl(body.ttl);
    } catch (err) {
      refuse([{ code: 'invalid-ttl', path: 'ttl', message: (err as Error).message, remedy: 'use e.g. 15m, 1h or 2d' }]);
    }
    if (ttl < 60 || ttl > 7 * 86400) refuse([{ code: 'invalid-ttl', path: 'ttl', message: 'the TTL must be between 1 minute and 7 days', remedy: 'use e.g. 1h' }]);
    const token = newEnrollmentToken();
    const actor = c.get('principal').sub;
    const record = await writeInCluster(c, name, async (tx, cluster) => {
      if (cluster.withdrawingSince) throw clusterWithdrawing(name);
      const created = await createEnrollmentToken(tx, { tenantId: c.get('tenant').id, clusterId: cluster.id, tokenSha256: sha256Hex(token), expiresAt: new Date(now(deps).getTime() + ttl * 1000), createdBy: actor });
      await recordAudit(tx, { tenantId: c.get('tenant').id, actor, action: 'create', resource: 'enrollment-token', resourceId: created.id, before: null,
        after: { cluster: name, expiresAt: created.expiresAt }, requestId: c.get('requestId') });
      return created;
    });
    return c.json({ ...present(record), state: tokenState(record), token }, 201);
  });

  const present = (t: { id: string; expiresAt: Date; usedAt: Date | null; revokedAt: Date | null; createdBy: string | null; createdAt: Date }) => ({
    id: t.id, expiresAt: t.expiresAt.toISOString(), usedAt: t.usedAt?.toISOString() ?? null, revokedAt: t.revokedAt?.toISOString() ?? null,
    createdBy: t.createdBy, createdAt: t.createdAt.toISOString(),
  });

  app.openapi(createRoute({
    operationId: 'listEnrollmentTokens',
    method: 'get', path: path('/enrollment-tokens'), tags: ['Agents'], summary: 'Enrollment tokens (never the tokens themselves)', security: [{ bearer: [] }],
    request: { params: ClusterParam },
    responses: { 200: { description: 'Tokens, newest first', content: jsonContent(z.object({ items: z.array(TokenView) })) }, ...errorResponses(401, 404) },
  }), async (c) => {
    const rows = await inCluster(c, c.req.valid('param').name, (tx, cluster) => listEnrollmentTokens(tx, { clusterId: cluster.id }));
    return c.json({ items: rows.map((t) => ({ ...present(t), state: tokenState(t) })) }, 200);
  });

  app.openapi(createRoute({
    operationId: 'deleteEnrollmentToken',
    method: 'delete', path: path('/enrollment-tokens/{token}'), tags: ['Agents'], middleware: [tenantWriterOnly] as const, summary: 'Revoke an enrollment token',
    security: [{ bearer: [] }], request: { params: IdParam('token') },
    responses: { 204: { description: 'Revoked' }, ...errorResponses(401, 403, 404) },
  }), async (c) => {
    const { name, token } = c.req.valid('param') as { name: string; token: string };
    if (!UUID.test(token)) throw notFound('enrollment token');
    await writeInCluster(c, name, async (tx, cluster) => {
      // One statement decides: a token is revoked only while neither used nor revoked, so a
      // revocation and an enrollment racing for it cannot both succeed.
      const outcome = await revokeEnrollmentToken(tx, { clusterId: cluster.id, id: token });
      if (outcome === 'unknown') throw notFound('enrollment token');
      if (outcome === 'used') {
        throw new ApiError(409, 'enrollment-token-used', 'Token already used',
          'an agent has already enrolled with this token; revoke the agent instead (DELETE …/agents/{agent})');
      }
      if (outcome === 'revoked') throw new ApiError(409, 'already-revoked', 'Already revoked', 'this enrollment token was already revoked');
      await recordAudit(tx, { tenantId: c.get('tenant').id, actor: c.get('principal').sub, action: 'delete', resource: 'enrollment-token', resourceId: token, before: null, after: null, requestId: c.get('requestId') });
    });
    return c.body(null, 204);
  });

  const AgentView = z.object({ id: z.string(), kid: z.string(), agentVersion: z.string().nullable(),
    lastSeenAt: Timestamp.nullable().openapi({ description: 'When this agent last reported, to the minute (the cluster\'s lastSeenAt is exact).' }), revokedAt: Timestamp.nullable(), createdAt: Timestamp }).openapi('Agent');
  app.openapi(createRoute({
    operationId: 'listAgents',
    method: 'get', path: path('/agents'), tags: ['Agents'], summary: "The cluster's enrolled agents", security: [{ bearer: [] }],
    request: { params: ClusterParam },
    responses: { 200: { description: 'Agents', content: jsonContent(z.object({ items: z.array(AgentView) })) }, ...errorResponses(401, 404) },
  }), async (c) => {
    const rows = await inCluster(c, c.req.valid('param').name, (tx, cluster) => listAgents(tx, { clusterId: cluster.id }));
    return c.json({ items: rows.map((a) => ({ id: a.id, kid: a.kid, agentVersion: a.agentVersion, lastSeenAt: a.lastSeenAt?.toISOString() ?? null, revokedAt: a.revokedAt?.toISOString() ?? null, createdAt: a.createdAt.toISOString() })) }, 200);
  });

  app.openapi(createRoute({
    operationId: 'deleteAgent',
    method: 'delete', path: path('/agents/{agent}'), tags: ['Agents'], middleware: [tenantWriterOnly] as const, summary: 'Revoke an agent (its requests answer 401 from now on)',
    security: [{ bearer: [] }], request: { params: IdParam('agent') },
    responses: { 204: { description: 'Revoked' }, ...errorResponses(401, 403, 404) },
  }), async (c) => {
    const { name, agent } = c.req.valid('param') as { name: string; agent: string };
    if (!UUID.test(agent)) throw notFound('agent');
    await writeInCluster(c, name, async (tx, cluster) => {
      const outcome = await revokeAgent(tx, { clusterId: cluster.id, agentId: agent });
      if (outcome === 'unknown') throw notFound('agent');
      if (outcome === 'revoked') throw new ApiError(409, 'already-revoked', 'Already revoked', 'this agent was already revoked');
      await recordAudit(tx, { tenantId: c.get('tenant').id, actor: c.get('principal').sub, action: 'delete', resource: 'agent', resourceId: agent, before: null, after: null, requestId: c.get('requestId') });
    });
    verifier.evict(agent);
    return c.body(null, 204);
  });

  app.openapi(createRoute({
    operationId: 'getClusterStatus',
    method: 'get', path: path('/status'), tags: ['Status'], summary: 'Desired vs applied revision and sync state', security: [{ bearer: [] }],
    request: { params: ClusterParam },
    responses: { 200: { description: 'Status', content: jsonContent(StatusView) }, ...errorResponses(401, 404) },
  }), async (c) => {
    const { name } = c.req.valid('param');
    const cluster = await inCluster(c, name, async (_tx, cl) => cl);
    return c.json({
      cluster: name, backend: cluster.backend, syncState: syncState(cluster, now(deps).getTime(), pollInterval),
      desiredRevision: cluster.desiredRevision, appliedRevision: cluster.appliedRevision, lastApplyError: cluster.lastApplyError,
      lastSeenAt: cluster.lastSeenAt?.toISOString() ?? null, capabilities: cluster.capabilities as Record<string, unknown>,
      renderProblems: cluster.renderProblems,
    }, 200);
  });

  app.openapi(createRoute({
    operationId: 'listClusterSessions',
    method: 'get', path: path('/sessions'), tags: ['Status'], summary: 'BGP/BFD sessions as the agent last reported them', security: [{ bearer: [] }],
    request: { params: ClusterParam },
    responses: { 200: { description: 'Sessions', content: jsonContent(z.object({ items: z.array(SessionView) })) }, ...errorResponses(401, 404) },
  }), async (c) => {
    const rows = await inCluster(c, c.req.valid('param').name, (tx, cluster) => listSessions(tx, { clusterId: cluster.id }));
    const nowMs = now(deps).getTime();
    return c.json({
      items: rows.map((s) => ({
        node: s.node, peer: s.peer, vrf: s.vrf, bgpState: s.bgpState, bfdState: s.bfdState,
        // Uptime is stored when something else changes; an established session has been up since.
        uptimeSeconds: s.uptimeSeconds !== null && s.bgpState === 'Established' ? s.uptimeSeconds + Math.max(0, Math.floor((nowMs - s.updatedAt.getTime()) / 1000)) : s.uptimeSeconds,
        prefixesReceived: s.prefixesReceived, prefixesSent: s.prefixesSent, lastResetReason: s.lastResetReason, updatedAt: s.updatedAt.toISOString(),
      })),
    }, 200);
  });

  const FleetHealth = z.object({
    tenants: z.array(z.object({
      tenant: z.string(), clusters: z.record(z.string(), z.number().int()), sessions: z.record(z.string(), z.number().int()),
      pausedRollouts: z.array(z.object({ number: z.number().int(), reason: z.string().nullable() }))
        .openapi({ description: 'Rollouts stopped by a failed gate or a person: changes held back from clusters' }),
    })),
  }).openapi('FleetHealth');
  app.openapi(createRoute({
    operationId: 'getFleetHealth',
    method: 'get', path: '/v1/fleet/health', tags: ['Status'], middleware: [platformAdminOnly] as const,
    summary: 'Per tenant: clusters by sync state, sessions by BGP state and paused rollouts', security: [{ bearer: [] }],
    responses: { 200: { description: 'Fleet health', content: jsonContent(FleetHealth) }, ...errorResponses(401, 403) },
  }), async (c) => {
    const health = await readFleetHealth(deps.db, { nowMs: now(deps).getTime(), pollIntervalSeconds: pollInterval });
    return c.json({ tenants: health }, 200);
  });
}
