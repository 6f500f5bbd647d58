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
import { parseInput, registerCollection, type CollectionSpec } from '../collection.ts';
import { affectedBySelectors, defined, LabelSelector, refuse, ResourceName, Timestamp } from './shared.ts';

// MetalLB's two kinds, two collections: /bgp-advertisements and /l2-advertisements. A BGP and an L2
// advertisement may share a name; the kind comes from the path.
const commonFields = {
  name: ResourceName,
  ipAddressPools: z.array(z.string()).default([]).openapi({ description: 'Pool names; with no names and no selectors: every pool of the cluster' }),
  ipAddressPoolSelectors: z.array(LabelSelector).default([]).openapi({ description: 'Pools selected by their labels, besides the named ones' }),
  serviceSelectors: z.array(LabelSelector).default([]).openapi({ description: 'Services whose addresses are announced; empty: every service' }),
  nodeSelectors: z.array(LabelSelector).default([]),
  clusterSelector: LabelSelector.optional(),
};
const bgpFields = {
  ...commonFields,
  peers: z.array(z.string()).default([]).openapi({ description: 'Peer names; empty: every peer' }),
  communities: z.array(z.string()).default([]).openapi({ description: 'A:B, large:A:B:C, or community alias names' }),
  localPref: z.number().int().optional().openapi({ description: '0..2147483647' }),
  aggregationLength: z.number().int().optional(),
  aggregationLengthV6: z.number().int().optional(),
};
const l2Fields = {
  ...commonFields,
  interfaces: z.array(z.string()).default([]).openapi({ description: 'Announcing interfaces; empty: all' }),
};
const KINDS = {
  bgp: {
    path: 'bgp-advertisements', resource: 'bgp-advertisement', tag: 'BgpAdvertisements',
    input: z.strictObject(bgpFields).openapi('BgpAdvertisementInput'),
    output: z.object({ ...bgpFields, createdAt: Timestamp, updatedAt: Timestamp }).openapi('BgpAdvertisement'),
  },
  l2: {
    path: 'l2-advertisements', resource: 'l2-advertisement', tag: 'L2Advertisements',
    input: z.strictObject(l2Fields).openapi('L2AdvertisementInput'),
    output: z.object({ ...l2Fields, createdAt: Timestamp, updatedAt: Timestamp }).openapi('L2Advertisement'),
  },
} as const;

/** What a kind's API shows of a stored advertisement (the other kind's fields are always empty). */
function present(record: AdvertisementRecord): Record<string, unknown> {
  const { id: _id, type, peers, communities, localPref, aggregationLength, aggregationLengthV6, interfaces, ...common } = record;
  return type === 'bgp'
    ? defined({ ...common, peers, communities, localPref, aggregationLength, aggregationLengthV6 })
    : { ...common, interfaces };
}

/** A kind's body as the stored fields: the other kind's fields empty. */
function fields(type: 'bgp' | 'l2', body: Record<string, unknown>): AdvertisementFields {
  return defined({ peers: [], communities: [], interfaces: [], ...body, type }) as unknown as AdvertisementFields;
}

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

/** A kind's collection contract, also what imports and intent documents create through. */
export function advertisementCollection(_deps: AppDeps, type: 'bgp' | 'l2'): CollectionSpec<AdvertisementFields, AdvertisementRecord> {
  const kind = KINDS[type];
  return {
    path: kind.path, resource: kind.resource, tag: kind.tag,
    input: kind.input as unknown as z.ZodType<AdvertisementFields>, output: kind.output,
    present,
    writable: (record) => {
      const { createdAt: _c, updatedAt: _u, ...rest } = present(record);
      return rest;
    },
    affects: affectedBySelectors,
    list: (tx, args) => listAdvertisements(tx, { ...args, type }),
    get: (tx, args) => getAdvertisement(tx, { ...args, type }),
    async create(tx, ctx, body) {
      const input = fields(type, parseInput(kind.input as z.ZodType<Record<string, unknown>>, body));
      return createAdvertisement(tx, { tenantId: ctx.tenantId, input, ...(await check(tx, ctx, input)) });
    },
    async update(tx, ctx, current, input) {
      const stored = fields(type, input as unknown as Record<string, unknown>);
      return updateAdvertisement(tx, { tenantId: ctx.tenantId, id: current.id, input: stored, ...(await check(tx, ctx, stored)) });
    },
    remove: (tx, _ctx, current) => deleteAdvertisement(tx, { id: current.id }),
  };
}

export function registerAdvertisementRoutes(app: App, deps: AppDeps) {
  for (const type of ['bgp', 'l2'] as const) registerCollection(app, deps, advertisementCollection(deps, type));
}
