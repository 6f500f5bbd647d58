// Host FRR: apply a rendered frr.conf with frr-reload.py, never leaving the router worse off.
// `--test` first (syntax and diff), then the file is replaced atomically and `--reload` applies it;
// if FRR rejects the reload, the last-known-good file is put back and reloaded, and FRR's own
// message is what the agent reports. Health comes from vtysh JSON.
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { SessionReport, VerifiedConfig } from './client.ts';
import { frrVersionFrom, sessionsFromFrr } from './health.ts';

export interface CommandResult { code: number; stdout: string; stderr: string }
export type Runner = (cmd: string, args: string[]) => Promise<CommandResult>;

export const runCommand: Runner = (cmd, args) => new Promise((resolve) => {
  execFile(cmd, args, { timeout: 120_000, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
    const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
    resolve({ code, stdout: String(stdout), stderr: String(stderr) });
  });
});

export interface FrrHostOptions {
  /** The file FRR starts from, e.g. /etc/frr/frr.conf. */
  confFile: string;
  reloadScript: string;
  vtysh: string;
  /** Directory of the daemons' vty sockets (a private instance); default FRR's. */
  vtySocket?: string;
  confdir?: string;
  rundir?: string;
  /** Where the last-known-good copy lives. */
  stateDir: string;
  /** The node name sessions are reported under. */
  node: string;
  run?: Runner;
}

export type ApplyOutcome = { ok: true } | { ok: false; error: string };

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

/** What FRR said about a failed reload: its "%" lines and failure notes, deduplicated. */
export function frrErrorMessage(result: CommandResult): string {
  const lines = `${result.stdout}\n${result.stderr}`.replace(ANSI, '').split('\n').map((l) => l.trim())
    .filter((l) => /%|error|fail|unknown command|can not/i.test(l))
    .map((l) => l.replace(/^\d{4}-\d\d-\d\d [\d:,]+ (WARNING|ERROR|INFO): /, ''));
  const unique = [...new Set(lines)];
  const text = unique.length > 0 ? unique.join('\n') : `exit code ${result.code}`;
  return text.length > 4000 ? `${text.slice(0, 4000)}…` : text;
}

export class FrrHost {
  private readonly run: Runner;
  readonly lastKnownGood: string;

  constructor(private readonly opts: FrrHostOptions) {
    this.run = opts.run ?? runCommand;
    mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 });
    this.lastKnownGood = join(opts.stateDir, 'last-known-good.frr.conf');
  }

  private reloadArgs(mode: '--test' | '--reload', file: string): string[] {
    const o = this.opts;
    return [mode, '--stdout', ...(o.vtySocket ? ['--vty_socket', o.vtySocket] : []), ...(o.confdir ? ['--confdir', o.confdir] : []),
      ...(o.rundir ? ['--rundir', o.rundir] : []), file];
  }

  private vtysh(command: string): Promise<CommandResult> {
    return this.run(this.opts.vtysh, [...(this.opts.vtySocket ? ['--vty_socket', this.opts.vtySocket] : []), '-c', command]);
  }

  /** Replaces a file by rename, keeping its owner and mode (FRR reads it as user frr). */
  private writeAtomically(path: string, content: string): void {
    const previous = existsSync(path) ? statSync(path) : undefined;
    const tmp = join(dirname(path), `.${Date.now()}.metalfleet.tmp`);
    writeFileSync(tmp, content, { mode: 0o600 });
    if (previous) {
      chmodSync(tmp, previous.mode & 0o777);
      try { chownSync(tmp, previous.uid, previous.gid); } catch { /* not root: keep ours */ }
    } else {
      chmodSync(tmp, 0o640);
    }
    renameSync(tmp, path);
  }

  async apply(config: VerifiedConfig): Promise<ApplyOutcome> {
    // The config running before metalfleet's first apply is the first known-good one.
    if (!existsSync(this.lastKnownGood) && existsSync(this.opts.confFile)) {
      writeFileSync(this.lastKnownGood, readFileSync(this.opts.confFile), { mode: 0o600 });
    }
    const candidate = join(this.opts.stateDir, 'candidate.frr.conf');
    writeFileSync(candidate, config.content, { mode: 0o600 });
    const test = await this.run(this.opts.reloadScript, this.reloadArgs('--test', candidate));
    if (test.code !== 0) return { ok: false, error: `frr-reload.py --test rejected revision ${config.revision}: ${frrErrorMessage(test)}` };

    this.writeAtomically(this.opts.confFile, config.content);
    const reload = await this.run(this.opts.reloadScript, this.reloadArgs('--reload', this.opts.confFile));
    if (reload.code === 0) {
      writeFileSync(this.lastKnownGood, config.content, { mode: 0o600 });
      return { ok: true };
    }
    const error = `FRR rejected revision ${config.revision}: ${frrErrorMessage(reload)}`;
    if (!existsSync(this.lastKnownGood)) return { ok: false, error: `${error}; no last-known-good config to restore` };
    this.writeAtomically(this.opts.confFile, readFileSync(this.lastKnownGood, 'utf8'));
    const restore = await this.run(this.opts.reloadScript, this.reloadArgs('--reload', this.opts.confFile));
    return {
      ok: false,
      error: restore.code === 0 ? `${error}; restored the last-known-good config`
        : `${error}; restoring the last-known-good config failed too: ${frrErrorMessage(restore)}`,
    };
  }

  async sessions(): Promise<SessionReport[]> {
    const neighbors = await this.vtysh('show bgp vrf all neighbors json');
    if (neighbors.code !== 0) throw new Error(`vtysh show bgp vrf all neighbors json: ${neighbors.stderr.trim() || `exit ${neighbors.code}`}`);
    const bfd = await this.vtysh('show bfd peers json');
    let bfdJson: unknown;
    try { bfdJson = bfd.code === 0 ? JSON.parse(bfd.stdout) : undefined; } catch { bfdJson = undefined; } // bfdd may not run
    return sessionsFromFrr(this.opts.node, JSON.parse(neighbors.stdout || '{}'), bfdJson);
  }

  async version(): Promise<string | undefined> {
    const out = await this.vtysh('show version');
    return out.code === 0 ? frrVersionFrom(out.stdout) : undefined;
  }
}
