// The FRR applier's frr-reload.py invocations (a recording runner; the real ones run in
// frr-e2e.test.ts): frr-reload.py must drive the same vtysh as the agent, so an FRR installed
// outside /usr/bin (FRR 10 in CI) is reloaded by its own vtysh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrrHost, type Runner } from '../../agents/frr.ts';

async function reloadCalls(vtysh: string): Promise<string[][]> {
  const dir = mkdtempSync(join(tmpdir(), 'mf-frrhost-'));
  try {
    const calls: string[][] = [];
    const run: Runner = async (cmd, args) => { calls.push([cmd, ...args]); return { code: 0, stdout: '', stderr: '' }; };
    const host = new FrrHost({ confFile: join(dir, 'frr.conf'), reloadScript: '/opt/frr/sbin/frr-reload.py', vtysh, vtySocket: '/run/x',
      stateDir: join(dir, 'state'), node: 'n', run });
    assert.deepEqual(await host.apply({ revision: 1, backend: 'frr', content: 'hostname n\n', sha256: '' }), { ok: true });
    return calls;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a vtysh given by path becomes frr-reload.py --bindir, for --test and --reload', async () => {
  const calls = await reloadCalls('/opt/frr/bin/vtysh');
  assert.deepEqual(calls.map((c) => c.slice(0, 5)), [
    ['/opt/frr/sbin/frr-reload.py', '--test', '--stdout', '--bindir', '/opt/frr/bin'],
    ['/opt/frr/sbin/frr-reload.py', '--reload', '--stdout', '--bindir', '/opt/frr/bin'],
  ]);
});

test('vtysh from PATH, or a binary not named vtysh: frr-reload.py keeps its default bindir', async () => {
  for (const vtysh of ['vtysh', '/opt/frr/bin/vtysh-10']) {
    for (const call of await reloadCalls(vtysh)) assert.ok(!call.includes('--bindir'), `${vtysh}: ${call.join(' ')}`);
  }
});
