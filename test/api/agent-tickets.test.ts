// Agent tickets (api/agent-tickets.ts): an agent that proved its key gets a ticket that any
// instance with the secret key takes without a signature verification, for as long as an assertion
// may live, renewed as it goes; revocation, key rotation and secret key rotation end it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { eq } from 'drizzle-orm';
import { AgentClient, generateAgentKey } from '../../agents/client.ts';
import { createApp } from '../../api/app.ts';
import { MAX_ASSERTION_LIFETIME_SECONDS } from '../../api/agent-auth.ts';
import { AGENT_TICKET_LIFETIME_SECONDS, issueAgentTicket, openAgentTicket } from '../../api/agent-tickets.ts';
import { agents } from '../../db/schema.ts';
import { withPlatform } from '../../db/tenant.ts';
import { generateSecretKeyText, importSecretKey, importSecretKeys, type SecretKey } from '../../db/secrets.ts';
import { inProcessFetch, PUBLIC_URL, seedApiTenant, startHarness, type Harness } from '../helpers/api.ts';

const AGENT = '0b9e4f0e-5d0c-4a57-9a51-5f4a2e0e6c11';
const KID = 'k'.repeat(43);

describe('tickets, pure', () => {
  let key: SecretKey;
  before(async () => { key = await importSecretKey(generateSecretKeyText()); });

  test('a ticket lives exactly as long as an assertion may', () => {
    assert.equal(AGENT_TICKET_LIFETIME_SECONDS, MAX_ASSERTION_LIFETIME_SECONDS);
  });

  test('issued, opened; expired, forged, by another key, or malformed: refused', async () => {
    const now = Date.now();
    const ticket = issueAgentTicket(key, { agentId: AGENT, kid: KID }, now);
    assert.deepEqual(openAgentTicket(key, ticket, now + 1000), { agentId: AGENT, kid: KID, exp: Math.floor(now / 1000) + 300 });
    assert.match(JSON.stringify(openAgentTicket(key, ticket, now + 301_000)), /expired/);
    const other = await importSecretKey(generateSecretKeyText());
    assert.match(JSON.stringify(openAgentTicket(other, ticket, now)), /no longer has/);
    const rotated = await importSecretKeys(generateSecretKeyText(), generateSecretKeyText());
    const withPrevious = { ...rotated, previous: [key] };
    assert.equal((openAgentTicket(withPrevious, ticket, now) as { agentId?: string }).agentId, AGENT, 'a previous secret key still opens it');
    // Any change to the claims breaks the MAC: another agent, another key, a later expiry.
    const parts = ticket.split('.');
    for (const [i, value] of [[2, '1b9e4f0e-5d0c-4a57-9a51-5f4a2e0e6c11'], [3, 'j'.repeat(43)], [4, String(Number(parts[4]) + 3600)]] as const) {
      const forged = parts.map((p, j) => (j === i ? value : p)).join('.');
      assert.match(JSON.stringify(openAgentTicket(key, forged, now)), /does not verify/, `part ${i}`);
    }
    for (const bad of [`${ticket}\n`, `${ticket}\u0000`, ticket.replace('mfat1.', 'mfat2.'), `${ticket}.x`, '']) {
      assert.match(JSON.stringify(openAgentTicket(key, bad, now)), /malformed/);
    }
  });

  test('no string but a ticket this key issued opens', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => 'refused' in openAgentTicket(key, `mfat1.${s}`, Date.now())));
  });
});

describe('tickets, through the API', () => {
  let h: Harness;
  let t: Awaited<ReturnType<typeof seedApiTenant>>;
  before(async () => {
    h = await startHarness();
    t = await seedApiTenant(h, 'tickets');
    const made = await h.call('POST', `/v1/tenants/${t.slug}/clusters`, { token: t.tenantAdmin, body: { name: 'edge', backend: 'frr' } });
    assert.equal(made.status, 201, made.text);
  });
  after(() => h.close());

  async function enrolled() {
    const minted = await h.call('POST', `/v1/tenants/${t.slug}/clusters/edge/enrollment-tokens`, { token: t.tenantAdmin, body: {} });
    const agent = h.agentClient();
    await agent.enroll(minted.body.token, { privateJwk: await generateAgentKey() });
    return agent;
  }
  const poll = (app: { request: Harness['app']['request'] }, bearer: string, etag?: string) =>
    app.request('/v1/agent/config', { headers: { authorization: `Bearer ${bearer}`, ...(etag ? { 'if-none-match': etag } : {}) } });

  test('an assertion gets a ticket; the ticket polls on another instance that never saw the agent, without its key', async () => {
    const agent = await enrolled();
    const first = await poll(h.app, await agent.assertion());
    assert.equal(first.status, 200);
    const ticket = first.headers.get('metalfleet-agent-ticket');
    assert.match(ticket ?? '', /^mfat1\./);
    const etag = first.headers.get('etag')!;
    // A restarted instance: nothing cached, same database and secret key.
    const restarted = createApp({ db: h.database.db, secretKey: h.secretKey, auth: h.auth, publicUrl: PUBLIC_URL, log: () => {} });
    const again = await poll(restarted, ticket!, etag);
    assert.equal(again.status, 304);
    assert.equal(again.headers.get('metalfleet-agent-ticket'), null, 'a fresh ticket is not renewed');
    // Another deployment (another secret key) takes none of this one's tickets.
    const stranger = createApp({ db: h.database.db, secretKey: await importSecretKey(generateSecretKeyText()), auth: h.auth, publicUrl: PUBLIC_URL, log: () => {} });
    assert.equal((await poll(stranger, ticket!, etag)).status, 401);
  });

  test('past half its life a ticket is renewed with the answer', async () => {
    const agent = await enrolled();
    await agent.fetchConfig();
    const [row] = await withPlatform(h.database.db, (tx) => tx.select({ kid: agents.kid }).from(agents).where(eq(agents.id, agent.identity!.agentId)));
    const old = issueAgentTicket(h.secretKey, { agentId: agent.identity!.agentId, kid: row!.kid }, Date.now() - 200_000);
    const res = await poll(h.app, old);
    assert.equal(res.status, 200);
    const renewed = res.headers.get('metalfleet-agent-ticket')!;
    assert.ok(Number(renewed.split('.')[4]) > Number(old.split('.')[4]) + 100, 'a later expiry');
  });

  test('revocation ends a ticket at once; a ticket for a key the agent does not hold is refused', async () => {
    const agent = await enrolled();
    const res = await poll(h.app, await agent.assertion());
    const ticket = res.headers.get('metalfleet-agent-ticket')!;
    const forgedKid = issueAgentTicket(h.secretKey, { agentId: agent.identity!.agentId, kid: 'z'.repeat(43) }, Date.now());
    const refused = await poll(h.app, forgedKid);
    assert.equal(refused.status, 401);
    assert.match((await refused.json()).detail, /no longer holds/);
    assert.equal((await h.call('DELETE', `/v1/tenants/${t.slug}/clusters/edge/agents/${agent.identity!.agentId}`, { token: t.tenantAdmin })).status, 204);
    assert.equal((await poll(h.app, ticket)).status, 401);
  });

  test('the client sends its ticket, and proves its key again when a ticket is refused', async () => {
    const agent = await enrolled();
    const seen: string[] = [];
    // The same client talks to this deployment, then to one with a new secret key (the old one dropped).
    let target: { request: Harness['app']['request'] } = h.app;
    const client = new AgentClient({ baseUrl: PUBLIC_URL, identity: agent.identity!, fetch: ((input: string, init?: RequestInit) => {
      const authorization = new Headers(init?.headers).get('authorization');
      if (authorization) seen.push(authorization.slice(7, 12)); // not the server's keys (no credential)
      return inProcessFetch(target)(input, init);
    }) as typeof fetch });
    const first = await client.fetchConfig();
    await client.fetchConfig(first.etag);
    await client.reportStatus({ appliedRevision: null, sessions: [] });
    assert.deepEqual(seen, ['eyJhb', 'mfat1', 'mfat1'], 'an assertion once, then the ticket');
    target = createApp({ db: h.database.db, secretKey: await importSecretKey(generateSecretKeyText()), auth: h.auth, publicUrl: PUBLIC_URL, log: () => {} });
    seen.length = 0;
    assert.equal((await client.fetchConfig(first.etag)).status, 304);
    assert.deepEqual(seen, ['mfat1', 'eyJhb'], 'refused ticket, then an assertion');
  });
});
