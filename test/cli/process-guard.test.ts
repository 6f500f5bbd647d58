// A serving process survives a rejected query nobody awaited when the database connection is lost
// (logged, carrying on), and still exits on any other unhandled rejection (a bug: the supervisor
// restarts it). Each case runs in a process of its own, as Node's default would end it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const GUARD = fileURLToPath(new URL('../../cli/process-guard.ts', import.meta.url));

function run(rejection: string) {
  const script = `
    const { guardUnhandledRejections } = await import(${JSON.stringify(GUARD)});
    const line = (level) => (entry) => console.log(JSON.stringify({ level, ...entry }));
    guardUnhandledRejections({ warn: line('warn'), fatal: line('fatal') });
    Promise.reject(${rejection});
    await new Promise((r) => setTimeout(r, 100));
    console.log('alive');`;
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
}

test('a lost connection rejecting a query nobody awaited is logged, and the process carries on', () => {
  const r = run(`Object.assign(new Error('write CONNECTION_CLOSED 127.0.0.1:5432'), { code: 'CONNECTION_CLOSED' })`);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(JSON.parse(lines[0]!).level, 'warn');
  assert.equal(JSON.parse(lines[0]!).code, 'CONNECTION_CLOSED');
  assert.equal(lines.at(-1), 'alive');
});

test('any other unhandled rejection is fatal: logged, exit 1', () => {
  const r = run(`new TypeError('a bug')`);
  assert.equal(r.status, 1, r.stderr);
  assert.equal(JSON.parse(r.stdout.trim().split('\n')[0]!).level, 'fatal');
  assert.doesNotMatch(r.stdout, /alive/);
});
