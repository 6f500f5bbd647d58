// The README's tour (the metalfleet CLI) and docs/walkthrough.md (curl), run as written with bash
// against a real `metalfleet serve`: only the server's URL and the token file's path are put in,
// and the CLI's contexts file is kept in the test's folder. Documentation that stops working fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startServer } from '../helpers/process.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const hasCurl = spawnSync('curl', ['--version']).status === 0;

/** The first ```sh block after `heading` in a Markdown file. */
function shellBlock(file: string, heading: string): string {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const from = text.indexOf(heading);
  assert.ok(from >= 0, `${file} has no ${heading}`);
  const block = /```sh\n([\s\S]*?)```/.exec(text.slice(from));
  assert.ok(block, `${file}: no sh block after ${heading}`);
  return block[1]!;
}

/** Runs a documented block; each `j`/curl answer is one JSON line of the output. */
async function runDocumented(block: string): Promise<{ answers: any[]; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'mf-walkthrough-'));
  const server = await startServer({
    METALFLEET_DATA_DIR: join(dir, '.metalfleet'), DATABASE_URL: '', METALFLEET_SECRET_KEY: '', METALFLEET_SIGNING_KEY: '', METALFLEET_PUBLIC_URL: '',
    PORT: String(await freePort()),
  });
  try {
    const script = block.replaceAll('http://127.0.0.1:8080', server.url).replaceAll('.metalfleet/admin.token', join(dir, '.metalfleet', 'admin.token'));
    const run = spawnSync('bash', ['-c', script], {
      cwd: ROOT, encoding: 'utf8', timeout: 180_000,
      env: { ...process.env, METALFLEET_CONFIG: join(dir, 'config.yaml'), METALFLEET_SERVER: '', METALFLEET_TOKEN: '', METALFLEET_TENANT: '' },
    });
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    assert.equal(run.stderr.replace(/^.*Warning.*$/gm, '').trim(), '', run.stderr);
    const answers = run.stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
    return { answers, output: run.stdout };
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const skip = hasCurl ? false : 'needs curl';

test("the README's ten-line tour works as written: login, apply examples/acme.yaml, a one-pool plan as per-cluster diffs, status", async () => {
  const block = shellBlock('README.md', '## A ten-line tour');
  assert.ok(block.trim().split('\n').length <= 10, 'ten lines');
  const { output } = await runDocumented(block);
  assert.match(output, /^logged in to http:\/\/127\.0\.0\.1:\d+ as context 127\.0\.0\.1:\d+ \(tenant acme\)/m);
  assert.match(output, /^tenant acme created$/m);
  assert.match(output, /^policy of tenant acme replaced$/m);
  assert.match(output, /^Applied: 10 created, 0 updated, 0 deleted; 2 cluster\(s\) got a new revision\.$/m, output);
  // The plan: one pool changes, and each cluster shows it in its own backend's terms.
  assert.match(output, /^ {2}~ update pools\/web \(cidrs\)$/m, output);
  assert.match(output, /^cluster edge-ams1 \(frr\): r1 → r2\n--- edge-ams1@r1\n\+\+\+ edge-ams1@r2\n/m);
  assert.match(output, /^\+ {4}network 203\.0\.113\.128\/26$/m);
  assert.match(output, /^cluster k8s-fra1 \(metallb-frr-k8s\): r1 → r2\n/m);
  assert.match(output, /^\+ {4}- 203\.0\.113\.128\/26$/m);
  assert.match(output, /^Plan: 0 to create, 1 to update, 0 to delete; 2 cluster\(s\) get a new revision\.$/m);
  assert.match(output, /^CLUSTER {2,}BACKEND {2,}SYNC {2,}DESIRED {2,}APPLIED/m);
  assert.match(output, /^edge-ams1 {2,}frr {2,}never-seen {2,}1 /m, 'the plan stored nothing');
  assert.match(output, /^k8s-fra1 {2,}metallb-frr-k8s {2,}never-seen {2,}1 /m);
});

test('docs/walkthrough.md works as written: one refusal (the policy), an agent in sync with two sessions', { skip }, async () => {
  const { answers, output } = await runDocumented(shellBlock('docs/walkthrough.md', '# A first tenant'));
  const problems = answers.filter((a) => a.code);
  assert.deepEqual(problems.map((a) => a.code), ['policy-violation'], output);
  assert.ok(answers.some((a) => a.syncState === 'in-sync'), output);
  const sessions = answers.find((a) => Array.isArray(a.items) && a.items[0]?.bgpState);
  assert.equal(sessions?.items.length, 2, output);
  assert.match(output, /poll 2: 304/);
});
