// The load generator, in a process of its own (so it does not share the server's CPU time with
// the code under test in one event loop). Modes:
//   poll:   signed conditional GETs of /v1/agent/config for random agents (their current ETag)
//   poll-each: the same, every agent once in order (with an amount: the first poll of each)
//   ingest: POST /v1/agent/status, 8 sessions per report, 1 in 10 sessions changed
//   plain:  GET of one path (the baseline)
// Prints one JSON line with the autocannon summary.
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

const [mode, url, file, connections, seconds, amount] = process.argv.slice(2);
type Agent = { token: string; etag: string };
const agents: Agent[] = file && file !== '-' ? JSON.parse(readFileSync(file, 'utf8')) : [];
let next = 0;
const pick = () => agents[Math.floor(Math.random() * agents.length)]!;

function sessions(i: number) {
  return Array.from({ length: 8 }, (_, s) => ({
    node: `node-${s % 2}`, peer: `10.1.${s}.1`, vrf: '', bgpState: 'Established', bfdState: 'up', uptimeSeconds: 3600,
    prefixesReceived: 0,
    // One session in ten reports something new each time.
    prefixesSent: Math.random() < 0.1 ? Math.floor(Math.random() * 1000) + 1 : i % 7,
    lastResetReason: null,
  }));
}

const requests = mode === 'poll' || mode === 'poll-each'
  ? [{ method: 'GET' as const, path: '/v1/agent/config', setupRequest: (req: Record<string, unknown>) => {
    // poll-each: every agent once, in order (its first poll); poll: random agents.
    const a = mode === 'poll-each' ? agents[next++ % agents.length]! : pick();
    return { ...req, headers: { authorization: `Bearer ${a.token}`, 'if-none-match': a.etag } };
  } }]
  : mode === 'ingest'
    ? [{ method: 'POST' as const, path: '/v1/agent/status', setupRequest: (req: Record<string, unknown>) => {
      const i = next++ % agents.length;
      return { ...req, headers: { authorization: `Bearer ${agents[i]!.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ appliedRevision: 1, sessions: sessions(i) }) };
    } }]
    : [{ method: 'GET' as const, path: '/v1/agent/config' }];

const result = await autocannon({ url, connections: Number(connections), requests, ...(amount ? { amount: Number(amount) } : { duration: Number(seconds) }) });
console.log(JSON.stringify({
  requestsPerSecond: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max,
  total: result.requests.total, errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx,
  statusCodes: result.statusCodeStats,
}));
