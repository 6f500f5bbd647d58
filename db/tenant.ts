// Scoped transactions. Every request-path query runs inside one of these: a transaction that
// switches to a role without BYPASSRLS and sets the scope's GUC transaction-locally, so the
// row-level-security policies in db/schema.ts decide what the query can see. A query that forgets
// its WHERE clause still sees only its scope's rows.
import { sql } from 'drizzle-orm';
import { CLUSTER_SETTING, ENROLLMENT_SETTING, TENANT_SETTING } from './schema.ts';
import type { Db } from './client.ts';

export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export type ScopeRole = 'metalfleet_app' | 'metalfleet_platform' | 'metalfleet_agent';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function requireUuid(what: string, value: string): string {
  if (!UUID.test(value)) throw new TypeError(`${what} must be a uuid, got ${JSON.stringify(value)}`);
  return value;
}

/** The advisory lock every change to a tenant's intent or address space holds until it commits. */
const tenantWriteLock = (tenantId: string) => sql`pg_advisory_xact_lock(hashtext('metalfleet:tenant-writes'), hashtext(${requireUuid('tenantId', tenantId)}))`;

/**
 * One transaction as `role`, with `settings` set for this transaction only (set_config(..., true):
 * safe behind transaction-mode poolers such as Hyperdrive). One round trip sets both, and takes
 * the write lock of `lockTenant` when one is given.
 */
export async function inScope<T>(db: Db, role: ScopeRole, settings: Record<string, string>, fn: (tx: Tx) => Promise<T>,
  opts: { lockTenant?: string } = {}): Promise<T> {
  return db.transaction(async (tx) => {
    const assignments = [sql`set_config('role', ${role}, true)`];
    for (const [name, value] of Object.entries(settings)) assignments.push(sql`set_config(${name}, ${value}, true)`);
    if (opts.lockTenant) assignments.push(tenantWriteLock(opts.lockTenant));
    // Awaited before anything else: drizzle does async work before a query reaches the driver,
    // so a query issued later could overtake an unawaited scope and run without it.
    await tx.execute(sql`select ${sql.join(assignments, sql`, `)}`);
    return fn(tx);
  });
}

/** The tenant scope: reads and writes only `tenantId`'s rows. */
export async function withTenant<T>(db: Db, tenantId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return inScope(db, 'metalfleet_app', { [TENANT_SETTING]: requireUuid('tenantId', tenantId) }, fn);
}

/**
 * The tenant scope for a change: the transaction first takes the tenant's write lock, so that the
 * tenant's writes take turns. Each statement after it sees every write committed before (READ
 * COMMITTED), so the clusters rendered in this transaction see the intent as it will stand when
 * it commits; two writers can no longer each render from a snapshot without the other's change
 * and leave the last committer's render in place (docs/architecture.md, "How writes stay
 * consistent"). Writes of different tenants do not wait for each other.
 */
export async function withTenantWrite<T>(db: Db, tenantId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return inScope(db, 'metalfleet_app', { [TENANT_SETTING]: requireUuid('tenantId', tenantId) }, fn, { lockTenant: tenantId });
}

/**
 * Ends a tenant write with a platform-scope step in the same transaction (a forced tenant deletion
 * records its platform audit event atomically with the change). One way: the tenant scope's work
 * must be done, since what follows sees what the platform scope sees.
 */
export async function continueAsPlatform(tx: Tx): Promise<void> {
  await tx.execute(sql`select set_config('role', 'metalfleet_platform', true), set_config(${TENANT_SETTING}, '', true)`);
}

/** Takes a tenant's write lock inside a transaction of another scope (platform, enrollment). */
export async function lockTenantWrites(tx: Tx, tenantId: string): Promise<void> {
  await tx.execute(sql`select ${tenantWriteLock(tenantId)}`);
}

/** The platform scope: reads across tenants and manages the tenant list; cannot write intent. */
export async function withPlatform<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return inScope(db, 'metalfleet_platform', {}, fn);
}

/**
 * The agent scope: sees only `clusterId`'s cluster, revisions, agents and session rows.
 * `telemetry`: the transaction only records what an agent reports (status, sessions), which the
 * agent sends again every poll interval, so its commit does not wait for the WAL flush
 * (synchronous_commit off: a crash can lose the last moments of reports, never intent).
 */
export async function withAgent<T>(db: Db, clusterId: string, fn: (tx: Tx) => Promise<T>, opts: { telemetry?: boolean } = {}): Promise<T> {
  return inScope(db, 'metalfleet_agent', {
    [CLUSTER_SETTING]: requireUuid('clusterId', clusterId),
    ...(opts.telemetry ? { synchronous_commit: 'off' } : {}),
  }, fn);
}

/**
 * The enrollment scope: an agent that is not authenticated yet, holding a token. It sees (and
 * may consume) only the enrollment token whose SHA-256 it presents; once the token names a
 * cluster, `enterCluster` narrows the same transaction to that cluster's agent scope.
 */
export async function withEnrollment<T>(db: Db, tokenSha256: string, fn: (tx: Tx, enterCluster: (clusterId: string) => Promise<void>) => Promise<T>): Promise<T> {
  if (!/^[0-9a-f]{64}$/.test(tokenSha256)) throw new TypeError('tokenSha256 must be 64 hex characters');
  return inScope(db, 'metalfleet_agent', { [ENROLLMENT_SETTING]: tokenSha256 }, (tx) =>
    fn(tx, async (clusterId) => {
      await tx.execute(sql`select set_config(${CLUSTER_SETTING}, ${requireUuid('clusterId', clusterId)}, true)`);
    }));
}
