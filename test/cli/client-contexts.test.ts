// The client verbs' contexts against a running server: login checks the token before saving it
// (0600, in METALFLEET_CONFIG, never the real home), use-context switches, contexts never shows a
// token, the environment overrides a context; and colour is for terminals only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { parse } from 'yaml';
import { contextFilePath } from '../../cli/contexts.ts';
import { colourEnabled, paint, paintDiff, table } from '../../cli/output.ts';
import { startClientLab, type ClientLab } from '../helpers/client.ts';
import { freePort } from '../helpers/process.ts';

let lab: ClientLab;
before(async () => { lab = await startClientLab(); });
after(async () => { await lab?.close(); });

test('login refuses a bad token and saves nothing; a good one becomes the current context, 0600', async () => {
  const tokenFile = join(lab.dir, 'data', 'admin.token');
  const bad = await lab.run(['login', lab.server.url, '--token', 'mft_00000000000000000000000000000000_nope']);
  assert.equal(bad.code, 1, bad.stderr);
  assert.match(bad.stderr, /^metalfleet: 401 unauthorized Unauthorized: .+\n$/);
  assert.ok(!existsSync(lab.configPath), 'nothing saved');

  const none = await lab.run(['login', lab.server.url]);
  assert.equal(none.code, 2, none.stderr);
  assert.match(none.stderr, /which token\?/);

  const good = await lab.run(['login', lab.server.url, '--token-file', tokenFile, '--name', 'lab', '--tenant', 'acme']);
  assert.equal(good.code, 0, good.stderr);
  assert.match(good.stdout, /logged in to http:\/\/127\.0\.0\.1:\d+ as context lab \(tenant acme\)/);
  assert.equal(statSync(lab.configPath).mode & 0o777, 0o600);
  const saved = parse(readFileSync(lab.configPath, 'utf8'));
  assert.equal(saved['current-context'], 'lab');
  assert.deepEqual(saved.contexts, [{ name: 'lab', server: lab.server.url, token: lab.adminToken, tenant: 'acme' }]);

  // The token from stdin; a second context becomes current.
  const piped = await lab.spawn(['login', lab.server.url, '--token-file', '-', '--name', 'other'], {}, `${lab.adminToken}\n`);
  assert.equal(piped.code, 0, piped.stderr);

  const listed = await lab.run(['contexts']);
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(listed.stdout.trimEnd().split('\n').map((l) => l.split(/\s{2,}/)), [
    ['CURRENT', 'NAME', 'SERVER', 'TENANT'], ['-', 'lab', lab.server.url, 'acme'], ['*', 'other', lab.server.url, '-'],
  ]);
  const json = await lab.run(['contexts', '-o', 'json']);
  assert.ok(!json.stdout.includes(lab.adminToken), 'no token printed');
  assert.deepEqual(JSON.parse(json.stdout).map((c: { name: string }) => c.name), ['lab', 'other']);

  const used = await lab.run(['use-context', 'lab']);
  assert.equal(used.code, 0, used.stderr);
  assert.equal(parse(readFileSync(lab.configPath, 'utf8'))['current-context'], 'lab');
  const unknown = await lab.spawn(['use-context', 'nope']);
  assert.equal(unknown.code, 1);
  assert.equal(unknown.stderr, `metalfleet: no context named nope in ${lab.configPath} (there are: lab, other)\n`);
  assert.equal(statSync(lab.configPath).mode & 0o777, 0o600, 'still 0600 after a rewrite');
});

test('METALFLEET_SERVER and METALFLEET_TOKEN override the context; no server at all says what to do', async () => {
  const asContext = await lab.run(['get', 'tenants', '-o', 'json']);
  assert.equal(asContext.code, 0, asContext.stderr);
  assert.deepEqual(JSON.parse(asContext.stdout), []);
  const badToken = await lab.run(['get', 'tenants'], { METALFLEET_TOKEN: 'mft_00000000000000000000000000000000_nope' });
  assert.equal(badToken.code, 1);
  assert.match(badToken.stderr, /^metalfleet: 401 unauthorized/);
  const nobody = await freePort();
  const down = await lab.run(['get', 'tenants'], { METALFLEET_SERVER: `http://127.0.0.1:${nobody}` });
  assert.equal(down.code, 1);
  assert.equal(down.stderr, 'metalfleet: cannot reach the server: ECONNREFUSED\n');
  const fresh = await lab.run(['get', 'pools'], { METALFLEET_CONFIG: join(lab.dir, 'none', 'config.yaml') });
  assert.equal(fresh.code, 1);
  assert.match(fresh.stderr, /^metalfleet: no server: run `metalfleet login SERVER --token-file FILE`/);
  const envOnly = await lab.run(['get', 'tenants'], { METALFLEET_CONFIG: join(lab.dir, 'none', 'config.yaml'), METALFLEET_SERVER: lab.server.url, METALFLEET_TOKEN: lab.adminToken });
  assert.equal(envOnly.code, 0, envOnly.stderr);
  assert.ok(!existsSync(join(lab.dir, 'none')), 'reading never creates the file');
});

test('the contexts file: METALFLEET_CONFIG, then XDG_CONFIG_HOME, then ~/.config', () => {
  assert.equal(contextFilePath({ METALFLEET_CONFIG: '/x/c.yaml', XDG_CONFIG_HOME: '/y' }), '/x/c.yaml');
  assert.equal(contextFilePath({ XDG_CONFIG_HOME: '/y' }), '/y/metalfleet/config.yaml');
  assert.match(contextFilePath({}), /\/\.config\/metalfleet\/config\.yaml$/);
});

test('colour only on a terminal and never with NO_COLOR; piped output has no escape codes', async () => {
  const tty = { isTTY: true } as NodeJS.WriteStream;
  const pipe = { isTTY: false } as NodeJS.WriteStream;
  assert.equal(colourEnabled(tty, {}), true);
  assert.equal(colourEnabled(tty, { NO_COLOR: '1' }), false);
  assert.equal(colourEnabled(tty, { TERM: 'dumb' }), false);
  assert.equal(colourEnabled(pipe, {}), false);
  assert.equal(paint('red', 'x', false), 'x');
  assert.notEqual(paint('red', 'x', true), 'x');
  assert.equal(paintDiff('===\n+a\n-b', false), '+a\n-b');
  assert.match(paintDiff('+a\n-b', true), /\x1b\[32m\+a.*\n\x1b\[31m-b/);
  // Coloured cells take the room of their text only: the columns stay aligned on a terminal.
  const states = [{ s: paint('dim', 'never-seen', true), n: 1 }, { s: paint('green', 'in-sync', true), n: 2 }];
  const lines = table(states, [{ header: 'sync', value: (r) => r.s }, { header: 'n', value: (r) => r.n }]).split('\n');
  assert.deepEqual(lines.map((l) => stripVTControlCharacters(l)), ['SYNC        N', 'never-seen  1', 'in-sync     2']);
  const piped = await lab.spawn(['contexts'], { NO_COLOR: '', FORCE_COLOR: '1' });
  assert.ok(!piped.stdout.includes('\x1b['), piped.stdout);
});
