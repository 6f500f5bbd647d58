// `metalfleet demo` as a child process, for the tests that watch it: where it says it serves, its
// sign-in link and admin token, its data directory; stop() is Ctrl-C.
import { spawn } from 'node:child_process';
import { BIN, freePort } from './process.ts';

export interface Demo {
  url: string;
  link: string;
  admin: string;
  dataDir: string;
  output(): string;
  /** A platform-admin API call; the parsed answer (throws on 400 and more). */
  api(method: string, path: string, body?: unknown): Promise<unknown>;
  /** Follows the sign-in link; the session cookie. */
  signIn(): Promise<string>;
  /** Ctrl-C, and its exit code. */
  stop(): Promise<number | null>;
}

export async function startDemo(): Promise<Demo> {
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, 'demo', '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`the demo did not start:\n${output}`)); }, 120_000);
    const onData = (d: Buffer) => {
      output += d;
      const url = /console: (\S+)\//.exec(output)?.[1];
      const link = /one-time link[^:]*: (\S+)/.exec(output)?.[1];
      const admin = /platform-admin token: (\S+)/.exec(output)?.[1];
      const dataDir = /data \(removed on exit\): (\S+)/.exec(output)?.[1];
      if (!url || !link || !admin || !dataDir) return;
      clearTimeout(timer);
      resolve({
        url, link, admin, dataDir, output: () => output,
        async api(method, path, body) {
          const res = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
          const text = await res.text();
          if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${text}`);
          return text ? JSON.parse(text) : undefined;
        },
        async signIn() {
          const res = await fetch(`${url}/sign-in/link`, { method: 'POST', body: new URLSearchParams({ link: new URL(link).searchParams.get('code')! }), redirect: 'manual' });
          if (res.status !== 303) throw new Error(`sign-in link: ${res.status}`);
          return res.headers.get('set-cookie')!.split(';')[0]!;
        },
        stop: async () => { if (child.exitCode === null) child.kill('SIGINT'); return exited; },
      });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`the demo exited with ${code}:\n${output}`)); });
  });
}
