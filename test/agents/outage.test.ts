// The agent through a control-plane outage, and its retry discipline.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { serve, type ServerType } from '@hono/node-server';
import { Agent, type AgentState, type ApplyOutcome } from '../../agents/agent.ts';
import { AgentClient, generateAgentKey, type VerifiedConfig } from '../../agents/client.ts';
import { createApp } from '../../api/app.ts';
import { freePort } from '../helpers/process.ts';
import { seedApiTenant, startHarness, type Harness } from '../helpers/api.ts';


class Recorder {
  applies: VerifiedConfig[] = [];
  collects = 0;
  outcome: ApplyOutcome = { ok: true };
  applier = { apply: async (config: VerifiedConfig) => { this.applies.push(config); return this.outcome; } };
  health = {
    collect: async () => {
      this.collects++;
      return { sessions: [{ node: 'n1', peer: '192.0.2.1', vrf: '', bgpState: 'Established', bfdState: null, uptimeSeconds: 10, prefixesReceived: 0, prefixesSent: 1 }] };
    },
  };
}

let h: Harness;
let t: Awaited<ReturnType<typeof seedApiTenant>>;
let port: number;
let url: string;
let server: ServerType | undefined;
let app: ReturnType<typeof createApp>;

const startServer = () => { server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port }); };
const stopServer = async () => {
  await new Promise<void>((resolve) => { server!.close(() => resolve()); (server as unknown as { closeAllConnections(): void }).closeAllConnections(); });
  server = undefined;
};

async function enrolledClient(cluster: string): Promise<AgentClient> {
  const minted = await h.call('POST', `/v1/tenants/${t.slug}/clusters/${cluster}/enrollment-tokens`, { token: t.tenantAdmin, body: {} });
  const client = new AgentClient({ baseUrl: url, timeoutMs: 2000 });
  await client.enroll(minted.body.token, { privateJwk: await generateAgentKey() });
  return client;
}

before(async () => {
  h = await startHarness();
  t = await seedApiTenant(h, 'outage');
  port = await freePort();
  url = `http://127.0.0.1:${port}`;
  app = createApp({ db: h.database.db, secretKey: h.secretKey, auth: h.auth, publicUrl: url, pollIntervalSeconds: 2, log: () => {} });
  startServer();
  for (const name of ['c1', 'c2']) assert.equal((await h.call('POST', `/v1/tenants/${t.slug}/clusters`, { token: t.tenantAdmin, body: { name, backend: 'frr' } })).status, 201);
});
after(async () => {
  if (server) await stopServer();
  await h.close();
});

describe('a control-plane outage', () => {
  test('nothing is applied, health is still collected, the agent backs off, and resumes with 304s', async () => {
    const rec = new Recorder();
    let state: AgentState = {};
    const agent = new Agent({
      client: await enrolledClient('c1'), applier: rec.applier, health: rec.health, agentVersion: 'test', log: () => {},
      state: { load: () => state, save: (s) => { state = s; } }, random: () => 0.5, backoffBaseMs: 1000, backoffMaxMs: 8000,
    });

    assert.equal(await agent.round(), 2000, 'the server-advised interval');
    assert.equal(rec.applies.length, 1);
    assert.equal(await agent.round(), 2000);
    assert.equal(rec.applies.length, 1, 'a 304 applies nothing');

    await stopServer();
    const delays = [];
    for (let i = 0; i < 5; i++) delays.push(await agent.round());
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 8000], 'exponential backoff, capped');
    assert.equal(rec.applies.length, 1, 'nothing applied while the control plane is away');
    assert.equal(rec.collects, 7, 'health is still collected every round');
    assert.equal(state.appliedRevision, rec.applies[0]!.revision, 'the applied config is kept');
    assert.equal((await agent.metrics.pollFailures.get()).values[0]?.value, 5);

    startServer();
    const polls = (await agent.metrics.notModified.get()).values[0]?.value ?? 0;
    assert.equal(await agent.round(), 2000, 'back to the advised interval');
    assert.equal((await agent.metrics.notModified.get()).values[0]?.value, polls + 1, 'it resumes with a 304');
    assert.equal(rec.applies.length, 1);
    const status = await h.call('GET', `/v1/tenants/${t.slug}/clusters/c1/status`, { token: t.tenantAdmin });
    assert.equal(status.body.syncState, 'in-sync', 'and reports once it is back');
    const sessions = await h.call('GET', `/v1/tenants/${t.slug}/clusters/c1/sessions`, { token: t.tenantAdmin });
    assert.equal(sessions.body.items.length, 1);
  });
});

describe('retry discipline', () => {
  test('jitter stays within ±20 % and the backoff tops out at 5 minutes', async () => {
    const rec = new Recorder();
    const make = (random: number) => new Agent({
      client: new AgentClient({ baseUrl: 'http://127.0.0.1:9' }), applier: rec.applier, health: rec.health, agentVersion: 't', log: () => {},
      state: { load: () => ({}), save: () => {} }, random: () => random,
    });
    assert.equal(make(0).backoffMs(30), 300_000);
    assert.equal(make(0).backoffMs(1), 1000);
    // Unenrolled, so every round fails: the delay is the first backoff step, jittered.
    assert.equal(await make(0).round(), 800);
    assert.equal(await make(1).round(), 1200);
  });

  test('a revision the data plane rejected is not re-applied on every poll, only after a while', async () => {
    const rec = new Recorder();
    rec.outcome = { ok: false, error: 'FRR rejected revision 1: % Unknown command' };
    let now = 1_000_000;
    let state: AgentState = {};
    const agent = new Agent({
      client: await enrolledClient('c2'), applier: rec.applier, health: rec.health, agentVersion: 't', log: () => {},
      state: { load: () => state, save: (s) => { state = s; } }, random: () => 0.5, retryFailedAfterMs: 60_000, now: () => now,
    });
    await agent.round();
    assert.equal(rec.applies.length, 1);
    const status = await h.call('GET', `/v1/tenants/${t.slug}/clusters/c2/status`, { token: t.tenantAdmin });
    assert.equal(status.body.syncState, 'failed');
    assert.match(status.body.lastApplyError, /Unknown command/);
    await agent.round();
    now += 30_000;
    await agent.round();
    assert.equal(rec.applies.length, 1, 'not retried within the retry period');
    now += 31_000;
    rec.outcome = { ok: true };
    await agent.round();
    assert.equal(rec.applies.length, 2, 'retried after it');
    assert.equal((await h.call('GET', `/v1/tenants/${t.slug}/clusters/c2/status`, { token: t.tenantAdmin })).body.syncState, 'in-sync');
  });
});
