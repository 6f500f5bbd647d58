// The same API runs on Cloudflare Workers: wrangler bundles worker/index.ts (offline, dry run),
// and nothing Node-only (the embedded PGlite, the CLI, the agent) ends up in the bundle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

test('wrangler bundles the Worker, without PGlite, the CLI or the agent', () => {
  const out = mkdtempSync(join(tmpdir(), 'mf-worker-'));
  try {
    execFileSync(join(root, 'node_modules', '.bin', 'wrangler'), ['deploy', '--dry-run', '--outdir', out], {
      cwd: root, env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' }, stdio: 'pipe', timeout: 120_000,
    });
    const bundle = readFileSync(join(out, 'index.js'), 'utf8');
    assert.match(bundle, /metalfleet API/, 'the app is in it');
    assert.match(bundle, /Skip to content/, 'the console is in it');
    for (const nodeOnly of ['@electric-sql/pglite', 'cli/serve.ts', 'agents/main.ts', '@kubernetes/client-node', 'drizzle-orm/pglite', 'playwright-core', 'axe-core']) {
      assert.ok(!bundle.includes(nodeOnly), `${nodeOnly} must not be in the Worker bundle`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
