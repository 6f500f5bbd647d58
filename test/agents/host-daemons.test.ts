// The BIRD and GoBGP appliers and collectors without daemons: their parsers on real outputs (BIRD
// 2.0.12, GoBGP 3.10.0), the apply flow against recording runners (the real daemons run in
// host-daemons-e2e.test.ts), GoBGP's two-step reload of changed neighbors against a fake gobgpd
// that behaves as 3.10's SIGHUP handler does, and where the node's address comes from.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BirdHost } from '../../agents/bird.ts';
import { announcedIn, GobgpHost, gobgpdErrorMessage, neighborBlocks, RENDERED_HEADER } from '../../agents/gobgp.ts';
import { birdVersionFrom, gobgpVersionFrom, sessionsFromBird, sessionsFromGobgp } from '../../agents/health.ts';
import type { CommandResult, Runner } from '../../agents/host-daemon.ts';
import { nodeAddresses } from '../../agents/node.ts';

const fixture = (path: string) => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');
const golden = (path: string) => readFileSync(new URL(`../render/golden/${path}`, import.meta.url), 'utf8');
const ok = (stdout = ''): CommandResult => ({ code: 0, stdout, stderr: '' });

function scratch(): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'mf-hostd-'));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

describe('collectors', () => {
  test('BIRD: BGP protocols with state, neighbor, routes, last error; BFD states lowercased; the version', () => {
    const now = new Date();
    now.setHours(22, 8, 17, 404);
    const sessions = sessionsFromBird('h', fixture('bird-2.0.12/show_protocols_all.txt'), fixture('bird-2.0.12/show_bfd_sessions.txt'), now);
    assert.deepEqual(sessions.map((s) => [s.peer, s.bgpState, s.bfdState, s.uptimeSeconds, s.prefixesReceived, s.prefixesSent, s.lastResetReason]), [
      ['10.250.0.2', 'Established', 'down', 7, 0, 1, null],
      ['10.250.0.3', 'Idle', null, null, 0, 0, null],
      ['fd00:250::2', 'Idle', null, null, 0, 0, 'BGP Error: Bad peer AS'],
    ]);
    const up = sessionsFromBird('h', fixture('bird-2.0.12/show_protocols_all.txt'), fixture('bird-2.0.12/show_bfd_sessions_up.txt'), now);
    assert.equal(up[0]!.bfdState, 'up');
    assert.equal(birdVersionFrom(fixture('bird-2.0.12/show_status.txt')), '2.0.12');
  });

  test('GoBGP: `gobgp neighbor -j` sessions, and `gobgpd --version`', () => {
    const sessions = sessionsFromGobgp('h', JSON.parse(fixture('frr-8.4.4/gobgp-neighbor.json')), new Date(1795559364_000));
    assert.deepEqual(sessions.map((s) => [s.peer, s.bgpState, s.uptimeSeconds, s.prefixesReceived]),
      [['10.250.0.1', 'Established', 10, 1], ['fd00:250::1', 'Established', 10, 1]]);
    assert.deepEqual(sessionsFromGobgp('h', [{ state: { neighbor_address: '10.0.0.1', session_state: 3 } }]).map((s) => s.bgpState), ['Active']);
    assert.equal(gobgpVersionFrom('gobgpd version 3.10.0\n'), '3.10.0');
  });
});

describe('BIRD applier', () => {
  function host(dir: string, answers: (args: string[]) => CommandResult) {
    const calls: string[][] = [];
    const run: Runner = async (cmd, args) => { calls.push([cmd, ...args]); return answers(args); };
    const conf = join(dir, 'bird.conf');
    writeFileSync(conf, 'router id 10.250.0.1;\n');
    return { calls, conf, bird: new BirdHost({ confFile: conf, birdc: 'birdc', socket: join(dir, 'bird.ctl'), stateDir: join(dir, 'state'), node: 'n', run }) };
  }

  test('BIRD checks a candidate next to bird.conf, then reconfigures from bird.conf', async () => {
    const { dir, done } = scratch();
    try {
      const { calls, conf, bird } = host(dir, (a) => ok(a.includes('check') ? 'BIRD 2.0.12 ready.\nConfiguration OK\n' : 'Reconfigured\n'));
      assert.deepEqual(await bird.apply({ revision: 3, backend: 'bird', content: 'new\n', sha256: '' }), { ok: true });
      assert.deepEqual(calls, [
        ['birdc', '-s', join(dir, 'bird.ctl'), 'configure', 'check', `"${join(dir, '.metalfleet-candidate.bird.conf')}"`],
        ['birdc', '-s', join(dir, 'bird.ctl'), 'configure', `"${conf}"`],
      ]);
      assert.equal(readFileSync(conf, 'utf8'), 'new\n');
      assert.equal(readFileSync(bird.lastKnownGood, 'utf8'), 'new\n');
      assert.ok(!existsSync(join(dir, '.metalfleet-candidate.bird.conf')), 'the candidate is removed');
    } finally { done(); }
  });

  test('a candidate BIRD refuses is never written; a reconfiguration it rejects is rolled back', async () => {
    const { dir, done } = scratch();
    try {
      const refusing = host(dir, () => ({ code: 1, stdout: 'BIRD 2.0.12 ready.\nReading configuration from x\nx:6:1 Link-local addresses require defined interface\n', stderr: '' }));
      const refused = await refusing.bird.apply({ revision: 4, backend: 'bird', content: 'bad\n', sha256: '' });
      assert.deepEqual(refused, { ok: false, error: 'BIRD refused revision 4 (test): x:6:1 Link-local addresses require defined interface' });
      assert.equal(readFileSync(refusing.conf, 'utf8'), 'router id 10.250.0.1;\n');

      let configures = 0;
      const rejecting = host(dir, (a) => (a.includes('check') ? ok('Configuration OK\n')
        : ++configures === 1 ? { code: 1, stdout: 'bird.conf:2:1 something BIRD will not take\n', stderr: '' } : ok('Reconfigured\n')));
      const rejected = await rejecting.bird.apply({ revision: 5, backend: 'bird', content: 'worse\n', sha256: '' });
      assert.deepEqual(rejected, { ok: false, error: 'BIRD rejected revision 5: bird.conf:2:1 something BIRD will not take; restored the last-known-good config' });
      assert.equal(readFileSync(rejecting.conf, 'utf8'), 'router id 10.250.0.1;\n');
    } finally { done(); }
  });
});

/**
 * gobgpd as far as the agent sees it: on SIGHUP it reads the file and applies it as 3.10 does
 * (neighbors added and deleted, only the first changed neighbor updated, the global part ignored).
 */
function fakeGobgpd(conf: string) {
  const read = () => {
    const text = readFileSync(conf, 'utf8');
    return { blocks: neighborBlocks(text).blocks, as: /^\s*as = (\d+)/m.exec(text)?.[1],
      policies: [...text.matchAll(/^\[\[policy-definitions\]\]\n\s*name = "([^"]+)"/gm)].map((m) => m[1]!) };
  };
  const initial = read();
  const state = { as: initial.as, neighbors: new Map(initial.blocks), policies: initial.policies, routes: new Set<string>(), hups: 0, updated: [] as string[] };
  const hangUp = () => {
    state.hups++;
    const next = read();
    let updatedOne = false;
    for (const [address, block] of next.blocks) {
      if (!state.neighbors.has(address)) state.neighbors.set(address, block);
      else if (state.neighbors.get(address) !== block && !updatedOne) { state.neighbors.set(address, block); updatedOne = true; state.updated.push(address); }
    }
    for (const address of [...state.neighbors.keys()]) if (!next.blocks.has(address)) state.neighbors.delete(address);
    state.policies = next.policies;
  };
  const run: Runner = async (cmd, args) => {
    const rest = args.slice(4); // -u HOST -p PORT
    if (cmd === 'gobgpd') return args.includes('--version') ? ok('gobgpd version 3.10.0\n') : ok();
    const key = rest.filter((a) => a !== '-j').join(' ');
    if (key === 'global') return ok(JSON.stringify({ asn: Number(state.as), router_id: '10.250.0.1' }));
    if (key === 'neighbor') return ok(JSON.stringify([...state.neighbors.keys()].map((a) => ({ state: { neighbor_address: a, session_state: 6 } }))));
    if (key === 'policy') return ok(JSON.stringify(state.policies.map((name) => ({ name }))));
    const rib = /^global rib -a (ipv4|ipv6)(?: (add|del) (\S+))?/.exec(key);
    if (rib) {
      if (rib[2] === 'add') state.routes.add(rib[3]!);
      if (rib[2] === 'del') state.routes.delete(rib[3]!);
      const mine = [...state.routes].filter((p) => p.includes(':') === (rib[1] === 'ipv6'));
      return ok(JSON.stringify(Object.fromEntries(mine.map((p) => [p, [{ nlri: { prefix: p } }]]))));
    }
    return { code: 1, stdout: '', stderr: `unexpected ${key}` };
  };
  return { state, run, hangUp };
}

describe('GoBGP applier', () => {
  const v4 = golden('host-daemon-sessions/gobgp.gobgpd.toml');

  test('the announced prefixes and the neighbor blocks of a rendered file', () => {
    assert.deepEqual(announcedIn(v4), ['10.250.100.0/24', 'fd00:250:100::/64']);
    const { rest, blocks } = neighborBlocks(v4);
    assert.deepEqual([...blocks.keys()], ['10.250.0.2', 'fd00:250::2']);
    assert.ok(!rest.some((l) => /^\s*\[\[?neighbors[.\]]/.test(l)), 'a neighbor table outside its block');
    const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '').sort();
    assert.deepEqual(lines([...rest, ...blocks.values()].join('\n')), lines(v4), 'every line in the rest or in a block');
    assert.ok(v4.startsWith(RENDERED_HEADER));
    assert.equal(gobgpdErrorMessage({ code: 1, stdout: '', stderr: 'time="x" level=fatal msg="Can\'t read config file f" Error="1 error(s) decoding:\\n\\n* \'\' has invalid keys: bogus" Topic=Config\n' }),
      "1 error(s) decoding:  * '' has invalid keys: bogus");
  });

  /** A GoBGP applier driving a fake gobgpd that runs from `v4`. */
  async function withFakeGobgpd(reloadTimeoutMs: number, body: (host: GobgpHost, gobgpd: ReturnType<typeof fakeGobgpd>, conf: string) => Promise<void>) {
    const { dir, done } = scratch();
    try {
      const conf = join(dir, 'gobgpd.toml');
      writeFileSync(conf, v4);
      const gobgpd = fakeGobgpd(conf);
      await body(new GobgpHost({ confFile: conf, gobgpd: 'gobgpd', gobgp: 'gobgp', stateDir: join(dir, 'state'), node: 'n', run: gobgpd.run,
        hangUp: gobgpd.hangUp, reloadTimeoutMs }), gobgpd, conf);
    } finally { done(); }
  }

  test('apply: dry run, SIGHUP, neighbors changed in place go out and come back, the routes are added; reconcile puts them back', async () => {
    await withFakeGobgpd(500, async (host, gobgpd) => {
      assert.deepEqual(await host.apply({ revision: 1, backend: 'gobgp', content: v4, sha256: '' }), { ok: true });
      assert.deepEqual([...gobgpd.state.routes].sort(), ['10.250.100.0/24', 'fd00:250:100::/64']);
      // Both neighbors change (3.10 would update only the first in place): removed, then added back.
      const both = v4.replace('hold-time = 30', 'hold-time = 60').replace('auth-password = "v6-secret"', 'auth-password = "v6-other"');
      assert.deepEqual(await host.apply({ revision: 2, backend: 'gobgp', content: both, sha256: '' }), { ok: true });
      assert.equal(gobgpd.state.hups, 3);
      assert.deepEqual([...gobgpd.state.neighbors.values()], [...neighborBlocks(both).blocks.values()]);
      assert.deepEqual(gobgpd.state.updated, [], 'nothing relied on an in-place update');
      gobgpd.state.routes.clear(); // gobgpd restarted
      await host.reconcile();
      assert.deepEqual([...gobgpd.state.routes].sort(), ['10.250.100.0/24', 'fd00:250:100::/64']);
    });
  });

  test('a new AS is not taken on reload: rolled back at once, the routes of the good config kept', async () => {
    await withFakeGobgpd(5_000, async (host, gobgpd, conf) => {
      assert.ok((await host.apply({ revision: 1, backend: 'gobgp', content: v4, sha256: '' })).ok);
      const started = Date.now();
      const outcome = await host.apply({ revision: 2, backend: 'gobgp', content: v4.replace('as = 65001', 'as = 65005').replace(/^# metalfleet-announce fd00.*\n/m, ''), sha256: '' });
      assert.ok(Date.now() - started < 2_000, 'no waiting for what cannot change');
      assert.ok(!outcome.ok && /gobgpd runs AS 65001 .* the file says AS 65005.*; restored the last-known-good config$/.test(outcome.error), JSON.stringify(outcome));
      assert.equal(readFileSync(conf, 'utf8'), v4);
      assert.deepEqual([...gobgpd.state.routes].sort(), ['10.250.100.0/24', 'fd00:250:100::/64']);
    });
  });
});

test('the node address: --node-address as given, else the source of each default route', async () => {
  const answers: Record<string, string> = {
    '-4 route show default': '[{"dst":"default","gateway":"10.250.0.2","dev":"eth0","flags":[]}]',
    '-4 route get 10.250.0.2': '[{"dst":"10.250.0.2","dev":"eth0","prefsrc":"10.250.0.1","flags":[],"uid":0,"cache":[]}]',
    '-6 route show default': '[{"dst":"default","gateway":"fd00:250::2","dev":"eth0","prefsrc":"fd00:250::1"}]',
  };
  const run: Runner = async (_cmd, args) => {
    const key = args.slice(1).join(' ');
    return key in answers ? ok(answers[key]) : { code: 2, stdout: '', stderr: 'no' };
  };
  assert.deepEqual(await nodeAddresses(run, []), ['10.250.0.1', 'fd00:250::1']);
  assert.deepEqual(await nodeAddresses(run, ['192.0.2.7']), ['192.0.2.7']);
  assert.deepEqual(await nodeAddresses(async () => ok('[]'), []), []);
});
