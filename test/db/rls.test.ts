// Tenant isolation is enforced by Postgres: these checks run raw SQL with no tenant filter at all
// inside each scope, so they prove the policies, not the application's WHERE clauses.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import { resultRows, pgErrorInfo } from '../../db/client.ts';
import { inScope, withAgent, withPlatform, withTenant } from '../../db/tenant.ts';
import * as s from '../../db/schema.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { insertRow, seedTenant, type TenantRefs } from '../helpers/fixtures.ts';

let database: TestDatabase;
let a: TenantRefs;
let b: TenantRefs;

before(async () => {
  database = await openTestDatabase();
  a = await seedTenant(database.db);
  b = await seedTenant(database.db);
});
after(() => database.close());

const table = (name: string) => sql.raw(`"${name}"`);

async function expectPgError(promise: Promise<unknown>, code: string) {
  await assert.rejects(promise, (err) => {
    assert.equal(pgErrorInfo(err)?.code, code, `expected SQLSTATE ${code}, got ${String(err)}`);
    return true;
  });
}

/**
 * Tables whose rows the tenant scope may only read and append: no DELETE grant, and UPDATE of
 * no column or only of a few (an API token's revocation and last use).
 */
const APPEND_ONLY = new Set(['audit_events', 'api_tokens']);

describe('tenant scope, for every tenant-owned table', () => {
  for (const name of s.TENANT_OWNED_TABLES) {
    describe(name, () => {
      test('a SELECT with no WHERE sees only its own tenant rows', async () => {
        const rows = resultRows<{ tenant_id: string }>(
          await withTenant(database.db, a.tenantId, (tx) => tx.execute(sql`select tenant_id from ${table(name)}`)));
        assert.ok(rows.length >= 1, 'the seeded row is visible to its own tenant');
        assert.deepEqual([...new Set(rows.map((r) => r.tenant_id))], [a.tenantId]);
      });

      test("INSERT with another tenant's tenant_id is refused", async () => {
        await expectPgError(withTenant(database.db, a.tenantId, (tx) => insertRow[name](tx, b.tenantId, b, 7)), '42501');
      });

      test("UPDATE and DELETE of another tenant's rows affect nothing", async () => {
        const update = () => withTenant(database.db, a.tenantId, (tx) => tx.execute(
          sql`update ${table(name)} set tenant_id = tenant_id where tenant_id = ${b.tenantId} returning 1`));
        const del = () => withTenant(database.db, a.tenantId, (tx) => tx.execute(
          sql`delete from ${table(name)} where tenant_id = ${b.tenantId} returning 1`));
        if (APPEND_ONLY.has(name)) {
          await expectPgError(update(), '42501');
          await expectPgError(del(), '42501');
        } else {
          assert.equal(resultRows(await update()).length, 0);
          assert.equal(resultRows(await del()).length, 0);
        }
        const stillThere = resultRows(await withPlatform(database.db, (tx) => tx.execute(
          sql`select 1 from ${table(name)} where tenant_id = ${b.tenantId}`)));
        assert.ok(stillThere.length >= 1, "the other tenant's rows are untouched");
      });

      test('with no tenant set, nothing is visible', async () => {
        const rows = resultRows(await inScope(database.db, 'metalfleet_app', {}, (tx) => tx.execute(sql`select 1 from ${table(name)}`)));
        assert.equal(rows.length, 0);
      });
    });
  }

  test('the tenants table shows a tenant only its own row', async () => {
    const rows = resultRows<{ id: string }>(await withTenant(database.db, a.tenantId, (tx) => tx.execute(sql`select id from tenants`)));
    assert.deepEqual(rows.map((r) => r.id), [a.tenantId]);
  });

  test('a tenant cannot create or rename tenants', async () => {
    await expectPgError(withTenant(database.db, a.tenantId, (tx) => tx.insert(s.tenants).values({ slug: 'sneaky', name: 'x' })), '42501');
    await expectPgError(withTenant(database.db, a.tenantId, (tx) => tx.execute(sql`update tenants set name = 'x'`)), '42501');
  });

  test('a tenant id that is not a uuid is refused before any query', async () => {
    await assert.rejects(withTenant(database.db, "x' or true --", async () => 1), /tenantId must be a uuid/);
  });

  test('the scope ends with its transaction', async () => {
    await withTenant(database.db, a.tenantId, async () => {});
    const rows = resultRows<{ role: string; tenant: string | null }>(await database.db.execute(
      sql`select current_user as role, nullif(current_setting('metalfleet.tenant_id', true), '') as tenant`));
    assert.notEqual(rows[0]!.role, 'metalfleet_app');
    assert.equal(rows[0]!.tenant, null);
  });
});

describe('platform scope', () => {
  test('reads every tenant', async () => {
    const rows = resultRows<{ tenant_id: string }>(await withPlatform(database.db, (tx) => tx.execute(sql`select distinct tenant_id from pools`)));
    const seen = new Set(rows.map((r) => r.tenant_id));
    assert.ok(seen.has(a.tenantId) && seen.has(b.tenantId));
  });

  test('cannot write tenant intent or rewrite audit history', async () => {
    await expectPgError(withPlatform(database.db, (tx) => insertRow.pools(tx, a.tenantId, a, 9)), '42501');
    await expectPgError(withPlatform(database.db, (tx) => tx.execute(sql`delete from audit_events`)), '42501');
  });
});

describe('agent scope', () => {
  test("sees only its own cluster's rows", async () => {
    for (const name of ['clusters', 'config_revisions', 'session_states', 'agents']) {
      const column = name === 'clusters' ? 'id' : 'cluster_id';
      const rows = resultRows<{ c: string }>(await withAgent(database.db, a.clusterId, (tx) => tx.execute(
        sql`select ${sql.raw(column)} as c from ${table(name)}`)));
      assert.ok(rows.length >= 1, `${name}: own rows visible`);
      assert.deepEqual([...new Set(rows.map((r) => r.c))], [a.clusterId], name);
    }
  });

  test("cannot read tenant intent, another cluster's rows, or change its desired revision", async () => {
    await expectPgError(withAgent(database.db, a.clusterId, (tx) => tx.execute(sql`select * from pools`)), '42501');
    const others = resultRows(await withAgent(database.db, a.clusterId, (tx) => tx.execute(
      sql`update session_states set bgp_state = 'Idle' where cluster_id = ${b.clusterId} returning 1`)));
    assert.equal(others.length, 0);
    await expectPgError(withAgent(database.db, a.clusterId, (tx) => tx.execute(sql`update clusters set desired_revision = 99`)), '42501');
  });

  test('may record what it applied', async () => {
    const rows = resultRows(await withAgent(database.db, a.clusterId, (tx) => tx.execute(
      sql`update clusters set applied_revision = 0, last_seen_at = now() returning id`)));
    assert.equal(rows.length, 1);
  });
});

describe('deleting a tenant', () => {
  test("removes all of its rows and none of another tenant's", async () => {
    const victim = await seedTenant(database.db);
    await withPlatform(database.db, (tx) => tx.execute(sql`delete from tenants where id = ${victim.tenantId}`));
    for (const name of s.TENANT_OWNED_TABLES) {
      // The audit trail outlives the tenant; so does what its agents may still announce
      // (address holds: the API refuses to delete a tenant with agents unless it withdraws first).
      if (name === 'audit_events' || name === 'address_holds') continue;
      const left = resultRows(await withPlatform(database.db, (tx) => tx.execute(sql`select 1 from ${table(name)} where tenant_id = ${victim.tenantId}`)));
      assert.equal(left.length, 0, name);
      const others = resultRows(await withPlatform(database.db, (tx) => tx.execute(sql`select 1 from ${table(name)} where tenant_id = ${a.tenantId}`)));
      assert.ok(others.length >= 1, name);
    }
    const audit = resultRows(await withPlatform(database.db, (tx) => tx.execute(sql`select 1 from audit_events where tenant_id = ${victim.tenantId}`)));
    assert.equal(audit.length, 1);
  });
});
