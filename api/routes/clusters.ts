import { z } from '@hono/zod-openapi';
import {
  createCluster, deleteCluster, getCluster, listClusters, markWithdrawing, updateCluster, type ClusterInput, type ClusterRecord,
} from '../../db/queries/clusters.ts';
import { clusterHolds, releaseClusterHolds } from '../../db/queries/holds.ts';
import { ApiError } from '../errors.ts';
import { getPolicy } from '../../db/queries/tenants.ts';
import { Backend, BACKENDS, Labels } from '../../render/policy.ts';
import { IDENTIFIER } from '../../render/grammar.ts';
import { clusterById, NO_CLUSTER } from '../../render/scope.ts';
import type { App, AppDeps } from '../context.ts';
import { registerCollection, parseInput, type CollectionSpec } from '../collection.ts';
import { refuse, ResourceName, Timestamp } from './shared.ts';

export const ClusterInputSchema = z.strictObject({
  name: ResourceName.refine((n) => IDENTIFIER.test(n), 'must also be a valid hostname'),
  backend: Backend.meta({ description: `one of ${BACKENDS.join(', ')}` }),
  namespace: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a Kubernetes namespace name').default('metallb-system'),
  labels: Labels.default({}),
}).openapi('ClusterInput');

export const ClusterSchema = z.object({
  name: z.string(), backend: Backend, namespace: z.string(), labels: z.record(z.string(), z.string()),
  capabilities: z.object({
    frrVersion: z.string().optional(), metallbVersion: z.string().optional(), birdVersion: z.string().optional(),
    gobgpVersion: z.string().optional(), nodeAddresses: z.array(z.string()).optional(),
  }).loose()
    .openapi({ description: 'What the agent reported: FRR, MetalLB, BIRD and GoBGP versions, nodes, a host\'s addresses' }),
  desiredRevision: z.number().int(), appliedRevision: z.number().int().nullable(),
  lastSeenAt: Timestamp.nullable(), lastApplyError: z.string().nullable(),
  renderProblems: z.array(z.object({ code: z.string(), path: z.string(), message: z.string(), remedy: z.string() })).nullable()
    .openapi({ description: 'Why the config could not follow the capabilities the agent last reported (the previous config stays)' }),
  withdrawingSince: Timestamp.nullable().openapi({ description: 'Being deleted: its config withdraws everything; it goes once its agent applied that' }),
  pinnedRevision: z.number().int().nullable().openapi({ description: 'A rollback in effect: the revision whose intent the cluster serves until a change affects it' }),
  createdAt: Timestamp, updatedAt: Timestamp,
}).openapi('Cluster');

const WithdrawalSchema = z.object({
  cluster: z.string(), state: z.literal('withdrawing'), withdrawingSince: Timestamp,
  waitingFor: z.array(z.string()).openapi({ description: 'CIDRs its agent may still announce; held from everyone else until it applies the withdrawal' }),
}).openapi('ClusterWithdrawal');

const present = ({ id: _id, ...rest }: ClusterRecord) => rest as unknown as Record<string, unknown>;

/** The collection's contract, also what intent documents create and change clusters through. */
export function clusterCollection(_deps: AppDeps): CollectionSpec<ClusterInput, ClusterRecord> {
  return {
    path: 'clusters', resource: 'cluster', tag: 'Clusters',
    input: ClusterInputSchema as unknown as z.ZodType<ClusterInput>, output: ClusterSchema,
    present,
    writable: (r) => ({ name: r.name, backend: r.backend, namespace: r.namespace, labels: r.labels }),
    // A cluster's own writes affect only it (a deleted cluster needs nothing rendered).
    affects: ({ after }) => (after ? clusterById(after.id) : NO_CLUSTER),
    list: listClusters,
    get: getCluster,
    async create(tx, ctx, body) {
      const input = parseInput(ClusterInputSchema, body) as ClusterInput;
      await checkBackend(tx, ctx.tenantId, input.backend);
      return createCluster(tx, { tenantId: ctx.tenantId, input });
    },
    async update(tx, ctx, current, input) {
      await checkBackend(tx, ctx.tenantId, input.backend);
      return updateCluster(tx, { id: current.id, input });
    },
    withdrawal: {
      accepted: WithdrawalSchema,
      force: 'Platform admins: delete at once, releasing the address space its agent may still announce (audited). '
        + 'Without it, a cluster whose agent may be announcing is withdrawn first (202) and deleted once the agent applied that.',
    },
    async remove(tx, ctx, current, { force }) {
      if (force) {
        const released = await releaseClusterHolds(tx, { clusterId: current.id });
        await deleteCluster(tx, { id: current.id });
        return { audit: { force: true, released } };
      }
      const holds = await clusterHolds(tx, { clusterIds: [current.id] });
      if (holds.length === 0) {
        await deleteCluster(tx, { id: current.id });
        return {};
      }
      await markWithdrawing(tx, { clusterIds: [current.id] });
      const after = (await getCluster(tx, { tenantId: ctx.tenantId, name: current.name }))!;
      const accepted = {
        cluster: current.name, state: 'withdrawing', withdrawingSince: after.withdrawingSince!.toISOString(),
        waitingFor: [...new Set(holds.map((h) => h.cidr))],
      };
      return { withdrawing: { after, accepted }, audit: accepted };
    },
    beforeUpdate(current) {
      if (current.withdrawingSince) throw clusterWithdrawing(current.name);
    },
  };
}

export function registerClusterRoutes(app: App, deps: AppDeps) {
  registerCollection(app, deps, clusterCollection(deps));
}

export const clusterWithdrawing = (name: string) => new ApiError(409, 'cluster-withdrawing', 'Cluster is being deleted',
  `cluster ${name} is withdrawing what it announced before it is deleted; it can no longer change`);


async function checkBackend(tx: Parameters<typeof getPolicy>[0], tenantId: string, backend: Backend) {
  const policy = await getPolicy(tx, { tenantId });
  if (!policy.allowedBackends.includes(backend)) {
    refuse([{ code: 'backend-not-allowed', path: 'backend', message: `the tenant policy does not allow backend ${backend}`,
      remedy: `use one of ${policy.allowedBackends.join(', ') || '(none)'} or ask a platform admin to allow it` }]);
  }
}
