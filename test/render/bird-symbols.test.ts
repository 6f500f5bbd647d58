// BIRD refuses a symbol longer than 64 characters ("Symbol too long"). Names metalfleet builds from
// user input (large communities, peer names of up to 63 characters) are shortened with a hash of the
// whole name: every symbol fits, distinct names stay distinct, and real BIRD parses the result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIRD_SYMBOL_MAX, birdSymbol } from '../../render/bird.ts';
import { renderCluster } from '../../render/index.ts';
import { dataplaneSkip, sh } from '../helpers/lab.ts';
import { intentFor } from './scenarios.ts';

const LONG_PEER = `tor-${'a'.repeat(55)}`;

function longNames() {
  const result = renderCluster(intentFor('bird', {
    pools: [{ name: 'web', cidrs: ['10.250.100.0/24'] }, { name: 'api', cidrs: ['10.250.101.0/24'] }],
    peers: [{ name: LONG_PEER, myASN: 65001, peerASN: 65002, peerAddress: '10.250.0.2' }],
    advertisements: [
      { name: 'web', type: 'bgp', ipAddressPools: ['web'], communities: ['large:4200000001:4200000001:4200000001'] },
      { name: 'api', type: 'bgp', ipAddressPools: ['api'], communities: ['large:4200000001:4200000001:4200000002'] },
    ],
  }));
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  return result.content;
}

test('every symbol fits in 64 characters; long names that share a start stay distinct', () => {
  const content = longNames();
  const symbols = [...content.matchAll(/\b(mf_\w+)/g)].map((m) => m[1]!);
  assert.ok(symbols.length > 0);
  for (const symbol of symbols) assert.ok(symbol.length <= BIRD_SYMBOL_MAX, `${symbol} (${symbol.length})`);
  const defined = [...content.matchAll(/^define (\w+) =/gm)].map((m) => m[1]!);
  assert.equal(new Set(defined).size, defined.length, 'no symbol defined twice');
  assert.ok(defined.some((d) => d.length > 40), 'the long community names are in play');
  assert.equal(birdSymbol('short-name'), 'mf_short_name', 'short names are kept as they are');
  assert.notEqual(birdSymbol(`${'x'.repeat(70)}a`), birdSymbol(`${'x'.repeat(70)}b`));
});

test('real BIRD parses it', { skip: dataplaneSkip(['bird']) }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mf-birdsym-'));
  try {
    writeFileSync(join(dir, 'bird.conf'), longNames());
    const parsed = await sh('bird', ['-p', '-c', join(dir, 'bird.conf')]);
    assert.equal(parsed.code, 0, `${parsed.stderr}${parsed.stdout}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
