// Host GoBGP 3: apply a rendered gobgpd.toml behind the host-daemon flow (host-daemon.ts).
// Test: `gobgpd -f <candidate> --dry-run`. Reload: the file is replaced and gobgpd gets SIGHUP;
// then the agent checks through the API (`gobgp`) that gobgpd took it, because a reload only logs
// what it could not apply: the neighbors are exactly the file's, the policies exist, and the AS
// and router ID are the file's (gobgpd never changes them on reload). GoBGP 3.10 updates only the
// first changed neighbor of a reload, so a neighbor whose block changed is removed by a first
// reload and added back by the second. Last, the routes the file lists (`# metalfleet-announce`)
// are made the locally originated paths. `reconcile()` restores them after gobgpd restarted.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { SessionReport } from './client.ts';
import { gobgpVersionFrom, sessionsFromGobgp } from './health.ts';
import {
  failureText, HostDaemonApplier, writeAtomically, type CommandResult, type Runner, type Verdict,
} from './host-daemon.ts';

export interface GobgpHostOptions {
  /** The file gobgpd runs from (gobgpd -f), e.g. /etc/gobgpd.conf. */
  confFile: string;
  /** gobgpd, for --dry-run and --version. */
  gobgpd: string;
  /** The gobgp client. */
  gobgp: string;
  /** gobgpd's API: host:port (default 127.0.0.1:50051) or unix:///path. */
  target?: string;
  /** gobgpd's PID file; without it, the gobgpd process whose -f is confFile. */
  pidFile?: string;
  stateDir: string;
  node: string;
  run?: Runner;
  /** How long a reload may take to show in the API. */
  reloadTimeoutMs?: number;
  /** Tells gobgpd to reload (default: SIGHUP to its PID). */
  hangUp?: () => void;
}

/** How a gobgpd.toml rendered by metalfleet begins (render/gobgp.ts). */
export const RENDERED_HEADER = '# gobgpd.toml of cluster ';

const ANNOUNCE = /^# metalfleet-announce ([0-9a-fA-F.:]+\/\d{1,3})$/gm;

/** The prefixes a rendered gobgpd.toml asks the agent to originate. */
export function announcedIn(content: string): string[] {
  return [...content.matchAll(ANNOUNCE)].map((m) => m[1]!);
}

/** The `[[neighbors]]` blocks of a gobgpd.toml, by neighbor address (the rest of the file first). */
export function neighborBlocks(content: string): { rest: string[]; blocks: Map<string, string> } {
  const rest: string[] = [];
  const blocks = new Map<string, string>();
  let current: string[] | undefined;
  const close = () => {
    const address = current && /neighbor-address\s*=\s*"([^"]+)"/.exec(current.join('\n'))?.[1];
    if (current) {
      if (address) blocks.set(address, current.join('\n').trim());
      else rest.push(...current);
    }
    current = undefined;
  };
  for (const line of content.split('\n')) {
    if (/^\s*\[\[neighbors\]\]\s*$/.test(line)) { close(); current = [line]; continue; }
    const table = /^\s*\[\[?([^\]]+)\]/.exec(line)?.[1];
    if (current && table !== undefined && table !== 'neighbors' && !table.startsWith('neighbors.')) close();
    (current ?? rest).push(line);
  }
  close();
  return { rest, blocks };
}

/** gobgpd's own message from a failed dry run (`Error="..."` of its fatal log line). */
export function gobgpdErrorMessage(result: CommandResult): string {
  const text = `${result.stdout}\n${result.stderr}`;
  const errors = [...text.matchAll(/Error="((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!.replace(/\\n/g, ' ').replace(/\\"/g, '"'));
  const lines = errors.length > 0 ? errors : text.split('\n').filter((l) => /error|fatal/i.test(l));
  return failureText(lines, `exit code ${result.code}`);
}

type Json = Record<string, unknown>;

export class GobgpHost extends HostDaemonApplier {
  protected readonly daemonName = 'GoBGP';

  constructor(private readonly opts: GobgpHostOptions) {
    super(opts, 'last-known-good.gobgpd.toml');
  }

  protected async test(candidate: string): Promise<Verdict> {
    const dry = await this.run(this.opts.gobgpd, ['-f', candidate, '--dry-run', '--pprof-disable', '--log-plain']);
    return dry.code === 0 ? undefined : `gobgpd --dry-run: ${gobgpdErrorMessage(dry)}`;
  }

  cli(args: string[]): Promise<CommandResult> {
    const target = this.opts.target ?? '127.0.0.1:50051';
    const at = target.startsWith('unix://') ? ['--target', target]
      : ['-u', target.slice(0, target.lastIndexOf(':')).replace(/^\[|\]$/g, ''), '-p', target.slice(target.lastIndexOf(':') + 1)];
    return this.run(this.opts.gobgp, [...at, ...args]);
  }

  private async json<T>(args: string[]): Promise<T> {
    const r = await this.cli([...args, '-j']);
    if (r.code !== 0) throw new Error(`gobgp ${args.join(' ')}: ${(r.stderr || r.stdout).trim() || `exit ${r.code}`}`);
    return JSON.parse(r.stdout || 'null') as T;
  }

  /** gobgpd's PID: from the PID file, or the gobgpd process running from confFile. */
  pid(): number {
    if (this.opts.pidFile) return Number(readFileSync(this.opts.pidFile, 'utf8').trim());
    const conf = resolve(this.opts.confFile);
    for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
      let argv: string[];
      try { argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0'); } catch { continue; }
      if (basename(argv[0] ?? '') !== 'gobgpd' || argv.includes('-d') || argv.includes('--dry-run')) continue;
      const files = argv.flatMap((a, i) => (a === '-f' || a === '--config-file' ? [argv[i + 1] ?? '']
        : a.startsWith('--config-file=') ? [a.slice('--config-file='.length)]
          : a.startsWith('-f') && a.length > 2 ? [a.slice(2)] : []));
      if (files.some((f) => resolve(f) === conf)) return Number(entry);
    }
    throw new Error(`no gobgpd process runs from ${conf} (give --gobgpd-pid-file)`);
  }

  private hangUp(): void {
    if (this.opts.hangUp) this.opts.hangUp();
    else process.kill(this.pid(), 'SIGHUP');
  }

  protected async reload(content: string, previous: string | undefined): Promise<Verdict> {
    try {
      const next = neighborBlocks(content);
      const before = neighborBlocks(previous ?? '');
      const changed = [...next.blocks.keys()]
        .filter((a) => before.blocks.has(a) && before.blocks.get(a) !== next.blocks.get(a));
      if (changed.length > 0) {
        const kept = [...next.blocks].filter(([a]) => !changed.includes(a)).map(([, block]) => block);
        const staged = [...next.rest, ...kept, ''].join('\n');
        writeAtomically(this.confFile, staged);
        this.hangUp();
        const removed = await this.settle(staged);
        writeAtomically(this.confFile, content);
        if (removed) return removed;
      }
      this.hangUp();
      return (await this.settle(content)) ?? (await this.syncRoutes(announcedIn(content)));
    } catch (err) {
      return (err as Error).message;
    }
  }

  /** Waits until gobgpd shows what `content` says; what still differs when time is up. */
  private async settle(content: string): Promise<Verdict> {
    const deadline = Date.now() + (this.opts.reloadTimeoutMs ?? 10_000);
    for (;;) {
      const { text, final } = await this.differences(content);
      if (text === undefined || final || Date.now() > deadline) return text;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** What gobgpd shows that `content` does not say; `final` when waiting cannot change it. */
  private async differences(content: string): Promise<{ text: Verdict; final: boolean }> {
    const as = /^\s*as\s*=\s*(\d+)/m.exec(content)?.[1];
    const routerId = /^\s*router-id\s*=\s*"([^"]+)"/m.exec(content)?.[1];
    if (as !== undefined) {
      const global = await this.json<Json>(['global']);
      if (String(global.asn) !== as || (routerId !== undefined && global.router_id !== routerId)) {
        return {
          final: true,
          text: `gobgpd runs AS ${String(global.asn)} with router ID ${String(global.router_id)} and the file says AS ${as}`
            + `${routerId ? ` with router ID ${routerId}` : ''}: gobgpd takes its AS and router ID only when it starts `
            + '(start it from this revision\'s file, or keep the AS and router ID)',
        };
      }
    }
    const problems: string[] = [];
    const want = [...neighborBlocks(content).blocks.keys()].sort();
    const address = (n: Json) => (n.state as Json | undefined)?.neighbor_address ?? (n.conf as Json | undefined)?.neighbor_address;
    const have = ((await this.json<Json[] | null>(['neighbor'])) ?? []).map((n) => String(address(n))).sort();
    if (want.join() !== have.join()) {
      problems.push(`gobgpd has neighbors [${have.join(', ')}], the file [${want.join(', ')}]`);
    }
    const policies = [...content.matchAll(/^\[\[policy-definitions\]\]\n\s*name = "([^"]+)"/gm)].map((m) => m[1]!);
    if (policies.length > 0) {
      const known = new Set(((await this.json<Json[] | null>(['policy'])) ?? []).map((p) => String(p.name)));
      const missing = policies.filter((p) => !known.has(p));
      if (missing.length > 0) problems.push(`gobgpd lacks the policies ${missing.join(', ')}`);
    }
    return { text: problems.length > 0 ? problems.join('; ') : undefined, final: false };
  }

  /** Makes `prefixes` exactly the locally originated paths of the global RIB. */
  private async syncRoutes(prefixes: string[]): Promise<Verdict> {
    const errors: string[] = [];
    for (const family of ['ipv4', 'ipv6'] as const) {
      const want = new Set(prefixes.filter((p) => p.includes(':') === (family === 'ipv6')));
      const rib = (await this.json<Record<string, Json[]> | null>(['global', 'rib', '-a', family])) ?? {};
      // Paths the agent added have no neighbor (a received one would, if the import policy let it in).
      const ours = (p: Json) => p['neighbor-ip'] === undefined || p['neighbor-ip'] === '<nil>';
      const local = Object.entries(rib).filter(([, paths]) => paths.some(ours)).map(([prefix]) => prefix);
      for (const prefix of local.filter((p) => !want.has(p))) {
        const r = await this.cli(['global', 'rib', '-a', family, 'del', prefix]);
        if (r.code !== 0) errors.push(`withdrawing ${prefix}: ${(r.stderr || r.stdout).trim()}`);
      }
      for (const prefix of [...want].filter((p) => !local.includes(p))) {
        const r = await this.cli(['global', 'rib', '-a', family, 'add', prefix, 'origin', 'igp']);
        if (r.code !== 0) errors.push(`announcing ${prefix}: ${(r.stderr || r.stdout).trim()}`);
      }
    }
    return errors.length > 0 ? failureText(errors, 'gobgp global rib') : undefined;
  }

  /** After a restart gobgpd has forgotten the routes the agent added: add the applied config's again. */
  async reconcile(): Promise<void> {
    if (!existsSync(this.lastKnownGood)) return;
    const applied = readFileSync(this.lastKnownGood, 'utf8');
    if (!applied.startsWith(RENDERED_HEADER)) return; // the operator's file from before the first apply
    const failed = await this.syncRoutes(announcedIn(applied));
    if (failed) throw new Error(failed);
  }

  /** `gobgp neighbor -j` leaves out what each neighbor was sent: the Established ones are asked one by one. */
  async sessions(): Promise<SessionReport[]> {
    const peers = (await this.json<Json[] | null>(['neighbor'])) ?? [];
    const detailed = await Promise.all(peers.map(async (p) => {
      const state = (p.state ?? {}) as Json;
      if (state.session_state !== 6 && state.session_state !== 'ESTABLISHED') return p;
      return (await this.json<Json>(['neighbor', String(state.neighbor_address)]).catch(() => undefined)) ?? p;
    }));
    return sessionsFromGobgp(this.opts.node, detailed);
  }

  async version(): Promise<string | undefined> {
    const out = await this.run(this.opts.gobgpd, ['--version']);
    return out.code === 0 ? gobgpVersionFrom(out.stdout) : undefined;
  }
}
