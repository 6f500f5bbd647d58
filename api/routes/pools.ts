import { z } from '@hono/zod-openapi';
import { pgErrorInfo } from '../../db/client.ts';
import {
  countPools, createPool, deletePool, getPool, listPools, ownOverlaps, tenantGrantCidrs, tenantPoolCidrs, updatePool, type PoolInput, type PoolRecord,
} from '../../db/queries/pools.ts';
import { listQuarantine } from '../../db/queries/holds.ts';
import { addressQuarantined } from './grants.ts';
import { getPolicy } from '../../db/queries/tenants.ts';
import type { Tx } from '../../db/tenant.ts';
import { firstFreeBlocks } from '../../render/addresses.ts';
import { cidrContains, cidrsOverlap, parseCidr } from '../../render/grammar.ts';
import { poolProblems } from '../../render/validate.ts';
import type { Problem } from '../../render/validate.ts';
import type { App, AppDeps } from '../context.ts';
import { ApiError } from '../errors.ts';
import { parseInput, registerCollection, type CollectionSpec } from '../collection.ts';
import { affectedBySelectors, defined, LabelSelector, Labels, refuse, refuseInUse, ResourceName, Timestamp } from './shared.ts';
import { parseAddressEntry } from '../../render/ranges.ts';
import { referrers } from '../../db/queries/named.ts';

const ServiceAllocation = z.strictObject({
  priority: z.number().int().optional().openapi({ description: 'int32' }),
  namespaces: z.array(z.string()).optional(),
  namespaceSelectors: z.array(LabelSelector).optional(),
  serviceSelectors: z.array(LabelSelector).optional(),
}).openapi('ServiceAllocation');

const poolFields = {
  name: ResourceName,
  autoAssign: z.boolean().default(true),
  avoidBuggyIPs: z.boolean().default(false),
  serviceAllocation: ServiceAllocation.optional(),
  labels: Labels.optional().openapi({ description: "The pool's labels, which advertisements' ipAddressPoolSelectors match" }),
  clusterSelector: LabelSelector.optional().openapi({ description: 'Clusters that get this pool; absent: every cluster of the tenant' }),
};
const Entries = z.array(z.string().max(100)).min(1).max(64)
  .openapi({ description: 'CIDRs or address ranges (first-last), inside the tenant grants', example: ['203.0.113.0/26', '203.0.113.100-203.0.113.120', '2001:db8:100::/64'] });

export const PoolInputSchema = z.strictObject({ ...poolFields, cidrs: Entries }).openapi('PoolInput');

export const PoolCreateSchema = z.strictObject({
  ...poolFields,
  cidrs: Entries.optional(),
  allocate: z.strictObject({
    family: z.union([z.literal(4), z.literal(6)]),
    prefixLength: z.number().int().min(1).max(128),
    count: z.number().int().min(1).max(64).default(1),
  }).superRefine((a, ctx) => {
    // An IPv4 block is at most /32: a longer one has no address to carve (it answered 500 once).
    if (a.family === 4 && a.prefixLength > 32) {
      ctx.addIssue({
        code: 'too_big', origin: 'number', maximum: 32, inclusive: true, path: ['prefixLength'], message: 'an IPv4 block is at most /32',
      });
    }
  }).optional().openapi({ description: 'Carve the first free blocks of this size from the tenant grants instead' }),
}).refine((p) => (p.cidrs === undefined) !== (p.allocate === undefined), { message: 'give exactly one of cidrs and allocate', path: ['cidrs'] })
  .openapi('PoolCreate');

export const PoolSchema = z.object({
  ...poolFields, cidrs: z.array(z.string()), createdAt: Timestamp, updatedAt: Timestamp,
}).openapi('Pool');

const present = ({ id: _id, ...rest }: PoolRecord) => rest as unknown as Record<string, unknown>;

/** The CIDRs that cover exactly an entry (a CIDR: itself; a range: render/ranges.ts). */
const cover = (entry: string) => parseAddressEntry(entry).cidrs.map((c) => c.text);

/**
 * A pool's own rules (render's poolProblems: entries canonical and apart, labels, allocation), then
 * every entry inside one of the tenant's grants and clear of quarantined space (a CIDR that left a
 * pool while an agent may still announce it). Returns the canonical entries.
 */
async function checkPool(tx: Tx, tenantId: string, pool: Pick<PoolInput, 'cidrs' | 'serviceAllocation' | 'labels'>, exceptPoolId?: string): Promise<string[]> {
  refuse(poolProblems(pool));
  const grants = (await tenantGrantCidrs(tx, { tenantId })).map(parseCidr);
  const problems: Problem[] = [];
  const entries = pool.cidrs.map((text, i) => {
    const entry = parseAddressEntry(text);
    if (!entry.cidrs.every((cidr) => grants.some((g) => cidrContains(g, cidr)))) {
      problems.push({ code: 'pool-outside-grant', path: `cidrs/${i}`, message: `${entry.text} is not inside an address grant of the tenant`,
        remedy: 'use addresses from a grant, or ask a platform admin for one' });
    }
    return entry;
  });
  refuse(problems);
  const canonical = entries.map((e) => e.text);
  const covering = entries.flatMap((e) => e.cidrs.map((c) => c.text));
  // The tenant's own pools are named (the exclusion constraint, which also sees other tenants'
  // space, can only say that something overlaps).
  const own = await ownOverlaps(tx, { tenantId, cidrs: covering, ...(exceptPoolId ? { exceptPoolId } : {}) });
  if (own.length > 0) {
    throw new ApiError(409, 'address-overlap', 'Address overlap', own.map((o) => `${o.cidr} of pool ${o.pool}`).join(', ')
      + ' overlaps what this pool asks for; use other addresses or change that pool first', { extensions: { overlaps: own } });
  }
  const held = await listQuarantine(tx, { tenantId, overlapping: covering });
  if (held.length > 0) {
    const hit = entries.filter((e) => e.cidrs.some((c) => held.some((h) => cidrsOverlap(c, parseCidr(h.cidr))))).map((e) => e.text);
    throw addressQuarantined(held, `pool entry ${hit.join(', ')}`);
  }
  return canonical;
}

const MAX_ALLOCATION_ATTEMPTS = 5;

/** The collection's contract, also what imports and intent documents create through. */
export function poolCollection(deps: AppDeps): CollectionSpec<PoolInput, PoolRecord> {
  return {
    path: 'pools', resource: 'pool', tag: 'Pools',
    input: PoolInputSchema as unknown as z.ZodType<PoolInput>, createInput: PoolCreateSchema, output: PoolSchema,
    present,
    writable: ({ id: _id, createdAt: _c, updatedAt: _u, ...rest }) => rest as unknown as Record<string, unknown>,
    affects: affectedBySelectors,
    list: listPools,
    get: getPool,
    async create(tx, ctx, body) {
      const { allocate, cidrs, ...rest } = parseInput(PoolCreateSchema, body);
      // The name first: a taken name is the clearer answer than whatever its addresses overlap.
      if (await getPool(tx, { tenantId: ctx.tenantId, name: rest.name })) {
        throw new ApiError(409, 'already-exists', 'Already exists', `a pool named ${rest.name} already exists`);
      }
      const policy = await getPolicy(tx, { tenantId: ctx.tenantId });
      if (policy.maxPools !== null && (await countPools(tx, { tenantId: ctx.tenantId })) >= policy.maxPools) {
        refuse([{ code: 'too-many-pools', path: 'name', message: `the tenant policy allows at most ${policy.maxPools} pools`, remedy: 'delete a pool or ask a platform admin to raise maxPools' }]);
      }
      const fields = defined(rest);
      if (cidrs) return createPool(tx, { tenantId: ctx.tenantId, input: { ...fields, cidrs: await checkPool(tx, ctx.tenantId, { ...fields, cidrs }) }, cover });

      // Allocation: the tenant's writes take turns (the write lock, api/writes.ts), so its free
      // space cannot change while this reads it; quarantined space counts as used. The exclusion
      // constraint still decides against any other writer, which makes this attempt roll back to
      // its savepoint and look again.
      const request = allocate!;
      for (let attempt = 1; ; attempt++) {
        try {
          return await tx.transaction(async (sp) => {
            const held = (await listQuarantine(sp, { tenantId: ctx.tenantId })).map((h) => h.cidr);
            const blocks = firstFreeBlocks({
              ...request, grants: await tenantGrantCidrs(sp, { tenantId: ctx.tenantId }), used: [...await tenantPoolCidrs(sp, { tenantId: ctx.tenantId }), ...held],
            });
            if (!blocks) {
              throw new ApiError(409, 'grant-exhausted', 'No free address space',
                `the tenant grants have no ${request.count} free IPv${request.family} block(s) of /${request.prefixLength}`,
                { errors: [{ path: 'allocate', code: 'grant-exhausted', message: 'ask a platform admin for a larger grant, or allocate smaller blocks' }] });
            }
            refuse(poolProblems({ ...fields, cidrs: blocks }));
            return createPool(sp, { tenantId: ctx.tenantId, input: { ...fields, cidrs: blocks }, cover });
          });
        } catch (err) {
          if (pgErrorInfo(err)?.code !== '23P01' || attempt >= MAX_ALLOCATION_ATTEMPTS) throw err;
        }
      }
    },
    async update(tx, ctx, current, input) {
      const fields = defined(input as unknown as Record<string, unknown>) as unknown as PoolInput;
      return updatePool(tx, { tenantId: ctx.tenantId, id: current.id, input: { ...fields, cidrs: await checkPool(tx, ctx.tenantId, fields, current.id) }, cover });
    },
    // A pool an advertisement names cannot go (the foreign key would refuse it too): say which.
    async remove(tx, _ctx, current) {
      refuseInUse('pool', current.name, await referrers(tx, { pool: current.id }));
      await deletePool(tx, { id: current.id });
    },
  };
}

export function registerPoolRoutes(app: App, deps: AppDeps) {
  registerCollection(app, deps, poolCollection(deps));
}
