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
import type { RolloutPolicy } from '../render/rollout.ts';

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
  /**
   * Set by a forced deletion: the tenant's intent and grants are gone, its clusters are
   * withdrawing; the row (with its clusters and agents) goes once every cluster has withdrawn.
   */
  deletingSince: timestamp('deleting_since', { withTimezone: true, mode: 'date' }),
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

/**
 * Address space a platform admin lets a tenant carve pools from. Grants never overlap fleet-wide.
 * Granted and withdrawn in the platform scope, which alone sees the address holds of every tenant.
 */
export const addressGrants = pgTable('address_grants', {
  id: id(),
  tenantId: tenantRef(),
  cidr: cidr('cidr').notNull(),
  ...timestamps,
}, (t) => [
  index('address_grants_tenant_idx').on(t.tenantId),
  ...isolationPolicies('address_grants'),
  pgPolicy('address_grants_platform_insert', { for: 'insert', to: platformRole, withCheck: sql`true` }),
  pgPolicy('address_grants_platform_delete', { for: 'delete', to: platformRole, using: sql`true` }),
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
  /** Being deleted: its config is empty (a withdrawal); the row goes once its agent applied it. */
  withdrawingSince: timestamp('withdrawing_since', { withTimezone: true, mode: 'date' }),
  /** A rollback: the cluster serves this revision's intent until a write that affects it. */
  pinnedRevision: integer('pinned_revision'),
  /**
   * The newest revision stored (0: none recorded, before migration 0013), above the desired one
   * while a rollout stages it; the next revision is numbered after the greater of the two.
   */
  latestRevision: integer('latest_revision').notNull().default(0),
  ...timestamps,
}, (t) => [
  uniqueIndex('clusters_tenant_name_uq').on(t.tenantId, t.name),
  check('clusters_backend_check', sql`${t.backend} in ('metallb-native', 'metallb-frr', 'metallb-frr-k8s', 'frr', 'bird', 'gobgp')`),
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
  /** Labels of the pool: what advertisements' ipAddressPoolSelectors match (MetalLB's IPAddressPool labels). */
  labels: jsonb('labels').$type<Labels>().notNull().default({}),
  clusterSelector: jsonb('cluster_selector').$type<LabelSelector>(),
  ...timestamps,
}, (t) => [
  uniqueIndex('pools_tenant_name_uq').on(t.tenantId, t.name),
  ...isolationPolicies('pools'),
]).enableRLS();

/**
 * One row per CIDR a pool covers: a pool entry is a CIDR (one row) or an address range (the CIDRs
 * that cover exactly it). The exclusion constraint `pool_cidrs_no_overlap` (migration 0002) makes
 * Postgres, not a check-then-insert, the judge of fleet-wide overlap — across tenants, even
 * though RLS hides the other tenants' rows.
 */
export const poolCidrs = pgTable('pool_cidrs', {
  id: id(),
  tenantId: tenantRef(),
  poolId: uuid('pool_id').notNull().references(() => pools.id, { onDelete: 'cascade' }),
  cidr: cidr('cidr').notNull(),
  /** The pool entry this CIDR belongs to, canonical: the CIDR itself, or a range `first-last`. */
  entry: text('entry').notNull(),
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
  /** A Secret the cluster already holds (MetalLB's passwordSecret); exclusive with the password. */
  passwordSecret: text('password_secret'),
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
  /** Pools selected by their labels, besides those named in advertisement_pools. */
  ipAddressPoolSelectors: jsonb('ip_address_pool_selectors').$type<LabelSelector[]>().notNull().default([]),
  serviceSelectors: jsonb('service_selectors').$type<LabelSelector[]>().notNull().default([]),
  clusterSelector: jsonb('cluster_selector').$type<LabelSelector>(),
  ...timestamps,
}, (t) => [
  // A BGP and an L2 advertisement may share a name: they are different kinds in MetalLB.
  uniqueIndex('advertisements_tenant_type_name_uq').on(t.tenantId, t.type, t.name),
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
  /** The pool CIDRs this config gives the cluster: what its agent announces once it applies it. */
  prefixes: cidr('prefixes').array().notNull().default(sql`'{}'::cidr[]`),
  /**
   * The cluster intent it was rendered from (sealed: it holds peer passwords), so that a rollback
   * re-validates it against today's policy, grants and capabilities. Null before migration 0009.
   */
  intent: text('intent'),
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
 * API tokens, issued through the API (or `metalfleet token create` for the first one): opaque
 * `mft_<id>_<secret>` strings of which only the SHA-256 is stored. A token names its tenant by id
 * (a deleted tenant's tokens go with it, and never work for a new tenant with the same slug).
 * Looked up in the platform scope; changes are announced so every instance forgets them at once.
 */
export const apiTokens = pgTable('api_tokens', {
  id: id(),
  /** Null for platform-admin tokens. */
  tenantId: uuid('tenant_id').references(() => tenants.id, { onDelete: 'cascade' }),
  name: text('name').notNull(),
  role: text('role').$type<'platform-admin' | 'tenant-admin' | 'tenant-viewer'>().notNull(),
  tokenSha256: text('token_sha256').notNull(),
  createdBy: text('created_by').notNull(),
  createdAt: timestamps.createdAt,
  expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
  lastUsedAt: timestamp('last_used_at', { withTimezone: true, mode: 'date' }),
  revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
}, (t) => [
  uniqueIndex('api_tokens_sha256_uq').on(t.tokenSha256),
  index('api_tokens_tenant_idx').on(t.tenantId),
  check('api_tokens_role_check', sql`${t.role} in ('platform-admin', 'tenant-admin', 'tenant-viewer')`),
  check('api_tokens_tenant_check', sql`(${t.role} = 'platform-admin') = (${t.tenantId} is null)`),
  check('api_tokens_sha256_check', sql`${t.tokenSha256} ~ '^[0-9a-f]{64}$'`),
  pgPolicy('api_tokens_tenant_isolation', { for: 'all', to: appRole, using: tenantMatch, withCheck: tenantMatch }),
  pgPolicy('api_tokens_platform_all', { for: 'all', to: platformRole, using: sql`true`, withCheck: sql`true` }),
]).enableRLS();

/**
 * Address space a cluster's agent may be announcing: the pool CIDRs of every revision it may have
 * fetched and not yet replaced (see docs/architecture.md, "Addresses are never announced twice").
 * A row is written when a revision is stored for a cluster that has an agent (and at enrollment),
 * and released when the agent reports a newer applied revision. Rows have no foreign keys: they
 * outlive a deleted pool, grant, cluster or tenant, and keep that space from being granted or
 * carved again ("quarantined") until released, or until a platform admin force-deletes the
 * cluster. The names are copies, for the record of a cluster or tenant that is gone.
 */
export const addressHolds = pgTable('address_holds', {
  tenantId: uuid('tenant_id').notNull(),
  clusterId: uuid('cluster_id').notNull(),
  cidr: cidr('cidr').notNull(),
  /** The newest revision of the cluster that carries the CIDR. */
  lastRevision: integer('last_revision').notNull(),
  tenantSlug: text('tenant_slug').notNull(),
  clusterName: text('cluster_name').notNull(),
  ...timestamps,
}, (t) => [
  primaryKey({ columns: [t.clusterId, t.cidr] }),
  index('address_holds_tenant_idx').on(t.tenantId),
  index('address_holds_cidr_gist').using('gist', sql`${t.cidr} inet_ops`),
  ...isolationPolicies('address_holds', { agentVia: 'cluster_id' }),
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
  // The clock, not the transaction's start: several events of one transaction keep their order.
  at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull().default(sql`clock_timestamp()`),
}, (t) => [
  index('audit_events_tenant_at_idx').on(t.tenantId, t.at),
  // The console filters by resource: one kind's events, newest first, without reading the others.
  index('audit_events_tenant_resource_at_idx').on(t.tenantId, t.resource, t.at),
  pgPolicy('audit_events_tenant_isolation', { for: 'select', to: appRole, using: tenantMatch }),
  pgPolicy('audit_events_tenant_insert', { for: 'insert', to: appRole, withCheck: tenantMatch }),
  pgPolicy('audit_events_platform_read', { for: 'select', to: platformRole, using: sql`true` }),
  // Platform admins act on tenants too (grants, deletion): their events join the tenant's trail.
  pgPolicy('audit_events_platform_insert', { for: 'insert', to: platformRole, withCheck: sql`true` }),
]).enableRLS();

/** A tenant's rollout policy (api/rollouts.ts); no row: every change reaches its clusters at once. */
export const rolloutPolicies = pgTable('rollout_policies', {
  tenantId: uuid('tenant_id').primaryKey().references(() => tenants.id, { onDelete: 'cascade' }),
  policy: jsonb('policy').$type<RolloutPolicy>().notNull(),
  ...timestamps,
}, () => [...isolationPolicies('rollout_policies')]).enableRLS();

export type RolloutState = 'queued' | 'progressing' | 'paused' | 'completed' | 'aborted' | 'superseded';
export type RolloutClusterState = 'pending' | 'progressing' | 'passed' | 'rolled-back' | 'skipped';

/**
 * A change staged by the tenant's rollout policy: its clusters' new revisions are stored at once,
 * each cluster's desired revision moves when its wave starts (and back when the wave fails).
 */
export const rollouts = pgTable('rollouts', {
  id: id(),
  tenantId: tenantRef(),
  /** Per tenant, in order of the changes: what people and the API call the rollout. */
  number: integer('number').notNull(),
  state: text('state').$type<RolloutState>().notNull(),
  cause: text('cause').notNull(),
  createdBy: text('created_by').notNull(),
  /** The planned waves (name, bake, timeout); the clusters of each are rollout_clusters rows. */
  waves: jsonb('waves').$type<Array<{ name: string; bakeSeconds: number; timeoutSeconds: number }>>().notNull(),
  currentWave: integer('current_wave').notNull().default(0),
  waveStartedAt: timestamp('wave_started_at', { withTimezone: true, mode: 'date' }),
  /** Why it paused (a failed gate, or who paused it). */
  pausedReason: text('paused_reason'),
  ...timestamps,
}, (t) => [
  uniqueIndex('rollouts_tenant_number_uq').on(t.tenantId, t.number),
  index('rollouts_unfinished_idx').on(t.tenantId).where(sql`${t.state} in ('queued', 'progressing', 'paused')`),
  check('rollouts_state_check', sql`${t.state} in ('queued', 'progressing', 'paused', 'completed', 'aborted', 'superseded')`),
  ...isolationPolicies('rollouts'),
]).enableRLS();

/** One cluster of a rollout: its wave, the revision it served before and the one it is given, its gates. */
export const rolloutClusters = pgTable('rollout_clusters', {
  rolloutId: uuid('rollout_id').notNull().references(() => rollouts.id, { onDelete: 'cascade' }),
  tenantId: tenantRef(),
  clusterId: uuid('cluster_id').notNull().references(() => clusters.id, { onDelete: 'cascade' }),
  wave: integer('wave').notNull(),
  state: text('state').$type<RolloutClusterState>().notNull().default('pending'),
  /** The revision it serves when the rollout starts (before: when the rollout was made), and goes back to. */
  fromRevision: integer('from_revision'),
  toRevision: integer('to_revision').notNull(),
  /** Sessions reported when the wave started: one down then may stay down. */
  baseline: jsonb('baseline'),
  /** The last gate evaluation: verdict, each gate with its evidence. */
  gates: jsonb('gates'),
  updatedAt: timestamps.updatedAt,
}, (t) => [
  primaryKey({ columns: [t.rolloutId, t.clusterId] }),
  index('rollout_clusters_cluster_idx').on(t.clusterId),
  check('rollout_clusters_state_check', sql`${t.state} in ('pending', 'progressing', 'passed', 'rolled-back', 'skipped')`),
  ...isolationPolicies('rollout_clusters'),
]).enableRLS();

/** Every table that holds a tenant's rows; each has ENABLE and FORCE row-level security. */
export const TENANT_OWNED_TABLES = [
  'address_grants', 'tenant_policies', 'clusters', 'pools', 'pool_cidrs', 'bfd_profiles', 'peers',
  'communities', 'advertisements', 'advertisement_pools', 'advertisement_peers', 'enrollment_tokens',
  'agents', 'config_revisions', 'session_states', 'address_holds', 'api_tokens', 'audit_events',
  'rollout_policies', 'rollouts', 'rollout_clusters',
] as const;

/**
 * Console sessions (console/): the browser holds only a random id whose SHA-256 is stored here;
 * the credential the person signed in with (an API token or an OIDC token) stays on the server,
 * sealed with the secret key, and every page calls the API with it, so the API's roles, tenant
 * isolation and revocation apply unchanged. A row that is still a sign-in link (`link`) becomes a
 * session once, when the link is followed. Deleting the row signs the person out; the token's own
 * revocation or expiry ends the session at its next request; the token's or tenant's deletion
 * deletes the row.
 */
export const consoleSessions = pgTable('console_sessions', {
  id: id(),
  sessionSha256: text('session_sha256').notNull(),
  /** The token's tenant; null for a platform admin. */
  tenantId: uuid('tenant_id').references(() => tenants.id, { onDelete: 'cascade' }),
  /** The API token signed in with; null for OIDC. */
  tokenId: uuid('token_id').references(() => apiTokens.id, { onDelete: 'cascade' }),
  /** The credential, sealed (db/secrets.ts) for this row's id. */
  credential: text('credential').notNull(),
  subject: text('subject').notNull(),
  role: text('role').$type<'platform-admin' | 'tenant-admin' | 'tenant-viewer'>().notNull(),
  /** Still a one-time sign-in link, not yet a session. */
  link: boolean('link').notNull().default(false),
  createdAt: timestamps.createdAt,
  expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
}, (t) => [
  uniqueIndex('console_sessions_sha256_uq').on(t.sessionSha256),
  index('console_sessions_tenant_idx').on(t.tenantId),
  index('console_sessions_token_idx').on(t.tokenId),
  index('console_sessions_expires_idx').on(t.expiresAt),
  check('console_sessions_role_check', sql`${t.role} in ('platform-admin', 'tenant-admin', 'tenant-viewer')`),
  check('console_sessions_sha256_check', sql`${t.sessionSha256} ~ '^[0-9a-f]{64}$'`),
  pgPolicy('console_sessions_tenant_isolation', { for: 'all', to: appRole, using: tenantMatch, withCheck: tenantMatch }),
  pgPolicy('console_sessions_platform_all', { for: 'all', to: platformRole, using: sql`true`, withCheck: sql`true` }),
]).enableRLS();
