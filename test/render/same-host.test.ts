// Same-host peering over 127/8, on real daemons: the host FRR (bgpd -p 0, as MetalLB runs it) with
// the project's rendered local-peering config (`allow-reserved-ranges`, neighbor 127.0.0.1 port
// 1790, ebgp-multihop) and BIRD 2 in the same "host" namespace; a second namespace is the ToR,
// peering with the host's BIRD over a veth. Shows:
// - FRR 10.3: the session establishes and BIRD learns the pool with the node's address as next hop,
//   which the render sets towards a 127/8 peer (`set ip next-hop <node address>`); the ToR reaches a
//   VIP over eBGP and over iBGP. Without that line FRR sends 127.0.0.1 (BIRD does not resolve it)
//   and an iBGP ToR installs a black hole unless BIRD sets `next hop self`.
// - FRR 8.4: the same config never establishes (`nexthop_set failed`): why the render refuses
//   127/8 peering before FRR 9 (`local-peering-needs-frr-9`).
// Addresses: node 10.250.0.1/30 (host) and 10.250.0.2/30 (ToR) on the veth, the pool's VIP
// 10.250.100.1/32 on the host's lo. FRR AS 65001, host BIRD AS 65010, ToR AS 65002 (eBGP) or
// 65010 (iBGP).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  assertDataplane, dataplaneSkip, DEBIAN_FRR, FRR10, Lab, sh, tcpProbe, waitFor, type BirdInstance, type FrrInstance,
} from '../helpers/lab.ts';
import { renderHostConfigFor } from './scenarios.ts';

const NODE = '10.250.0.1';
const TOR = '10.250.0.2';
const POOL = '10.250.100.0/24';
const VIP = '10.250.100.1';
const LOCAL_PEER = '127.0.0.1';
const TOOLS = ['frr', 'vtysh', 'bird', 'birdc'];

/** The project's render of the local-peering scenario for a cluster reporting `frrVersion`. */
const localPeeringConfig = (frrVersion: string) => renderHostConfigFor('local-peering-frr-9.1', frrVersion);

/** How often bgpd has logged `nexthop_set failed` so far. */
const nexthopSetFailures = (frr: FrrInstance) => (readFileSync(join(frr.dir, 'bgpd.log'), 'utf8').match(/nexthop_set failed/g) ?? []).length;

/**
 * The host's BIRD: FRR's local peer (it listens on 127.0.0.1:1790; FRR dials, as bgpd runs with
 * -p 0, so BIRD is passive; a 127/8 neighbor needs `multihop`), and the ToR over the veth, to
 * which it exports what FRR announces.
 */
function hostBird(opts: { torAS: number; nextHopSelf: boolean }): string {
  return `
router id ${NODE};
protocol device { scan time 1; }
protocol direct { ipv4; interface "*"; }
protocol bgp frr {
  local ${LOCAL_PEER} port 1790 as 65010; neighbor ${LOCAL_PEER} as 65001;
  multihop; passive on;
  connect delay time 1; connect retry time 1; error wait time 1,5;
  ipv4 { import all; export none; };
}
protocol bgp tor {
  local ${NODE} as 65010; neighbor ${TOR} as ${opts.torAS};
  connect delay time 1; connect retry time 1; error wait time 1,5;
  ipv4 { import none; export where proto = "frr";${opts.nextHopSelf ? ' next hop self;' : ''} };
}
`;
}

/** The ToR: learns from the host's BIRD and installs into its kernel. */
function torBird(torAS: number): string {
  return `
router id ${TOR};
protocol device { scan time 1; }
protocol direct { ipv4; interface "*"; }
protocol kernel { ipv4 { export all; import none; }; }
protocol bgp host {
  local ${TOR} as ${torAS}; neighbor ${NODE} as 65010;
  connect delay time 1; connect retry time 1; error wait time 1,5;
  ipv4 { import all; export none; };
}
`;
}

/** How a BIRD holds the pool: `unreachable`, or the gateway it resolved, and BGP.next_hop. */
async function poolRoute(bird: BirdInstance): Promise<{ dest: string; nextHop: string | undefined } | undefined> {
  const out = await bird.birdc(['show', 'route', 'for', POOL, 'all']);
  const first = new RegExp(`^${POOL.replace(/[./]/g, '\\$&')}\\s+(\\S+)`, 'm').exec(out);
  if (!first) return undefined;
  const via = /^\s+via (\S+) on /m.exec(out)?.[1];
  return { dest: first[1] === 'unicast' && via ? `via ${via}` : first[1]!, nextHop: /BGP\.next_hop: (\S+)/.exec(out)?.[1] };
}

async function waitPoolRoute(bird: BirdInstance, want: { dest: string; nextHop: string }, what: string): Promise<void> {
  let last: Awaited<ReturnType<typeof poolRoute>>;
  await waitFor(async () => {
    last = await poolRoute(bird);
    return last?.dest === want.dest && last.nextHop === want.nextHop;
  }, 15_000, what).catch((err) => { throw new Error(`${(err as Error).message}: last ${JSON.stringify(last)}`); });
}

async function kernelPoolRoute(ns: string): Promise<string> {
  return (await sh('ip', ['-n', ns, 'route', 'show', POOL])).stdout.trim();
}

async function frrNeighbor(frr: FrrInstance): Promise<{ bgpState?: string; lastResetDueTo?: string; connectionsEstablished?: number }> {
  return (await frr.show<Record<string, { bgpState?: string; lastResetDueTo?: string; connectionsEstablished?: number }>>(`show bgp neighbors ${LOCAL_PEER} json`))[LOCAL_PEER] ?? {};
}

describe('same-host peering over 127.0.0.0/8 with BIRD 2', { concurrency: 1 }, () => {
  const labs: Lab[] = [];
  after(async () => { for (const lab of labs) await lab.teardown(); });

  test(`${FRR10.label}: the rendered local-peering config establishes with BIRD on the same host, and the pool reaches a ToR with a usable next hop`, { skip: dataplaneSkip(TOOLS, FRR10) }, async (t) => {
    const frr10 = assertDataplane(TOOLS, FRR10);
    const rendered = localPeeringConfig(frr10.version);
    assert.ok(rendered.ok, JSON.stringify(!rendered.ok && rendered.problems));
    assert.match(rendered.content, /^allow-reserved-ranges\n/);
    assert.match(rendered.content, /neighbor 127\.0\.0\.1 port 1790/);

    const lab = new Lab();
    labs.push(lab);
    const { frrNs: hostNs, peerNs: torNs } = await lab.twoHosts();
    await lab.address(hostNs, 'lo', `${VIP}/32`);
    await lab.startTcpService(hostNs, VIP, 8080, 'vip');
    const tor = await lab.startBird(torNs, 'bird-tor', torBird(65002));
    const bird = await lab.startBird(hostNs, 'bird-host', hostBird({ torAS: 65002, nextHopSelf: false }));
    const frr = await lab.startFrr(hostNs, 'frr', { frr: frr10, config: rendered.content, bgpdArgs: ['-p', '0'], daemons: ['zebra', 'bgpd'] });

    // zebra learned lo's 127.0.0.1/8 before `allow-reserved-ranges` arrived (vtysh -b, as at any
    // boot), so it ignored it (martian then) and never learns it again: 127.0.0.1 does not
    // resolve, and FRR does not even dial.
    await waitFor(async () => {
      const nh = (await frr.show<{ ipv4?: Record<string, { valid?: boolean }> }>('show bgp nexthop json')).ipv4?.[LOCAL_PEER];
      const n = await frrNeighbor(frr);
      return nh?.valid === false && n.bgpState === 'Active' && n.lastResetDueTo === 'No path to specified Neighbor';
    }, 15_000, `FRR to find no path to ${LOCAL_PEER}`);
    const lo = await frr.show<{ lo: { ipAddresses: Array<{ address: string }> } }>('show interface lo json');
    assert.deepEqual(lo.lo.ipAddresses.map((a) => a.address), [`${VIP}/32`], 'zebra knows no 127.0.0.1/8');
    t.diagnostic('without a route to 127.0.0.1: Active, "No path to specified Neighbor" (zebra learned lo before the knob)');

    // A node has a default route; `ip nht resolve-via-default` (rendered) resolves the peer through
    // it, and bgpd binds the session to the VRF's loopback (FRR >= 9 with the knob).
    await sh('ip', ['-n', hostNs, 'route', 'add', 'default', 'via', TOR]);
    await frr.waitEstablished([LOCAL_PEER]);

    // BIRD has the pool from FRR with the node's address as next hop: the render sets it towards a
    // 127/8 peer. BIRD holds it as unreachable (its own address) and passes it on.
    assert.match(rendered.content, /^ {2}set ip next-hop 10\.250\.0\.1$/m);
    await waitPoolRoute(bird, { dest: 'unreachable', nextHop: NODE }, 'the host BIRD to learn the pool from FRR');
    assert.deepEqual(await bird.routesFrom('frr'), [POOL]);

    // 1. BIRD → ToR over eBGP: eBGP rewrites the next hop to its own address anyway: usable; a VIP
    //    answers the ToR.
    await waitPoolRoute(tor, { dest: `via ${NODE}`, nextHop: NODE }, 'the ToR (eBGP) to learn the pool via the node address');
    assert.match(await kernelPoolRoute(torNs), new RegExp(`^${POOL.replace(/\./g, '\\.')} via ${NODE.replace(/\./g, '\\.')} `));
    assert.deepEqual(await tcpProbe(torNs, VIP, 8080), { ok: true, detail: 'vip' });
    t.diagnostic('eBGP BIRD -> ToR: ToR has the pool via the node address, the VIP answers');

    // 2. BIRD → ToR over iBGP, BIRD's defaults: iBGP passes FRR's next hop on unchanged, and it is the
    //    node address (the render's `set ip next-hop`): usable.
    await tor.reconfigure(torBird(65010));
    await bird.reconfigure(hostBird({ torAS: 65010, nextHopSelf: false }));
    await waitPoolRoute(tor, { dest: `via ${NODE}`, nextHop: NODE }, 'the ToR (iBGP) to learn the pool via the node address (FRR set ip next-hop)');
    assert.deepEqual(await tcpProbe(torNs, VIP, 8080), { ok: true, detail: 'vip' });
    t.diagnostic('iBGP BIRD -> ToR with the rendered "set ip next-hop 10.250.0.1": ToR has the pool via the node address');

    // 3. Without that line FRR sends 127.0.0.1, iBGP passes it on, and the ToR installs the pool as
    //    unreachable: a black hole.
    const unset = await frr.vtysh(['-c', 'configure terminal', '-c', `route-map ${LOCAL_PEER}-out permit 1`, '-c', `no set ip next-hop ${NODE}`]);
    assert.equal(unset.code, 0, unset.stderr + unset.stdout);
    assert.equal((await frr.vtysh(['-c', `clear bgp ipv4 unicast ${LOCAL_PEER} soft out`])).code, 0);
    await waitPoolRoute(bird, { dest: 'unreachable', nextHop: LOCAL_PEER }, 'the host BIRD to get next hop 127.0.0.1 from FRR');
    await waitPoolRoute(tor, { dest: 'unreachable', nextHop: LOCAL_PEER }, 'the ToR (iBGP) to hold the pool with next hop 127.0.0.1');
    assert.match(await kernelPoolRoute(torNs), /^unreachable /);
    assert.equal((await tcpProbe(torNs, VIP, 8080)).ok, false, 'the VIP is unreachable from the ToR');
    t.diagnostic('iBGP without the line: ToR gets next hop 127.0.0.1 and installs the pool as unreachable');

    // 4. iBGP with BIRD's `next hop self` on its export to the ToR (the operator's side): usable again.
    await bird.reconfigure(hostBird({ torAS: 65010, nextHopSelf: true }));
    await waitPoolRoute(tor, { dest: `via ${NODE}`, nextHop: NODE }, 'the ToR to learn the pool via the node address (BIRD next hop self)');
    assert.deepEqual(await tcpProbe(torNs, VIP, 8080), { ok: true, detail: 'vip' });
    t.diagnostic('iBGP + BIRD "next hop self" on the ToR channel: ToR has the pool via the node address');

    // 5. The knob is what makes it work on FRR 10: without it the session does not come back.
    const before = nexthopSetFailures(frr);
    assert.equal((await frr.vtysh(['-c', 'configure terminal', '-c', 'no allow-reserved-ranges'])).code, 0);
    assert.equal((await frr.vtysh(['-c', `clear bgp ${LOCAL_PEER}`])).code, 0);
    await waitFor(() => nexthopSetFailures(frr) > before, 20_000, 'bgpd 10 without the knob to log nexthop_set failed');
    assert.notEqual((await frrNeighbor(frr)).bgpState, 'Established');
    t.diagnostic('no allow-reserved-ranges on FRR 10: nexthop_set failed, the session stays down');
  });

  test(`${DEBIAN_FRR.label}: the same config never establishes (nexthop_set failed), which is why the render refuses it before FRR 9`, { skip: dataplaneSkip(TOOLS) }, async () => {
    const frr84 = assertDataplane(TOOLS);
    const refused = localPeeringConfig(frr84.version);
    assert.deepEqual(!refused.ok && refused.problems.map((p) => p.code), ['local-peering-needs-frr-9']);
    // What a node on FRR >= 9 gets, loaded into 8.4 (which accepts every line of it).
    const config = localPeeringConfig('9.1.0');
    assert.ok(config.ok);

    const lab = new Lab();
    labs.push(lab);
    const { frrNs: hostNs } = await lab.twoHosts();
    await sh('ip', ['-n', hostNs, 'route', 'add', 'default', 'via', TOR]);
    const bird = await lab.startBird(hostNs, 'bird-host', hostBird({ torAS: 65002, nextHopSelf: false }));
    const frr = await lab.startFrr(hostNs, 'frr', { frr: frr84, config: config.content, bgpdArgs: ['-p', '0'], daemons: ['zebra', 'bgpd'] });
    assert.match((await frr.vtysh(['-c', 'show running-config'])).stdout, /^allow-reserved-ranges$/m, '8.4 takes the knob');

    // FRR dials (the default route resolves the peer), the TCP connection comes up, and bgpd drops
    // it: 8.4 finds no interface for the local address 127.0.0.1 (no loopback fallback before 9.0).
    await waitFor(() => nexthopSetFailures(frr) >= 2, 20_000, 'bgpd 8.4 to log nexthop_set failed, twice');
    assert.match(readFileSync(join(frr.dir, 'bgpd.log'), 'utf8'), /127\.0\.0\.1: nexthop_set failed, resetting connection/);
    const n = await frrNeighbor(frr);
    assert.notEqual(n.bgpState, 'Established');
    assert.equal(n.connectionsEstablished ?? 0, 0, 'never established');
    assert.deepEqual(await bird.routesFrom('frr'), [], 'BIRD learned nothing');
  });
});
