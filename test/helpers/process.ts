// Running the real `metalfleet` command in a child process.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/metalfleet.js', import.meta.url));

export interface RunResult { code: number | null; stdout: string; stderr: string }

/** Runs `metalfleet ...args` to completion. */
export function runMetalfleet(args: string[], env: Record<string, string | undefined>, timeoutMs = 60_000, stdin?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    if (stdin !== undefined) child.stdin!.end(stdin);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => { stdout += d; });
    child.stderr!.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`metalfleet ${args.join(' ')} timed out\n${stdout}\n${stderr}`)); }, timeoutMs);
    // 'close', not 'exit': the process may exit before its output was all read.
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

export interface RunningServer {
  url: string;
  child: ChildProcess;
  output: () => string;
  /** SIGTERM and wait; resolves with the exit code. */
  stop: () => Promise<number | null>;
}

/**
 * Starts `metalfleet serve` on a free port and waits until it says where it listens and that its
 * poll caches are warm (agent requests get 503 warming-up before that).
 */
export function startServer(env: Record<string, string | undefined>, timeoutMs = 60_000): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'serve'], {
      env: { ...process.env, HOST: '127.0.0.1', PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`server did not start:\n${output}`)); }, timeoutMs);
    let warmTimer: ReturnType<typeof setTimeout> | undefined;
    const started = (url: string) => {
      clearTimeout(timer);
      clearTimeout(warmTimer);
      resolve({ url, child, output: () => output, stop: async () => { child.kill('SIGTERM'); return exited; } });
    };
    const onData = (d: Buffer) => {
      output += d;
      const m = /listening on (https?:\/\/[^\s]+)/.exec(output);
      if (!m) return;
      if (/poll caches warmed|warming the poll caches failed/.test(output)) started(m[1]!);
      // A log level above info does not say: give it a moment.
      else warmTimer ??= setTimeout(() => started(m[1]!), 3_000);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`server exited with ${code}:\n${output}`)); });
  });
}

/** A TCP port on 127.0.0.1 that is free right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
