// Parity with MetalLB: every corpus case, converted by render/import.ts and rendered for each MetalLB
// mode, must get MetalLB's verdict, or differ only in the documented direction:
// - MetalLB refuses, metalfleet accepts: never (metalfleet would ship what MetalLB refuses);
// - MetalLB accepts, metalfleet refuses: only with a `stricter` reason key documented in docs/metallb.md;
// - MetalLB holds (admits, then waits for a referenced object), metalfleet accepts: only with a
//   documented `held` reason key (a Secret metalfleet cannot see).
// An annotation that no longer matches a difference fails too, so the corpus stays truthful.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadCorpus, metallbVerdict, MODES, runCase, type Mode } from './parity.ts';

const corpus = loadCorpus();
const doc = readFileSync(new URL('../../docs/metallb.md', import.meta.url), 'utf8');
const documented = (key: string) => doc.includes(`\`${key}\``);

test('the corpus holds the MetalLB test cases (ids unique)', () => {
  assert.ok(corpus.length >= 170, `only ${corpus.length} cases`);
  const ids = corpus.map((c) => `${c.file}#${c.id}`);
  assert.equal(new Set(ids).size, ids.length);
  for (const c of corpus) assert.ok(c.upstream && c.metallb && Array.isArray(c.objects), c.id);
});

test('metalfleet never accepts what MetalLB refuses; every other difference has a documented reason', (t) => {
  const figures = { verdicts: 0, agree: 0, stricter: 0, held: 0, metallbStricter: 0 };
  const failures: string[] = [];
  for (const c of corpus) {
    let stricterSeen = false;
    let heldSeen = false;
    for (const [mode, backend] of Object.entries(MODES) as Array<[Mode, (typeof MODES)[Mode]]>) {
      const expected = metallbVerdict(c, mode);
      const outcome = runCase(c, backend);
      const where = `${c.file}#${c.id} on ${backend}`;
      figures.verdicts++;
      if (outcome.accepted === (expected === 'accept')) {
        figures.agree++;
      } else if (outcome.accepted && expected === 'refuse') {
        figures.metallbStricter++;
        failures.push(`${where}: MetalLB refuses it, metalfleet accepts it`);
      } else if (outcome.accepted) {
        figures.held++;
        heldSeen = true;
        if (!c.held || !documented(c.held)) failures.push(`${where}: MetalLB holds it, metalfleet accepts it, and no documented held reason says why`);
      } else {
        figures.stricter++;
        stricterSeen = true;
        if (!c.stricter || !documented(c.stricter)) {
          failures.push(`${where}: MetalLB accepts it, metalfleet refuses it (${outcome.codes.join(', ')}) without a documented stricter reason`);
        }
      }
    }
    if (c.stricter && !stricterSeen) failures.push(`${c.file}#${c.id}: says stricter (${c.stricter}) but metalfleet agrees with MetalLB`);
    if (c.held && !heldSeen) failures.push(`${c.file}#${c.id}: says held (${c.held}) but metalfleet agrees with MetalLB`);
  }
  t.diagnostic(`parity: ${corpus.length} cases, ${figures.verdicts} mode verdicts: ${figures.agree} agree, `
    + `${figures.stricter} metalfleet-stricter (documented reasons), ${figures.held} held by MetalLB and accepted by metalfleet (documented reasons), `
    + `${figures.metallbStricter} MetalLB-stricter`);
  assert.deepEqual(failures, []);
  assert.equal(figures.metallbStricter, 0);
});
