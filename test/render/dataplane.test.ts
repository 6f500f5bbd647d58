// Data plane: a host frr.conf rendered by metalfleet, for one IPv4 and one IPv6 peer, runs in a
// real FRR in one network namespace; BIRD 2 (with BFD), then GoBGP, runs in another. Both
// sessions must reach Established and the peer must receive exactly the pool prefixes. On every
// FRR of the matrix (Debian's 8.4, FRR 10 from .ci/build-frr10).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { renderCluster } from '../../render/index.ts';
import { assertDataplane, dataplaneSkip, FRR_MATRIX, Lab, waitFor } from '../helpers/lab.ts';
import { intentFor } from './scenarios.ts';

const POOLS = [{ name: 'web', cidrs: ['10.250.100.0/24', 'fd00:250:100::/64'] }];
const PEERS = [
  { name: 'tor-v4', myASN: 65001, peerASN: 65002, peerAddress: '10.250.0.2', routerID: '10.250.0.1' },
  { name: 'tor-v6', myASN: 65001, peerASN: 65002, peerAddress: 'fd00:250::2', routerID: '10.250.0.1' },
];

function renderHostConfig(withBfd: boolean): string {
  const result = renderCluster(intentFor('frr', {
    pools: POOLS,
    peers: PEERS.map((p) => (withBfd ? { ...p, bfdProfile: 'fast' } : p)),
    bfdProfiles: withBfd ? [{ name: 'fast', receiveInterval: 200, transmitInterval: 200, detectMultiplier: 3 }] : [],
    communities: [],
    advertisements: [{ name: 'announce', type: 'bgp', communities: ['65001:100'] }],
  }));
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  return result.content;
}

const BIRD_CONF = (iface: string) => `
router id 10.250.0.2;
protocol device { scan time 1; }
protocol bfd { interface "${iface}" { min rx interval 200 ms; min tx interval 200 ms; }; }
template bgp frr {
  local as 65002;
  connect delay time 1; connect retry time 1; error wait time 1,5;
  bfd on;
}
protocol bgp frr_v4 from frr {
  local 10.250.0.2; neighbor 10.250.0.1 as 65001;
  ipv4 { import all; export none; };
}
protocol bgp frr_v6 from frr {
  local fd00:250::2; neighbor fd00:250::1 as 65001;
  ipv6 { import all; export none; };
}
`;

const GOBGP_CONF = `
[global.config]
  as = 65002
  router-id = "10.250.0.2"
[[neighbors]]
  [neighbors.config]
    neighbor-address = "10.250.0.1"
    peer-as = 65001
  [neighbors.timers.config]
    connect-retry = 1
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
[[neighbors]]
  [neighbors.config]
    neighbor-address = "fd00:250::1"
    peer-as = 65001
  [neighbors.timers.config]
    connect-retry = 1
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
`;

for (const target of FRR_MATRIX) describe(`rendered frr.conf against real BGP speakers on ${target.label}`, { concurrency: 1 }, () => {
  const labs: Lab[] = [];
  after(async () => { for (const lab of labs) await lab.teardown(); });

  test('FRR and BIRD 2: both sessions Established with BFD up, the pool prefixes received', { skip: dataplaneSkip(['frr', 'vtysh', 'bird', 'birdc'], target) }, async () => {
    const install = assertDataplane(['frr', 'vtysh', 'bird', 'birdc'], target);
    const lab = new Lab();
    labs.push(lab);
    const { frrNs, peerNs, peerIf } = await lab.twoHosts();
    const bird = await lab.startBird(peerNs, 'bird', BIRD_CONF(peerIf));
    const frr = await lab.startFrr(frrNs, 'frr', { frr: install, config: renderHostConfig(true) });

    await frr.waitEstablished(['10.250.0.2', 'fd00:250::2']);
    await waitFor(async () => (await frr.show<Array<{ status: string }>>('show bfd peers json')).filter((p) => p.status === 'up').length === 2,
      15_000, 'two BFD sessions up');
    await waitFor(async () => (await bird.routesFrom('frr_v4')).includes('10.250.100.0/24')
      && (await bird.routesFrom('frr_v6')).includes('fd00:250:100::/64'), 10_000, 'BIRD to receive the pool prefixes');

    // Each family goes only to its own peer, and nothing else is announced.
    assert.deepEqual(await bird.routesFrom('frr_v4'), ['10.250.100.0/24']);
    assert.deepEqual(await bird.routesFrom('frr_v6'), ['fd00:250:100::/64']);
    // The advertisement's community reaches the peer.
    const detail = await bird.birdc(['show', 'route', 'for', '10.250.100.0/24', 'all']);
    assert.match(detail, /BGP\.community:.*\(65001,100\)/);
  });

  test('FRR and GoBGP: both sessions Established, the pool prefixes received', { skip: dataplaneSkip(['frr', 'vtysh', 'gobgpd', 'gobgp'], target) }, async () => {
    const install = assertDataplane(['frr', 'vtysh', 'gobgpd', 'gobgp'], target);
    const lab = new Lab();
    labs.push(lab);
    const { frrNs, peerNs } = await lab.twoHosts();
    const gobgp = await lab.startGobgp(peerNs, 'gobgp', GOBGP_CONF);
    const frr = await lab.startFrr(frrNs, 'frr', { frr: install, config: renderHostConfig(false), daemons: ['zebra', 'bgpd'] });

    await frr.waitEstablished(['10.250.0.2', 'fd00:250::2']);
    await waitFor(async () => (await gobgp.prefixes('ipv4')).includes('10.250.100.0/24')
      && (await gobgp.prefixes('ipv6')).includes('fd00:250:100::/64'), 10_000, 'GoBGP to receive the pool prefixes');
    assert.deepEqual(await gobgp.prefixes('ipv4'), ['10.250.100.0/24']);
    assert.deepEqual(await gobgp.prefixes('ipv6'), ['fd00:250:100::/64']);
  });
});
