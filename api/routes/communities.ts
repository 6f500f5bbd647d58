import { z } from '@hono/zod-openapi';
import {
  advertisementsUsingCommunity, createCommunity, deleteCommunity, getCommunity, listCommunities, updateCommunity,
  type CommunityFields, type CommunityRecord,
} from '../../db/queries/communities.ts';
import { parseCommunity } from '../../render/grammar.ts';
import { communityAliasProblems } from '../../render/validate.ts';
import type { App, AppDeps } from '../context.ts';
import { parseInput, registerCollection, type CollectionSpec } from '../collection.ts';
import { refuse, refuseInUse, ResourceName, Timestamp } from './shared.ts';

export const CommunityInputSchema = z.strictObject({
  name: ResourceName.openapi({ example: 'no-advertise' }),
  value: z.string().max(64).openapi({ description: 'A:B (16-bit parts) or large:A:B:C (32-bit parts)', example: '65535:65282' }),
}).openapi('CommunityInput');
export const CommunitySchema = CommunityInputSchema.extend({ createdAt: Timestamp, updatedAt: Timestamp }).openapi('Community');

function canonical(input: CommunityFields): CommunityFields {
  refuse(communityAliasProblems(input));
  return { name: input.name, value: parseCommunity(input.value).text };
}

/** The collection's contract, also what imports and intent documents create through. */
export function communityCollection(deps: AppDeps): CollectionSpec<CommunityFields, CommunityRecord> {
  return {
    path: 'communities', resource: 'community', tag: 'Communities',
    input: CommunityInputSchema, output: CommunitySchema,
    present: ({ id: _id, ...rest }) => rest as unknown as Record<string, unknown>,
    writable: (r) => ({ name: r.name, value: r.value }),
    list: listCommunities,
    get: getCommunity,
    create: (tx, ctx, body) => createCommunity(tx, { tenantId: ctx.tenantId, input: canonical(parseInput(CommunityInputSchema, body)) }),
    update: (tx, _ctx, current, input) => updateCommunity(tx, { id: current.id, input: canonical(input) }),
    async remove(tx, ctx, current) {
      const users = await advertisementsUsingCommunity(tx, { tenantId: ctx.tenantId, name: current.name });
      refuseInUse('community', current.name, users.map((name) => ({ kind: 'bgp-advertisement', name })));
      await deleteCommunity(tx, { id: current.id });
    },
  };
}

export function registerCommunityRoutes(app: App, deps: AppDeps) {
  registerCollection(app, deps, communityCollection(deps));
}
