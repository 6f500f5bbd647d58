// `metalfleet serve` and `metalfleet migrate` as a user runs them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScratchDatabase, onRealPostgres } from '../helpers/db.ts';
import { journal } from '../../db/migrate.ts';
import { runMetalfleet, startServer } from '../helpers/process.ts';


const needsServer = onRealPostgres ? false : 'needs a PostgreSQL server: set DATABASE_URL (CI does)';

test('serve on a fresh data dir: embedded database migrated, health and readiness answer, restart reuses it', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'metalfleet-serve-'));
  try {
    const env = { METALFLEET_DATA_DIR: dataDir, DATABASE_URL: '', METALFLEET_SECRET_KEY: '', METALFLEET_SIGNING_KEY: '', METALFLEET_PUBLIC_URL: '' };
    const server = await startServer(env);
    try {
      // Ready from its first answer: the port opens once the poll caches are loaded (cli/serve.ts;
      // test/cli/listen-when-warm.test.ts holds the closed port).
      const ready = await fetch(`${server.url}/readyz`);
      assert.equal(ready.status, 200);
      const health = await fetch(`${server.url}/healthz`);
      assert.equal(health.status, 200);
      assert.deepEqual(await ready.json(), { status: 'ready', database: 'ok' });
      const missing = await fetch(`${server.url}/no/such/route`, { headers: { 'X-Request-Id': 'client-chosen' } });
      assert.equal(missing.status, 404);
      assert.equal(missing.headers.get('content-type'), 'application/problem+json');
      const problem = await missing.json() as Record<string, unknown>;
      assert.equal(problem.code, 'route-not-found');
      assert.notEqual(problem.requestId, 'client-chosen', 'request ids are issued by the server');
      assert.equal(missing.headers.get('x-request-id'), problem.requestId);

      // The interactive docs need nothing from the internet: Swagger UI's files come from the server.
      const docs = await (await fetch(`${server.url}/docs`)).text();
      const assets = [...docs.matchAll(/(?:href|src)="([^"]+)"/g)].map((m) => m[1]!);
      assert.deepEqual(assets, ['/docs/assets/swagger-ui-dist/swagger-ui.css', '/docs/assets/swagger-ui-dist/swagger-ui-bundle.js']);
      for (const [path, type, marker] of [[assets[0]!, 'text/css', '.swagger-ui'], [assets[1]!, 'text/javascript', 'SwaggerUIBundle']] as const) {
        const res = await fetch(`${server.url}${path}`);
        assert.equal(res.status, 200, path);
        assert.match(res.headers.get('content-type')!, new RegExp(`^${type}`));
        assert.ok((await res.text()).includes(marker), path);
      }
      assert.equal((await fetch(`${server.url}/docs/assets/swagger-ui-dist/..%2Fpackage.json`)).status, 404);
      assert.equal((await fetch(`${server.url}/docs/assets/swagger-ui-dist/index.html`)).status, 404, 'only the two files /docs uses');

      // The bootstrap token is printed once and works; more are issued through the API.
      const printed = /bootstrap platform-admin token[^\n]*\n(\S+)/.exec(server.output())?.[1];
      assert.ok(printed, server.output());
      assert.equal(readFileSync(join(dataDir, 'admin.token'), 'utf8').trim(), printed);
      const bearer = { authorization: `Bearer ${printed}`, 'content-type': 'application/json' };
      assert.equal((await fetch(`${server.url}/v1/tenants`, { headers: bearer })).status, 200);
      assert.equal((await fetch(`${server.url}/v1/tenants`, { method: 'POST', headers: bearer, body: JSON.stringify({ slug: 'acme', name: 'ACME' }) })).status, 201);
      const issued = await fetch(`${server.url}/v1/tokens`, { method: 'POST', headers: bearer, body: JSON.stringify({ name: 'viewer', role: 'tenant-viewer', tenant: 'acme', ttl: '5m' }) });
      assert.equal(issued.status, 201);
      const asViewer = await fetch(`${server.url}/v1/tenants`, { headers: { authorization: `Bearer ${((await issued.json()) as { token: string }).token}` } });
      assert.equal(asViewer.status, 200);
      assert.deepEqual(((await asViewer.json()) as { items: Array<{ slug: string }> }).items.map((t) => t.slug), ['acme']);
      // The embedded database is the server's while it runs: the CLI does not open it behind its back.
      const busy = await runMetalfleet(['token', 'create', '--role', 'platform-admin'], env);
      assert.equal(busy.code, 1);
      assert.match(busy.stderr, /in use by process \d+/);
      const refused = await runMetalfleet(['token', 'create', '--role', 'tenant-admin'], env);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /needs --tenant/);
    } finally {
      assert.equal(await server.stop(), 0);
    }
    // Stopped: the CLI issues a token into the embedded database (the bootstrap way to regain access).
    const offline = await runMetalfleet(['token', 'create', '--role', 'tenant-admin', '--tenant', 'acme', '--ttl', '1h'], env);
    assert.equal(offline.code, 0, offline.stderr);
    assert.match(offline.stdout, /^mft_[0-9a-f]{32}_\S{43}$/m);
    const keyFile = join(dataDir, 'secret.key');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600, 'the generated secret key is private');
    const key = readFileSync(keyFile, 'utf8');

    const again = await startServer(env);
    try {
      assert.equal((await fetch(`${again.url}/readyz`)).status, 200);
      assert.match(again.output(), /platform-admin token: .*admin\.token/);
      assert.doesNotMatch(again.output(), /bootstrap platform-admin token/);
    } finally {
      assert.equal(await again.stop(), 0);
    }
    // A bootstrap token that does not work with this database (another database, revoked, expired) is issued anew.
    writeFileSync(join(dataDir, 'admin.token'), `mft_${'0'.repeat(32)}_${'A'.repeat(43)}\n`);
    const reissued = await startServer(env);
    try {
      const fresh = /bootstrap platform-admin token[^\n]*\n(\S+)/.exec(reissued.output())?.[1];
      assert.ok(fresh, reissued.output());
      assert.equal((await fetch(`${reissued.url}/v1/tenants`, { headers: { authorization: `Bearer ${fresh}` } })).status, 200);
    } finally {
      assert.equal(await reissued.stop(), 0);
    }
    assert.equal(readFileSync(keyFile, 'utf8'), key, 'the key is kept across restarts');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('keys generate prints usable keys', async () => {
  const result = await runMetalfleet(['keys', 'generate'], {});
  assert.equal(result.code, 0);
  const jwk = JSON.parse(/^METALFLEET_SIGNING_KEY='(.*)'$/m.exec(result.stdout)![1]!);
  assert.deepEqual([jwk.kty, jwk.crv, typeof jwk.d, typeof jwk.x], ['OKP', 'Ed25519', 'string', 'string']);
  assert.match(result.stdout, /^METALFLEET_SECRET_KEY='[A-Za-z0-9+/]{43}='$/m);
});

test('serve refuses a database whose migrations are behind; migrate brings it up to date', { skip: needsServer }, async () => {
  const scratch = await createScratchDatabase('mf_cli');
  const keys = (await runMetalfleet(['keys', 'generate'], {})).stdout;
  const env = {
    DATABASE_URL: scratch.url,
    METALFLEET_SECRET_KEY: /METALFLEET_SECRET_KEY='([^']+)'/.exec(keys)![1],
    METALFLEET_SIGNING_KEY: /METALFLEET_SIGNING_KEY='([^']+)'/.exec(keys)![1],
  };
  try {
    const refused = await runMetalfleet(['serve'], { ...env, PORT: '0' });
    assert.equal(refused.code, 1, refused.stderr);
    const tags = journal().map((e) => e.tag);
    assert.match(refused.stderr, new RegExp(`${tags.length} migration\\(s\\) behind`));
    assert.match(refused.stderr, /run `metalfleet migrate` \(npm run migrate\)/);

    const migrated = await runMetalfleet(['migrate'], env);
    assert.equal(migrated.code, 0, migrated.stderr);
    assert.ok(migrated.stdout.includes(`applied ${tags.join(', ')}`), migrated.stdout);
    const again = await runMetalfleet(['migrate'], env);
    assert.match(again.stdout, /is up to date/);

    // A server on a shared database never issues (or prints) a token; it says how to make the first.
    const dataDir = mkdtempSync(join(tmpdir(), 'mf-shared-'));
    const server = await startServer({ ...env, METALFLEET_DATA_DIR: dataDir });
    try {
      assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
      assert.match(server.output(), /no platform-admin token yet: `metalfleet token create --role platform-admin/);
      assert.doesNotMatch(server.output(), /mft_/);
      assert.ok(!existsSync(join(dataDir, 'admin.token')));
    } finally {
      assert.equal(await server.stop(), 0);
    }
    assert.equal((await runMetalfleet(['token', 'create', '--role', 'platform-admin'], env)).code, 0);
    const second = await startServer({ ...env, METALFLEET_DATA_DIR: dataDir });
    try {
      assert.doesNotMatch(second.output(), /no platform-admin token yet|mft_/);
    } finally {
      assert.equal(await second.stop(), 0);
      rmSync(dataDir, { recursive: true, force: true });
    }
  } finally {
    await scratch.drop();
  }
});

test('serve with DATABASE_URL but no secret or signing key refuses to start and says how to make one', { skip: needsServer }, async () => {
  const noSecret = await runMetalfleet(['serve'], { DATABASE_URL: process.env.DATABASE_URL, METALFLEET_SECRET_KEY: '', PORT: '0' });
  assert.equal(noSecret.code, 1);
  assert.match(noSecret.stderr, /METALFLEET_SECRET_KEY is required with DATABASE_URL.*openssl rand -base64 32/);
  const noSigning = await runMetalfleet(['serve'], {
    DATABASE_URL: process.env.DATABASE_URL, METALFLEET_SECRET_KEY: Buffer.alloc(32, 7).toString('base64'), METALFLEET_SIGNING_KEY: '', PORT: '0',
  });
  assert.equal(noSigning.code, 1);
  assert.match(noSigning.stderr, /METALFLEET_SIGNING_KEY is required with DATABASE_URL.*metalfleet keys generate/);
});

test('an unknown command prints usage and exits 2', async () => {
  const result = await runMetalfleet(['frobnicate'], {});
  assert.equal(result.code, 2);
  assert.match(result.stderr, /unknown command 'frobnicate'/);
  assert.match(result.stderr, /metalfleet --help: usage/);
});

test('serve refuses a bad METALFLEET_POLL_INTERVAL, METALFLEET_REVISIONS_KEPT or METALFLEET_METRICS_LISTEN before it touches anything', async () => {
  for (const [name, value, message] of [
    ['METALFLEET_POLL_INTERVAL', '0', /METALFLEET_POLL_INTERVAL must be whole seconds from 1 to 3600, got "0"/],
    ['METALFLEET_REVISIONS_KEPT', 'all', /METALFLEET_REVISIONS_KEPT must be a whole number from 1 to 1000000, got "all"/],
    ['METALFLEET_METRICS_LISTEN', '9465', /METALFLEET_METRICS_LISTEN must be HOST:PORT \(e\.g\. 127\.0\.0\.1:9465 or \[::1\]:9465\), got "9465"/],
  ] as const) {
    const refused = await runMetalfleet(['serve'], { [name]: value, PORT: '0', METALFLEET_DATA_DIR: '/nonexistent/never-created' });
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, message);
  }
});
