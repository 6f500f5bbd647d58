// Every golden host frr.conf is accepted by real FRR, on every FRR of the matrix (Debian's 8.4 and
// FRR 10 from .ci/build-frr10) where the render's version gate says it should run: the syntax
// check (`vtysh -C -f`) and a load into a throw-away FRR in a network namespace of its own
// (`vtysh -f`, exit code checked, then the running config must hold every neighbor). bgpd runs
// with -p 0 as MetalLB runs it, so local peering addresses are accepted the way they are on a
// node. Where the gate refuses a scenario on that FRR (127/8 peering before FRR 9), the test
// checks that it is exactly the version gate that refuses it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertDataplane, dataplaneSkip, FRR_MATRIX, Lab, sh, type FrrInstall } from '../helpers/lab.ts';
import { renderHostConfigFor } from './scenarios.ts';

const GOLDEN = fileURLToPath(new URL('./golden/', import.meta.url));
const hostConfigs = readdirSync(GOLDEN).sort()
  .filter((scenario) => existsSync(join(GOLDEN, scenario, 'frr.frr.conf')))
  .map((scenario) => ({ scenario, content: readFileSync(join(GOLDEN, scenario, 'frr.frr.conf'), 'utf8') }));

/** The codes a render refuses with only because of the FRR version. */
const VERSION_GATES = ['local-peering-needs-frr-9'];

test('there is a golden host config for most scenarios, and one that only FRR >= 9 may load', () => {
  assert.ok(hostConfigs.length >= 12, `${hostConfigs.length}`);
  assert.ok(hostConfigs.some(({ scenario }) => scenario === 'local-peering-frr-9.1'));
});

for (const target of FRR_MATRIX) {
  describe(`golden frr.conf on real ${target.label}`, { skip: dataplaneSkip(['frr', 'vtysh'], target), concurrency: 3 }, () => {
    let scratch: string;
    let lab: Lab;
    let frr: FrrInstall;
    before(() => {
      frr = assertDataplane(['frr', 'vtysh'], target);
      scratch = mkdtempSync(join(tmpdir(), 'mf-frrconf-'));
      lab = new Lab();
    });
    after(async () => {
      await lab?.teardown();
      if (scratch) rmSync(scratch, { recursive: true, force: true });
    });

    for (const { scenario, content } of hostConfigs) {
      test(`${scenario}: loads where the version gate lets it`, async (t) => {
        const gate = renderHostConfigFor(scenario, frr.version);
        if (!gate.ok) {
          assert.deepEqual(gate.problems.map((p) => p.code).filter((c) => !VERSION_GATES.includes(c)), [],
            `only the version gate may refuse a golden host config: ${JSON.stringify(gate.problems)}`);
          t.diagnostic(`refused for FRR ${frr.version} (${gate.problems.map((p) => p.code).join(', ')}): not loaded`);
          return;
        }

        const file = join(scratch, `${scenario}.conf`);
        writeFileSync(file, content);
        const dry = await sh(frr.vtysh, ['-C', '-f', file]);
        assert.equal(dry.code, 0, `vtysh -C: ${dry.stderr}${dry.stdout}`);
        assert.equal(dry.stderr.trim(), '');

        const ns = await lab.namespace(scenario.replace(/[^a-z0-9]/g, '').slice(0, 6));
        const instance = await lab.startFrr(ns, `frr-${scenario}`, { frr, bgpdArgs: ['-p', '0'] });
        const loaded = await instance.vtysh(['-f', file]);
        assert.equal(loaded.code, 0, `vtysh -f: ${loaded.stderr}${loaded.stdout}`);

        const running = (await instance.vtysh(['-c', 'show running-config'])).stdout;
        for (const line of content.split('\n').filter((l) => /^\s+neighbor \S+ (interface )?remote-as /.test(l))) {
          assert.ok(running.includes(line.trim()), `running config lacks "${line.trim()}"`);
        }
        for (const line of content.split('\n').filter((l) => /^\s+network /.test(l))) {
          assert.ok(running.includes(line.trim()), `running config lacks "${line.trim()}"`);
        }
        if (content.startsWith('allow-reserved-ranges')) assert.match(running, /^allow-reserved-ranges$/m);
      });
    }
  });
}
