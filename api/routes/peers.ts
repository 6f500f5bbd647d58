import { z } from '@hono/zod-openapi';
import { bfdProfiles } from '../../db/schema.ts';
import { idsByName, referrers } from '../../db/queries/named.ts';
import { createPeer, deletePeer, getPeer, listPeers, updatePeer, type PeerFields, type PeerRecord } from '../../db/queries/peers.ts';
import { getPolicy } from '../../db/queries/tenants.ts';
import { sealSecret } from '../../db/secrets.ts';
import type { Tx } from '../../db/tenant.ts';
import { formatDuration, GrammarError, parseDurationMs, parseIp } from '../../render/grammar.ts';
import { peerProblems, type Problem } from '../../render/validate.ts';
import type { App, AppDeps, WriteContext } from '../context.ts';
import { parseInput, registerCollection, type CollectionSpec } from '../collection.ts';
import { affectedBySelectors, defined, LabelSelector, refuse, refuseInUse, ResourceName, Timestamp } from './shared.ts';

const Duration = z.string().max(32).openapi({ description: 'Go duration in whole seconds, as MetalLB writes it', example: '90s' });

const peerFields = {
  name: ResourceName,
  myASN: z.number().int().openapi({ description: '1..4294967295' }),
  peerASN: z.number().int().optional().openapi({ description: 'exactly one of peerASN and dynamicASN' }),
  dynamicASN: z.enum(['internal', 'external']).optional(),
  localASN: z.number().int().optional(),
  peerAddress: z.string().max(64).optional().openapi({ description: 'exactly one of peerAddress and interface', example: '192.0.2.1' }),
  interface: z.string().max(64).optional().openapi({ description: 'BGP unnumbered: the node interface' }),
  sourceAddress: z.string().max(64).optional(),
  peerPort: z.number().int().default(179),
  routerID: z.string().max(64).optional(),
  holdTime: Duration.optional(),
  keepaliveTime: Duration.optional(),
  connectTime: Duration.optional(),
  ebgpMultiHop: z.boolean().default(false),
  bfdProfile: z.string().max(63).optional(),
  vrf: z.string().max(64).optional(),
  passwordSecret: z.string().max(253).optional().openapi({
    description: 'A kubernetes.io/basic-auth Secret the cluster already holds (MetalLB passwordSecret), instead of password; not for host FRR',
  }),
  enableGracefulRestart: z.boolean().default(false).openapi({ description: 'Immutable after creation (as in MetalLB)' }),
  dualStackAddressFamily: z.boolean().default(false),
  localPeering: z.boolean().default(false).openapi({ description: "The peer is the node's own routing daemon (needs the policy's allowLocalPeering)" }),
  nodeSelectors: z.array(LabelSelector).default([]),
  clusterSelector: LabelSelector.optional(),
};

export const PeerInputSchema = z.strictObject({
  ...peerFields,
  password: z.string().max(256).optional().openapi({ description: 'TCP-MD5 password; write-only: never returned, logged or audited', writeOnly: true }),
}).openapi('PeerInput');
type PeerInput = z.infer<typeof PeerInputSchema>;

export const PeerSchema = z.object({
  ...peerFields,
  passwordSet: z.boolean().openapi({ description: 'Whether a password is stored (the password itself is never returned)' }),
  createdAt: Timestamp, updatedAt: Timestamp,
}).openapi('Peer');

/**
 * A kept password was checked when it was set and cannot be read back here; this valid token
 * stands in for it so that the policy's requirePassword sees that one exists.
 */
const KEPT_PASSWORD = 'kept';

const DURATIONS = ['holdTime', 'keepaliveTime', 'connectTime'] as const;

/** API form → stored fields: durations in whole seconds, addresses canonical. */
function toFields(input: PeerInput): { fields: PeerFields; problems: Problem[] } {
  const problems: Problem[] = [];
  const seconds: Partial<Record<(typeof DURATIONS)[number], number>> = {};
  for (const key of DURATIONS) {
    const text = input[key];
    if (text === undefined) continue;
    try {
      const ms = parseDurationMs(text);
      if (ms % 1000 !== 0) throw new GrammarError('must be a whole number of seconds');
      seconds[key] = ms / 1000;
    } catch (err) {
      if (!(err instanceof GrammarError)) throw err;
      problems.push({ code: 'invalid-duration', path: key, message: `${JSON.stringify(text)} ${err.message}`, remedy: 'write e.g. "90s" or "1m30s"' });
    }
  }
  const canonicalIp = (text: string | undefined) => {
    if (text === undefined) return undefined;
    try { return parseIp(text).text; } catch { return text; } // peerProblems reports it
  };
  const { password: _password, holdTime: _h, keepaliveTime: _k, connectTime: _c, ...rest } = input;
  const fields = defined({
    ...rest,
    ...seconds,
    peerAddress: canonicalIp(input.peerAddress),
    sourceAddress: canonicalIp(input.sourceAddress),
    routerID: canonicalIp(input.routerID),
  }) as PeerFields;
  return { fields, problems };
}

async function check(tx: Tx, ctx: WriteContext, input: PeerInput): Promise<{ fields: PeerFields; bfdProfileId: string | null }> {
  const { fields, problems } = toFields(input);
  refuse(problems);
  const policy = await getPolicy(tx, { tenantId: ctx.tenantId });
  const bfdIds = await idsByName(tx, bfdProfiles, ctx.tenantId, fields.bfdProfile ? [fields.bfdProfile] : []);
  refuse(peerProblems({ ...fields, password: input.password }, {
    policy, communities: [], bfdProfileNames: [...bfdIds.keys()],
  }));
  return { fields, bfdProfileId: fields.bfdProfile ? bfdIds.get(fields.bfdProfile)! : null };
}

function present({ id: _id, passwordEncrypted, holdTime, keepaliveTime, connectTime, ...rest }: PeerRecord): Record<string, unknown> {
  return defined({
    ...rest,
    holdTime: holdTime === undefined ? undefined : formatDuration(holdTime),
    keepaliveTime: keepaliveTime === undefined ? undefined : formatDuration(keepaliveTime),
    connectTime: connectTime === undefined ? undefined : formatDuration(connectTime),
    passwordSet: passwordEncrypted !== undefined,
  });
}

/** The collection's contract, also what imports and intent documents create through. */
export function peerCollection(deps: AppDeps): CollectionSpec<PeerInput, PeerRecord> {
  return {
    path: 'peers', resource: 'peer', tag: 'Peers',
    input: PeerInputSchema, output: PeerSchema,
    present,
    writable(record) {
      const { passwordSet: _p, createdAt: _c, updatedAt: _u, ...rest } = present(record);
      return rest;
    },
    affects: affectedBySelectors,
    list: listPeers,
    get: getPeer,
    async create(tx, ctx, body) {
      const input = parseInput(PeerInputSchema, body);
      const { fields, bfdProfileId } = await check(tx, ctx, input);
      const passwordEncrypted = input.password === undefined ? null : await sealSecret(deps.secretKey, input.password, ctx.tenantId);
      return createPeer(tx, { tenantId: ctx.tenantId, input: fields, bfdProfileId, passwordEncrypted });
    },
    async update(tx, ctx, current, input, patch) {
      if (input.enableGracefulRestart !== current.enableGracefulRestart) {
        refuse([{ code: 'immutable-field', path: 'enableGracefulRestart', message: 'enableGracefulRestart cannot change after creation (as in MetalLB)', remedy: 'delete and recreate the peer' }]);
      }
      // The password is write-only: absent from the patch keeps it, null removes it.
      const keepPassword = !('password' in patch);
      const { fields, bfdProfileId } = await check(tx, ctx, keepPassword && current.passwordEncrypted ? { ...input, password: KEPT_PASSWORD } : input);
      const passwordEncrypted = keepPassword ? current.passwordEncrypted ?? null
        : input.password === undefined ? null : await sealSecret(deps.secretKey, input.password, ctx.tenantId);
      return updatePeer(tx, { id: current.id, input: fields, bfdProfileId, passwordEncrypted });
    },
    // A peer an advertisement names cannot go (the foreign key would refuse it too): say which.
    async remove(tx, _ctx, current) {
      refuseInUse('peer', current.name, await referrers(tx, { peer: current.id }));
      await deletePeer(tx, { id: current.id });
    },
  };
}

export function registerPeerRoutes(app: App, deps: AppDeps) {
  registerCollection(app, deps, peerCollection(deps));
}
