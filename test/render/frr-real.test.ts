// Every rendered host frr.conf is accepted by real FRR: the syntax check (`vtysh -C -f`) and a
// load into a throw-away FRR in a network namespace of its own (`vtysh -f`, exit code checked,
// then the running config must hold every neighbor). bgpd runs with -p 0 as MetalLB runs it, so
// local peering addresses are accepted the way they are on a node.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderCluster } from '../../render/index.ts';
import { assertDataplane, dataplaneSkip, Lab, sh } from '../helpers/lab.ts';
import { intentFor, SCENARIOS } from './scenarios.ts';

const skip = dataplaneSkip(['frr', 'vtysh']);
const configs = Object.entries(SCENARIOS).flatMap(([scenario, body]) => {
  const r = renderCluster(intentFor('frr', body));
  return r.ok ? [{ scenario, content: r.content }] : [];
});

describe('rendered frr.conf on real FRR', { skip, concurrency: 3 }, () => {
  let scratch: string;
  let lab: Lab;
  before(() => {
    assertDataplane(['frr', 'vtysh']);
    scratch = mkdtempSync(join(tmpdir(), 'mf-frrconf-'));
    lab = new Lab();
  });
  after(async () => {
    await lab?.teardown();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  test('there is a host config for most scenarios', () => assert.ok(configs.length >= 12, `${configs.length}`));

  for (const { scenario, content } of configs) {
    test(`${scenario}: vtysh -C accepts it and a live FRR loads it`, async () => {
      const file = join(scratch, `${scenario}.conf`);
      writeFileSync(file, content);
      const dry = await sh('vtysh', ['-C', '-f', file]);
      assert.equal(dry.code, 0, `vtysh -C: ${dry.stderr}${dry.stdout}`);
      assert.equal(dry.stderr.trim(), '');

      const ns = await lab.namespace(scenario.replace(/[^a-z0-9]/g, '').slice(0, 6));
      const frr = await lab.startFrr(ns, `frr-${scenario}`, { bgpdArgs: ['-p', '0'] });
      const loaded = await frr.vtysh(['-f', file]);
      assert.equal(loaded.code, 0, `vtysh -f: ${loaded.stderr}${loaded.stdout}`);

      const running = (await frr.vtysh(['-c', 'show running-config'])).stdout;
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
