// /docs in a real browser, with no internet: headless Chromium loads the page from `metalfleet
// serve` and Swagger UI lists every operation of /openapi.json. Without Chromium the test skips,
// unless METALFLEET_REQUIRE_BROWSER=1 (CI installs it and sets that).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startServer } from '../helpers/process.ts';
import { browserSkip as skip, CHROMIUM, CHROMIUM_FLAGS } from '../helpers/browser.ts';

test('Swagger UI at /docs shows every operation, with nothing fetched from the internet', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'metalfleet-docs-'));
  const server = await startServer({ METALFLEET_DATA_DIR: join(dir, 'data'), DATABASE_URL: '', METALFLEET_SECRET_KEY: '', METALFLEET_SIGNING_KEY: '', METALFLEET_PUBLIC_URL: '' });
  try {
    const document = await (await fetch(`${server.url}/openapi.json`)).json() as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.entries(document.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`)).sort();
    assert.ok(operations.length > 50, `${operations.length} operations`);
    // The flags keep Chromium from reaching out on its own (this machine has no internet).
    const { stdout: dom } = await promisify(execFile)(CHROMIUM, ['--headless', ...CHROMIUM_FLAGS, `--user-data-dir=${join(dir, 'chromium')}`,
      '--virtual-time-budget=20000', '--dump-dom', `${server.url}/docs`], { timeout: 90_000, maxBuffer: 64 * 1024 * 1024 });
    const shown = [...dom.matchAll(/<div class="opblock opblock-(\w+)[^"]*"[^>]*>[\s\S]*?data-path="([^"]+)"/g)].map((m) => `${m[1]!.toUpperCase()} ${m[2]!}`).sort();
    assert.deepEqual(shown, operations);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
