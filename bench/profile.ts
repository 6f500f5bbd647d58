// CPU profiles for the bench: where a missed target's time goes, as a Markdown table of the
// hottest functions by self time. Two sources: a V8 profile an API process wrote (--cpu-prof), over
// a window of it; and a profile of work done in the bench process itself (the fan-out writes run
// the app in-process), taken with the inspector.
import { Session } from 'node:inspector/promises';
import { readFileSync } from 'node:fs';

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  startTime: number; endTime?: number; samples: number[]; timeDeltas: number[];
}

/**
 * Which samples count: the `lastSeconds` before the final half second (a steady load, not the
 * warm-up or the shutdown), or the seconds `fromS` to `toS` after the profile started, or all.
 */
export type ProfileWindow = { lastSeconds: number } | { fromS: number; toS: number } | 'all';

export function summarizeProfileFile(path: string, window: ProfileWindow): string {
  return summarizeProfile(JSON.parse(readFileSync(path, 'utf8')) as CpuProfile, window);
}

export function summarizeProfile(profile: CpuProfile, window: ProfileWindow, rows = 15): string {
  const keyOf = new Map(profile.nodes.map((n) => {
    const where = n.callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(dist|api|db|render)\//, '$1/');
    return [n.id, `${n.callFrame.functionName || '(anonymous)'} ${where ? `(${where}:${n.callFrame.lineNumber + 1})` : ''}`];
  }));
  const times: number[] = [];
  profile.timeDeltas.reduce((t, d) => { times.push(t + d); return t + d; }, profile.startTime);
  const [from, to] = window === 'all' ? [-Infinity, Infinity]
    : 'lastSeconds' in window ? [times.at(-1)! - 500_000 - window.lastSeconds * 1e6, times.at(-1)! - 500_000]
      : [profile.startTime + window.fromS * 1e6, profile.startTime + window.toS * 1e6];
  const byFn = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    if (times[i]! < from || times[i]! > to) return;
    total++;
    byFn.set(keyOf.get(id)!, (byFn.get(keyOf.get(id)!) ?? 0) + 1);
  });
  const top = [...byFn.entries()].sort((a, b) => b[1] - a[1]).slice(0, rows);
  return ['| self time | function |', '|---|---|', ...top.map(([fn, hits]) => `| ${((hits / total) * 100).toFixed(1)} % | \`${fn}\` |`)].join('\n');
}

/** Runs `fn` under the V8 sampling profiler of this process; its result and the profile's table. */
export async function profileInProcess<T>(fn: () => Promise<T>): Promise<{ result: T; table: string }> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 500 });
    await session.post('Profiler.start');
    const outcome = await fn().then((result) => ({ result }), (error: unknown) => ({ error }));
    const { profile } = await session.post('Profiler.stop');
    if ('error' in outcome) throw outcome.error;
    const table = summarizeProfile({ ...profile, samples: profile.samples ?? [], timeDeltas: profile.timeDeltas ?? [] }, 'all');
    return { result: outcome.result, table };
  } finally {
    session.disconnect();
  }
}
