// What the end-to-end tests of the real agent share: the control plane on loopback (a harness
// behind an HTTP server, polls advised every second) and `metalfleet agent` as a process of its own.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { createApp } from '../../api/app.ts';
import { BIN, freePort } from './process.ts';
import { startHarness, type Harness } from './api.ts';

export interface ControlPlane {
  h: Harness;
  url: string;
  /** A scratch directory for the agent (token, state), removed by close(). */
  stateDir: string;
  close(): Promise<void>;
}

export async function startControlPlane(): Promise<ControlPlane> {
  const h = await startHarness();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const app = createApp({ db: h.database.db, secretKey: h.secretKey, auth: h.auth, publicUrl: url, pollIntervalSeconds: 1, log: () => {} });
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port });
  const stateDir = mkdtempSync(join(tmpdir(), 'mf-agent-e2e-'));
  return { h, url, stateDir, close: async () => { server.close(); await h.close(); rmSync(stateDir, { recursive: true, force: true }); } };
}

export interface AgentProcess {
  process: ChildProcess;
  /** Everything it wrote so far (stdout and stderr). */
  output(): string;
  stop(): Promise<void>;
}

/**
 * `metalfleet agent` for the control plane, with an enrollment token written to its state dir, its
 * state under `<stateDir>/agent`, backoff capped at 4 s, /healthz and /metrics on a free port;
 * `args` add the rest.
 */
export function spawnAgent({ url, stateDir }: ControlPlane, token: string, args: string[]): AgentProcess {
  writeFileSync(join(stateDir, 'token'), token, { mode: 0o600 });
  let output = '';
  const child = spawn(process.execPath, [BIN, 'agent', '--url', url, '--token-file', join(stateDir, 'token'),
    '--state-dir', join(stateDir, 'agent'), '--listen', '127.0.0.1:0', '--backoff-max', '4', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => { output += d; });
  child.stderr!.on('data', (d) => { output += d; });
  return {
    process: child,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}
