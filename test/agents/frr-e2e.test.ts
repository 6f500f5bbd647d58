// End to end with real daemons: the control plane (real PostgreSQL under CI) and `metalfleet
// agent --mode frr` drive host FRR in one network namespace, peering with BIRD 2 in another, on
// every FRR of the matrix: Debian's 8.4 and FRR 10 from .ci/build-frr10 (its own vtysh and
// frr-reload.py).
// Enroll → apply → sessions Established → the status API shows them; a pool change reaches BIRD;
// a reload FRR rejects is rolled back, reported, and the sessions stay up.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { seedApiTenant, type Harness } from '../helpers/api.ts';
import { spawnAgent, startControlPlane, type AgentProcess, type ControlPlane } from '../helpers/agent-e2e.ts';
import { assertDataplane, dataplaneSkip, FRR_MATRIX, Lab, waitFor, type BirdInstance, type FrrInstall, type FrrInstance } from '../helpers/lab.ts';

const TOOLS = ['frr', 'vtysh', 'frr-reload', 'bird', 'birdc'];

const BIRD = (iface: string) => `
router id 10.250.0.2;
protocol device { scan time 1; }
protocol bfd { interface "${iface}" { min rx interval 200 ms; min tx interval 200 ms; }; }
template bgp frr { local as 65002; connect delay time 1; connect retry time 1; error wait time 1,5; bfd on; }
protocol bgp frr_v4 from frr { local 10.250.0.2; neighbor 10.250.0.1 as 65001; ipv4 { import all; export none; }; }
protocol bgp frr_v6 from frr { local fd00:250::2; neighbor fd00:250::1 as 65001; ipv6 { import all; export none; }; }
`;

for (const target of FRR_MATRIX) describe(`metalfleet agent with host ${target.label} and BIRD`, { skip: dataplaneSkip(TOOLS, target), concurrency: 1 }, () => {
  let lab: Lab;
  let cp: ControlPlane;
  let h: Harness;
  let agent: AgentProcess | undefined;
  let install: FrrInstall;
  let frr: FrrInstance;
  let bird: BirdInstance;
  let t: Awaited<ReturnType<typeof seedApiTenant>>;
  const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
    h.call(method, `/v1/tenants/${t.slug}/${path}`, { token: t.tenantAdmin, body, headers });

  before(async () => {
    install = assertDataplane(TOOLS, target);
    lab = new Lab();
    // The control plane, on loopback, with a 1 s poll interval.
    cp = await startControlPlane();
    h = cp.h;

    // Intent: a host FRR cluster with one IPv4 and one IPv6 peer, BFD, and a dual-stack pool.
    t = await seedApiTenant(h, 'e2e');
    const admin = t.admin;
    for (const cidr of ['10.250.96.0/20', 'fd00:250:100::/48']) assert.equal((await h.call('POST', `/v1/tenants/${t.slug}/grants`, { token: admin, body: { cidr } })).status, 201);
    assert.equal((await h.call('PUT', `/v1/tenants/${t.slug}/policy`, { token: admin, body: { allowedASNs: [{ from: 65000, to: 65100 }], allowedPeerCIDRs: ['10.250.0.0/16', 'fd00:250::/32'] } })).status, 200);
    const writes: Array<[string, unknown]> = [
      ['clusters', { name: 'host', backend: 'frr' }],
      ['bfd-profiles', { name: 'fast', receiveInterval: 200, transmitInterval: 200, detectMultiplier: 3 }],
      ['pools', { name: 'web', cidrs: ['10.250.100.0/24', 'fd00:250:100::/64'] }],
      ['peers', { name: 'bird-v4', myASN: 65001, peerASN: 65002, peerAddress: '10.250.0.2', routerID: '10.250.0.1', bfdProfile: 'fast' }],
      ['peers', { name: 'bird-v6', myASN: 65001, peerASN: 65002, peerAddress: 'fd00:250::2', routerID: '10.250.0.1', bfdProfile: 'fast' }],
      ['bgp-advertisements', { name: 'announce' }],
    ];
    for (const [path, body] of writes) {
      const res = await api('POST', path, body);
      assert.equal(res.status, 201, `${path}: ${res.text}`);
    }

    // The data plane: FRR (empty config) and BIRD, each in its own namespace.
    const { frrNs, peerNs, peerIf } = await lab.twoHosts();
    bird = await lab.startBird(peerNs, 'bird', BIRD(peerIf));
    frr = await lab.startFrr(frrNs, 'frr', { frr: install, config: 'hostname host\n' });
  });

  after(async () => {
    await agent?.stop();
    await cp?.close();
    await lab?.teardown();
  });

  const status = async () => (await api('GET', 'clusters/host/status')).body;

  test('enroll, apply, sessions Established, and the status API shows them with prefixes', async () => {
    const minted = await api('POST', 'clusters/host/enrollment-tokens', { ttl: '10m' });
    agent = spawnAgent(cp, minted.body.token, ['--mode', 'frr', '--node-name', 'host-1', '--frr-conf', join(frr.dir, 'frr.conf'),
      '--vtysh', install.vtysh, '--frr-reload', install.reload, '--vty-socket', frr.dir, '--frr-confdir', frr.dir, '--frr-rundir', frr.dir]);
    await waitFor(async () => (await status()).syncState === 'in-sync', 30_000, 'the cluster to be in sync').catch((err) => { throw new Error(`${err.message}\n${agent!.output()}`); });
    await frr.waitEstablished(['10.250.0.2', 'fd00:250::2']);
    await waitFor(async () => {
      const sessions = (await api('GET', 'clusters/host/sessions')).body.items as Array<{ peer: string; bgpState: string; prefixesSent: number; bfdState: string }>;
      return sessions.length === 2 && sessions.every((s) => s.bgpState === 'Established' && s.prefixesSent >= 1 && s.bfdState === 'up');
    }, 20_000, 'the sessions in the status API').catch(async (err) => { throw new Error(`${err.message}: ${(await api('GET', 'clusters/host/sessions')).text}`); });
    await waitFor(async () => (await bird.routesFrom('frr_v4')).includes('10.250.100.0/24') && (await bird.routesFrom('frr_v6')).includes('fd00:250:100::/64'), 10_000, 'BIRD to receive the pool');

    const keyFile = join(cp.stateDir, 'agent', 'agent-key.jwk');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600, 'the private key is private');
    assert.equal((await status()).capabilities.frrVersion, install.version, 'the agent reports the FRR version it found');
    const listen = /serving \/healthz and \/metrics","listen":"([^"]+)"/.exec(agent!.output())?.[1];
    assert.ok(listen, agent!.output());
    assert.equal((await fetch(`http://${listen}/healthz`)).status, 200);
    const metrics = await (await fetch(`http://${listen}/metrics`)).text();
    assert.match(metrics, /metalfleet_agent_applies_total 1/);
    assert.match(metrics, /metalfleet_agent_sessions\{state="up"\} 2/);
    assert.doesNotMatch(readFileSync(keyFile, 'utf8'), /^$/);
  });

  test('a pool change through the API: the agent applies the new revision and BIRD receives the new prefix', async () => {
    const before = await status();
    const etag = (await api('GET', 'pools/web')).headers.get('etag')!;
    const res = await api('PATCH', 'pools/web', { cidrs: ['10.250.100.0/24', '10.250.101.0/24', 'fd00:250:100::/64'] }, { 'if-match': etag });
    assert.equal(res.status, 200, res.text);
    await waitFor(async () => (await bird.routesFrom('frr_v4')).includes('10.250.101.0/24'), 20_000, 'BIRD to receive 10.250.101.0/24');
    await waitFor(async () => { const s = await status(); return s.syncState === 'in-sync' && s.appliedRevision === before.desiredRevision + 1; }, 10_000, 'the new revision applied');
  });

  test('a reload FRR rejects: the last-known-good config is restored, the error reported, the sessions stay up', async () => {
    const before = await status();
    // Peering with its own address passes validation and `frr-reload.py --test`, and FRR refuses it.
    const res = await api('POST', 'peers', { name: 'oops', myASN: 65001, peerASN: 65003, peerAddress: '10.250.0.1', routerID: '10.250.0.1' });
    assert.equal(res.status, 201, res.text);
    await waitFor(async () => (await status()).syncState === 'failed', 20_000, 'the apply error reported');
    const failed = await status();
    assert.match(failed.lastApplyError, /Can not configure the local system as neighbor/);
    assert.match(failed.lastApplyError, /restored the last-known-good config/);
    assert.equal(failed.appliedRevision, before.appliedRevision, 'the applied revision stays the last good one');
    assert.equal(failed.desiredRevision, before.desiredRevision + 1);

    const running = (await frr.vtysh(['-c', 'show running-config'])).stdout;
    assert.doesNotMatch(running, /neighbor 10\.250\.0\.1 /, 'the rejected neighbor is not left behind');
    assert.match(running, /network 10\.250\.101\.0\/24/);
    await frr.waitEstablished(['10.250.0.2', 'fd00:250::2'], 5_000);
    assert.ok((await bird.routesFrom('frr_v4')).includes('10.250.101.0/24'), 'BIRD still has the prefixes');
    assert.equal(readFileSync(join(frr.dir, 'frr.conf'), 'utf8'), readFileSync(join(cp.stateDir, 'agent', 'last-known-good.frr.conf'), 'utf8'));

    // Fixing the intent clears it.
    assert.equal((await api('DELETE', 'peers/oops')).status, 204);
    await waitFor(async () => (await status()).syncState === 'in-sync', 20_000, 'in sync again');
  });
});
