// The agent protocol: enroll once with a single-use token, then poll the config with ETag/304
// and report status, every request signed by the agent's own key.
import { createRoute, z } from '@hono/zod-openapi';
import { calculateJwkThumbprint } from 'jose';
import { and, eq } from 'drizzle-orm';
import {
  consumeEnrollmentToken, findAgent, findEnrollmentToken, insertAgent, recordStatus, rotateAgentKey, setRenderProblems,
} from '../../db/queries/agents.ts';
import { holdDesiredPrefixes } from '../../db/queries/holds.ts';
import { StatusBatcher } from '../status-batcher.ts';
import { getRevision, type RevisionRecord } from '../../db/queries/revisions.ts';
import { clusters, configRevisions } from '../../db/schema.ts';
import { openSecret } from '../../db/secrets.ts';
import { lockTenantWrites, withAgent, withEnrollment, withTenantWrite } from '../../db/tenant.ts';
import { Capabilities } from '../../render/model.ts';
import { sha256Hex } from '../../render/index.ts';
import type { AgentVerifier } from '../agent-auth.ts';
import { AGENT_TICKET_HEADER } from '../agent-tickets.ts';
import { DEFAULT_POLL_INTERVAL_SECONDS, now, renderDeps, type App, type AppDeps } from '../context.ts';
import { ApiError, isDatabaseUnavailable, warmingUp } from '../errors.ts';
import type { Desired } from '../caches.ts';
import { errorResponses, jsonContent, PUBLIC } from '../openapi.ts';
import { renderClusters, revisionContext } from '../rendering.ts';
import { finishWithdrawals } from '../writes.ts';
import { advanceRollout, ProgressingClusters, ROLLOUT_ACTOR } from '../rollouts.ts';
import { clusterById } from '../../render/scope.ts';

export const PublicJwk = z.strictObject({
  kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be a base64url Ed25519 public key'),
  kid: z.string().max(128).optional(), alg: z.literal('EdDSA').optional(), use: z.literal('sig').optional(),
}).openapi('AgentPublicJwk', { description: 'The agent\'s Ed25519 public key (never a private key: no "d")' });

const EnrollInput = z.strictObject({
  token: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be an enrollment token (43 base64url characters)'),
  publicKeyJwk: PublicJwk,
  agentVersion: z.string().max(64).optional(),
  capabilities: Capabilities.optional(),
}).openapi('EnrollInput');
const EnrollOutput = z.object({ agentId: z.string(), clusterId: z.string(), pollIntervalSeconds: z.number().int() }).openapi('Enrollment');

const ConfigOutput = z.object({
  revision: z.number().int(), backend: z.string(),
  content: z.string().openapi({ description: 'frr.conf (backend frr) or a multi-document YAML stream of Kubernetes objects' }),
  sha256: z.string(), signature: z.string().openapi({
    description: 'Compact JWS (EdDSA, typ metalfleet-config-v2+jws) by a key at /.well-known/jwks.json over '
      + '{"v":2,"cluster":<cluster id>,"revision":<revision>,"sha256":<sha256>}; agents check all three',
  }),
}).openapi('AgentConfig');

const Session = z.strictObject({
  node: z.string().min(1).max(253), peer: z.string().min(1).max(128), vrf: z.string().max(64).default(''),
  bgpState: z.string().min(1).max(64), bfdState: z.string().max(64).nullable().default(null),
  uptimeSeconds: z.number().int().min(0).nullable().default(null),
  prefixesReceived: z.number().int().min(0).nullable().default(null), prefixesSent: z.number().int().min(0).nullable().default(null),
  lastResetReason: z.string().max(256).nullable().default(null),
});
const StatusInput = z.strictObject({
  appliedRevision: z.number().int().min(0).nullable(),
  applyError: z.string().max(8192).nullable().optional(),
  agentVersion: z.string().max(64).optional(),
  capabilities: Capabilities.optional(),
  sessions: z.array(Session).max(10_000).default([]),
}).openapi('AgentStatus');

const KeyInput = z.strictObject({ publicKeyJwk: PublicJwk }).openapi('AgentKeyRotation');
const KEY_ROTATION_GRACE_MS = 10 * 60_000;

/** On answers to agents: a new or renewed ticket (api/agent-tickets.ts), when there is one to give. */
const TICKET_HEADER = { [AGENT_TICKET_HEADER]: { schema: { type: 'string' as const }, description: 'A ticket to send instead of an assertion until it expires (5 minutes)' } };

/** The ETag of a config revision: revision number and the start of its sha256. */
export const configEtag = (revision: number, sha256: string) => `"r${revision}-${sha256.slice(0, 16)}"`;

export function registerAgentRoutes(app: App, deps: AppDeps, verifier: AgentVerifier) {
  const pollInterval = deps.pollIntervalSeconds ?? DEFAULT_POLL_INTERVAL_SECONDS;
  const statusBatcher = deps.simpleQuery ? new StatusBatcher(deps.simpleQuery) : undefined;
  const progressing = new ProgressingClusters(deps.db);
  const rerenderCluster = async (tenantId: string, clusterId: string, cause: string) => {
    const outcome = await withTenantWrite(deps.db, tenantId, async (tx) => {
      const result = await renderClusters(tx, renderDeps(deps), { tenantId, scope: clusterById(clusterId), cause, refuseOnProblems: false, keepPins: true });
      // A report cannot be refused: a cluster its own capabilities break keeps its config, and
      // says why in its status.
      await setRenderProblems(tx, { clusterId, problems: result.failed[0]?.problems ?? null });
      return result;
    });
    return outcome;
  };

  app.openapi(createRoute({
    operationId: 'enrollAgent',
    method: 'post', path: '/v1/agent/enroll', tags: ['Agent protocol'], summary: 'Enroll an agent with a single-use token and its own public key',
    security: PUBLIC, // the single-use enrollment token in the body is the credential
    request: { body: { required: true, content: jsonContent(EnrollInput) } },
    responses: { 200: { description: 'Enrolled', content: jsonContent(EnrollOutput) }, ...errorResponses(401, 409, 422) },
  }), async (c) => {
    const input = c.req.valid('json');
    const { x, kty, crv } = input.publicKeyJwk;
    const publicJwk = { kty, crv, x };
    const kid = await calculateJwkThumbprint(publicJwk);
    const tokenSha256 = sha256Hex(input.token);
    const enrolled = await withEnrollment(deps.db, tokenSha256, async (tx, enterCluster) => {
      // An agent announces what its cluster's revisions carry from now on: it enrolls in turn
      // with the tenant's writes, so that either a write sees it (and holds what it stores for
      // it) or it sees the write (and holds the then desired revision's prefixes).
      const token = await findEnrollmentToken(tx, { tokenSha256 });
      if (!token) return undefined;
      await lockTenantWrites(tx, token.tenantId);
      const consumed = await consumeEnrollmentToken(tx, { tokenSha256 });
      if (!consumed) return undefined;
      await enterCluster(consumed.clusterId);
      const [cluster] = await tx.select({ withdrawingSince: clusters.withdrawingSince }).from(clusters).where(eq(clusters.id, consumed.clusterId));
      if (cluster?.withdrawingSince) {
        throw new ApiError(409, 'cluster-withdrawing', 'Cluster is being deleted', 'this cluster is being deleted and takes no new agent');
      }
      const agent = await insertAgent(tx, { tenantId: consumed.tenantId, clusterId: consumed.clusterId, publicJwk, kid, agentVersion: input.agentVersion ?? null });
      await holdDesiredPrefixes(tx, { clusterIds: [consumed.clusterId] });
      const caps = input.capabilities
        ? await recordStatus(tx, { agentId: agent.id, clusterId: consumed.clusterId, appliedRevision: null, applyError: null, agentVersion: input.agentVersion ?? null, capabilities: input.capabilities, sessions: [] })
        : undefined;
      return { agent, ...consumed, capabilitiesChanged: caps?.capabilitiesChanged ?? false };
    });
    // Reuse, expiry, revocation and a lost race all look the same from outside.
    if (!enrolled) throw new ApiError(401, 'enrollment-refused', 'Enrollment refused', 'the enrollment token is unknown, used, expired or revoked');
    if (enrolled.capabilitiesChanged) await rerenderCluster(enrolled.tenantId, enrolled.clusterId, `capabilities reported by agent ${enrolled.agent.id}`);
    return c.json({ agentId: enrolled.agent.id, clusterId: enrolled.clusterId, pollIntervalSeconds: pollInterval }, 200);
  });

  app.use('/v1/agent/*', async (c, next) => {
    if (c.req.path === '/v1/agent/enroll') return next();
    const { principal, ticket } = await verifier.verify(c.req.header('authorization'), now(deps));
    c.set('agent', principal);
    // Set before the handler answers: a header added to a finished response copies it.
    if (ticket) c.header(AGENT_TICKET_HEADER, ticket);
    return next();
  });

  app.openapi(createRoute({
    operationId: 'getAgentConfig',
    method: 'get', path: '/v1/agent/config', tags: ['Agent protocol'], summary: 'The desired config (304 when If-None-Match matches)',
    // If-None-Match is read directly, not validated per request: this is the hottest path there is.
    description: 'Send `If-None-Match` with the ETag of the config you hold: 304 while it is still current.',
    security: [{ agentAssertion: [] }],
    responses: {
      200: { description: 'The desired config, signed', headers: { ETag: { schema: { type: 'string' } }, 'Metalfleet-Poll-Interval': { schema: { type: 'integer' } }, ...TICKET_HEADER }, content: jsonContent(ConfigOutput) },
      304: { description: 'Unchanged since the ETag given', headers: TICKET_HEADER },
      ...errorResponses(401, 404),
    },
  }), async (c) => {
    const { clusterId } = c.get('agent');
    c.header('Metalfleet-Poll-Interval', String(pollInterval));
    // A current If-None-Match is answered from the in-memory index (no database at all), or after
    // one indexed read; nothing is rendered here, ever.
    const match = c.req.header('if-none-match');
    const isCurrent = (revision: number, sha256: string) => !!match && match.split(',').map((t) => t.trim().replace(/^W\//, '')).includes(configEtag(revision, sha256));
    const cached = deps.caches?.desired.get(clusterId);
    // The ETag goes on the answer itself, never on an error that happens after it is known.
    if (cached && isCurrent(cached.revision, cached.sha256)) return c.body(null, 304, { ETag: configEtag(cached.revision, cached.sha256) });
    if (deps.warming?.()) throw warmingUp();
    deps.metrics?.count('poll-read');
    // The desired revision and, unless it is the one the agent holds, its content: one transaction,
    // so that the cache (and its lastKnown, which answers polls while the database is away) learns
    // a new revision only together with the content that serves it. Learning it first and losing the
    // database before the content was read left an agent with the previous ETag on 503s for the
    // whole outage, where its ETag still answered 304 a moment before.
    let revision: RevisionRecord | undefined;
    const readDesired = () => withAgent(deps.db, clusterId, async (tx) => {
      const [row] = await tx.select({ revision: clusters.desiredRevision, sha256: configRevisions.sha256 }).from(clusters)
        .innerJoin(configRevisions, and(eq(configRevisions.clusterId, clusters.id), eq(configRevisions.revision, clusters.desiredRevision)))
        .where(eq(clusters.id, clusterId));
      if (row && !isCurrent(row.revision, row.sha256)) revision = await getRevision(tx, { clusterId, revision: row.revision });
      return row;
    });
    let desired: Desired | undefined;
    try {
      desired = await (deps.caches ? deps.caches.desired.fill(clusterId, readDesired) : readDesired());
    } catch (err) {
      // The database is away: the last revision known to be current still answers a matching
      // If-None-Match (the agent keeps what it has, as it would on a 503); anything else is a 503.
      const known = deps.caches?.desired.lastKnown(clusterId);
      if (known && isCurrent(known.revision, known.sha256) && isDatabaseUnavailable(err)) {
        return c.body(null, 304, { ETag: configEtag(known.revision, known.sha256) });
      }
      throw err;
    }
    if (!desired) throw new ApiError(404, 'no-config', 'No config yet', 'this cluster has no rendered config yet');
    const etag = { ETag: configEtag(desired.revision, desired.sha256) };
    if (isCurrent(desired.revision, desired.sha256)) return c.body(null, 304, etag);
    // The inner join above read the revision's row in the same transaction.
    if (!revision) throw new Error(`revision ${desired.revision} of cluster ${clusterId} vanished within its transaction`);
    const content = await openSecret(deps.secretKey, revision.content, revisionContext(clusterId));
    return c.json({ revision: revision.revision, backend: revision.backend, content, sha256: revision.sha256, signature: revision.signature }, 200, etag);
  });

  app.openapi(createRoute({
    operationId: 'reportAgentStatus',
    method: 'post', path: '/v1/agent/status', tags: ['Agent protocol'], summary: 'Report the applied revision, apply errors, capabilities and BGP/BFD sessions',
    security: [{ agentAssertion: [] }],
    request: { body: { required: true, content: jsonContent(StatusInput) } },
    responses: { 204: { description: 'Recorded' }, ...errorResponses(401, 413, 422) },
  }), async (c) => {
    if (deps.warming?.()) throw warmingUp(); // reports come again next interval
    const agent = c.get('agent');
    const body = c.req.valid('json');
    const report = {
      agentId: agent.agentId, clusterId: agent.clusterId, appliedRevision: body.appliedRevision, applyError: body.applyError ?? null,
      agentVersion: body.agentVersion ?? null, capabilities: body.capabilities, sessions: body.sessions,
    };
    // Batched with other agents' reports into one round trip where the driver allows
    // (api/status-batcher.ts); otherwise a scoped transaction.
    const result = statusBatcher
      ? await statusBatcher.submit(report)
      : await withAgent(deps.db, agent.clusterId, (tx) => recordStatus(tx, report), { telemetry: true });
    deps.metrics?.count('session-writes', result.sessionWrites);
    // A capability change (say FRR 8.4 → 9.1) can change what the cluster's config must be.
    if (result.capabilitiesChanged) await rerenderCluster(agent.tenantId, agent.clusterId, `capabilities reported by agent ${agent.agentId}`);
    // The agent applied a revision without some address space: a withdrawal may be complete.
    if (result.released > 0) await finishWithdrawals(deps, agent.tenantId, { requestId: c.get('requestId') });
    // The report is evidence for the gates of a rollout wave its cluster is in (api/rollouts.ts).
    if (await progressing.tenantOf(agent.clusterId)) {
      await withTenantWrite(deps.db, agent.tenantId, (tx) => advanceRollout(tx, deps, agent.tenantId,
        { actor: ROLLOUT_ACTOR, requestId: c.get('requestId'), now: now(deps) }));
    }
    return c.body(null, 204);
  });

  app.openapi(createRoute({
    operationId: 'rotateAgentKey',
    method: 'post', path: '/v1/agent/keys', tags: ['Agent protocol'], summary: 'Rotate the agent key (signed with the current key; the old one stays valid 10 minutes)',
    security: [{ agentAssertion: [] }],
    request: { body: { required: true, content: jsonContent(KeyInput) } },
    responses: { 200: { description: 'Rotated', content: jsonContent(z.object({ kid: z.string(), previousKeyValidUntil: z.string() })) }, ...errorResponses(401, 409, 422) },
  }), async (c) => {
    const principal = c.get('agent');
    const { kty, crv, x } = c.req.valid('json').publicKeyJwk;
    const publicJwk = { kty, crv, x };
    const kid = await calculateJwkThumbprint(publicJwk);
    const graceUntil = new Date(now(deps).getTime() + KEY_ROTATION_GRACE_MS);
    await withAgent(deps.db, principal.clusterId, async (tx) => {
      const agent = await findAgent(tx, { agentId: principal.agentId });
      if (!agent || agent.revokedAt) throw new ApiError(401, 'unauthorized', 'Unauthorized', 'the agent has been revoked');
      await rotateAgentKey(tx, { agent, publicJwk, kid, graceUntil });
    });
    verifier.evict(principal.agentId);
    return c.json({ kid, previousKeyValidUntil: graceUntil.toISOString() }, 200);
  });
}
