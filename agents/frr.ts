// Host FRR: apply a rendered frr.conf with frr-reload.py behind the host-daemon flow
// (host-daemon.ts): `--test` first (syntax and diff), then the file is replaced atomically and
// `--reload` applies it; a rejected reload is rolled back to the last-known-good file, and FRR's
// own message is what the agent reports. Health comes from vtysh JSON.
import { basename, dirname } from 'node:path';
import type { SessionReport } from './client.ts';
import { frrVersionFrom, sessionsFromFrr } from './health.ts';
import { failureText, HostDaemonApplier, type CommandResult, type Runner, type Verdict } from './host-daemon.ts';

export { runCommand, type CommandResult, type Runner } from './host-daemon.ts';

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

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

/** What FRR said about a failed reload: its "%" lines and failure notes, deduplicated. */
export function frrErrorMessage(result: CommandResult): string {
  const lines = `${result.stdout}\n${result.stderr}`.replace(ANSI, '').split('\n')
    .filter((l) => /%|error|fail|unknown command|can not/i.test(l))
    .map((l) => l.trim().replace(/^\d{4}-\d\d-\d\d [\d:,]+ (WARNING|ERROR|INFO): /, ''));
  return failureText(lines, `exit code ${result.code}`);
}

export class FrrHost extends HostDaemonApplier {
  protected readonly daemonName = 'FRR';

  constructor(private readonly opts: FrrHostOptions) {
    super(opts, 'last-known-good.frr.conf');
  }

  protected async test(candidate: string): Promise<Verdict> {
    const test = await this.run(this.opts.reloadScript, this.reloadArgs('--test', candidate));
    return test.code === 0 ? undefined : `frr-reload.py --test: ${frrErrorMessage(test)}`;
  }

  protected async reload(): Promise<Verdict> {
    const result = await this.run(this.opts.reloadScript, this.reloadArgs('--reload', this.confFile));
    return result.code === 0 ? undefined : frrErrorMessage(result);
  }

  private reloadArgs(mode: '--test' | '--reload', file: string): string[] {
    const o = this.opts;
    // frr-reload.py runs `<bindir>/vtysh` (default /usr/bin): make it the vtysh the agent uses, so
    // that an FRR installed elsewhere is reloaded by its own vtysh.
    const bindir = o.vtysh.includes('/') && basename(o.vtysh) === 'vtysh' ? dirname(o.vtysh) : undefined;
    return [mode, '--stdout', ...(bindir ? ['--bindir', bindir] : []), ...(o.vtySocket ? ['--vty_socket', o.vtySocket] : []),
      ...(o.confdir ? ['--confdir', o.confdir] : []), ...(o.rundir ? ['--rundir', o.rundir] : []), file];
  }

  private vtysh(command: string): Promise<CommandResult> {
    return this.run(this.opts.vtysh, [...(this.opts.vtySocket ? ['--vty_socket', this.opts.vtySocket] : []), '-c', command]);
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
