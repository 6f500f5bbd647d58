// autocannon ships no types; the bench uses only this much of it.
declare module 'autocannon' {
  interface Histogram { average: number; p50: number; p99: number; max: number; total: number }
  interface Result {
    requests: Histogram; latency: Histogram; errors: number; timeouts: number; non2xx: number;
    statusCodeStats: Record<string, { count: number }>;
  }
  export default function autocannon(options: Record<string, unknown>): Promise<Result>;
}
