import { z } from '@hono/zod-openapi';
import {
  createBfdProfile, deleteBfdProfile, getBfdProfile, listBfdProfiles, updateBfdProfile, type BfdProfileFields, type BfdProfileRecord,
} from '../../db/queries/bfd-profiles.ts';
import { bfdProfileProblems } from '../../render/validate.ts';
import type { App, AppDeps } from '../context.ts';
import { parseInput, registerCollection, type CollectionSpec } from '../collection.ts';
import { defined, refuse, refuseInUse, ResourceName, Timestamp } from './shared.ts';
import { referrers } from '../../db/queries/named.ts';

const int = () => z.number().int();
export const BfdProfileInputSchema = z.strictObject({
  name: ResourceName,
  receiveInterval: int().optional().openapi({ description: 'ms, 10..60000' }),
  transmitInterval: int().optional().openapi({ description: 'ms, 10..60000' }),
  detectMultiplier: int().optional().openapi({ description: '2..255' }),
  echoInterval: int().optional().openapi({ description: 'ms, 10..60000' }),
  echoMode: z.boolean().default(false),
  passiveMode: z.boolean().default(false),
  minimumTtl: int().optional().openapi({ description: '1..254, multihop only' }),
}).openapi('BfdProfileInput');

export const BfdProfileSchema = BfdProfileInputSchema.extend({ createdAt: Timestamp, updatedAt: Timestamp }).openapi('BfdProfile');

/** The collection's contract, also what imports and intent documents create through. */
export function bfdProfileCollection(deps: AppDeps): CollectionSpec<BfdProfileFields, BfdProfileRecord> {
  return {
    path: 'bfd-profiles', resource: 'bfd-profile', tag: 'BfdProfiles',
    input: BfdProfileInputSchema as unknown as z.ZodType<BfdProfileFields>, output: BfdProfileSchema,
    present: ({ id: _id, ...rest }) => rest as unknown as Record<string, unknown>,
    writable: ({ id: _id, createdAt: _c, updatedAt: _u, ...rest }) => rest as Record<string, unknown>,
    list: listBfdProfiles,
    get: getBfdProfile,
    async create(tx, ctx, body) {
      const input = defined(parseInput(BfdProfileInputSchema, body)) as BfdProfileFields;
      refuse(bfdProfileProblems(input));
      return createBfdProfile(tx, { tenantId: ctx.tenantId, input });
    },
    async update(tx, _ctx, current, input) {
      refuse(bfdProfileProblems(input));
      return updateBfdProfile(tx, { id: current.id, input: defined(input as unknown as Record<string, unknown>) as unknown as BfdProfileFields });
    },
    // A profile a peer uses cannot go (the foreign key would refuse it too): say which.
    async remove(tx, _ctx, current) {
      refuseInUse('BFD profile', current.name, await referrers(tx, { bfdProfile: current.id }));
      await deleteBfdProfile(tx, { id: current.id });
    },
  };
}

export function registerBfdProfileRoutes(app: App, deps: AppDeps) {
  registerCollection(app, deps, bfdProfileCollection(deps));
}
