// A throw-away BGP lab: network namespaces this process creates itself, joined by
// veth pairs, with FRR, BIRD 2 or GoBGP inside. Only 10.250.x.x / fd00:250::/32 addresses, only
// inside those namespaces. Teardown kills exactly the processes the lab started (checked by
// /proc/PID/comm), then deletes its namespaces and files.
//
// FRR comes in two installs, the real-FRR matrix (`FRR_MATRIX`): Debian 12's 8.4 (/usr/lib/frr,
// /usr/bin/vtysh) and FRR 10 from the prefix .ci/build-frr10 builds (METALFLEET_FRR10_PREFIX, or
// the newest build in its cache).
//
// `metalfleet demo` runs its live sessions in one (cli/demo-live.ts), the data-plane tests in
// theirs (test/helpers/lab.ts re-exports this module). Tests that need it call `dataplaneSkip()`:
// without root, the daemons or that FRR install they skip with the reason, unless
// METALFLEET_REQUIRE_DATAPLANE=1 (CI), where they run and fail loudly instead (`assertDataplane()`).
import { execFile, execFileSync, spawn } from 'node:child_process';
import { accessSync, chmodSync, chownSync, closeSync, constants, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CommandResult { code: number; stdout: string; stderr: string }

/** Runs a command, never throwing on a non-zero exit. */
export async function sh(cmd: string, args: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** One FRR installation the lab can run. */
export interface FrrInstall {
  /** What `bgpd --version` says, e.g. 8.4.4 or 10.3. */
  version: string;
  /** Directory of the daemons (zebra, bgpd, bfdd; mgmtd and staticd from FRR 9). */
  sbin: string;
  vtysh: string;
  reload: string;
  /**
   * FRR >= 9 style: mgmtd runs first and staticd with it; mgmtd's sockets live under the compiled-in
   * run state dir, so every instance gets a pathspace of its own (-N) there; mgmtd and staticd
   * take no -f, so the startup config is pushed with `vtysh -b`, as frrinit.sh does; bfdd has no
   * --bfdctl.
   */
  mgmtd: boolean;
  /** The compiled-in run and lib state dirs (each instance's -N pathspace dir goes in both). */
  stateDirs: string[];
}

/** An FRR of the matrix: its install, or why there is none here. */
export interface FrrTarget {
  label: string;
  install?: FrrInstall;
  missing?: string;
}

export const FRR10_PREFIX_ENV = 'METALFLEET_FRR10_PREFIX';
const FRR10_HINT = `build it with .ci/build-frr10 and export ${FRR10_PREFIX_ENV}=<the prefix it prints>`;

const executable = (p: string) => { try { accessSync(p, constants.X_OK); return true; } catch { return false; } };

function bgpdVersion(sbin: string): string | undefined {
  try {
    return /version (\S+)/.exec(execFileSync(join(sbin, 'bgpd'), ['--version'], { encoding: 'utf8', timeout: 10_000 }))?.[1];
  } catch {
    return undefined;
  }
}

/** Debian 12's FRR 8.4 (apt-get install frr frr-pythontools). */
function debianFrr(): FrrTarget {
  const sbin = '/usr/lib/frr';
  const version = executable(join(sbin, 'bgpd')) ? bgpdVersion(sbin) : undefined;
  if (!version) return { label: 'FRR 8.4 (Debian)', missing: 'Debian\'s frr (apt-get install -y frr frr-pythontools)' };
  return {
    label: `FRR ${version} (Debian)`,
    install: { version, sbin, vtysh: '/usr/bin/vtysh', reload: join(sbin, 'frr-reload.py'), mgmtd: false, stateDirs: [] },
  };
}

/**
 * Where .ci/build-frr10 puts its builds: the newest complete one (a `.metalfleet-build` stamp),
 * found when METALFLEET_FRR10_PREFIX is not set (a developer who ran the script once).
 */
function cachedFrr10(): string | undefined {
  const cache = process.env.METALFLEET_CI_CACHE || '/var/cache/metalfleet-ci';
  let dirs: string[];
  try { dirs = readdirSync(cache).filter((d) => /^frr-10\./.test(d) && existsSync(join(cache, d, '.metalfleet-build'))); } catch { return undefined; }
  dirs.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return dirs.length > 0 ? join(cache, dirs[dirs.length - 1]!) : undefined;
}

/**
 * FRR 10 built from Debian 13's sources by .ci/build-frr10: METALFLEET_FRR10_PREFIX (CI exports
 * it), else the newest build in the script's cache; METALFLEET_FRR10_PREFIX= (empty) means none.
 */
function frr10(): FrrTarget {
  const set = process.env[FRR10_PREFIX_ENV];
  const prefix = set ?? cachedFrr10();
  if (!prefix) {
    return { label: 'FRR 10', missing: `FRR 10: ${set === undefined ? `${FRR10_PREFIX_ENV} is not set and no build is cached` : `${FRR10_PREFIX_ENV} is empty`} (${FRR10_HINT})` };
  }
  const sbin = join(prefix, 'sbin');
  const version = executable(join(sbin, 'bgpd')) ? bgpdVersion(sbin) : undefined;
  if (!version) return { label: 'FRR 10', missing: `FRR 10: no working bgpd in ${sbin} (${FRR10_HINT})` };
  // The state dirs .ci/build-frr10 configures (--localstatedir=PREFIX/var --runstatedir=PREFIX/var/run).
  return {
    label: `FRR ${version}`,
    install: { version, sbin, vtysh: join(prefix, 'bin', 'vtysh'), reload: join(sbin, 'frr-reload.py'), mgmtd: true,
      stateDirs: [join(prefix, 'var', 'run', 'frr'), join(prefix, 'var', 'lib', 'frr')] },
  };
}

export const DEBIAN_FRR = debianFrr();
export const FRR10 = frr10();
/** Every FRR the real-FRR tests run on. */
export const FRR_MATRIX: readonly FrrTarget[] = [DEBIAN_FRR, FRR10];

const APT_HINT = 'apt-get install -y frr frr-pythontools bird2 gobgpd';

/** What is missing for `tools` (daemons and clients; 'frr', 'vtysh', 'frr-reload' of `frr`). */
export function missingTools(tools: string[], frr: FrrTarget): string[] {
  const paths: Record<string, string[]> = {
    ip: ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip'],
    bird: ['/usr/sbin/bird'],
    birdc: ['/usr/sbin/birdc'],
    gobgpd: ['/usr/bin/gobgpd'],
    gobgp: ['/usr/bin/gobgp'],
  };
  const install = frr.install;
  const frrPaths: Record<string, string[]> = {
    frr: install ? ['zebra', 'bgpd', 'bfdd', ...(install.mgmtd ? ['mgmtd', 'staticd'] : [])].map((d) => join(install.sbin, d)) : [],
    vtysh: install ? [install.vtysh] : [],
    'frr-reload': install ? [install.reload] : [],
  };
  const missing = tools.flatMap((t) => {
    if (!(t in frrPaths)) return (paths[t] ?? []).some(executable) ? [] : [`${t} (${APT_HINT})`];
    if (!install) return [frr.missing!];
    return frrPaths[t]!.every(executable) ? [] : [`${t} of ${frr.label} (${frrPaths[t]!.join(', ')})`];
  });
  return [...new Set(missing)];
}

export const dataplaneRequired = process.env.METALFLEET_REQUIRE_DATAPLANE === '1';

/**
 * `false` when the test can run (or must run: METALFLEET_REQUIRE_DATAPLANE=1), otherwise the
 * reason it is skipped. A required test that lacks tools fails in `assertDataplane()`. `frr` is
 * the FRR its 'frr', 'vtysh' and 'frr-reload' tools come from (default Debian's).
 */
export function dataplaneSkip(tools: string[], frr: FrrTarget = DEBIAN_FRR): string | false {
  if (dataplaneRequired) return false;
  const reasons: string[] = [];
  if (userInfo().uid !== 0) reasons.push('needs root for network namespaces');
  const missing = missingTools(['ip', ...tools], frr);
  if (missing.length > 0) reasons.push(`missing ${missing.join('; ')}`);
  return reasons.length > 0 ? reasons.join('; ') : false;
}

/** Throws unless the test can run; returns the FRR install it runs on. */
export function assertDataplane(tools: string[], frr: FrrTarget = DEBIAN_FRR): FrrInstall {
  if (userInfo().uid !== 0) throw new Error('data-plane test needs root (network namespaces)');
  const missing = missingTools(['ip', ...tools], frr);
  if (missing.length > 0) throw new Error(`data-plane test needs ${missing.join('; ')}`);
  if (!frr.install) throw new Error(`data-plane test needs ${frr.missing}`);
  return frr.install;
}

let labCounter = 0;

export class Lab {
  readonly root: string;
  private readonly namespaces: string[] = [];
  private readonly processes: Array<{ pid: number; comm: string }> = [];
  /** FRR >= 9 pathspace dirs under the install's state dirs, removed at teardown. */
  private readonly pathspaces: string[] = [];
  private readonly tag: string;
  /** Numbers the lab's namespaces, links and pathspaces. */
  private seq = 0;

  constructor() {
    this.root = mkdtempSync(join(tmpdir(), 'mf-lab-'));
    chmodSync(this.root, 0o755); // FRR daemons drop to user frr and must traverse it
    this.tag = `${process.pid % 100000}${(labCounter++).toString(36)}`;
  }

  /** A new namespace with lo up and IPv6 DAD off (addresses usable at once). */
  async namespace(role: string): Promise<string> {
    const name = `mf${this.tag}-${this.seq++}${role}`.slice(0, 30); // taken before any await: tests run concurrently
    await run('ip', ['netns', 'add', name]);
    this.namespaces.push(name);
    await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    await run('ip', ['netns', 'exec', name, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
    return name;
  }

  /** A veth pair between two namespaces; interface names are made unique per lab. */
  async link(nsA: string, nsB: string): Promise<[string, string]> {
    const n = this.seq++;
    const a = `a${this.tag}${n}`.slice(0, 15);
    const b = `b${this.tag}${n}`.slice(0, 15);
    await run('ip', ['link', 'add', a, 'netns', nsA, 'type', 'veth', 'peer', 'name', b, 'netns', nsB]);
    await run('ip', ['-n', nsA, 'link', 'set', a, 'up']);
    await run('ip', ['-n', nsB, 'link', 'set', b, 'up']);
    return [a, b];
  }

  /**
   * The lab's two hosts: an FRR host (10.250.0.1/30, fd00:250::1/64) and its peer (10.250.0.2/30,
   * fd00:250::2/64), each in a namespace of its own, joined by a veth pair.
   */
  async twoHosts(): Promise<{ frrNs: string; peerNs: string; frrIf: string; peerIf: string }> {
    const frrNs = await this.namespace('frr');
    const peerNs = await this.namespace('peer');
    const [frrIf, peerIf] = await this.link(frrNs, peerNs);
    await this.address(frrNs, frrIf, '10.250.0.1/30');
    await this.address(frrNs, frrIf, 'fd00:250::1/64');
    await this.address(peerNs, peerIf, '10.250.0.2/30');
    await this.address(peerNs, peerIf, 'fd00:250::2/64');
    return { frrNs, peerNs, frrIf, peerIf };
  }

  async address(ns: string, dev: string, cidr: string): Promise<void> {
    await run('ip', ['-n', ns, 'addr', 'add', cidr, 'dev', dev, ...(cidr.includes(':') ? ['nodad'] : [])]);
  }

  /** Remembers a started process by PID and command name, so teardown kills exactly it. */
  track(pid: number): void {
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    this.processes.push({ pid, comm });
  }

  /** A directory FRR (user frr) can write. */
  frrDir(name: string): string {
    const dir = join(this.root, name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const frr = frrUser();
    chownSync(dir, frr.uid, frr.gid);
    chmodSync(dir, 0o755);
    return dir;
  }

  /**
   * Starts FRR in `ns` with `config` as its startup config (or none); `frr` is the install (default
   * Debian's 8.4). 8.4: zebra, bgpd and bfdd, each reading `config` as its startup file (file mode:
   * every daemon takes the lines it knows). FRR >= 9: mgmtd first, then zebra, staticd, bgpd and
   * bfdd under a pathspace of their own, then `vtysh -b` pushes `config` as frrinit.sh does; it
   * must apply cleanly. `daemons` narrows zebra/bgpd/bfdd; `bgpdArgs` e.g. ['-p', '0'].
   */
  async startFrr(ns: string, name: string, opts: { frr?: FrrInstall; config?: string; bgpdArgs?: string[]; daemons?: string[] } = {}): Promise<FrrInstance> {
    const install = opts.frr ?? assertDataplane([], DEBIAN_FRR);
    const dir = this.frrDir(name);
    const conf = join(dir, 'frr.conf');
    writeFileSync(conf, opts.config ?? '', { mode: 0o644 });
    writeFileSync(join(dir, 'vtysh.conf'), '', { mode: 0o644 });
    const pathspace = `mf${this.tag}p${this.seq++}`;
    if (install.mgmtd) this.pathspaces.push(...install.stateDirs.map((d) => join(d, pathspace)));
    const daemons = opts.daemons ?? ['zebra', 'bgpd', 'bfdd'];
    for (const daemon of install.mgmtd ? ['mgmtd', 'zebra', 'staticd', ...daemons.filter((d) => d !== 'zebra')] : daemons) {
      const args = ['netns', 'exec', ns, join(install.sbin, daemon), '-d', '-P', '0', '-i', join(dir, `${daemon}.pid`),
        '-z', join(dir, 'zserv.api'), '--vty_socket', dir, '--log', `file:${join(dir, `${daemon}.log`)}`,
        ...(install.mgmtd ? ['-N', pathspace] : ['-f', conf])];
      if (daemon === 'bfdd' && !install.mgmtd) args.push('--bfdctl', join(dir, 'bfdd.sock'));
      if (daemon === 'bgpd') args.push(...(opts.bgpdArgs ?? []));
      const started = await launch('ip', args, join(dir, `${daemon}.out`));
      if (started.code !== 0) throw new Error(`${daemon} failed to start (${started.code}): ${started.output}`);
      const pid = Number(readFileSync(join(dir, `${daemon}.pid`), 'utf8'));
      this.track(pid);
      await waitFor(() => existsSync(join(dir, `${daemon}.vty`)), 5000, `${daemon} vty socket`);
      await sleep(50);
      if (!isAlive(pid)) throw new Error(`${daemon} exited after start: ${tail(join(dir, `${daemon}.log`))}`);
    }
    const frr = new FrrInstance(dir, install);
    if (install.mgmtd && (opts.config ?? '') !== '') {
      const boot = await frr.vtysh(['--config_dir', dir, '-b']);
      if (boot.code !== 0) throw new Error(`vtysh -b (FRR ${install.version}) failed (${boot.code}): ${boot.stderr}${boot.stdout}`);
    }
    return frr;
  }

  async startBird(ns: string, name: string, config: string): Promise<BirdInstance> {
    const dir = join(this.root, name);
    mkdirSync(dir, { recursive: true });
    const conf = join(dir, 'bird.conf');
    writeFileSync(conf, config);
    const check = await sh('bird', ['-p', '-c', conf]);
    if (check.code !== 0) throw new Error(`bird.conf does not parse: ${check.stderr}`);
    const started = await sh('ip', ['netns', 'exec', ns, 'bird', '-c', conf, '-s', join(dir, 'bird.ctl'), '-P', join(dir, 'bird.pid')]);
    if (started.code !== 0) throw new Error(`bird failed to start: ${started.stderr}`);
    await waitFor(() => existsSync(join(dir, 'bird.pid')) && readFileSync(join(dir, 'bird.pid'), 'utf8').trim() !== '', 5000, 'bird pidfile');
    this.track(Number(readFileSync(join(dir, 'bird.pid'), 'utf8')));
    return new BirdInstance(join(dir, 'bird.ctl'), conf);
  }

  /**
   * GoBGP with its gRPC API on the namespace's own 127.0.0.1 (not the host's), or with `unixApi`
   * on a socket in its directory (reachable from outside the namespace, as an agent needs it).
   */
  async startGobgp(ns: string, name: string, config: string, opts: { unixApi?: boolean } = {}): Promise<GobgpInstance> {
    const dir = join(this.root, name);
    mkdirSync(dir, { recursive: true });
    const conf = join(dir, 'gobgpd.toml');
    writeFileSync(conf, config);
    const target = opts.unixApi ? `unix://${join(dir, 'gobgp.sock')}` : undefined;
    const log = openSync(join(dir, 'gobgpd.log'), 'w');
    const child = spawn('ip', ['netns', 'exec', ns, 'gobgpd', '-f', conf, '-p', '--api-hosts', target ?? '127.0.0.1:50051', '--pprof-disable'],
      { stdio: ['ignore', log, log], detached: false });
    closeSync(log);
    const gobgp = new GobgpInstance(ns, conf, target);
    await waitFor(async () => (await gobgp.cli(['global'])).code === 0, 10_000, 'gobgpd API');
    // `ip netns exec` execs gobgpd, so the child PID is gobgpd itself once it runs.
    await waitFor(() => readFileSync(`/proc/${child.pid}/comm`, 'utf8').trim() === 'gobgpd', 5000, 'gobgpd process');
    this.track(child.pid!);
    return gobgp;
  }

  /**
   * A TCP service in `ns` on addr:port that answers `reply` and closes: the stand-in for a
   * service behind a VIP, to prove the data plane end to end (`tcpProbe`).
   */
  async startTcpService(ns: string, addr: string, port: number, reply: string): Promise<void> {
    const script = `require('net').createServer((s) => s.end(${JSON.stringify(reply)})).listen(${port}, ${JSON.stringify(addr)})`;
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { stdio: 'ignore' });
    // `ip netns exec` execs node, so the child PID is the service once it runs. Node 24 names its
    // main thread "MainThread" (what /proc/PID/comm shows) where Node 20 left "node": wait for the
    // exec by the binary, and record the process (its comm) only once it answers, when it is final.
    const node = realpathSync(process.execPath);
    await waitFor(() => realpathSync(`/proc/${child.pid}/exe`) === node, 5000, 'the TCP service process');
    await waitFor(async () => (await tcpProbe(ns, addr, port)).ok, 5000, `the TCP service on ${addr}:${port}`);
    this.track(child.pid!);
  }

  async teardown(): Promise<void> {
    for (const p of this.processes) if (sameProcess(p)) process.kill(p.pid, 'SIGTERM');
    for (const p of this.processes) {
      try {
        await waitFor(() => !sameProcess(p), 5000, 'exit');
      } catch {
        if (sameProcess(p)) process.kill(p.pid, 'SIGKILL');
      }
    }
    for (const ns of this.namespaces) {
      // Anything still inside a namespace this lab created was started by this lab.
      const pids = await sh('ip', ['netns', 'pids', ns]);
      for (const pid of pids.stdout.split(/\s+/).filter(Boolean)) {
        try { process.kill(Number(pid), 'SIGKILL'); } catch { /* already gone */ }
      }
      await sh('ip', ['netns', 'del', ns]);
    }
    for (const dir of this.pathspaces) rmSync(dir, { recursive: true, force: true });
    rmSync(this.root, { recursive: true, force: true });
  }
}

/**
 * Runs a daemon that forks itself into the background (`-d`) and waits for the launcher to exit,
 * its output going to `outFile`: FRR 10's daemons keep the stdout and stderr they inherited, so
 * waiting for pipes to close (execFile) would wait for the daemon.
 */
async function launch(cmd: string, args: string[], outFile: string): Promise<{ code: number; output: string }> {
  const fd = openSync(outFile, 'w');
  try {
    const child = spawn(cmd, args, { stdio: ['ignore', fd, fd] });
    const code = await new Promise<number>((resolve) => {
      child.once('error', () => resolve(127));
      child.once('exit', (exitCode) => resolve(exitCode ?? 1));
    });
    return { code, output: readFileSync(outFile, 'utf8') };
  } finally {
    closeSync(fd);
  }
}

export class FrrInstance {
  constructor(readonly dir: string, readonly install: FrrInstall) {}

  vtysh(args: string[], timeoutMs = 30_000): Promise<CommandResult> {
    return sh(this.install.vtysh, ['--vty_socket', this.dir, ...args], { timeoutMs });
  }

  async show<T = unknown>(command: string): Promise<T> {
    const r = await this.vtysh(['-c', command]);
    if (r.code !== 0) throw new Error(`vtysh -c '${command}' failed (${r.code}): ${r.stderr}${r.stdout}`);
    return JSON.parse(r.stdout) as T;
  }

  /** Waits until every listed neighbor is Established; returns the last `show bgp summary json`. */
  async waitEstablished(neighbors: string[], timeoutMs = 20_000): Promise<Record<string, unknown>> {
    let last: Record<string, unknown> = {};
    const stateOf = (peer: string) => {
      for (const family of Object.values(last)) {
        const state = (family as { peers?: Record<string, { state?: string }> }).peers?.[peer]?.state;
        if (state) return state;
      }
      return undefined;
    };
    try {
      await waitFor(async () => {
        last = await this.show<Record<string, unknown>>('show bgp vrf all summary json').then((all) => flattenVrfs(all));
        return neighbors.every((n) => stateOf(n) === 'Established');
      }, timeoutMs, 'BGP sessions Established');
    } catch (err) {
      throw new Error(`${(err as Error).message}: ${neighbors.map((n) => `${n}=${stateOf(n) ?? 'absent'}`).join(', ')}\n${tail(join(this.dir, 'bgpd.log'))}`);
    }
    return last;
  }
}

/** `show bgp vrf all summary json` is keyed by VRF, then family; merge the families of all VRFs. */
function flattenVrfs(all: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [vrf, families] of Object.entries(all)) {
    for (const [family, body] of Object.entries(families as Record<string, unknown>)) out[`${vrf}:${family}`] = body;
  }
  return out;
}

export class BirdInstance {
  constructor(readonly socket: string, readonly configFile: string) {}

  /** Replaces the config and has BIRD re-read it (`birdc configure`). */
  async reconfigure(config: string): Promise<void> {
    writeFileSync(this.configFile, config);
    const out = await this.birdc(['configure']);
    if (!/Reconfigur/.test(out)) throw new Error(`birdc configure: ${out}`);
  }

  async birdc(args: string[]): Promise<string> {
    const r = await sh('birdc', ['-s', this.socket, ...args]);
    if (r.code !== 0) throw new Error(`birdc ${args.join(' ')} failed: ${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  /** Prefixes BIRD holds from one protocol. */
  async routesFrom(protocol: string): Promise<string[]> {
    const out = await this.birdc(['show', 'route', 'protocol', protocol]);
    return [...out.matchAll(/^([0-9a-f.:]+\/\d+)\s/gm)].map((m) => m[1]!);
  }
}

export class GobgpInstance {
  constructor(readonly ns: string, readonly configFile = '', readonly target?: string) {}

  cli(args: string[]): Promise<CommandResult> {
    if (this.target) return sh('gobgp', ['--target', this.target, ...args]);
    return sh('ip', ['netns', 'exec', this.ns, 'gobgp', '-u', '127.0.0.1', '-p', '50051', ...args]);
  }

  async prefixes(family: 'ipv4' | 'ipv6'): Promise<string[]> {
    const r = await this.cli(['global', 'rib', '-a', family, '-j']);
    if (r.code !== 0) throw new Error(`gobgp rib failed: ${r.stderr}`);
    return Object.keys(JSON.parse(r.stdout || '{}') as Record<string, unknown>);
  }
}

/** Connects from `ns` to addr:port; what it read, or why it failed (connect error or timeout). */
export async function tcpProbe(ns: string, addr: string, port: number, timeoutMs = 2000): Promise<{ ok: boolean; detail: string }> {
  const script = `const s = require('net').connect(${port}, ${JSON.stringify(addr)}); let got = '';
    s.setTimeout(${timeoutMs}, () => { console.log('timeout'); process.exit(2); });
    s.on('data', (d) => { got += d; }); s.on('end', () => { console.log(got); process.exit(0); });
    s.on('error', (e) => { console.log(e.code); process.exit(1); });`;
  const r = await sh('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { timeoutMs: timeoutMs + 5000 });
  return { ok: r.code === 0, detail: (r.stdout + r.stderr).trim() };
}

function frrUser(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('frr:'));
  if (!line) throw new Error('no user frr: is the frr package installed?');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function sameProcess(p: { pid: number; comm: string }): boolean {
  try {
    return readFileSync(`/proc/${p.pid}/comm`, 'utf8').trim() === p.comm;
  } catch {
    return false;
  }
}

function tail(path: string, lines = 15): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every 100 ms until it holds, or throws after `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}
