// Staged rollouts end to end with real daemons: three host FRR clusters (canary, w2, w3), each in
// a network namespace of its own driven by the real `metalfleet agent --mode frr`, each peering
// with a BIRD 2 in another namespace. A good change rolls through the three waves; a wrong peer
// ASN breaks the canary's session, the canary's gates fail at the wave's timeout, the canary is
// moved back (its agent applies the previous revision and the session comes back), w2 and w3
// never receive it, and their BIRDs keep the prefixes throughout. Short bake and timeout values
// keep it quick (under two minutes on a busy 2-core machine, most of it starting the daemons).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { seedApiTenant, type Harness } from '../helpers/api.ts';
import { spawnAgent, startControlPlane, type AgentProcess, type ControlPlane } from '../helpers/agent-e2e.ts';
import { assertDataplane, dataplaneSkip, Lab, sleep, waitFor, type BirdInstance, type FrrInstall, type FrrInstance } from '../helpers/lab.ts';

const TOOLS = ['frr', 'vtysh', 'frr-reload', 'bird', 'birdc'];
const CLUSTERS = ['canary', 'w2', 'w3'] as const;
type Name = (typeof CLUSTERS)[number];

const BIRD = `
router id 10.250.0.2;
protocol device { scan time 1; }
protocol bgp frr_v4 {
  local 10.250.0.2 as 65002; neighbor 10.250.0.1 as 65001;
  connect delay time 1; connect retry time 1; error wait time 1,2;
  ipv4 { import all; export none; };
}
`;
const POLICY = { policy: { waves: [
  { name: 'canary', selector: { matchLabels: { tier: 'canary' } }, bakeSeconds: 3, timeoutSeconds: 12 },
  { name: 'w2', selector: { matchLabels: { tier: 'w2' } }, bakeSeconds: 3, timeoutSeconds: 12 },
  { name: 'rest', bakeSeconds: 3, timeoutSeconds: 12 },
] } };

describe('staged rollout gated on BGP health, with host FRR and BIRD', { skip: dataplaneSkip(TOOLS), concurrency: 1 }, () => {
  let lab: Lab;
  let cp: ControlPlane;
  let h: Harness;
  let install: FrrInstall;
  let t: Awaited<ReturnType<typeof seedApiTenant>>;
  const agents: AgentProcess[] = [];
  const frrs = new Map<Name, FrrInstance>();
  const birds = new Map<Name, BirdInstance>();
  const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
    h.call(method, `/v1/tenants/${t.slug}/${path}`, { token: t.tenantAdmin, body, headers });
  const cluster = async (name: Name) => (await api('GET', `clusters/${name}/status`)).body;
  const rollout = async (n: number) => (await api('GET', `rollouts/${n}`)).body;
  const birdHas = async (name: Name, prefix: string) => (await birds.get(name)!.routesFrom('frr_v4')).includes(prefix);

  before(async () => {
    install = assertDataplane(TOOLS);
    lab = new Lab();
    cp = await startControlPlane();
    h = cp.h;
    t = await seedApiTenant(h, 'staged');
    assert.equal((await h.call('POST', `/v1/tenants/${t.slug}/grants`, { token: t.admin, body: { cidr: '10.250.96.0/20' } })).status, 201);
    assert.equal((await h.call('PUT', `/v1/tenants/${t.slug}/policy`, { token: t.admin,
      body: { allowedASNs: [{ from: 65000, to: 65100 }], allowedPeerCIDRs: ['10.250.0.0/16'] } })).status, 200);
    const writes: Array<[string, unknown]> = [
      ...CLUSTERS.map((name): [string, unknown] => ['clusters', { name, backend: 'frr', labels: { tier: name } }]),
      ['pools', { name: 'web', cidrs: ['10.250.100.0/24'] }],
      ['peers', { name: 'bird', myASN: 65001, peerASN: 65002, peerAddress: '10.250.0.2', routerID: '10.250.0.1' }],
      ['bgp-advertisements', { name: 'announce' }],
    ];
    for (const [path, body] of writes) assert.equal((await api('POST', path, body)).status, 201, path);

    // Per cluster, all three at once: FRR in one namespace, BIRD in another (each pair has the lab's 10.250.0.0/30).
    await Promise.all(CLUSTERS.map(async (name) => {
      const { frrNs, peerNs } = await lab.twoHosts();
      birds.set(name, await lab.startBird(peerNs, `bird-${name}`, BIRD));
      const frr = await lab.startFrr(frrNs, `frr-${name}`, { frr: install, config: `hostname ${name}\n` });
      frrs.set(name, frr);
      const minted = await api('POST', `clusters/${name}/enrollment-tokens`, { ttl: '10m' });
      const stateDir = join(cp.stateDir, name);
      mkdirSync(stateDir);
      agents.push(spawnAgent({ ...cp, stateDir }, minted.body.token, ['--mode', 'frr', '--node-name', name, '--frr-conf', join(frr.dir, 'frr.conf'),
        '--vtysh', install.vtysh, '--frr-reload', install.reload, '--vty-socket', frr.dir, '--frr-confdir', frr.dir, '--frr-rundir', frr.dir]));
    }));
    await Promise.all(CLUSTERS.map((name) => waitFor(() => birdHas(name, '10.250.100.0/24'), 60_000, `BIRD of ${name} to receive the pool`)
      .catch((err) => { throw new Error(`${err.message}\n${agents.map((a) => a.output()).join('\n')}`); })));
    assert.equal((await api('PUT', 'rollout-policy', POLICY)).status, 200);
  });

  after(async () => {
    for (const agent of agents) await agent.stop();
    await cp?.close();
    await lab?.teardown();
  });

  test('a good change rolls through canary, w2 and w3, wave after wave', async () => {
    const etag = (await api('GET', 'pools/web')).headers.get('etag')!;
    const res = await api('PATCH', 'pools/web', { cidrs: ['10.250.100.0/24', '10.250.101.0/24'] }, { 'if-match': etag });
    assert.equal(res.status, 200, res.text);
    // The canary gets it; the later waves wait for its gates and bake time.
    await waitFor(() => birdHas('canary', '10.250.101.0/24'), 20_000, 'the canary\'s BIRD to receive 10.250.101.0/24');
    assert.equal(await birdHas('w3', '10.250.101.0/24'), false, 'w3 waits for the canary and w2');
    await waitFor(async () => (await rollout(1)).state === 'completed', 60_000, 'rollout 1 to complete')
      .catch(async (err) => { throw new Error(`${err.message}: ${JSON.stringify(await rollout(1))}`); });
    for (const name of CLUSTERS) await waitFor(() => birdHas(name, '10.250.101.0/24'), 10_000, `BIRD of ${name} to receive 10.250.101.0/24`);
    const done = await rollout(1);
    assert.deepEqual(done.waves.map((w: { name: string }) => w.name), ['canary', 'w2', 'rest']);
    for (const wave of done.waves) {
      for (const c of wave.clusters) {
        assert.equal(c.state, 'passed');
        assert.ok(c.gates.every((g: { ok: boolean }) => g.ok), JSON.stringify(c.gates));
      }
    }
  });

  test('a wrong peer ASN stops at the canary and is moved back there; w2 and w3 never get it and keep their prefixes', async () => {
    const before = Object.fromEntries(await Promise.all(CLUSTERS.map(async (n) => [n, await cluster(n)])));
    const etag = (await api('GET', 'peers/bird')).headers.get('etag')!;
    const res = await api('PATCH', 'peers/bird', { peerASN: 65003 }, { 'if-match': etag });
    assert.equal(res.status, 200, res.text);

    // Until the rollout pauses, sample what w2's and w3's BIRDs have: the prefixes, all along.
    let samples = 0;
    while ((await rollout(2)).state === 'progressing') {
      for (const name of ['w2', 'w3'] as const) {
        assert.ok(await birdHas(name, '10.250.101.0/24'), `BIRD of ${name} lost the prefixes during the canary wave`);
        const status = await cluster(name);
        assert.equal(status.desiredRevision, before[name].desiredRevision, `${name} was given the broken change`);
      }
      samples++;
      assert.ok(samples < 200, 'the rollout never stopped');
      await sleep(250);
    }
    const paused = await rollout(2);
    assert.equal(paused.state, 'paused', JSON.stringify(paused));
    assert.equal(paused.currentWave, 'canary');
    const canary = paused.waves[0].clusters[0];
    assert.equal(canary.state, 'rolled-back');
    assert.equal(canary.gates.find((g: { gate: string }) => g.gate === 'sessions-established').ok, false, JSON.stringify(canary.gates));
    assert.match(paused.pausedReason, /canary/);

    // The canary is given its previous revision again; its agent applies it and the session comes back.
    assert.equal((await cluster('canary')).desiredRevision, before.canary.desiredRevision);
    await waitFor(async () => (await cluster('canary')).appliedRevision === before.canary.desiredRevision, 20_000, 'the canary to apply its previous revision');
    await frrs.get('canary')!.waitEstablished(['10.250.0.2'], 20_000);
    await waitFor(() => birdHas('canary', '10.250.101.0/24'), 20_000, 'the canary\'s BIRD to have the prefixes again');
    for (const name of ['w2', 'w3'] as const) {
      const status = await cluster(name);
      assert.equal(status.desiredRevision, before[name].desiredRevision, `${name} never received the broken change`);
      assert.equal(status.appliedRevision, before[name].appliedRevision);
      assert.ok(await birdHas(name, '10.250.101.0/24'));
    }
    assert.ok(samples > 0);
  });
});
