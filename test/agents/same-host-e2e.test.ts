// Same-host peering end to end on FRR 10.3: the control plane renders a 127.0.0.1 local peer for a
// host FRR cluster whose agent (`metalfleet agent --mode frr`, FRR 10 from .ci/build-frr10) reports
// FRR 10.3 and the node's address; the agent applies it; FRR (bgpd -p 0, as MetalLB runs it)
// establishes with the host's own BIRD over 127.0.0.1:1790; BIRD passes the pool over iBGP to a
// second router, the ToR (BIRD in a namespace of its own), which gets it via the node address
// (the next hop FRR sets towards its local peer; iBGP passes it on unchanged) and reaches a VIP.
// A cluster whose agent reports FRR 8.4 has the same local peer refused, with the node-address
// remedy. Addresses as in test/render/same-host.test.ts: node 10.250.0.1/30, ToR 10.250.0.2/30,
// VIP 10.250.100.1/32 on the host's lo; FRR AS 65001, BIRD (host and ToR) AS 65010.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentClient, generateAgentKey } from '../../agents/client.ts';
import { seedApiTenant, type Harness } from '../helpers/api.ts';
import { spawnAgent, startControlPlane, type AgentProcess, type ControlPlane } from '../helpers/agent-e2e.ts';
import {
  assertDataplane, dataplaneSkip, FRR10, Lab, sh, tcpProbe, waitFor, type BirdInstance, type FrrInstall, type FrrInstance,
} from '../helpers/lab.ts';

const TOOLS = ['frr', 'vtysh', 'frr-reload', 'bird', 'birdc'];
const NODE = '10.250.0.1';
const TOR = '10.250.0.2';
const POOL = '10.250.100.0/24';
const VIP = '10.250.100.1';

/** The host's own BIRD: FRR's local peer (passive, multihop for 127/8) and the ToR over iBGP, without next hop self. */
const HOST_BIRD = `router id ${NODE};
protocol device { scan time 1; }
protocol bgp frr {
  local 127.0.0.1 port 1790 as 65010; neighbor 127.0.0.1 as 65001;
  multihop; passive on; connect delay time 1; connect retry time 1; error wait time 1,5;
  ipv4 { import all; export none; };
}
protocol bgp tor {
  local ${NODE} as 65010; neighbor ${TOR} as 65010;
  connect delay time 1; connect retry time 1; error wait time 1,5;
  ipv4 { import none; export where proto = "frr"; };
}
`;

/** The ToR: installs what it learns, resolving next hops through its connected route. */
const TOR_BIRD = `router id ${TOR};
protocol device { scan time 1; }
protocol direct { ipv4; interface "*"; }
protocol kernel { ipv4 { export all; import none; }; }
protocol bgp host {
  local ${TOR} as 65010; neighbor ${NODE} as 65010;
  connect delay time 1; connect retry time 1; error wait time 1,5;
  ipv4 { import all; export none; };
}
`;

describe(`same-host peering end to end on ${FRR10.label}: agent, local BIRD, ToR`, { skip: dataplaneSkip(TOOLS, FRR10), concurrency: 1 }, () => {
  let lab: Lab;
  let cp: ControlPlane;
  let h: Harness;
  let agent: AgentProcess | undefined;
  let install: FrrInstall;
  let frr: FrrInstance;
  let hostBird: BirdInstance;
  let tor: BirdInstance;
  let torNs: string;
  let t: Awaited<ReturnType<typeof seedApiTenant>>;
  const api = (method: string, path: string, body?: unknown) => h.call(method, `/v1/tenants/${t.slug}/${path}`, { token: t.tenantAdmin, body });
  const status = async (cluster = 'host') => (await api('GET', `clusters/${cluster}/status`)).body;

  before(async () => {
    install = assertDataplane(TOOLS, FRR10);
    lab = new Lab();
    cp = await startControlPlane();
    h = cp.h;
    t = await seedApiTenant(h, 'samehost');
    assert.equal((await h.call('POST', `/v1/tenants/${t.slug}/grants`, { token: t.admin, body: { cidr: '10.250.96.0/20' } })).status, 201);
    assert.equal((await h.call('PUT', `/v1/tenants/${t.slug}/policy`, { token: t.admin,
      body: { allowedASNs: [{ from: 65000, to: 65100 }], allowedPeerCIDRs: ['10.250.0.0/16'], allowLocalPeering: true } })).status, 200);
    for (const [name, site] of [['host', 'new'], ['old', 'old']]) {
      assert.equal((await api('POST', 'clusters', { name, backend: 'frr', labels: { site } })).status, 201);
    }

    const lanes = await lab.twoHosts();
    const hostNs = lanes.frrNs;
    torNs = lanes.peerNs;
    await lab.address(hostNs, 'lo', `${VIP}/32`);
    await lab.startTcpService(hostNs, VIP, 8080, 'vip');
    // A node has a default route: through it FRR resolves 127.0.0.1 (docs/frr-10.md).
    await sh('ip', ['-n', hostNs, 'route', 'add', 'default', 'via', TOR]);
    tor = await lab.startBird(torNs, 'bird-tor', TOR_BIRD);
    hostBird = await lab.startBird(hostNs, 'bird-host', HOST_BIRD);
    frr = await lab.startFrr(hostNs, 'frr', { frr: install, config: 'hostname host\n', bgpdArgs: ['-p', '0'], daemons: ['zebra', 'bgpd'] });
  });

  after(async () => {
    await agent?.stop();
    await cp?.close();
    await lab?.teardown();
  });

  const localPeer = (site: string) => ({
    name: `node-bird-${site}`, myASN: 65001, peerASN: 65010, peerAddress: '127.0.0.1', peerPort: 1790, ebgpMultiHop: true,
    localPeering: true, clusterSelector: { matchLabels: { site } },
  });

  test('FRR 8.4 (as its agent reports): the 127.0.0.1 peer is refused, with the node-address remedy', async () => {
    const minted = await api('POST', 'clusters/old/enrollment-tokens', { ttl: '10m' });
    await new AgentClient({ baseUrl: cp.url }).enroll(minted.body.token, {
      privateJwk: await generateAgentKey(), agentVersion: 'test', capabilities: { frrVersion: '8.4.4', nodeAddresses: ['10.250.0.5'] },
    });
    const refused = await api('POST', 'peers', localPeer('old'));
    assert.equal(refused.status, 422, refused.text);
    const errors = refused.body.errors as Array<{ path: string; code: string; message: string }>;
    assert.deepEqual(errors.map((e) => [e.path, e.code]), [['clusters/old/peers/node-bird-old/peerAddress', 'local-peering-needs-frr-9']]);
    assert.match(errors[0]!.message, /peer via the node address instead of 127\.0\.0\.0\/8/);
  });

  test('FRR 10.3: applied by the agent, Established with the local BIRD, and the ToR reaches a VIP via the node address', async () => {
    const minted = await api('POST', 'clusters/host/enrollment-tokens', { ttl: '10m' });
    agent = spawnAgent(cp, minted.body.token, ['--mode', 'frr', '--node-name', 'host-1', '--node-address', NODE,
      '--frr-conf', join(frr.dir, 'frr.conf'), '--vtysh', install.vtysh, '--frr-reload', install.reload, '--vty-socket', frr.dir,
      '--frr-confdir', frr.dir, '--frr-rundir', frr.dir]);
    await waitFor(async () => (await status()).capabilities?.frrVersion === install.version, 30_000, 'the agent to report FRR 10')
      .catch((err) => { throw new Error(`${err.message}\n${agent!.output()}`); });
    assert.deepEqual((await status()).capabilities.nodeAddresses, [NODE]);

    for (const [path, body] of [['pools', { name: 'web', cidrs: [POOL] }], ['peers', localPeer('new')],
      ['bgp-advertisements', { name: 'announce' }]] as const) {
      const res = await api('POST', path, body);
      assert.equal(res.status, 201, `${path}: ${res.text}`);
    }
    await waitFor(async () => (await status()).syncState === 'in-sync', 30_000, 'the cluster to be in sync')
      .catch((err) => { throw new Error(`${err.message}\n${agent!.output()}`); });
    const applied = readFileSync(join(frr.dir, 'frr.conf'), 'utf8');
    assert.match(applied, /^allow-reserved-ranges\n/);
    assert.match(applied, /^route-map 127\.0\.0\.1-out permit 1\n {2}match ip address prefix-list allowed-ipv4\n {2}set ip next-hop 10\.250\.0\.1$/m);

    await frr.waitEstablished(['127.0.0.1'], 30_000);
    // The host's BIRD holds the pool with the node address as next hop (its own: unreachable there,
    // harmless, the VIPs are local) and passes it over iBGP unchanged; the ToR resolves it.
    const torRoute = async () => (await sh('ip', ['-n', torNs, 'route', 'show', POOL])).stdout.trim();
    await waitFor(async () => (await torRoute()).startsWith(`${POOL} via ${NODE} `), 20_000, 'the ToR to install the pool via the node address')
      .catch(async (err) => { throw new Error(`${err.message}: ${await torRoute()}\n${await tor.birdc(['show', 'route', 'all'])}`); });
    assert.match(await hostBird.birdc(['show', 'route', 'for', POOL, 'all']), /BGP\.next_hop: 10\.250\.0\.1/);
    assert.deepEqual(await tcpProbe(torNs, VIP, 8080), { ok: true, detail: 'vip' });
    const sessions = (await api('GET', 'clusters/host/sessions')).body.items as Array<{ peer: string; bgpState: string; prefixesSent: number }>;
    assert.deepEqual(sessions.map((s) => [s.peer, s.bgpState]), [['127.0.0.1', 'Established']]);
  });
});
