// `metalfleet demo` end to end: its console shows Established sessions within 60 s, and when it
// exits (Ctrl-C) everything it created is gone: the server, the data directory and, in live mode,
// the network namespaces and daemons. As root with FRR and BIRD (CI) the edge-frr cluster must be
// live: its sessions come from real FRR peering with BIRD, reported by the real agent; with
// METALFLEET_REQUIRE_DATAPLANE=1 a host without them fails instead of falling back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dataplaneSkip, waitFor } from '../helpers/lab.ts';
import { startDemo } from '../helpers/demo.ts';

const LIVE_TOOLS = ['frr', 'vtysh', 'frr-reload', 'bird', 'birdc'];
const live = dataplaneSkip(LIVE_TOOLS) === false;

test(`metalfleet demo: Established sessions in the console within 60 s, nothing left after exit (${live ? 'live FRR and BIRD' : 'scripted agents'})`, { timeout: 240_000 }, async () => {
  const demo = await startDemo();
  let namespaces: string[] = [];
  try {
    const liveLine = /^live: .*namespace (\S+)\).*namespace (\S+)\)/m.exec(demo.output());
    if (live) {
      assert.ok(liveLine, `the demo must go live here:\n${demo.output()}`);
      namespaces = [liveLine[1]!, liveLine[2]!];
    } else {
      assert.match(demo.output(), /live BGP sessions need .*; running scripted agents/);
    }
    const cookie = await demo.signIn();
    const started = Date.now();
    await waitFor(async () => {
      const html = await (await fetch(`${demo.url}/t/demo/clusters/edge-frr`, { headers: { cookie } })).text();
      return (html.match(/>Established</g) ?? []).length === 2;
    }, 60_000, 'two Established sessions on the console page of edge-frr');
    const agents = await demo.api('GET', '/v1/tenants/demo/clusters/edge-frr/agents') as { items: Array<{ agentVersion: string | null }> };
    if (live) {
      assert.notEqual(agents.items[0]?.agentVersion, 'demo-scripted', 'the real agent reports edge-frr');
      const sessions = await demo.api('GET', '/v1/tenants/demo/clusters/edge-frr/sessions') as { items: Array<{ peer: string; bfdState: string | null }> };
      assert.deepEqual(sessions.items.map((s) => s.peer).sort(), ['10.250.0.2', 'fd00:250::2']);
      await waitFor(async () => ((await demo.api('GET', '/v1/tenants/demo/clusters/edge-frr/sessions')) as { items: Array<{ bfdState: string | null; prefixesSent: number | null }> })
        .items.some((s) => s.bfdState === 'up'), 30_000, 'BFD up with BIRD');
    }
    console.log(`Established on the console after ${Math.round((Date.now() - started) / 1000)} s`);
  } finally {
    assert.equal(await demo.stop(), 0, demo.output());
  }
  assert.equal(existsSync(demo.dataDir), false, 'the data directory is gone');
  await assert.rejects(fetch(`${demo.url}/healthz`), 'the server is gone');
  if (live) {
    const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    for (const ns of namespaces) assert.ok(!left.includes(ns), `namespace ${ns} is gone`);
  }
});
