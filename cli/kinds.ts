// The kinds `get`, `describe` and `delete` know: how each is listed, read and deleted through the
// typed client, and the columns of its table. Names accept the singular and the plural
// (`pool`, `pools`); grants and tokens are named by id or by their CIDR / name.
import type { components } from './api-types.ts';
import { type Column, usageError } from './output.ts';
import { allPages, ok, page, type Remote } from './remote.ts';

type S = components['schemas'];

/** Options some kinds need besides the name (agents belong to a cluster). */
export interface KindOptions { cluster?: string | undefined; force?: boolean | undefined }

/** A kind with its types erased, as the verbs use it. */
export interface Kind {
  name: string;
  aliases: readonly string[];
  /** true: one object per tenant (policy), read without a name. */
  singleton: boolean;
  list(remote: Remote, options: KindOptions): Promise<unknown[]>;
  get(remote: Remote, name: string, options: KindOptions): Promise<unknown>;
  /** Deletes and says what happened; undefined when the kind cannot be deleted. */
  remove: ((remote: Remote, name: string, options: KindOptions) => Promise<string>) | undefined;
  columns: ReadonlyArray<Column<never>>;
}

interface KindSpec<T> {
  name: string;
  aliases: readonly string[];
  singleton?: boolean;
  list(remote: Remote, options: KindOptions): Promise<T[]>;
  /** Reads one; default: the listed item whose name matches. */
  get?(remote: Remote, name: string, options: KindOptions): Promise<T>;
  remove?(remote: Remote, name: string, options: KindOptions): Promise<string>;
  key: (item: T) => string[];
  columns: ReadonlyArray<Column<T>>;
}

function defineKind<T>(spec: KindSpec<T>): Kind {
  const find = async (remote: Remote, name: string, options: KindOptions) => {
    const item = (await spec.list(remote, options)).find((i) => spec.key(i).includes(name));
    if (item === undefined) throw notFound(spec.name, name);
    return item;
  };
  return {
    name: spec.name, aliases: spec.aliases, singleton: spec.singleton ?? false, list: spec.list,
    get: spec.get ?? find, remove: spec.remove, columns: spec.columns as ReadonlyArray<Column<never>>,
  };
}

const notFound = (kind: string, name: string) => usageError(`no ${kind.replace(/s$/, '')} named ${name}`);
const clusterOf = (options: KindOptions) => {
  if (!options.cluster) throw usageError('agents belong to a cluster: give --cluster NAME');
  return options.cluster;
};
const forced = (options: KindOptions) => (options.force ? { force: 'true' as const } : {});
const selector = (s: S['LabelSelector'] | undefined) => (s ? Object.entries(s.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`) : []);
const poolsOf = (a: { ipAddressPools: string[]; ipAddressPoolSelectors: S['LabelSelector'][] }) =>
  [...a.ipAddressPools, ...a.ipAddressPoolSelectors.flatMap(selector)];
const created = { header: 'created', value: (r: { createdAt: string }) => r.createdAt.slice(0, 19).replace('T', ' ') };

/** The named collections of a tenant, all shaped alike: list, get and delete by name. */
const byName = (item: { name: string }) => [item.name];

export const KINDS: readonly Kind[] = [
  defineKind<S['Tenant']>({
    name: 'tenants', aliases: ['tenant'], key: (t) => [t.slug],
    list: (r) => allPages((c) => ok(r.api.GET('/v1/tenants', { params: { query: page(c) } }))),
    get: (r, slug) => ok(r.api.GET('/v1/tenants/{tenant}', { params: { path: { tenant: slug } } })),
    async remove(r, slug, o) {
      const { data } = await r.api.DELETE('/v1/tenants/{tenant}', { params: { path: { tenant: slug }, query: forced(o) } });
      if (!data || !('state' in data)) return `tenant ${slug} deleted`;
      return `tenant ${slug} is being deleted: waiting for ${data.waitingFor.length} cluster(s) to withdraw`;
    },
    columns: [{ header: 'slug', value: (t) => t.slug }, { header: 'name', value: (t) => t.name }, created,
      { header: 'deleting', value: (t) => t.deletingSince }],
  }),
  defineKind<S['Grant']>({
    name: 'grants', aliases: ['grant'], key: (g) => [g.id, g.cidr],
    list: (r) => allPages((c) => ok(r.api.GET('/v1/tenants/{tenant}/grants', { params: { path: { tenant: r.tenant() }, query: page(c) } }))),
    async remove(r, name) {
      const grant = (await KINDS_BY_NAME.get('grants')!.get(r, name, {})) as S['Grant'];
      await r.api.DELETE('/v1/tenants/{tenant}/grants/{grant}', { params: { path: { tenant: r.tenant(), grant: grant.id } } });
      return `grant ${grant.cidr} withdrawn`;
    },
    columns: [{ header: 'id', value: (g) => g.id }, { header: 'cidr', value: (g) => g.cidr },
      { header: 'quarantined', value: (g) => g.quarantined.map((q) => q.cidr) }, created],
  }),
  defineKind<S['TenantPolicy']>({
    name: 'policy', aliases: ['policies'], singleton: true, key: () => [],
    list: async (r) => [await ok(r.api.GET('/v1/tenants/{tenant}/policy', { params: { path: { tenant: r.tenant() } } }))],
    get: (r) => ok(r.api.GET('/v1/tenants/{tenant}/policy', { params: { path: { tenant: r.tenant() } } })),
    columns: [
      { header: 'asns', value: (p) => p.allowedASNs.map((a) => (a.from === a.to ? `${a.from}` : `${a.from}-${a.to}`)) },
      { header: 'peer-cidrs', value: (p) => p.allowedPeerCIDRs }, { header: 'bfd', value: (p) => p.requireBFD },
      { header: 'password', value: (p) => p.requirePassword }, { header: 'max-pools', value: (p) => p.maxPools },
      { header: 'backends', value: (p) => p.allowedBackends },
    ],
  }),
  defineKind<S['Cluster']>({
    name: 'clusters', aliases: ['cluster'], key: byName,
    list: (r) => allPages((c) => ok(r.api.GET('/v1/tenants/{tenant}/clusters', { params: { path: { tenant: r.tenant() }, query: page(c) } }))),
    get: (r, name) => ok(r.api.GET('/v1/tenants/{tenant}/clusters/{name}', { params: { path: { tenant: r.tenant(), name } } })),
    async remove(r, name, o) {
      const { data } = await r.api.DELETE('/v1/tenants/{tenant}/clusters/{name}', { params: { path: { tenant: r.tenant(), name }, query: forced(o) } });
      return data && 'state' in data ? `cluster ${name} is withdrawing: it goes once its agent applied the withdrawal` : `cluster ${name} deleted`;
    },
    columns: [{ header: 'name', value: (c) => c.name }, { header: 'backend', value: (c) => c.backend },
      { header: 'desired', value: (c) => c.desiredRevision }, { header: 'applied', value: (c) => c.appliedRevision },
      { header: 'last-seen', value: (c) => c.lastSeenAt?.slice(0, 19).replace('T', ' ') }, { header: 'labels', value: (c) => c.labels }],
  }),
  defineKind<S['Pool']>({
    name: 'pools', aliases: ['pool', 'ipaddresspools', 'ipaddresspool'], key: byName,
    list: (r) => allPages((c) => ok(r.api.GET('/v1/tenants/{tenant}/pools', { params: { path: { tenant: r.tenant() }, query: page(c) } }))),
    get: (r, name) => ok(r.api.GET('/v1/tenants/{tenant}/pools/{name}', { params: { path: { tenant: r.tenant(), name } } })),
    remove: async (r, name) => {
      await r.api.DELETE('/v1/tenants/{tenant}/pools/{name}', { params: { path: { tenant: r.tenant(), name } } });
      return `pool ${name} deleted`;
    },
    columns: [{ header: 'name', value: (p) => p.name }, { header: 'cidrs', value: (p) => p.cidrs },
      { header: 'auto-assign', value: (p) => p.autoAssign }, { header: 'clusters', value: (p) => selector(p.clusterSelector) }],
  }),
  defineKind<S['Peer']>({
    name: 'peers', aliases: ['peer', 'bgppeers', 'bgppeer'], key: byName,
    list: (r) => allPages((c) => ok(r.api.GET('/v1/tenants/{tenant}/peers', { params: { path: { tenant: r.tenant() }, query: page(c) } }))),
    get: (r, name) => ok(r.api.GET('/v1/tenants/{tenant}/peers/{name}', { params: { path: { tenant: r.tenant(), name } } })),
    remove: async (r, name) => {
      await r.api.DELETE('/v1/tenants/{tenant}/peers/{name}', { params: { path: { tenant: r.tenant(), name } } });
      return `peer ${name} deleted`;
    },
    columns: [{ header: 'name', value: (p) => p.name }, { header: 'my-asn', value: (p) => p.myASN },
      { header: 'peer-asn', value: (p) => p.peerASN ?? p.dynamicASN }, { header: 'address', value: (p) => p.peerAddress ?? p.interface },
      { header: 'bfd', value: (p) => p.bfdProfile }, { header: 'password', value: (p) => (p.passwordSet ? 'set' : '') }],
  }),
  defineKind<S['BfdProfile']>({
    name: 'bfd-profiles', aliases: ['bfd-profile', 'bfdprofiles', 'bfdprofile', 'bfd'], key: byName,
    list: (r) => allPages((c) => ok(r.api.GET('/v1/tenants/{tenant}/bfd-profiles', { params: { path: { tenant: r.tenant() }, query: page(c) } }))),
    get: (r, name) => ok(r.api.GET('/v1/tenants/{tenant}/bfd-profiles/{name}', { params: { path: { tenant: r.tenant(), name } } })),
    remove: async (r, name) => {
      await r.api.DELETE('/v1/tenants/{tenant}/bfd-profiles/{name}', { params: { path: { tenant: r.tenant(), name } } });
      return `bfd-profile ${name} deleted`;
    },
    columns: [{ header: 'name', value: (b) => b.name }, { header: 'receive', value: (b) => b.receiveInterval },
      { header: 'transmit', value: (b) => b.transmitInterval }, { header: 'multiplier', value: (b) => b.detectMultiplier },
      { header: 'passive', value: (b) => b.passiveMode }],
  }),
  defineKind<S['Community']>({
    name: 'communities', aliases: ['community'], key: byName,
    list: (r) => allPages((c) => ok(r.api.GET('/v1/tenants/{tenant}/communities', { params: { path: { tenant: r.tenant() }, query: page(c) } }))),
    get: (r, name) => ok(r.api.GET('/v1/tenants/{tenant}/communities/{name}', { params: { path: { tenant: r.tenant(), name } } })),
    remove: async (r, name) => {
      await r.api.DELETE('/v1/tenants/{tenant}/communities/{name}', { params: { path: { tenant: r.tenant(), name } } });
      return `community ${name} deleted`;
    },
    columns: [{ header: 'name', value: (c) => c.name }, { header: 'value', value: (c) => c.value }],
  }),
  defineKind<S['BgpAdvertisement']>({
    name: 'bgp-advertisements', aliases: ['bgp-advertisement', 'bgpadvertisements', 'bgpadvertisement', 'advertisements', 'advertisement'], key: byName,
    list: (r) => allPages((c) => ok(r.api.GET('/v1/tenants/{tenant}/bgp-advertisements', { params: { path: { tenant: r.tenant() }, query: page(c) } }))),
    get: (r, name) => ok(r.api.GET('/v1/tenants/{tenant}/bgp-advertisements/{name}', { params: { path: { tenant: r.tenant(), name } } })),
    remove: async (r, name) => {
      await r.api.DELETE('/v1/tenants/{tenant}/bgp-advertisements/{name}', { params: { path: { tenant: r.tenant(), name } } });
      return `bgp-advertisement ${name} deleted`;
    },
    columns: [{ header: 'name', value: (a) => a.name }, { header: 'pools', value: poolsOf },
      { header: 'peers', value: (a) => a.peers }, { header: 'communities', value: (a) => a.communities },
      { header: 'local-pref', value: (a) => a.localPref }],
  }),
  defineKind<S['L2Advertisement']>({
    name: 'l2-advertisements', aliases: ['l2-advertisement', 'l2advertisements', 'l2advertisement'], key: byName,
    list: (r) => allPages((c) => ok(r.api.GET('/v1/tenants/{tenant}/l2-advertisements', { params: { path: { tenant: r.tenant() }, query: page(c) } }))),
    get: (r, name) => ok(r.api.GET('/v1/tenants/{tenant}/l2-advertisements/{name}', { params: { path: { tenant: r.tenant(), name } } })),
    remove: async (r, name) => {
      await r.api.DELETE('/v1/tenants/{tenant}/l2-advertisements/{name}', { params: { path: { tenant: r.tenant(), name } } });
      return `l2-advertisement ${name} deleted`;
    },
    columns: [{ header: 'name', value: (a) => a.name }, { header: 'pools', value: poolsOf },
      { header: 'interfaces', value: (a) => a.interfaces }],
  }),
  defineKind<S['Token']>({
    name: 'tokens', aliases: ['token'], key: (t) => [t.id, t.name],
    list: (r) => allPages((c) => ok(r.api.GET('/v1/tokens', { params: { query: page(c) } }))),
    async remove(r, name) {
      const token = (await KINDS_BY_NAME.get('tokens')!.get(r, name, {})) as S['Token'];
      await r.api.DELETE('/v1/tokens/{id}', { params: { path: { id: token.id } } });
      return `token ${token.name} (${token.id}) revoked`;
    },
    columns: [{ header: 'id', value: (t) => t.id }, { header: 'name', value: (t) => t.name }, { header: 'role', value: (t) => t.role },
      { header: 'tenant', value: (t) => t.tenant }, { header: 'expires', value: (t) => t.expiresAt.slice(0, 10) },
      { header: 'last-used', value: (t) => t.lastUsedAt?.slice(0, 16).replace('T', ' ') }, { header: 'revoked', value: (t) => t.revokedAt?.slice(0, 10) }],
  }),
  defineKind<S['Agent']>({
    name: 'agents', aliases: ['agent'], key: (a) => [a.id, a.kid],
    list: async (r, o) => (await ok(r.api.GET('/v1/tenants/{tenant}/clusters/{name}/agents', {
      params: { path: { tenant: r.tenant(), name: clusterOf(o) } },
    }))).items,
    async remove(r, id, o) {
      await r.api.DELETE('/v1/tenants/{tenant}/clusters/{name}/agents/{agent}', { params: { path: { tenant: r.tenant(), name: clusterOf(o), agent: id } } });
      return `agent ${id} of cluster ${clusterOf(o)} revoked`;
    },
    columns: [{ header: 'id', value: (a) => a.id }, { header: 'version', value: (a) => a.agentVersion },
      { header: 'last-seen', value: (a) => a.lastSeenAt?.slice(0, 16).replace('T', ' ') },
      { header: 'revoked', value: (a) => a.revokedAt?.slice(0, 10) }, created],
  }),
];

const KINDS_BY_NAME = new Map(KINDS.flatMap((k) => [k.name, ...k.aliases].map((n) => [n, k] as const)));

/** The kind a user typed (singular, plural or the MetalLB name), or a usage error listing them. */
export function kindNamed(typed: string): Kind {
  const kind = KINDS_BY_NAME.get(typed.toLowerCase());
  if (!kind) throw usageError(`unknown kind ${typed}: one of ${KINDS.map((k) => k.name).join(', ')}`);
  return kind;
}
