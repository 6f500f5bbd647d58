// Config signatures are bound to the cluster and the revision (api/rendering.ts signConfig): a man
// in the middle can no longer hand one cluster's signed config to another cluster's agent or relabel
// a revision. Signatures of older control planes (over the sha256 alone) still verify until the
// agent has seen a bound one, and `metalfleet keys resign` turns them into bound ones.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CompactSign, decodeProtectedHeader } from 'jose';
import { sql } from 'drizzle-orm';
import { Agent, type AgentState } from '../../agents/agent.ts';
import { AgentClient, generateAgentKey, IntegrityError } from '../../agents/client.ts';
import { resignRevisions } from '../../api/key-rotation.ts';
import { CONFIG_SIGNATURE_TYPE } from '../../api/rendering.ts';
import { resultRows } from '../../db/client.ts';
import { storeRevisions } from '../../db/queries/revisions.ts';
import { withPlatform, withTenant } from '../../db/tenant.ts';
import { inProcessFetch, PUBLIC_URL, seedApiTenant, startHarness, type Harness } from '../helpers/api.ts';

let h: Harness;
let t: Awaited<ReturnType<typeof seedApiTenant>>;
let tenantId: string;

before(async () => {
  h = await startHarness();
  t = await seedApiTenant(h, 'bound');
  for (const name of ['east', 'west']) {
    const created = await h.call('POST', '/v1/tenants/bound/clusters', { token: t.tenantAdmin, body: { name, backend: 'frr' } });
    assert.equal(created.status, 201, created.text);
  }
  tenantId = resultRows<{ id: string }>(await withPlatform(h.database.db, (tx) => tx.execute(sql`select id from tenants where slug = 'bound'`)))[0]!.id;
});
after(() => h.close());

/** An agent of `cluster` whose config answers pass through `tamper` (the man in the middle). */
async function agentOf(cluster: string, tamper: (body: Record<string, unknown>) => Record<string, unknown> = (b) => b): Promise<AgentClient> {
  const direct = inProcessFetch(h.app);
  const agent = new AgentClient({ baseUrl: PUBLIC_URL, fetch: (async (input: string, init?: RequestInit) => {
    const res = await direct(input, init);
    if (!input.endsWith('/v1/agent/config') || res.status !== 200) return res;
    return new Response(JSON.stringify(tamper(await res.json() as Record<string, unknown>)), { status: 200, headers: res.headers });
  }) as typeof fetch });
  const minted = await h.call('POST', `/v1/tenants/bound/clusters/${cluster}/enrollment-tokens`, { token: t.tenantAdmin, body: {} });
  await agent.enroll(minted.body.token, { privateJwk: await generateAgentKey() });
  return agent;
}

/** The answer an agent of `cluster` gets, untouched. */
async function configOf(cluster: string): Promise<Record<string, unknown>> {
  let captured: Record<string, unknown> = {};
  await (await agentOf(cluster, (body) => (captured = body))).fetchConfig();
  return captured;
}

test('new revisions are signed over cluster, revision and sha256', async () => {
  const body = await configOf('east');
  const signature = body.signature as string;
  assert.equal(decodeProtectedHeader(signature).typ, CONFIG_SIGNATURE_TYPE);
  const payload = JSON.parse(Buffer.from(signature.split('.')[1]!, 'base64url').toString());
  const [cluster] = resultRows<{ id: string }>(await withTenant(h.database.db, tenantId,
    (tx) => tx.execute(sql`select id from clusters where name = 'east'`)));
  assert.deepEqual(payload, { v: 2, cluster: cluster!.id, revision: body.revision, sha256: body.sha256 });
});

test("another cluster's signed config, or a relabelled revision, is refused by the agent", async () => {
  // East's whole answer, given to west's agent: content, sha256 and signature agree with each
  // other (an unbound signature would have verified); only the binding tells the clusters apart.
  const east = await configOf('east');
  const replayed = await agentOf('west', () => east);
  await assert.rejects(replayed.fetchConfig(), (err) => err instanceof IntegrityError && /signed for cluster .*not this agent's/.test(err.message));
  const relabelled = await agentOf('east', (body) => ({ ...body, revision: (body.revision as number) + 1 }));
  await assert.rejects(relabelled.fetchConfig(), (err) => err instanceof IntegrityError && /signed as revision/.test(err.message));
  assert.equal((await (await agentOf('west')).fetchConfig()).status, 200, 'untouched, it verifies');
});

test('unbound signatures of an older control plane: accepted until a bound one was seen, re-signed by keys resign', async () => {
  // What a control plane before bound signatures stored: a JWS over the sha256 alone.
  const unbound = async (sha256: string) => new CompactSign(new TextEncoder().encode(sha256))
    .setProtectedHeader({ alg: 'EdDSA', kid: h.auth.signingKey.kid, typ: 'metalfleet-config+jws' }).sign(h.auth.signingKey.privateKey);
  await withTenant(h.database.db, tenantId, async (tx) => {
    const rows = resultRows<{ id: string; sha256: string }>(await tx.execute(sql`select id, sha256 from config_revisions`));
    for (const row of rows) await tx.execute(sql`update config_revisions set signature = ${await unbound(row.sha256)} where id = ${row.id}`);
  });

  // An agent that never saw a bound signature (a fleet mid-upgrade) accepts it; one that did refuses it.
  const state = memoryState();
  const fresh = await agentOf('east');
  await agentWith(fresh, state).round();
  assert.equal(state.saved.appliedRevision, 1, 'applied');
  assert.equal(state.saved.boundSignatures, undefined);
  const ratcheted = await agentOf('east');
  ratcheted.refuseUnboundSignatures = true;
  await assert.rejects(ratcheted.fetchConfig(), (err) => err instanceof IntegrityError && /refused as a possible replay/.test(err.message));

  // keys resign turns them into bound signatures by the same key; the agent then verifies, and remembers.
  const resigned = await resignRevisions(h.database.db, h.auth.signingKey);
  assert.ok(resigned.resigned >= 2, JSON.stringify(resigned));
  assert.deepEqual(Object.keys(resigned.byKid), [h.auth.signingKey.kid]);
  assert.equal(resigned.remaining, 0);
  assert.equal((await ratcheted.fetchConfig()).status, 200);
  // Re-signing keeps the ETag (nobody refetches): the agent sees the bound signature on its next fetch.
  state.saved.etag = undefined;
  await agentWith(fresh, state).round();
  assert.equal(state.saved.boundSignatures, true, 'kept in the agent state');
  const restarted = await agentOf('east');
  agentWith(restarted, state);
  assert.equal(restarted.refuseUnboundSignatures, true, 'a restarted agent still refuses unbound signatures');
});

test('a revision prepared from a stale read of the cluster is refused before it is stored', async () => {
  const [cluster] = resultRows<{ id: string; desired_revision: number }>(await withTenant(h.database.db, tenantId,
    (tx) => tx.execute(sql`select id, desired_revision from clusters where name = 'west'`)));
  await assert.rejects(withTenant(h.database.db, tenantId, (tx) => storeRevisions(tx, [{
    tenantId, clusterId: cluster!.id, revision: cluster!.desired_revision, backend: 'frr', content: 'x', sha256: 'a'.repeat(64),
    signature: 'x', cause: 'test', prefixes: [], intent: 'x',
  }])), /was prepared, but the cluster's next is/);
});

/** An agent around `client` that applies anything and remembers in `state`. */
function agentWith(client: AgentClient, state: ReturnType<typeof memoryState>): Agent {
  return new Agent({
    client, state, agentVersion: 'test', log: () => {},
    applier: { apply: async () => ({ ok: true }) }, health: { collect: async () => ({ sessions: [] }) },
  });
}

function memoryState(): { load(): AgentState; save(s: AgentState): void; saved: AgentState } {
  const store = {
    saved: {} as AgentState,
    load: () => ({ ...store.saved }),
    save: (s: AgentState) => { store.saved = { ...s }; },
  };
  return store;
}

