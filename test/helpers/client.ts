// A real `metalfleet serve` (embedded PGlite) and the client verbs run against it as a user would,
// each with its own contexts file so that no test reads or writes the real home.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/main.ts';
import { terminal } from '../../cli/output.ts';
import { freePort, runMetalfleet, startServer, type RunResult, type RunningServer } from './process.ts';

export interface ClientLab {
  server: RunningServer;
  /** The bootstrap platform-admin token. */
  adminToken: string;
  dir: string;
  /** The contexts file the verbs use (METALFLEET_CONFIG). */
  configPath: string;
  /**
   * Runs `metalfleet ...args` in this process (the command line's own `main`, its output captured)
   * with the lab's contexts file and no METALFLEET_SERVER/TOKEN/TENANT unless `env` sets them.
   */
  run(args: string[], env?: Record<string, string>): Promise<RunResult>;
  /** The same as a child process (`bin/metalfleet.js`): real exit codes, stdin, a pipe for stdout. */
  spawn(args: string[], env?: Record<string, string>, stdin?: string): Promise<RunResult>;
  close(): Promise<void>;
}

export async function startClientLab(): Promise<ClientLab> {
  const dir = mkdtempSync(join(tmpdir(), 'mf-client-'));
  const server = await startServer({
    METALFLEET_DATA_DIR: join(dir, 'data'), DATABASE_URL: '', METALFLEET_SECRET_KEY: '', METALFLEET_SIGNING_KEY: '', METALFLEET_PUBLIC_URL: '',
    PORT: String(await freePort()),
  });
  const configPath = join(dir, 'home', 'config.yaml');
  const baseEnv = (env: Record<string, string>) => ({
    METALFLEET_CONFIG: configPath, METALFLEET_SERVER: '', METALFLEET_TOKEN: '', METALFLEET_TENANT: '', NO_COLOR: '1', HOME: join(dir, 'home'), ...env,
  });
  return {
    server, dir, configPath,
    adminToken: readFileSync(join(dir, 'data', 'admin.token'), 'utf8').trim(),
    run: (args, env = {}) => runInProcess(args, baseEnv(env)),
    spawn: (args, env = {}, stdin) => runMetalfleet(args, baseEnv(env), 60_000, stdin),
    async close() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * `main(args)` with its output captured (cli/output.ts terminal, and stderr for commander's usage
 * errors) and process.env and exitCode set for the call.
 * Calls are queued: they share the process's streams and environment. A spawned process costs
 * about two seconds of CPU (tsx, the command tree); this costs milliseconds, so a test can run
 * every verb against the server many times over.
 */
function runInProcess(args: string[], env: Record<string, string>): Promise<RunResult> {
  const run = queue.then(async () => {
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    const writes = { ...terminal, stderr: process.stderr.write };
    let stdout = '';
    let stderr = '';
    Object.assign(process.env, env);
    terminal.out = (text) => { stdout += text; };
    terminal.err = (text) => { stderr += text; };
    // Commander writes its usage errors to stderr itself (the test runner uses stdout only).
    process.stderr.write = ((chunk: string | Uint8Array) => { stderr += String(chunk); return true; }) as typeof process.stderr.write;
    process.exitCode = undefined;
    try {
      await main(args);
      return { code: typeof process.exitCode === 'number' ? process.exitCode : 0, stdout, stderr };
    } finally {
      terminal.out = writes.out;
      terminal.err = writes.err;
      process.stderr.write = writes.stderr;
      process.exitCode = undefined;
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
  queue = run.catch(() => undefined);
  return run;
}
