// What the validator refuses because FRR would refuse or silently change it, shown on real FRR
// (Debian's 8.4 and FRR 10 from .ci/build-frr10): a config the validator accepts loads; the same
// config with only the refused value changed fails to load or loads without it. Without this, a
// rule could drift from the daemon it exists for.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderCluster } from '../../render/index.ts';
import { assertDataplane, dataplaneSkip, FRR_MATRIX, Lab, type FrrInstall } from '../helpers/lab.ts';
import { intentFor } from './scenarios.ts';

const peer = { name: 'tor', myASN: 65001, peerASN: 65002, peerAddress: '10.250.0.2' };

function render(overrides: Record<string, unknown>) {
  return renderCluster(intentFor('frr', {
    pools: [{ name: 'web', cidrs: ['10.250.100.0/24'] }],
    peers: [{ ...peer, ...overrides }],
    advertisements: [{ name: 'announce', type: 'bgp' }],
  }));
}

function accepted(overrides: Record<string, unknown>): string {
  const result = render(overrides);
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  return result.content;
}

function refusedWith(overrides: Record<string, unknown>): string[] {
  const result = render(overrides);
  assert.ok(!result.ok, `the validator accepts ${JSON.stringify(overrides)}`);
  return result.problems.map((p) => p.code);
}

for (const target of FRR_MATRIX) {
  describe(`refusals agree with real ${target.label}`, { skip: dataplaneSkip(['frr', 'vtysh'], target), concurrency: 1 }, () => {
    let scratch: string;
    let lab: Lab;
    let frr: FrrInstall;
    let n = 0;
    before(() => {
      frr = assertDataplane(['frr', 'vtysh'], target);
      scratch = mkdtempSync(join(tmpdir(), 'mf-frrrefuse-'));
      lab = new Lab();
    });
    after(async () => {
      await lab?.teardown();
      if (scratch) rmSync(scratch, { recursive: true, force: true });
    });

    async function load(content: string) {
      const file = join(scratch, `c${++n}.conf`);
      writeFileSync(file, content);
      const instance = await lab.startFrr(await lab.namespace(`rf${n}`), `frr-refuse-${n}`, { frr, bgpdArgs: ['-p', '0'] });
      const loaded = await instance.vtysh(['-f', file]);
      const running = (await instance.vtysh(['-c', 'show running-config'])).stdout;
      return { code: loaded.code, output: `${loaded.stderr}${loaded.stdout}`, running };
    }

    test('localASN equal to myASN: FRR refuses the line, the validator the peer', async () => {
      const good = await load(accepted({ localASN: 65100 }));
      assert.equal(good.code, 0, good.output);
      assert.match(good.running, /local-as 65100/);
      const bad = await load(accepted({ localASN: 65100 }).replace('local-as 65100', 'local-as 65001'));
      assert.notEqual(bad.code, 0, 'FRR loaded local-as equal to its own AS');
      assert.match(bad.output, /Cannot have local-as same as BGP AS number/);
      assert.deepEqual(refusedWith({ localASN: 65001 }), ['local-asn-conflict']);
    });

    test('router ID 0.0.0.0: FRR drops it without a word, the validator refuses it', async () => {
      const good = await load(accepted({ routerID: '10.250.0.1' }));
      assert.match(good.running, /bgp router-id 10\.250\.0\.1/);
      const zero = await load(accepted({ routerID: '10.250.0.1' }).replace('router-id 10.250.0.1', 'router-id 0.0.0.0'));
      assert.equal(zero.code, 0, zero.output);
      assert.doesNotMatch(zero.running, /bgp router-id/, 'FRR kept a zero router ID');
      assert.deepEqual(refusedWith({ routerID: '0.0.0.0' }), ['invalid-router-id']);
    });
  });
}
