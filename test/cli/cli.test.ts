// The command line never surprises: --help on every command and subcommand prints and acts on
// nothing; --version; unknown commands and options are refused with the closest match (exit 2);
// what stops a command is one line with exit code 1 (a port in use, no database, no kubeconfig).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { program } from '../../cli/main.ts';
import { VERSION } from '../../cli/version.ts';
import { AGENT_VERSION } from '../../agents/main.ts';
import { freePort, runMetalfleet } from '../helpers/process.ts';

/** Every command path of the tree, e.g. ['token', 'create']. */
function commandPaths(): string[][] {
  const paths: string[][] = [[]];
  const walk = (cmd: ReturnType<typeof program>, prefix: string[]) => {
    for (const sub of cmd.commands) {
      const path = [...prefix, sub.name()];
      paths.push(path);
      walk(sub as ReturnType<typeof program>, path);
    }
  };
  walk(program(), []);
  return paths;
}

test('--help on every command and subcommand exits 0, prints usage, and touches nothing', async () => {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'mf-cli-')), 'data');
  const port = await freePort();
  // An API the client verbs would call: any request reaching it means a --help acted.
  const requests: string[] = [];
  const api = createHttpServer((req, res) => { requests.push(`${req.method} ${req.url}`); res.writeHead(500).end(); }).listen(0, '127.0.0.1');
  await new Promise((r) => api.once('listening', r));
  // A database that would answer (refusing: nothing listens), a data dir and a contexts file that must not appear.
  const env = {
    METALFLEET_DATA_DIR: dataDir, DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/x`, METALFLEET_SECRET_KEY: '', METALFLEET_SIGNING_KEY: '',
    METALFLEET_CONFIG: join(dataDir, 'config.yaml'), METALFLEET_SERVER: `http://127.0.0.1:${(api.address() as { port: number }).port}`,
    METALFLEET_TOKEN: 'mft_00000000000000000000000000000000_x', METALFLEET_TENANT: 'acme',
  };
  const paths = commandPaths();
  assert.ok(paths.length >= 8, paths.join(' | '));
  for (const verb of ['login', 'get', 'describe', 'delete', 'plan', 'apply', 'export', 'import', 'config show', 'status', 'sessions', 'fleet']) {
    assert.ok(paths.some((p) => p.join(' ') === verb), `${verb} is covered`);
  }
  for (let i = 0; i < paths.length; i += 4) {
    await Promise.all(paths.slice(i, i + 4).map(async (path) => {
      const result = await runMetalfleet([...path, '--help'], env);
      assert.equal(result.code, 0, `${path.join(' ')} --help: ${result.stderr}`);
      assert.match(result.stdout, /usage/i, path.join(' '));
    }));
  }
  api.close();
  assert.ok(!existsSync(dataDir), 'no data dir or contexts file was created: nothing ran');
  assert.deepEqual(requests, [], 'no client verb called the API');
  // The environment every server setting comes from is in the help.
  const help = (await runMetalfleet(['serve', '--help'], env)).stdout;
  const config = readFileSync(new URL('../../cli/config.ts', import.meta.url), 'utf8');
  const documented = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  for (const name of new Set([...config.matchAll(/env\.([A-Z_]+)/g)].map((m) => m[1]!))) {
    assert.ok(help.includes(name), `${name} is not in serve --help`);
    assert.ok(documented.includes(`\`${name}\``), `${name} is not in docs/configuration.md`);
  }
});

test('--version; the versions agree with package.json', async () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.equal(VERSION, pkg.version);
  assert.equal(AGENT_VERSION, pkg.version);
  const result = await runMetalfleet(['--version'], {});
  assert.equal(result.code, 0);
  assert.equal(result.stdout.trim(), pkg.version);
});

test('unknown commands and options: exit 2 with the closest match', async () => {
  const command = await runMetalfleet(['serv'], {});
  assert.equal(command.code, 2);
  assert.match(command.stderr, /unknown command 'serv'[\s\S]*Did you mean serve\?/);
  const option = await runMetalfleet(['verify', '--no-repiar'], {});
  assert.equal(option.code, 2);
  assert.match(option.stderr, /unknown option '--no-repiar'[\s\S]*Did you mean --no-repair\?/);
  const choice = await runMetalfleet(['token', 'create', '--role', 'root'], {});
  assert.equal(choice.code, 2);
  assert.match(choice.stderr, /Allowed choices are platform-admin, tenant-admin, tenant-viewer/);
});

test('a port in use, a database that does not answer, no kubeconfig: one line each, exit 1', async () => {
  const blocker = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => blocker.once('listening', r));
  const taken = (blocker.address() as { port: number }).port;
  const dataDir = mkdtempSync(join(tmpdir(), 'mf-cli-'));
  try {
    const busy = await runMetalfleet(['serve'], { METALFLEET_DATA_DIR: dataDir, DATABASE_URL: '', HOST: '127.0.0.1', PORT: String(taken), METALFLEET_SECRET_KEY: '', METALFLEET_SIGNING_KEY: '' });
    assert.equal(busy.code, 1);
    assert.equal(busy.stderr.trim(), `metalfleet: 127.0.0.1:${taken} is in use: set HOST and PORT to a free address`);

    const keys = (await runMetalfleet(['keys', 'generate'], {})).stdout;
    const env = Object.fromEntries([...keys.matchAll(/^(\w+)='(.*)'$/gm)].map((m) => [m[1]!, m[2]!]));
    const nobody = await freePort();
    for (const command of [['serve'], ['migrate'], ['verify'], ['keys', 'resign'], ['secrets', 'reseal']]) {
      const down = await runMetalfleet(command, { ...env, METALFLEET_DATA_DIR: dataDir, DATABASE_URL: `postgres://postgres@127.0.0.1:${nobody}/x`, PORT: '0' });
      assert.equal(down.code, 1, `${command}: ${down.stderr}`);
      assert.match(down.stderr.trim(), new RegExp(`^metalfleet: cannot reach the database \\(PostgreSQL 127\\.0\\.0\\.1:${nobody}/x\\): ECONNREFUSED; is it running, and is DATABASE_URL right\\?$`), command.join(' '));
    }

    const agent = await runMetalfleet(['agent', '--url', 'http://127.0.0.1:1', '--mode', 'kubernetes', '--namespace', 'x', '--state-dir', join(dataDir, 'agent')],
      { HOME: dataDir, KUBECONFIG: '', KUBERNETES_SERVICE_HOST: '' });
    assert.equal(agent.code, 1, agent.stderr);
    assert.equal(agent.stderr.trim(), 'metalfleet: no kubeconfig: run the agent in a cluster (its service account), or set KUBECONFIG');
  } finally {
    blocker.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
