// A fleet of agents polling on their own schedule, in a process of its own: each agent polls once
// per interval with the agent's jitter (±20 %, agents/agent.ts), its first poll at a random phase;
// after a failed poll it backs off as the agent does (1 s doubling, capped at 300 s, jittered).
// Unlike loadgen.ts (autocannon, as fast as the server answers) this offers the load a fleet of this
// size produces, which is what a restart under load must absorb.
//
//   fleet.ts URL FILE INTERVAL_SECONDS CONNECTIONS
// FILE: [{ token, etag }] per agent (token: its ticket or an assertion; then the ticket each answer
// gives, as agents do). Prints one JSON line per second: polls answered (`ok`: 304 or
// 200), `failed` (refused, timed out, 5xx), p50/p99/max latency of those answered, and `inFlight`.
// Runs until killed.
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';

const [url, file, intervalArg, connectionsArg] = process.argv.slice(2);
const agents = JSON.parse(readFileSync(file!, 'utf8')) as Array<{ token: string; etag: string }>;
const intervalMs = Number(intervalArg) * 1000;
const pool = new Pool(url!, { connections: Number(connectionsArg), headersTimeout: 15_000, bodyTimeout: 15_000, connectTimeout: 5_000 });

const jitter = (ms: number) => ms * (0.8 + 0.4 * Math.random());
const failures = new Uint16Array(agents.length);

// A timing wheel of 10 ms slots: 100,000 timers would cost more than the polls.
const SLOT_MS = 10;
const wheel = new Map<number, number[]>();
const slotOf = (at: number) => Math.floor(at / SLOT_MS);
function schedule(agent: number, at: number) {
  const slot = slotOf(at);
  const list = wheel.get(slot);
  if (list) list.push(agent);
  else wheel.set(slot, [agent]);
}

let window = { ok: 0, failed: 0, latencies: [] as number[] };
let inFlight = 0;

async function poll(agent: number) {
  const started = performance.now();
  inFlight++;
  let ok = false;
  try {
    const res = await pool.request({
      path: '/v1/agent/config', method: 'GET',
      headers: { authorization: `Bearer ${agents[agent]!.token}`, 'if-none-match': agents[agent]!.etag },
    });
    await res.body.dump();
    ok = res.statusCode === 304 || res.statusCode === 200;
    // As the agent does: the ticket an answer carries replaces the assertion (api/agent-tickets.ts).
    const ticket = res.headers['metalfleet-agent-ticket'];
    if (ok && typeof ticket === 'string') agents[agent]!.token = ticket;
  } catch {
    ok = false;
  }
  inFlight--;
  if (ok) {
    window.ok++;
    window.latencies.push(performance.now() - started);
    failures[agent] = 0;
    schedule(agent, Date.now() + jitter(intervalMs));
  } else {
    window.failed++;
    const f = ++failures[agent]!;
    schedule(agent, Date.now() + jitter(Math.min(300_000, 1000 * 2 ** (f - 1))));
  }
}

const start = Date.now();
for (let i = 0; i < agents.length; i++) schedule(i, start + Math.random() * intervalMs);
let nextSlot = slotOf(start);
setInterval(() => {
  const now = slotOf(Date.now());
  for (; nextSlot <= now; nextSlot++) {
    const due = wheel.get(nextSlot);
    if (!due) continue;
    wheel.delete(nextSlot);
    for (const agent of due) void poll(agent);
  }
}, SLOT_MS);

const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]! : 0);
setInterval(() => {
  const sorted = window.latencies.sort((a, b) => a - b);
  const line = {
    t: Date.now(), ok: window.ok, failed: window.failed, inFlight,
    p50: Number(percentile(sorted, 0.5).toFixed(1)), p99: Number(percentile(sorted, 0.99).toFixed(1)), max: Number((sorted.at(-1) ?? 0).toFixed(1)),
  };
  window = { ok: 0, failed: 0, latencies: [] };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}, 1000);
