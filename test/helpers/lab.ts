// A throw-away BGP lab for tests: network namespaces this process creates itself, joined by
// veth pairs, with FRR, BIRD 2 or GoBGP inside. Only 10.250.x.x / fd00:250::/32 addresses, only
// inside those namespaces. Teardown kills exactly the processes the lab started (checked by
// /proc/PID/comm), then deletes its namespaces and files.
//
// Tests that need it call `dataplaneSkip()`: without root or the daemons they skip with the
// reason, unless METALFLEET_REQUIRE_DATAPLANE=1 (CI), where they run and fail loudly instead.
import { execFile, spawn } from 'node:child_process';
import { accessSync, chmodSync, chownSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const FRR_SBIN = '/usr/lib/frr';

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

function missingTools(tools: string[]): string[] {
  const paths: Record<string, string[]> = {
    ip: ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip'],
    frr: [`${FRR_SBIN}/zebra`, `${FRR_SBIN}/bgpd`, `${FRR_SBIN}/bfdd`],
    vtysh: ['/usr/bin/vtysh'],
    'frr-reload': [`${FRR_SBIN}/frr-reload.py`],
    bird: ['/usr/sbin/bird'],
    birdc: ['/usr/sbin/birdc'],
    gobgpd: ['/usr/bin/gobgpd'],
    gobgp: ['/usr/bin/gobgp'],
  };
  return tools.filter((t) => {
    const candidates = paths[t] ?? [];
    const present = (p: string) => { try { accessSync(p, constants.X_OK); return true; } catch { return false; } };
    return t === 'frr' ? !candidates.every(present) : !candidates.some(present);
  });
}

export const dataplaneRequired = process.env.METALFLEET_REQUIRE_DATAPLANE === '1';

/**
 * `false` when the test can run (or must run: METALFLEET_REQUIRE_DATAPLANE=1), otherwise the
 * reason it is skipped. A required test that lacks tools fails in `assertDataplane()`.
 */
export function dataplaneSkip(tools: string[]): string | false {
  if (dataplaneRequired) return false;
  const reasons: string[] = [];
  if (userInfo().uid !== 0) reasons.push('needs root for network namespaces');
  const missing = missingTools(['ip', ...tools]);
  if (missing.length > 0) reasons.push(`missing ${missing.join(', ')} (apt-get install -y frr frr-pythontools bird2 gobgpd)`);
  return reasons.length > 0 ? reasons.join('; ') : false;
}

export function assertDataplane(tools: string[]): void {
  const missing = missingTools(['ip', ...tools]);
  if (userInfo().uid !== 0) throw new Error('data-plane test needs root (network namespaces)');
  if (missing.length > 0) throw new Error(`data-plane test needs ${missing.join(', ')}: apt-get install -y frr frr-pythontools bird2 gobgpd`);
}

let labCounter = 0;

export class Lab {
  readonly root: string;
  private readonly namespaces: string[] = [];
  private readonly processes: Array<{ pid: number; comm: string }> = [];
  private readonly tag: string;

  constructor() {
    this.root = mkdtempSync(join(tmpdir(), 'mf-lab-'));
    chmodSync(this.root, 0o755); // FRR daemons drop to user frr and must traverse it
    this.tag = `${process.pid % 100000}${(labCounter++).toString(36)}`;
  }

  /** A new namespace with lo up and IPv6 DAD off (addresses usable at once). */
  async namespace(role: string): Promise<string> {
    const name = `mf${this.tag}-${this.namespaces.length}${role}`.slice(0, 30);
    await run('ip', ['netns', 'add', name]);
    this.namespaces.push(name);
    await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    await run('ip', ['netns', 'exec', name, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
    return name;
  }

  /** A veth pair between two namespaces; interface names are made unique per lab. */
  async link(nsA: string, nsB: string): Promise<[string, string]> {
    const a = `a${this.tag}${this.namespaces.length}`.slice(0, 15);
    const b = `b${this.tag}${this.namespaces.length}`.slice(0, 15);
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
   * Starts zebra, bgpd and bfdd in `ns`, each with `config` as its startup file (file mode:
   * every daemon reads the lines it knows), or empty. `bgpdArgs` e.g. ['-p', '0'].
   */
  async startFrr(ns: string, name: string, opts: { config?: string; bgpdArgs?: string[]; daemons?: string[] } = {}): Promise<FrrInstance> {
    const dir = this.frrDir(name);
    const conf = join(dir, 'frr.conf');
    writeFileSync(conf, opts.config ?? '', { mode: 0o644 });
    writeFileSync(join(dir, 'vtysh.conf'), '', { mode: 0o644 });
    for (const daemon of opts.daemons ?? ['zebra', 'bgpd', 'bfdd']) {
      const args = ['netns', 'exec', ns, `${FRR_SBIN}/${daemon}`, '-d', '-P', '0', '-f', conf, '-i', join(dir, `${daemon}.pid`),
        '-z', join(dir, 'zserv.api'), '--vty_socket', dir, '--log', `file:${join(dir, `${daemon}.log`)}`];
      if (daemon === 'bfdd') args.push('--bfdctl', join(dir, 'bfdd.sock'));
      if (daemon === 'bgpd') args.push(...(opts.bgpdArgs ?? []));
      const started = await sh('ip', args);
      if (started.code !== 0) throw new Error(`${daemon} failed to start: ${started.stderr}`);
      const pid = Number(readFileSync(join(dir, `${daemon}.pid`), 'utf8'));
      this.track(pid);
      await waitFor(() => existsSync(join(dir, `${daemon}.vty`)), 5000, `${daemon} vty socket`);
      await sleep(50);
      if (!isAlive(pid)) throw new Error(`${daemon} exited after start: ${tail(join(dir, `${daemon}.log`))}`);
    }
    return new FrrInstance(dir);
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
    return new BirdInstance(join(dir, 'bird.ctl'));
  }

  /** GoBGP with its gRPC API on the namespace's own 127.0.0.1 (not the host's). */
  async startGobgp(ns: string, name: string, config: string): Promise<GobgpInstance> {
    const dir = join(this.root, name);
    mkdirSync(dir, { recursive: true });
    const conf = join(dir, 'gobgpd.toml');
    writeFileSync(conf, config);
    const child = spawn('ip', ['netns', 'exec', ns, 'gobgpd', '-f', conf, '-p', '--api-hosts', '127.0.0.1:50051', '--pprof-disable'],
      { stdio: 'ignore', detached: false });
    const gobgp = new GobgpInstance(ns);
    await waitFor(async () => (await gobgp.cli(['global'])).code === 0, 10_000, 'gobgpd API');
    // `ip netns exec` execs gobgpd, so the child PID is gobgpd itself once it runs.
    await waitFor(() => readFileSync(`/proc/${child.pid}/comm`, 'utf8').trim() === 'gobgpd', 5000, 'gobgpd process');
    this.track(child.pid!);
    return gobgp;
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
    rmSync(this.root, { recursive: true, force: true });
  }
}

export class FrrInstance {
  constructor(readonly dir: string) {}

  vtysh(args: string[], timeoutMs = 30_000): Promise<CommandResult> {
    return sh('vtysh', ['--vty_socket', this.dir, ...args], { timeoutMs });
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
  constructor(readonly socket: string) {}

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
  constructor(readonly ns: string) {}

  cli(args: string[]): Promise<CommandResult> {
    return sh('ip', ['netns', 'exec', this.ns, 'gobgp', '-u', '127.0.0.1', '-p', '50051', ...args]);
  }

  async prefixes(family: 'ipv4' | 'ipv6'): Promise<string[]> {
    const r = await this.cli(['global', 'rib', '-a', family, '-j']);
    if (r.code !== 0) throw new Error(`gobgp rib failed: ${r.stderr}`);
    return Object.keys(JSON.parse(r.stdout || '{}') as Record<string, unknown>);
  }
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
