// The agent's own bundle (package.json build:agent) holds what the agent runs and nothing else:
// no module of the API, the CLI or the database, and the Kubernetes client and undici only in chunks
// that kubernetes mode and --ca-file import on demand (an FRR-mode agent never loads them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isBuiltin } from 'node:module';
import { join } from 'node:path';

const root = new URL('../../', import.meta.url);

test('the agent bundle: its own modules only, the Kubernetes client and undici loaded on demand', () => {
  const script = (JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { scripts: Record<string, string> }).scripts['build:agent']!;
  const out = mkdtempSync(join(tmpdir(), 'mf-agent-bundle-'));
  try {
    // The build's own command, written elsewhere, with the metafile that says what went where.
    const command = script.replace('--outdir=dist', `--outdir=${out}`).concat(` --metafile=${join(out, 'meta.json')}`);
    execFileSync('sh', ['-c', command.replace(/^esbuild /, 'npx esbuild ')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8')) as {
      outputs: Record<string, { entryPoint?: string; imports: Array<{ path: string; kind: string; external?: boolean }>; inputs: Record<string, unknown> }>;
    };
    const [entryName, entry] = Object.entries(meta.outputs).find(([, o]) => o.entryPoint === 'agents/entry.ts')!;
    assert.ok(entryName.endsWith('metalfleet-agent.mjs'), entryName);
    const inputs = Object.values(meta.outputs).flatMap((o) => Object.keys(o.inputs));
    const own = inputs.filter((i) => !i.includes('node_modules/'));
    assert.deepEqual(own.filter((i) => !i.startsWith('agents/')), [], 'only agents/ of the project');
    // What loads at start: the entry and the chunks it imports statically, transitively.
    const loadedAtStart = new Set<string>();
    const visit = (name: string) => {
      if (loadedAtStart.has(name)) return;
      loadedAtStart.add(name);
      for (const imported of meta.outputs[name]!.imports) if (imported.kind === 'import-statement' && meta.outputs[imported.path]) visit(imported.path);
    };
    visit(entryName);
    const atStart = [...loadedAtStart].flatMap((name) => Object.keys(meta.outputs[name]!.inputs));
    for (const lazy of ['@kubernetes/client-node', 'undici', 'yaml']) {
      assert.ok(inputs.some((i) => i.includes(`node_modules/${lazy}/`)), `${lazy} is bundled`);
      assert.ok(!atStart.some((i) => i.includes(`node_modules/${lazy}/`)), `${lazy} is not loaded at start`);
    }
    // Packages are inside: what the entry imports from outside at start is Node's own.
    const outside = entry.imports.filter((i) => i.external && i.kind === 'import-statement').map((i) => i.path);
    assert.deepEqual(outside.filter((path) => !isBuiltin(path)), []);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
