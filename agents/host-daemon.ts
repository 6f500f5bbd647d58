// The applier every host daemon (FRR, BIRD, GoBGP) sits behind: one flow that never leaves the
// router worse off. The daemon tests the candidate file first; then the config file is replaced
// atomically and the daemon reloads it; if it rejects the reload, the last-known-good file is put
// back and reloaded, and the daemon's own message is what the agent reports. Each daemon brings
// only its test and its reload (agents/frr.ts, bird.ts, gobgp.ts extend HostDaemonApplier).
import { execFile } from 'node:child_process';
import {
  chmodSync, chownSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { SessionReport, VerifiedConfig } from './client.ts';
import type { ApplyOutcome } from './agent.ts';

export interface CommandResult { code: number; stdout: string; stderr: string }
export type Runner = (cmd: string, args: string[]) => Promise<CommandResult>;

export const runCommand: Runner = (cmd, args) => new Promise((resolve) => {
  execFile(cmd, args, { timeout: 120_000, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
    const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
    resolve({ code, stdout: String(stdout), stderr: String(stderr) });
  });
});

/** What a daemon says went wrong, or undefined when it took it. */
export type Verdict = string | undefined;

/** Text of a failure: the lines worth reading, deduplicated and bounded. */
export function failureText(lines: string[], fallback: string): string {
  const unique = [...new Set(lines.map((l) => l.trim()).filter(Boolean))];
  const text = unique.length > 0 ? unique.join('\n') : fallback;
  return text.length > 4000 ? `${text.slice(0, 4000)}…` : text;
}

/** Replaces a file by rename, keeping its owner and mode (daemons read it as their own user). */
export function writeAtomically(path: string, content: string, like: string = path): void {
  const previous = existsSync(like) ? statSync(like) : undefined;
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.metalfleet.tmp`);
  writeFileSync(tmp, content, { mode: 0o600 });
  if (previous) {
    chmodSync(tmp, previous.mode & 0o777);
    try { chownSync(tmp, previous.uid, previous.gid); } catch { /* not root: keep ours */ }
  } else {
    chmodSync(tmp, 0o640);
  }
  renameSync(tmp, path);
}

/**
 * The applier of a host daemon: each daemon (frr.ts, bird.ts, gobgp.ts) brings its name, its test
 * of a candidate file and its reload; the flow is this one.
 */
export abstract class HostDaemonApplier {
  readonly lastKnownGood: string;
  protected readonly run: Runner;
  /** The file the daemon starts from, e.g. /etc/bird/bird.conf. */
  protected readonly confFile: string;
  /** As messages name it: FRR, BIRD, GoBGP. */
  protected abstract readonly daemonName: string;

  constructor(opts: { confFile: string; stateDir: string; run?: Runner }, lastKnownGoodName: string) {
    this.run = opts.run ?? runCommand;
    this.confFile = opts.confFile;
    mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 });
    this.lastKnownGood = join(opts.stateDir, lastKnownGoodName);
  }

  /** Tests a candidate file (next to confFile, readable by the daemon); its error, if it refuses it. */
  protected abstract test(candidate: string): Promise<Verdict>;

  /**
   * Reloads from confFile, which now holds `content`; `previous` is what it held before (the
   * running config, as far as the agent knows). Its error, if the daemon did not take it.
   */
  protected abstract reload(content: string, previous: string | undefined): Promise<Verdict>;

  /** The sessions the daemon reports (its health collector). */
  abstract sessions(): Promise<SessionReport[]>;

  /** The daemon's version, as the agent reports it. */
  abstract version(): Promise<string | undefined>;

  async apply(config: VerifiedConfig): Promise<ApplyOutcome> {
    // The config running before metalfleet's first apply is the first known-good one.
    if (!existsSync(this.lastKnownGood) && existsSync(this.confFile)) {
      writeFileSync(this.lastKnownGood, readFileSync(this.confFile), { mode: 0o600 });
    }
    const previous = existsSync(this.lastKnownGood) ? readFileSync(this.lastKnownGood, 'utf8') : undefined;
    // Next to the config file, with its owner and mode: the daemon itself reads it.
    const candidate = join(dirname(this.confFile), `.metalfleet-candidate.${basename(this.confFile)}`);
    writeAtomically(candidate, config.content, this.confFile);
    let refused: Verdict;
    try {
      refused = await this.test(candidate);
    } finally {
      rmSync(candidate, { force: true });
    }
    if (refused !== undefined) {
      return { ok: false, error: `${this.daemonName} refused revision ${config.revision} (test): ${refused}` };
    }

    writeAtomically(this.confFile, config.content);
    const rejected = await this.reload(config.content, previous);
    if (rejected === undefined) {
      writeFileSync(this.lastKnownGood, config.content, { mode: 0o600 });
      return { ok: true };
    }
    const error = `${this.daemonName} rejected revision ${config.revision}: ${rejected}`;
    if (previous === undefined) return { ok: false, error: `${error}; no last-known-good config to restore` };
    writeAtomically(this.confFile, previous);
    const restore = await this.reload(previous, config.content);
    return {
      ok: false,
      error: restore === undefined ? `${error}; restored the last-known-good config`
        : `${error}; restoring the last-known-good config failed too: ${restore}`,
    };
  }
}
