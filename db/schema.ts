// The whole metalfleet data model. Conventions: snake_case columns, uuid ids, created_at /
// updated_at, `tenant_id` on every tenant-owned table with forced row-level security.
//
// drizzle-kit emits ENABLE RLS and the policies below; what it cannot express (roles, FORCE RLS,
// the GiST exclusion constraint, grants, btree_gist) lives in the hand-written migrations
// `migrations/0000_roles.sql` and `migrations/0002_isolation.sql`.
import { sql, type SQL } from 'drizzle-orm';
import {
  bigint, boolean, check, cidr, index, inet, integer, jsonb, pgPolicy, pgRole, pgTable, primaryKey,
  text, timestamp, uniqueIndex, uuid,
} from 'drizzle-orm/pg-core';
import type { Backend, LabelSelector, Labels, TenantPolicy } from '../render/policy.ts';
import type { Capabilities } from '../render/model.ts';

/** Tenant scope: sees the rows of the tenant named by `metalfleet.tenant_id`. */
export const appRole = pgRole('metalfleet_app').existing();
/** Platform scope: reads across tenants, manages the tenant list. */
export const platformRole = pgRole('metalfleet_platform').existing();
/** Agent scope: sees only the rows of the cluster named by `metalfleet.cluster_id`. */
export const agentRole = pgRole('metalfleet_agent').existing();

export const TENANT_SETTING = 'metalfleet.tenant_id';
export const CLUSTER_SETTING = 'metalfleet.cluster_id';
/** Enrollment: the SHA-256 of the token an unauthenticated agent presents; it sees that token only. */
export const ENROLLMENT_SETTING = 'metalfleet.enrollment_token_sha256';

// current_setting(..., true) reads '' (not NULL) once the GUC exists in a session; nullif makes
// "no tenant set" match nothing instead of failing the uuid cast.
const currentTenant = sql.raw(`nullif(current_setting('${TENANT_SETTING}', true), '')::uuid`);
const currentCluster = sql.raw(`nullif(current_setting('${CLUSTER_SETTING}', true), '')::uuid`);
const tenantMatch = sql`tenant_id = ${currentTenant}`;
const enrollmentMatch = sql.raw(`token_sha256 = nullif(current_setting('${ENROLLMENT_SETTING}', true), '')`);
const clusterMatch = (column: string) => sql`${sql.raw(column)} = ${currentCluster}`;

const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow()
    .$onUpdate(() => new Date()),
};
const id = () => uuid('id').primaryKey().defaultRandom();
const tenantRef = () => uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' });
const asn = (name: string) => bigint(name, { mode: 'number' });
const asnCheck = (table: string, column: string): SQL =>
  sql.raw(`"${table}"."${column}" is null or "${table}"."${column}" between 1 and 4294967295`);

/** The standard policies of a tenant-owned table: tenant scope by tenant_id, platform reads all. */
function isolationPolicies(table: string, opts: { agentVia?: string } = {}) {
  const policies = [
    pgPolicy(`${table}_tenant_isolation`, { as: 'permissive', for: 'all', to: appRole, using: tenantMatch, withCheck: tenantMatch }),
    pgPolicy(`${table}_platform_read`, { as: 'permissive', for: 'select', to: platformRole, using: sql`true` }),
  ];
  if (opts.agentVia) {
    policies.push(pgPolicy(`${table}_agent_cluster`, {
      as: 'permissive', for: 'all', to: agentRole, using: clusterMatch(opts.agentVia), withCheck: clusterMatch(opts.agentVia),
    }));
  }
  return policies;
}

export const tenants = pgTable('tenants', {
  id: id(),
  slug: text('slug').notNull(),
  name: text('name').notNull(),
  ...timestamps,
}, (t) => [
  uniqueIndex('tenants_slug_uq').on(t.slug),
  pgPolicy('tenants_tenant_isolation', { for: 'all', to: appRole, using: sql`id = ${currentTenant}`, withCheck: sql`id = ${currentTenant}` }),
  pgPolicy('tenants_platform_all', { for: 'all', to: platformRole, using: sql`true`, withCheck: sql`true` }),
  pgPolicy('tenants_agent_read', {
    for: 'select', to: agentRole,
    using: sql`id = (select c.tenant_id from clusters c where c.id = ${currentCluster})`,
  }),
]).enableRLS();

/** Address space a platform admin lets a tenant carve pools from. Grants never overlap fleet-wide. */
export const addressGrants = pgTable('address_grants', {
  id: id(),
  tenantId: tenantRef(),
  cidr: cidr('cidr').notNull(),
  ...timestamps,
}, (t) => [
  index('address_grants_tenant_idx').on(t.tenantId),
  ...isolationPolicies('address_grants'),
]).enableRLS();

export const tenantPolicies = pgTable('tenant_policies', {
  tenantId: uuid('tenant_id').primaryKey().references(() => tenants.id, { onDelete: 'cascade' }),
  policy: jsonb('policy').$type<TenantPolicy>().notNull(),
  ...timestamps,
}, () => [...isolationPolicies('tenant_policies')]).enableRLS();

/** What an agent reports about its cluster (FRR and MetalLB versions, nodes with their labels). */
export type ClusterCapabilities = Capabilities;

export const clusters = pgTable('clusters', {
  id: id(),
  tenantId: tenantRef(),
  name: text('name').notNull(),
  backend: text('backend').$type<Backend>().notNull(),
  namespace: text('namespace').notNull().default('metallb-system'),
  labels: jsonb('labels').$type<Labels>().notNull().default({}),
  capabilities: jsonb('capabilities').$type<ClusterCapabilities>().notNull().default({}),
  desiredRevision: integer('desired_revision').notNull().default(0),
  appliedRevision: integer('applied_revision'),
  lastSeenAt: timestamp('last_seen_at', { withTimezone: true, mode: 'date' }),
  lastApplyError: text('last_apply_error'),
  /** Why the last re-render after a reported capability change failed (the desired config stays). */
  renderProblems: jsonb('render_problems').$type<Array<{ code: string; path: string; message: string; remedy: string }>>(),
  ...timestamps,
}, (t) => [
  uniqueIndex('clusters_tenant_name_uq').on(t.tenantId, t.name),
  check('clusters_backend_check', sql`${t.backend} in ('metallb-native', 'metallb-frr', 'metallb-frr-k8s', 'frr')`),
  check('clusters_revision_check', sql`${t.desiredRevision} >= 0 and (${t.appliedRevision} is null or ${t.appliedRevision} >= 0)`),
  ...isolationPolicies('clusters', { agentVia: 'id' }),
]).enableRLS();

export interface ServiceAllocation {
  priority?: number;
  namespaces?: string[];
  namespaceSelectors?: LabelSelector[];
  serviceSelectors?: LabelSelector[];
}

export const pools = pgTable('pools', {
  id: id(),
  tenantId: tenantRef(),
  name: text('name').notNull(),
  autoAssign: boolean('auto_assign').notNull().default(true),
  avoidBuggyIPs: boolean('avoid_buggy_ips').notNull().default(false),
  serviceAllocation: jsonb('service_allocation').$type<ServiceAllocation>(),
  clusterSelector: jsonb('cluster_selector').$type<LabelSelector>(),
  ...timestamps,
}, (t) => [
  uniqueIndex('pools_tenant_name_uq').on(t.tenantId, t.name),
  ...isolationPolicies('pools'),
]).enableRLS();

/**
 * One row per pool CIDR. The exclusion constraint `pool_cidrs_no_overlap` (migration 0002) makes
 * Postgres, not a check-then-insert, the judge of fleet-wide overlap — across tenants, even
 * though RLS hides the other tenants' rows.
 */
export const poolCidrs = pgTable('pool_cidrs', {
  id: id(),
  tenantId: tenantRef(),
  poolId: uuid('pool_id').notNull().references(() => pools.id, { onDelete: 'cascade' }),
  cidr: cidr('cidr').notNull(),
  createdAt: timestamps.createdAt,
}, (t) => [
  index('pool_cidrs_pool_idx').on(t.poolId),
  index('pool_cidrs_tenant_idx').on(t.tenantId),
  ...isolationPolicies('pool_cidrs'),
]).enableRLS();

export const bfdProfiles = pgTable('bfd_profiles', {
  id: id(),
  tenantId: tenantRef(),
  name: text('name').notNull(),
  receiveInterval: integer('receive_interval'),
  transmitInterval: integer('transmit_interval'),
  detectMultiplier: integer('detect_multiplier'),
  echoInterval: integer('echo_interval'),
  echoMode: boolean('echo_mode').notNull().default(false),
  passiveMode: boolean('passive_mode').notNull().default(false),
  minimumTtl: integer('minimum_ttl'),
  ...timestamps,
}, (t) => [
  uniqueIndex('bfd_profiles_tenant_name_uq').on(t.tenantId, t.name),
  check('bfd_profiles_ranges_check', sql`
    (${t.receiveInterval} is null or ${t.receiveInterval} between 10 and 60000) and
    (${t.transmitInterval} is null or ${t.transmitInterval} between 10 and 60000) and
    (${t.detectMultiplier} is null or ${t.detectMultiplier} between 2 and 255) and
    (${t.echoInterval} is null or ${t.echoInterval} between 10 and 60000) and
    (${t.minimumTtl} is null or ${t.minimumTtl} between 1 and 254)`),
  ...isolationPolicies('bfd_profiles'),
]).enableRLS();

export const peers = pgTable('peers', {
  id: id(),
  tenantId: tenantRef(),
  name: text('name').notNull(),
  myASN: asn('my_asn').notNull(),
  peerASN: asn('peer_asn'),
  dynamicASN: text('dynamic_asn').$type<'internal' | 'external'>(),
  localASN: asn('local_asn'),
  peerAddress: inet('peer_address'),
  interface: text('interface'),
  sourceAddress: inet('source_address'),
  peerPort: integer('peer_port').notNull().default(179),
  routerID: inet('router_id'),
  /** Durations in whole seconds; the API prints them as MetalLB does ("90s"). */
  holdTimeSeconds: integer('hold_time_seconds'),
  keepaliveTimeSeconds: integer('keepalive_time_seconds'),
  connectTimeSeconds: integer('connect_time_seconds'),
  ebgpMultiHop: boolean('ebgp_multi_hop').notNull().default(false),
  bfdProfileId: uuid('bfd_profile_id').references(() => bfdProfiles.id, { onDelete: 'restrict' }),
  vrf: text('vrf'),
  /** AES-256-GCM envelope (db/secrets.ts); the plaintext is never stored. */
  passwordEncrypted: text('password_encrypted'),
  enableGracefulRestart: boolean('enable_graceful_restart').notNull().default(false),
  dualStackAddressFamily: boolean('dual_stack_address_family').notNull().default(false),
  /** Marks a peer that is the node's own routing daemon (local peering). */
  localPeering: boolean('local_peering').notNull().default(false),
  nodeSelectors: jsonb('node_selectors').$type<LabelSelector[]>().notNull().default([]),
  clusterSelector: jsonb('cluster_selector').$type<LabelSelector>(),
  ...timestamps,
}, (t) => [
  uniqueIndex('peers_tenant_name_uq').on(t.tenantId, t.name),
  index('peers_bfd_profile_idx').on(t.bfdProfileId),
  check('peers_my_asn_check', sql`${t.myASN} between 1 and 4294967295`),
  check('peers_peer_asn_check', asnCheck('peers', 'peer_asn')),
  check('peers_local_asn_check', asnCheck('peers', 'local_asn')),
  check('peers_one_asn_check', sql`(${t.peerASN} is null) <> (${t.dynamicASN} is null)`),
  check('peers_dynamic_asn_check', sql`${t.dynamicASN} is null or ${t.dynamicASN} in ('internal', 'external')`),
  check('peers_one_address_check', sql`(${t.peerAddress} is null) <> (${t.interface} is null)`),
  check('peers_port_check', sql`${t.peerPort} between 1 and 16384`),
  check('peers_timers_check', sql`
    (${t.holdTimeSeconds} is null or ${t.holdTimeSeconds} = 0 or ${t.holdTimeSeconds} between 3 and 65535) and
    (${t.keepaliveTimeSeconds} is null or ${t.keepaliveTimeSeconds} between 0 and 65535) and
    (${t.connectTimeSeconds} is null or ${t.connectTimeSeconds} between 1 and 65535)`),
  ...isolationPolicies('peers'),
]).enableRLS();

/** Community aliases, as MetalLB's Community CR: a name standing for `A:B` or `large:A:B:C`. */
export const communities = pgTable('communities', {
  id: id(),
  tenantId: tenantRef(),
  name: text('name').notNull(),
  value: text('value').notNull(),
  ...timestamps,
}, (t) => [
  uniqueIndex('communities_tenant_name_uq').on(t.tenantId, t.name),
  ...isolationPolicies('communities'),
]).enableRLS();

export const advertisements = pgTable('advertisements', {
  id: id(),
  tenantId: tenantRef(),
  name: text('name').notNull(),
  type: text('type').$type<'bgp' | 'l2'>().notNull(),
  /** Community values (`A:B`, `large:A:B:C`) or alias names, resolved at render time. */
  communities: jsonb('communities').$type<string[]>().notNull().default([]),
  localPref: bigint('local_pref', { mode: 'number' }),
  aggregationLength: integer('aggregation_length'),
  aggregationLengthV6: integer('aggregation_length_v6'),
  nodeSelectors: jsonb('node_selectors').$type<LabelSelector[]>().notNull().default([]),
  interfaces: jsonb('interfaces').$type<string[]>().notNull().default([]),
  clusterSelector: jsonb('cluster_selector').$type<LabelSelector>(),
  ...timestamps,
}, (t) => [
  uniqueIndex('advertisements_tenant_name_uq').on(t.tenantId, t.name),
  check('advertisements_type_check', sql`${t.type} in ('bgp', 'l2')`),
  check('advertisements_local_pref_check', sql`${t.localPref} is null or ${t.localPref} between 0 and 4294967295`),
  check('advertisements_aggregation_check', sql`
    (${t.aggregationLength} is null or ${t.aggregationLength} between 1 and 32) and
    (${t.aggregationLengthV6} is null or ${t.aggregationLengthV6} between 1 and 128)`),
  ...isolationPolicies('advertisements'),
]).enableRLS();

/**
 * Which pools an advertisement announces (none listed: all of the tenant's pools, as MetalLB).
 * The foreign key makes a referenced pool undeletable (409) rather than silently dropped.
 */
export const advertisementPools = pgTable('advertisement_pools', {
  tenantId: tenantRef(),
  advertisementId: uuid('advertisement_id').notNull().references(() => advertisements.id, { onDelete: 'cascade' }),
  poolId: uuid('pool_id').notNull().references(() => pools.id, { onDelete: 'restrict' }),
}, (t) => [
  primaryKey({ columns: [t.advertisementId, t.poolId] }),
  index('advertisement_pools_pool_idx').on(t.poolId),
  ...isolationPolicies('advertisement_pools'),
]).enableRLS();

/** Which peers an advertisement is sent to (none listed: every peer). */
export const advertisementPeers = pgTable('advertisement_peers', {
  tenantId: tenantRef(),
  advertisementId: uuid('advertisement_id').notNull().references(() => advertisements.id, { onDelete: 'cascade' }),
  peerId: uuid('peer_id').notNull().references(() => peers.id, { onDelete: 'restrict' }),
}, (t) => [
  primaryKey({ columns: [t.advertisementId, t.peerId] }),
  index('advertisement_peers_peer_idx').on(t.peerId),
  ...isolationPolicies('advertisement_peers'),
]).enableRLS();

/** Single-use enrollment tokens; only the SHA-256 of the token is stored. */
export const enrollmentTokens = pgTable('enrollment_tokens', {
  id: id(),
  tenantId: tenantRef(),
  clusterId: uuid('cluster_id').notNull().references(() => clusters.id, { onDelete: 'cascade' }),
  tokenSha256: text('token_sha256').notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
  usedAt: timestamp('used_at', { withTimezone: true, mode: 'date' }),
  revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
  createdBy: text('created_by'),
  createdAt: timestamps.createdAt,
}, (t) => [
  uniqueIndex('enrollment_tokens_sha256_uq').on(t.tokenSha256),
  index('enrollment_tokens_cluster_idx').on(t.clusterId),
  check('enrollment_tokens_sha256_check', sql`${t.tokenSha256} ~ '^[0-9a-f]{64}$'`),
  ...isolationPolicies('enrollment_tokens'),
  // An enrolling agent is not authenticated yet: it sees (and may consume) exactly the token whose
  // hash it set, and nothing else.
  pgPolicy('enrollment_tokens_agent_read', { for: 'select', to: agentRole, using: enrollmentMatch }),
  pgPolicy('enrollment_tokens_agent_consume', { for: 'update', to: agentRole, using: enrollmentMatch, withCheck: enrollmentMatch }),
]).enableRLS();

/** An enrolled agent and its own Ed25519 public key (plus the previous one during rotation). */
export const agents = pgTable('agents', {
  id: id(),
  tenantId: tenantRef(),
  clusterId: uuid('cluster_id').notNull().references(() => clusters.id, { onDelete: 'cascade' }),
  publicJwk: jsonb('public_jwk').$type<Record<string, string>>().notNull(),
  kid: text('kid').notNull(),
  previousPublicJwk: jsonb('previous_public_jwk').$type<Record<string, string>>(),
  previousKid: text('previous_kid'),
  previousKeyValidUntil: timestamp('previous_key_valid_until', { withTimezone: true, mode: 'date' }),
  agentVersion: text('agent_version'),
  revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
  lastSeenAt: timestamp('last_seen_at', { withTimezone: true, mode: 'date' }),
  ...timestamps,
}, (t) => [
  index('agents_cluster_idx').on(t.clusterId),
  uniqueIndex('agents_kid_uq').on(t.kid),
  ...isolationPolicies('agents', { agentVia: 'cluster_id' }),
]).enableRLS();

/** Every rendered configuration a cluster has been given, numbered per cluster. */
export const configRevisions = pgTable('config_revisions', {
  id: id(),
  tenantId: tenantRef(),
  clusterId: uuid('cluster_id').notNull().references(() => clusters.id, { onDelete: 'cascade' }),
  revision: integer('revision').notNull(),
  backend: text('backend').$type<Backend>().notNull(),
  content: text('content').notNull(),
  sha256: text('sha256').notNull(),
  /** Compact JWS over the sha256 by the server key, made when the revision is stored. */
  signature: text('signature').notNull(),
  cause: text('cause').notNull(),
  createdAt: timestamps.createdAt,
}, (t) => [
  uniqueIndex('config_revisions_cluster_revision_uq').on(t.clusterId, t.revision),
  check('config_revisions_revision_check', sql`${t.revision} >= 1`),
  check('config_revisions_sha256_check', sql`${t.sha256} ~ '^[0-9a-f]{64}$'`),
  ...isolationPolicies('config_revisions', { agentVia: 'cluster_id' }),
]).enableRLS();

/** What the routers of a cluster report about each BGP session. */
export const sessionStates = pgTable('session_states', {
  id: id(),
  tenantId: tenantRef(),
  clusterId: uuid('cluster_id').notNull().references(() => clusters.id, { onDelete: 'cascade' }),
  node: text('node').notNull(),
  peer: text('peer').notNull(),
  vrf: text('vrf').notNull().default(''),
  bgpState: text('bgp_state').notNull(),
  bfdState: text('bfd_state'),
  uptimeSeconds: bigint('uptime_seconds', { mode: 'number' }),
  prefixesReceived: integer('prefixes_received'),
  prefixesSent: integer('prefixes_sent'),
  lastResetReason: text('last_reset_reason'),
  updatedAt: timestamps.updatedAt,
}, (t) => [
  uniqueIndex('session_states_cluster_node_peer_vrf_uq').on(t.clusterId, t.node, t.peer, t.vrf),
  ...isolationPolicies('session_states', { agentVia: 'cluster_id' }),
]).enableRLS();

/**
 * Append-only audit trail. tenant_id is null for platform-level events and deliberately has no
 * foreign key: the record of a tenant outlives the tenant.
 */
export const auditEvents = pgTable('audit_events', {
  id: id(),
  tenantId: uuid('tenant_id'),
  actor: text('actor').notNull(),
  action: text('action').notNull(),
  resource: text('resource').notNull(),
  resourceId: text('resource_id'),
  before: jsonb('before'),
  after: jsonb('after'),
  requestId: text('request_id'),
  at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
}, (t) => [
  index('audit_events_tenant_at_idx').on(t.tenantId, t.at),
  pgPolicy('audit_events_tenant_isolation', { for: 'select', to: appRole, using: tenantMatch }),
  pgPolicy('audit_events_tenant_insert', { for: 'insert', to: appRole, withCheck: tenantMatch }),
  pgPolicy('audit_events_platform_read', { for: 'select', to: platformRole, using: sql`true` }),
  pgPolicy('audit_events_platform_insert', { for: 'insert', to: platformRole, withCheck: sql`tenant_id is null` }),
]).enableRLS();

/** Every table that holds a tenant's rows; each has ENABLE and FORCE row-level security. */
export const TENANT_OWNED_TABLES = [
  'address_grants', 'tenant_policies', 'clusters', 'pools', 'pool_cidrs', 'bfd_profiles', 'peers',
  'communities', 'advertisements', 'advertisement_pools', 'advertisement_peers', 'enrollment_tokens',
  'agents', 'config_revisions', 'session_states', 'audit_events',
] as const;
