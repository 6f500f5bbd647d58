import { z } from '@hono/zod-openapi';
import { pgErrorInfo } from '../../db/client.ts';
import {
  countPools, createPool, deletePool, getPool, listPools, lockTenantAllocation, tenantGrantCidrs, tenantPoolCidrs, updatePool, type PoolInput, type PoolRecord,
} from '../../db/queries/pools.ts';
import { getPolicy } from '../../db/queries/tenants.ts';
import type { Tx } from '../../db/tenant.ts';
import { firstFreeBlocks } from '../../render/addresses.ts';
import { cidrContains, parseCidr } from '../../render/grammar.ts';
import { poolProblems } from '../../render/validate.ts';
import type { Problem } from '../../render/validate.ts';
import type { App, AppDeps } from '../context.ts';
import { ApiError } from '../errors.ts';
import { parseInput, registerCollection } from '../collection.ts';
import { affectedBySelectors, defined, LabelSelector, refuse, ResourceName, Timestamp } from './shared.ts';

const ServiceAllocation = z.strictObject({
  priority: z.number().int().optional(),
  namespaces: z.array(z.string()).optional(),
  namespaceSelectors: z.array(LabelSelector).optional(),
  serviceSelectors: z.array(LabelSelector).optional(),
}).openapi('ServiceAllocation');

const poolFields = {
  name: ResourceName,
  autoAssign: z.boolean().default(true),
  avoidBuggyIPs: z.boolean().default(false),
  serviceAllocation: ServiceAllocation.optional(),
  clusterSelector: LabelSelector.optional().openapi({ description: 'Clusters that get this pool; absent: every cluster of the tenant' }),
};

export const PoolInputSchema = z.strictObject({
  ...poolFields,
  cidrs: z.array(z.string()).min(1).max(64).openapi({ example: ['203.0.113.0/26', '2001:db8:100::/64'] }),
}).openapi('PoolInput');

export const PoolCreateSchema = z.strictObject({
  ...poolFields,
  cidrs: z.array(z.string()).min(1).max(64).optional().openapi({ description: 'Explicit CIDRs, inside the tenant grants' }),
  allocate: z.strictObject({
    family: z.union([z.literal(4), z.literal(6)]),
    prefixLength: z.number().int().min(1).max(128),
    count: z.number().int().min(1).max(64).default(1),
  }).optional().openapi({ description: 'Carve the first free blocks of this size from the tenant grants instead' }),
}).refine((p) => (p.cidrs === undefined) !== (p.allocate === undefined), { message: 'give exactly one of cidrs and allocate', path: ['cidrs'] })
  .openapi('PoolCreate');

export const PoolSchema = z.object({
  ...poolFields, cidrs: z.array(z.string()), createdAt: Timestamp, updatedAt: Timestamp,
}).openapi('Pool');

const present = ({ id: _id, ...rest }: PoolRecord) => rest as unknown as Record<string, unknown>;

/** CIDRs must be canonical, and each must lie inside one of the tenant's grants. */
async function checkCidrs(tx: Tx, tenantId: string, cidrs: string[]): Promise<string[]> {
  refuse(poolProblems({ cidrs }));
  const grants = (await tenantGrantCidrs(tx, { tenantId })).map(parseCidr);
  const problems: Problem[] = [];
  const canonical = cidrs.map((text, i) => {
    const cidr = parseCidr(text);
    if (!grants.some((g) => cidrContains(g, cidr))) {
      problems.push({ code: 'pool-outside-grant', path: `cidrs/${i}`, message: `${cidr.text} is not inside any address grant of the tenant`,
        remedy: 'use addresses from a grant, or ask a platform admin for one' });
    }
    return cidr.text;
  });
  refuse(problems);
  return canonical;
}

const MAX_ALLOCATION_ATTEMPTS = 5;

export function registerPoolRoutes(app: App, deps: AppDeps) {
  registerCollection<PoolInput, PoolRecord>(app, deps, {
    path: 'pools', resource: 'pool', tag: 'Pools',
    input: PoolInputSchema as unknown as z.ZodType<PoolInput>, createInput: PoolCreateSchema, output: PoolSchema,
    present,
    writable: ({ id: _id, createdAt: _c, updatedAt: _u, ...rest }) => rest as unknown as Record<string, unknown>,
    affects: affectedBySelectors,
    list: listPools,
    get: getPool,
    async create(tx, ctx, body) {
      const { allocate, cidrs, ...rest } = parseInput(PoolCreateSchema, body);
      const policy = await getPolicy(tx, { tenantId: ctx.tenantId });
      if (policy.maxPools !== null && (await countPools(tx, { tenantId: ctx.tenantId })) >= policy.maxPools) {
        refuse([{ code: 'too-many-pools', path: 'name', message: `the tenant policy allows at most ${policy.maxPools} pools`, remedy: 'delete a pool or ask a platform admin to raise maxPools' }]);
      }
      const fields = defined(rest);
      if (cidrs) return createPool(tx, { tenantId: ctx.tenantId, input: { ...fields, cidrs: await checkCidrs(tx, ctx.tenantId, cidrs) } });

      // Allocation: allocations of one tenant take turns (advisory lock), read the free space and
      // insert; the exclusion constraint still decides against a racing explicit CIDR, which makes
      // this attempt roll back to its savepoint and look again.
      const request = allocate!;
      await lockTenantAllocation(tx, { tenantId: ctx.tenantId });
      for (let attempt = 1; ; attempt++) {
        try {
          return await tx.transaction(async (sp) => {
            const blocks = firstFreeBlocks({
              ...request, grants: await tenantGrantCidrs(sp, { tenantId: ctx.tenantId }), used: await tenantPoolCidrs(sp, { tenantId: ctx.tenantId }),
            });
            if (!blocks) {
              throw new ApiError(409, 'grant-exhausted', 'No free address space',
                `the tenant grants have no ${request.count} free IPv${request.family} block(s) of /${request.prefixLength}`,
                { errors: [{ path: 'allocate', code: 'grant-exhausted', message: 'ask a platform admin for a larger grant, or allocate smaller blocks' }] });
            }
            return createPool(sp, { tenantId: ctx.tenantId, input: { ...fields, cidrs: blocks } });
          });
        } catch (err) {
          if (pgErrorInfo(err)?.code !== '23P01' || attempt >= MAX_ALLOCATION_ATTEMPTS) throw err;
        }
      }
    },
    async update(tx, ctx, current, input) {
      return updatePool(tx, { tenantId: ctx.tenantId, id: current.id, input: { ...defined(input as unknown as Record<string, unknown>) as unknown as PoolInput, cidrs: await checkCidrs(tx, ctx.tenantId, input.cidrs) } });
    },
    // A pool an advertisement names cannot go: the foreign key answers 409 in-use.
    remove: (tx, _ctx, current) => deletePool(tx, { id: current.id }),
  });
}
