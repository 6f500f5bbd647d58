// The production bundle (`npm run build`, the command the image and the README run) builds, runs
// the same command, and is built only from folders the image copies.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execSync, execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const out = join(root, 'dist', `test-${process.pid}.mjs`);
const metafile = join(root, 'dist', `test-${process.pid}.meta.json`);

before(() => {
  // package.json's build script, written elsewhere: one build command for the image, the README and this test.
  // The script builds the CLI bundle, then the agent's own (`&& npm run build:agent`): this test
  // checks the first; test/agents/bundle.test.ts the second.
  const script = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { build: string } }).scripts.build;
  const build = script.split(' && ')[0]!;
  assert.match(build, /^esbuild cli\/entry\.ts .*--outfile=dist\/metalfleet\.mjs/);
  assert.match(script, / && npm run --silent build:agent$/, 'npm run build also builds the agent bundle');
  execSync(`${build.replace('--outfile=dist/metalfleet.mjs', `--outfile=${out}`)} --metafile=${metafile}`, {
    cwd: root, env: { ...process.env, PATH: `${join(root, 'node_modules', '.bin')}:${process.env.PATH}` },
  });
});
after(() => { rmSync(out, { force: true }); rmSync(metafile, { force: true }); });

test('the bundle builds, and runs without a TypeScript loader', () => {
  const help = execFileSync(process.execPath, [out, '--help'], { encoding: 'utf8' });
  assert.match(help, /commands:[\s\S]*serve[\s\S]*agent/i);
  const keys = execFileSync(process.execPath, [out, 'keys', 'generate'], { encoding: 'utf8' });
  assert.match(keys, /^METALFLEET_SECRET_KEY=/m);
});

test('the image builds the bundle with npm run build, from folders it copies', () => {
  const dockerfile = readFileSync(join(root, 'deploy', 'Dockerfile'), 'utf8');
  assert.match(dockerfile, /^RUN npm run build$/m);
  const copied = new Set([...dockerfile.matchAll(/^COPY (\S+) \.\/\S*$/gm)].map((m) => m[1]!));
  const inputs = Object.keys((JSON.parse(readFileSync(metafile, 'utf8')) as { inputs: Record<string, unknown> }).inputs);
  const folders = new Set(inputs.map((p) => relative(root, join(root, p)).split('/')[0]!).filter((top) => top !== 'node_modules'));
  assert.ok(folders.has('cli') && folders.has('render'), `the bundle reads ${[...folders].join(', ')}`);
  for (const folder of folders) assert.ok(copied.has(folder), `the bundle reads ${folder}/, which the image does not copy`);
});
