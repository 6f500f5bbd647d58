// Host BIRD 2: apply a rendered bird.conf behind the host-daemon flow (host-daemon.ts): BIRD checks
// the candidate itself (`birdc configure check "<file>"`, as the daemon's user, so the candidate
// sits next to bird.conf), then `birdc configure "<bird.conf>"`; a rejected reconfiguration is
// rolled back to the last-known-good file. Health from `birdc show protocols all` and
// `show bfd sessions`, the version from `show status`. birdc reports errors by exit status from
// BIRD 2.0.10 on; before that only its output says, so both are read.
import type { SessionReport } from './client.ts';
import { birdVersionFrom, sessionsFromBird } from './health.ts';
import { failureText, HostDaemonApplier, type CommandResult, type Runner, type Verdict } from './host-daemon.ts';

export interface BirdHostOptions {
  /** The file BIRD starts from, e.g. /etc/bird/bird.conf. */
  confFile: string;
  /** birdc (default from PATH). */
  birdc: string;
  /** BIRD's control socket (birdc -s); default birdc's own (/run/bird/bird.ctl on Debian). */
  socket?: string;
  stateDir: string;
  /** The node name sessions are reported under. */
  node: string;
  run?: Runner;
}

/** What BIRD said, without its greeting and progress lines. */
export function birdErrorMessage(result: CommandResult): string {
  const lines = `${result.stdout}\n${result.stderr}`.split('\n')
    .filter((l) => !/^(BIRD [\d.]+ ready\.|Reading configuration from )/.test(l.trim()));
  return failureText(lines, `exit code ${result.code}`);
}

/** A path as birdc passes it to BIRD: in double quotes, which it cannot hold. */
function quotedPath(path: string): string {
  if (/["\n]/.test(path)) throw new Error(`a BIRD config path cannot hold a quote or a newline: ${path}`);
  return `"${path}"`;
}

export class BirdHost extends HostDaemonApplier {
  protected readonly daemonName = 'BIRD';

  constructor(private readonly opts: BirdHostOptions) {
    super(opts, 'last-known-good.bird.conf');
  }

  protected test(candidate: string): Promise<Verdict> {
    return this.configure(['check', quotedPath(candidate)], /^Configuration OK$/m);
  }

  protected reload(): Promise<Verdict> {
    return this.configure([quotedPath(this.confFile)], /^(Reconfigured|Reconfiguration (already )?in progress.*)$/m);
  }

  birdc(args: string[]): Promise<CommandResult> {
    return this.run(this.opts.birdc, [...(this.opts.socket ? ['-s', this.opts.socket] : []), ...args]);
  }

  private async configure(args: string[], ok: RegExp): Promise<Verdict> {
    const result = await this.birdc(['configure', ...args]);
    return result.code === 0 && ok.test(result.stdout) ? undefined : birdErrorMessage(result);
  }

  async sessions(): Promise<SessionReport[]> {
    const protocols = await this.birdc(['show', 'protocols', 'all']);
    if (protocols.code !== 0) throw new Error(`birdc show protocols all: ${birdErrorMessage(protocols)}`);
    const bfd = await this.birdc(['show', 'bfd', 'sessions']); // no BFD protocol: an error, and no BFD states
    return sessionsFromBird(this.opts.node, protocols.stdout, bfd.code === 0 ? bfd.stdout : '');
  }

  async version(): Promise<string | undefined> {
    const out = await this.birdc(['show', 'status']);
    return out.code === 0 ? birdVersionFrom(out.stdout) : undefined;
  }
}
