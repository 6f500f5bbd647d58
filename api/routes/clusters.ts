import { z } from '@hono/zod-openapi';
import { createCluster, deleteCluster, getCluster, listClusters, updateCluster, type ClusterInput, type ClusterRecord } from '../../db/queries/clusters.ts';
import { getPolicy } from '../../db/queries/tenants.ts';
import { Backend, BACKENDS, Labels } from '../../render/policy.ts';
import { IDENTIFIER } from '../../render/grammar.ts';
import type { App, AppDeps } from '../context.ts';
import { registerCollection, parseInput } from '../collection.ts';
import { refuse, ResourceName, Timestamp } from './shared.ts';

export const ClusterInputSchema = z.strictObject({
  name: ResourceName.refine((n) => IDENTIFIER.test(n), 'must also be a valid hostname'),
  backend: Backend.openapi({ description: `one of ${BACKENDS.join(', ')}` }),
  namespace: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a Kubernetes namespace name').default('metallb-system'),
  labels: Labels.default({}),
}).openapi('ClusterInput');

export const ClusterSchema = z.object({
  name: z.string(), backend: Backend, namespace: z.string(), labels: z.record(z.string(), z.string()),
  capabilities: z.object({ frrVersion: z.string().optional(), metallbVersion: z.string().optional() }).loose()
    .openapi({ description: 'What the agent reported (FRR and MetalLB versions, nodes)' }),
  desiredRevision: z.number().int(), appliedRevision: z.number().int().nullable(),
  lastSeenAt: Timestamp.nullable(), lastApplyError: z.string().nullable(),
  renderProblems: z.array(z.object({ code: z.string(), path: z.string(), message: z.string(), remedy: z.string() })).nullable()
    .openapi({ description: 'Why the config could not follow the capabilities the agent last reported (the previous config stays)' }),
  createdAt: Timestamp, updatedAt: Timestamp,
}).openapi('Cluster');

const present = ({ id: _id, ...rest }: ClusterRecord) => rest as unknown as Record<string, unknown>;

export function registerClusterRoutes(app: App, deps: AppDeps) {
  registerCollection<ClusterInput, ClusterRecord>(app, deps, {
    path: 'clusters', resource: 'cluster', tag: 'Clusters',
    input: ClusterInputSchema as unknown as z.ZodType<ClusterInput>, output: ClusterSchema,
    present,
    writable: (r) => ({ name: r.name, backend: r.backend, namespace: r.namespace, labels: r.labels }),
    // A cluster's own writes affect only it (a deleted cluster needs nothing rendered).
    affects: ({ after }) => (cluster) => cluster.id === after?.id,
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
    remove: (tx, _ctx, current) => deleteCluster(tx, { id: current.id }),
  });
}

async function checkBackend(tx: Parameters<typeof getPolicy>[0], tenantId: string, backend: Backend) {
  const policy = await getPolicy(tx, { tenantId });
  if (!policy.allowedBackends.includes(backend)) {
    refuse([{ code: 'backend-not-allowed', path: 'backend', message: `the tenant policy does not allow backend ${backend}`,
      remedy: `use one of ${policy.allowedBackends.join(', ') || '(none)'} or ask a platform admin to allow it` }]);
  }
}
