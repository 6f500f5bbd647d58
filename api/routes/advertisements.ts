import { z } from '@hono/zod-openapi';
import { peers, pools } from '../../db/schema.ts';
import { idsByName } from '../../db/queries/named.ts';
import {
  createAdvertisement, deleteAdvertisement, getAdvertisement, listAdvertisements, updateAdvertisement,
  type AdvertisementFields, type AdvertisementRecord,
} from '../../db/queries/advertisements.ts';
import { allCommunities } from '../../db/queries/communities.ts';
import { getPolicy } from '../../db/queries/tenants.ts';
import type { Tx } from '../../db/tenant.ts';
import { advertisementProblems, type Problem } from '../../render/validate.ts';
import type { App, AppDeps, WriteContext } from '../context.ts';
import { parseInput, registerCollection } from '../collection.ts';
import { affectedBySelectors, defined, LabelSelector, refuse, ResourceName, Timestamp } from './shared.ts';

const advertisementFields = {
  name: ResourceName,
  type: z.enum(['bgp', 'l2']),
  ipAddressPools: z.array(z.string()).default([]).openapi({ description: 'Pool names; empty: every pool of the cluster' }),
  peers: z.array(z.string()).default([]).openapi({ description: 'Peer names (BGP); empty: every peer' }),
  communities: z.array(z.string()).default([]).openapi({ description: 'A:B, large:A:B:C, or community alias names (BGP)' }),
  localPref: z.number().int().optional(),
  aggregationLength: z.number().int().optional(),
  aggregationLengthV6: z.number().int().optional(),
  nodeSelectors: z.array(LabelSelector).default([]),
  interfaces: z.array(z.string()).default([]).openapi({ description: 'L2: announcing interfaces; empty: all' }),
  clusterSelector: LabelSelector.optional(),
};
export const AdvertisementInputSchema = z.strictObject(advertisementFields).openapi('AdvertisementInput');
export const AdvertisementSchema = z.object({ ...advertisementFields, createdAt: Timestamp, updatedAt: Timestamp }).openapi('Advertisement');

/** The advertisement's own rules and policy, and references resolved to ids. */
async function check(tx: Tx, ctx: WriteContext, input: AdvertisementFields) {
  const [policy, communities] = await Promise.all([
    getPolicy(tx, { tenantId: ctx.tenantId }), allCommunities(tx, { tenantId: ctx.tenantId }),
  ]);
  const problems: Problem[] = advertisementProblems(input, { policy, communities });
  const poolIds = await idsByName(tx, pools, ctx.tenantId, input.ipAddressPools);
  const peerIds = await idsByName(tx, peers, ctx.tenantId, input.peers);
  input.ipAddressPools.forEach((name, i) => {
    if (!poolIds.has(name)) problems.push({ code: 'unknown-pool', path: `ipAddressPools/${i}`, message: `pool ${JSON.stringify(name)} does not exist`, remedy: 'create the pool first or fix the name' });
  });
  input.peers.forEach((name, i) => {
    if (!peerIds.has(name)) problems.push({ code: 'unknown-peer', path: `peers/${i}`, message: `peer ${JSON.stringify(name)} does not exist`, remedy: 'create the peer first or fix the name' });
  });
  refuse(problems);
  return { poolIds: [...new Set(poolIds.values())], peerIds: [...new Set(peerIds.values())] };
}

export function registerAdvertisementRoutes(app: App, deps: AppDeps) {
  registerCollection<AdvertisementFields, AdvertisementRecord>(app, deps, {
    path: 'advertisements', resource: 'advertisement', tag: 'Advertisements',
    input: AdvertisementInputSchema as unknown as z.ZodType<AdvertisementFields>, output: AdvertisementSchema,
    present: ({ id: _id, ...rest }) => rest as unknown as Record<string, unknown>,
    writable: ({ id: _id, createdAt: _c, updatedAt: _u, ...rest }) => rest as unknown as Record<string, unknown>,
    affects: affectedBySelectors,
    list: listAdvertisements,
    get: getAdvertisement,
    async create(tx, ctx, body) {
      const input = defined(parseInput(AdvertisementInputSchema, body)) as AdvertisementFields;
      return createAdvertisement(tx, { tenantId: ctx.tenantId, input, ...(await check(tx, ctx, input)) });
    },
    async update(tx, ctx, current, input) {
      const fields = defined(input as unknown as Record<string, unknown>) as unknown as AdvertisementFields;
      return updateAdvertisement(tx, { tenantId: ctx.tenantId, id: current.id, input: fields, ...(await check(tx, ctx, fields)) });
    },
    remove: (tx, _ctx, current) => deleteAdvertisement(tx, { id: current.id }),
  });
}
