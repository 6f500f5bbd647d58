// The health parsers on real outputs (FRR 8.4.4 against BIRD 2 and GoBGP, healthy and peer-down).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { configurationErrors, frrVersionFrom, sessionsFromBgpSessionStates, sessionsFromFrr, sessionsFromSpeakerMetrics } from '../../agents/health.ts';

const sample = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/frr-8.4.4/${name}`, import.meta.url), 'utf8'));

test('FRR neighbors with BFD: Established, BFD up, prefixes counted', () => {
  const sessions = sessionsFromFrr('host-1', sample('bird-show_bgp_neighbors.json'), sample('bird-show_bfd_peers.json'));
  const v4 = sessions.find((s) => s.peer === '10.250.0.2')!;
  assert.equal(v4.bgpState, 'Established');
  assert.equal(v4.bfdState, 'up');
  assert.equal(v4.prefixesReceived, 1);
  assert.equal(v4.prefixesSent, 1);
  assert.equal(v4.uptimeSeconds, 2);
  assert.ok(sessions.some((s) => s.peer === 'fd00:250::2'), 'the IPv6 session too');
});

test('a peer that went down: Idle, BFD down, the reset reason, no uptime', () => {
  const [s] = sessionsFromFrr('host-1', sample('down-show_bgp_neighbors_10.250.0.2.json'), sample('down-show_bfd_peers.json'));
  assert.deepEqual([s!.bgpState, s!.bfdState, s!.uptimeSeconds, s!.lastResetReason, s!.prefixesReceived], ['Idle', 'down', null, 'BFD down received', 0]);
});

test('a reset reason only with the reset it belongs to', () => {
  // Against GoBGP the session came up at the first try (connectionsDropped 0), yet FRR says
  // "Waiting for peer OPEN" about it: no reset, so no reason.
  const fresh = sessionsFromFrr('h', sample('gobgp-show_bgp_neighbors.json'));
  assert.deepEqual(fresh.map((s) => [s.peer, s.bgpState, s.lastResetReason]), [['10.250.0.2', 'Established', null], ['fd00:250::2', 'Established', null]]);
  // Against BIRD each session was reset once (BFD, a NOTIFICATION) and came back: the reasons of those resets.
  const reset = sessionsFromFrr('h', sample('bird-show_bgp_neighbors.json'));
  assert.deepEqual(reset.map((s) => [s.peer, s.bgpState, s.lastResetReason]),
    [['10.250.0.2', 'Established', 'BFD down received'], ['fd00:250::2', 'Established', 'BGP Notification received']]);
});

test('`vrf all` output is keyed by VRF', () => {
  const neighbors = sample('gobgp-show_bgp_neighbors.json');
  const sessions = sessionsFromFrr('h', { default: { vrfId: 0, vrfName: 'default', ...neighbors }, red: { vrfId: 5, vrfName: 'red', ...neighbors } });
  assert.deepEqual([...new Set(sessions.map((s) => s.vrf))], ['', 'red']);
  assert.equal(sessions.filter((s) => s.vrf === 'red').length, sessions.length / 2);
});

test('FRR version, frr-k8s session states, MetalLB configuration states and speaker metrics', () => {
  assert.equal(frrVersionFrom('FRRouting 8.4.4 (vm) on Linux(6.1.0).\nCopyright 1996-2005'), '8.4.4');
  assert.deepEqual(sessionsFromBgpSessionStates([
    { status: { node: 'w1', peer: '10.0.0.1', vrf: '', bgpStatus: 'Established', bfdStatus: 'Up' } },
    { status: { node: 'w2', peer: 'fd00::1', bgpStatus: 'Active', bfdStatus: 'N/A' } },
  ]).map((s) => [s.node, s.peer, s.bgpState, s.bfdState]), [['w1', '10.0.0.1', 'Established', 'up'], ['w2', 'fd00::1', 'Active', null]]);
  assert.deepEqual(configurationErrors([
    { metadata: { name: 'speaker-w1' }, status: { result: 'Valid' } },
    { metadata: { name: 'controller' }, status: { result: 'Invalid', errorSummary: 'peer tor-a: invalid hold time' } },
  ]), ['controller: peer tor-a: invalid hold time']);
  const metrics = '# HELP metallb_bgp_session_up BGP session state (1 is up, 0 is down)\n'
    + '# TYPE metallb_bgp_session_up gauge\n'
    + 'metallb_bgp_session_up{peer="192.168.1.1:179"} 1\n'
    + 'metallb_bgp_session_up{peer="fd00::1:179"} 0\n'
    + 'metallb_bgp_updates_total{peer="192.168.1.1:179"} 12\n';
  assert.deepEqual(sessionsFromSpeakerMetrics('w1', metrics).map((s) => [s.peer, s.bgpState]), [['192.168.1.1', 'Established'], ['fd00::1', 'Idle']]);
});
