// A PostgreSQL server of the test's own: `initdb` into a temp dir, started with `pg_ctl` on a free
// 127.0.0.1 port (trust auth, fsync off, unix socket inside the temp dir), so a test may stop,
// restart or kill it at will without touching the shared server on 127.0.0.1:5432.
//
// As root the binaries run as the `postgres` OS user (initdb refuses root) via `runuser`, and the
// temp dir belongs to that user; as any other user they run as that user. `close()` stops the
// server and removes the dir; tests call it in `after()`. Should a test process end without
// closing (a crash, an uncaught exception, SIGINT/SIGTERM), a process 'exit' safety net stops
// every server this process started (SIGQUIT to the postmaster recorded in postmaster.pid, checked
// by /proc/PID/comm) and removes its dir.
//
// Tests call `ownPostgresSkip()`: without the server binaries they skip with the reason, unless
// METALFLEET_REQUIRE_DATAPLANE=1 (CI), where they run and fail loudly instead (as `dataplaneSkip`).
import { execFile } from 'node:child_process';
import { accessSync, appendFileSync, chownSync, constants, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from './process.ts';

const PG_ROOT = '/usr/lib/postgresql';
const RUNUSER = ['/usr/sbin/runuser', '/sbin/runuser', '/usr/bin/runuser'];
/** The psql session the harness itself uses: never counted or terminated as a client backend. */
export const ADMIN_APPLICATION_NAME = 'mf-own-postgres-admin';

export type StopMode = 'smart' | 'fast' | 'immediate';

export interface OwnPostgres {
  /** `postgres://postgres@127.0.0.1:PORT/DB` (trust auth, no password). */
  url(db?: string): string;
  readonly port: number;
  /** The temp dir (data dir, socket, log). */
  readonly dir: string;
  /** The newest server version found (major), e.g. 15. */
  readonly version: number;
  /** Stops (default `fast`) and starts again: same port, same data. `downMs` keeps it stopped that long. */
  restart(opts?: { mode?: StopMode; downMs?: number }): Promise<void>;
  stop(mode?: StopMode): Promise<void>;
  start(): Promise<void>;
  /** Whether the postmaster is running. */
  running(): boolean;
  /**
   * SIGSTOP / SIGCONT the postmaster: while frozen, the kernel still completes TCP handshakes but
   * no new session ever answers (a hung server: clients hit their connect timeout); sessions that
   * already exist keep working.
   */
  freeze(): void;
  thaw(): void;
  /**
   * `pg_terminate_backend` on every client backend (not the harness's own session) matching the
   * SQL predicate over pg_stat_activity, e.g. "application_name = 'x'"; resolves to how many.
   */
  terminateBackends(where?: string): Promise<number>;
  /** Runs SQL with psql (as superuser `postgres`) and resolves to its unaligned, tuples-only output. */
  psql(sql: string, db?: string): Promise<string>;
  /** Creates a database and resolves to its URL. */
  createDatabase(name: string): Promise<string>;
  /** The tail of the server log, for failure messages. */
  log(lines?: number): string;
  /** Stops the server (immediate) and removes the temp dir; safe to call twice. */
  close(): Promise<void>;
}

export interface OwnPostgresOptions {
  /** Extra postgresql.conf settings, e.g. `{ max_connections: 200 }`. */
  settings?: Record<string, string | number | boolean>;
  /** Wait this long for the server to start / stop (ms). Default 30 s. */
  timeoutMs?: number;
}

interface PgInstall { bin: string; version: number }

/** The newest /usr/lib/postgresql/<ver>/bin that has initdb, pg_ctl, postgres and psql. */
export function findPostgresBin(): PgInstall | undefined {
  let versions: number[] = [];
  try {
    versions = readdirSync(PG_ROOT).filter((v) => /^\d+(\.\d+)?$/.test(v)).map(Number).sort((a, b) => b - a);
  } catch {
    return undefined;
  }
  for (const version of versions) {
    const bin = join(PG_ROOT, String(version), 'bin');
    if (['initdb', 'pg_ctl', 'postgres', 'psql'].every((t) => executable(join(bin, t)))) return { bin, version };
  }
  return undefined;
}

function executable(path: string): boolean {
  try { accessSync(path, constants.X_OK); return true; } catch { return false; }
}

const isRoot = () => userInfo().uid === 0;
const runuserPath = () => RUNUSER.find(executable);

/** uid/gid of the `postgres` OS user, from /etc/passwd. */
function postgresUser(): { uid: number; gid: number } | undefined {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [name, , uid, gid] = line.split(':');
      if (name === 'postgres' && uid && gid) return { uid: Number(uid), gid: Number(gid) };
    }
  } catch { /* no passwd file */ }
  return undefined;
}

function missing(): string[] {
  const reasons: string[] = [];
  if (!findPostgresBin()) reasons.push(`no PostgreSQL server binaries under ${PG_ROOT}/<version>/bin (apt-get install -y postgresql)`);
  if (isRoot()) {
    if (!postgresUser()) reasons.push('running as root but there is no `postgres` OS user to run initdb as');
    if (!runuserPath()) reasons.push('running as root but runuser is missing (util-linux)');
  }
  return reasons;
}

/**
 * `false` when the test can run (or must run: METALFLEET_REQUIRE_DATAPLANE=1), otherwise the reason
 * it is skipped. A required test that lacks them fails in `startOwnPostgres()`.
 */
export function ownPostgresSkip(): string | false {
  if (process.env.METALFLEET_REQUIRE_DATAPLANE === '1') return false;
  const reasons = missing();
  return reasons.length > 0 ? reasons.join('; ') : false;
}

interface Run { code: number; stdout: string; stderr: string }

/** Environment for the server tools: no PG* variables of the caller's leak in. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PG')) env[k] = v;
  env.LC_ALL = 'C';
  env.LANG = 'C';
  return env;
}

function runTool(cmd: string, args: string[], opts: { cwd: string; asPostgres: boolean; timeoutMs: number; env?: NodeJS.ProcessEnv }): Promise<Run> {
  const [file, argv] = opts.asPostgres && isRoot()
    ? [runuserPath()!, ['-u', 'postgres', '--', cmd, ...args]]
    : [cmd, args];
  return new Promise((resolve) => {
    execFile(file, argv, { cwd: opts.cwd, env: opts.env ?? cleanEnv(), timeout: opts.timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

// ---- the exit safety net -------------------------------------------------------------------------

const live = new Map<string, { dataDir: string }>();
let netInstalled = false;

/** Synchronous: SIGQUIT (immediate shutdown) to our postmaster, then remove the dir. */
function emergencyCleanup(dir: string, dataDir: string): void {
  const pid = postmasterPid(dataDir);
  if (pid !== undefined) {
    try { process.kill(pid, 'SIGQUIT'); process.kill(pid, 'SIGCONT'); } catch { /* already gone */ }
  }
  try { rmSync(dir, { recursive: true, force: true }); } catch { /* best effort */ }
  live.delete(dir);
}

function installSafetyNet(): void {
  if (netInstalled) return;
  netInstalled = true;
  process.on('exit', () => { for (const [dir, { dataDir }] of [...live]) emergencyCleanup(dir, dataDir); });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      for (const [dir, { dataDir }] of [...live]) emergencyCleanup(dir, dataDir);
      // Then die of the signal as if we had never caught it, unless someone else handles it.
      process.removeListener(signal, onSignal);
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/** The postmaster's pid from postmaster.pid, only if that process is still a `postgres`. */
function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    if (!Number.isInteger(pid) || pid <= 1) return undefined;
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    // A zombie (state Z: exited, not yet reaped) is not running.
    const state = /^\d+ \(.*\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1];
    return (comm === 'postgres' || comm === 'postmaster') && state !== 'Z' ? pid : undefined;
  } catch {
    return undefined;
  }
}

// ---- the server ----------------------------------------------------------------------------------

function confValue(v: string | number | boolean): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 'on' : 'off';
  return `'${v.replace(/'/g, "''")}'`;
}

/** initdb + start on a free port. Retries on another port if the first one was taken meanwhile. */
export async function startOwnPostgres(opts: OwnPostgresOptions = {}): Promise<OwnPostgres> {
  const reasons = missing();
  if (reasons.length > 0) throw new Error(`cannot start an own PostgreSQL: ${reasons.join('; ')}`);
  const { bin, version } = findPostgresBin()!;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const owner = isRoot() ? postgresUser()! : undefined;

  const dir = mkdtempSync(join(tmpdir(), 'mf-pg-'));
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  installSafetyNet();
  live.set(dir, { dataDir });
  if (owner) chownSync(dir, owner.uid, owner.gid);

  const tool = (name: string, args: string[], t = timeoutMs) => runTool(join(bin, name), args, { cwd: dir, asPostgres: true, timeoutMs: t });

  let closed = false;
  let port = 0;
  let frozen: number | undefined;
  try {
    const init = await tool('initdb', ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'], 120_000);
    if (init.code !== 0) throw new Error(`initdb failed (${init.code}):\n${init.stdout}\n${init.stderr}`);

    const settings: Record<string, string | number | boolean> = {
      listen_addresses: '127.0.0.1',
      unix_socket_directories: dir,
      fsync: false,
      synchronous_commit: false,
      full_page_writes: false,
      max_connections: 100,
      shared_buffers: '32MB',
      logging_collector: false,
      log_min_messages: 'warning',
      ...opts.settings,
    };
    appendFileSync(join(dataDir, 'postgresql.conf'),
      `\n# metalfleet test harness\n${Object.entries(settings).map(([k, v]) => `${k} = ${confValue(v)}`).join('\n')}\n`);
    // A port line of its own; on a retry another is appended (the last `port =` wins).
    const setPort = (p: number) => appendFileSync(join(dataDir, 'postgresql.conf'), `port = ${p}\n`);

    const startServer = async (): Promise<Run> =>
      tool('pg_ctl', ['start', '-D', dataDir, '-l', logFile, '-w', '-t', String(Math.ceil(timeoutMs / 1000))], timeoutMs + 5_000);

    let started: Run | undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      port = await freePort();
      setPort(port);
      started = await startServer();
      if (started.code === 0) break;
      if (!/could not bind|Address already in use/i.test(readLog(logFile))) break;
    }
    if (!started || started.code !== 0) throw new Error(`pg_ctl start failed:\n${started?.stdout}\n${started?.stderr}\n${readLog(logFile)}`);

    const psqlEnv = { ...cleanEnv(), PGAPPNAME: ADMIN_APPLICATION_NAME, PGCONNECT_TIMEOUT: '5' };
    const server: OwnPostgres = {
      port,
      dir,
      version,
      url: (db = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${encodeURIComponent(db)}`,
      running: () => postmasterPid(dataDir) !== undefined,
      freeze() {
        const pid = postmasterPid(dataDir);
        if (pid === undefined) throw new Error('freeze: the server is not running');
        frozen = pid;
        process.kill(pid, 'SIGSTOP');
      },
      thaw() {
        if (frozen !== undefined) { try { process.kill(frozen, 'SIGCONT'); } catch { /* gone */ } }
        frozen = undefined;
      },
      async stop(mode: StopMode = 'fast') {
        const r = await tool('pg_ctl', ['stop', '-D', dataDir, '-m', mode, '-w', '-t', String(Math.ceil(timeoutMs / 1000))], timeoutMs + 5_000);
        if (r.code !== 0 && postmasterPid(dataDir) !== undefined) throw new Error(`pg_ctl stop -m ${mode} failed:\n${r.stdout}\n${r.stderr}`);
      },
      async start() {
        const r = await startServer();
        if (r.code !== 0) throw new Error(`pg_ctl start failed:\n${r.stdout}\n${r.stderr}\n${readLog(logFile)}`);
      },
      async restart({ mode = 'fast', downMs = 0 } = {}) {
        await server.stop(mode);
        if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
        await server.start();
      },
      async psql(sql, db = 'postgres') {
        const r = await runTool(join(bin, 'psql'), ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', db, '-c', sql],
          { cwd: dir, asPostgres: false, timeoutMs: 30_000, env: psqlEnv });
        if (r.code !== 0) throw new Error(`psql failed (${r.code}): ${r.stderr.trim()}\n  ${sql}`);
        return r.stdout.trim();
      },
      async terminateBackends(where = 'true') {
        const out = await server.psql(
          `select count(*) filter (where pg_terminate_backend(pid)) from pg_stat_activity
            where backend_type = 'client backend' and pid <> pg_backend_pid()
              and application_name is distinct from '${ADMIN_APPLICATION_NAME}' and (${where})`);
        return Number(out);
      },
      async createDatabase(name) {
        if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a plain database name: ${name}`);
        await server.psql(`create database "${name}"`);
        return server.url(name);
      },
      log: (lines = 40) => readLog(logFile).split('\n').slice(-lines).join('\n'),
      async close() {
        if (closed) return;
        closed = true;
        server.thaw();
        try {
          if (postmasterPid(dataDir) !== undefined) await server.stop('immediate');
        } finally {
          emergencyCleanup(dir, dataDir);
        }
      },
    };
    return server;
  } catch (err) {
    emergencyCleanup(dir, dataDir);
    throw err;
  }
}

function readLog(file: string): string {
  try { return existsSync(file) ? readFileSync(file, 'utf8') : ''; } catch { return ''; }
}
