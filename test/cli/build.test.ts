// The production bundle (`npm run build`) builds and runs the same command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

test('the bundle builds, and runs without a TypeScript loader', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mf-build-'));
  try {
    const out = join(root, 'dist', `test-${process.pid}.mjs`);
    execFileSync(join(root, 'node_modules', '.bin', 'esbuild'), ['cli/entry.ts', '--bundle', '--platform=node', '--format=esm', '--packages=external', '--target=node20', `--outfile=${out}`, '--log-level=warning'], { cwd: root });
    try {
      const help = execFileSync(process.execPath, [out, '--help'], { encoding: 'utf8' });
      assert.match(help, /commands:[\s\S]*serve[\s\S]*agent/);
      const keys = execFileSync(process.execPath, [out, 'keys', 'generate'], { encoding: 'utf8' });
      assert.match(keys, /^METALFLEET_SECRET_KEY=/m);
    } finally {
      rmSync(out, { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
