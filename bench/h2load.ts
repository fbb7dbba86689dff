// h2load (Debian's nghttp2-client), the HTTP/2 load generator: its command line, and its output read into the same
// LoadResult the HTTP/1.1 generators give. Latency percentiles come from its per-request log, not its summary (which
// has min, max, mean and standard deviation only).
import type { LoadResult } from './processes';

/** One HTTP/2 run: `connections` sessions with up to `streams` requests in flight each. */
export interface H2loadOptions {
  readonly url: string;
  readonly connections: number;
  readonly streams: number;
  readonly durationSeconds: number;
  /** Cycled per stream. */
  readonly paths: readonly string[];
  /** Where h2load writes one line per request (start, status, duration). */
  readonly logFile: string;
}

/** The h2load arguments: one thread (the server under test has the other core), timing-based, per-request log. */
export function h2loadArgs(options: H2loadOptions): string[] {
  const base = options.url.replace(/\/$/, '');
  return [
    '--threads=1',
    `--clients=${options.connections}`,
    `--max-concurrent-streams=${options.streams}`,
    `--duration=${options.durationSeconds}`,
    `--log-file=${options.logFile}`,
    ...options.paths.map((path) => `${base}${path}`),
  ];
}

/** Reads h2load's summary and per-request log into a LoadResult; throws naming what is missing. */
export function parseH2load(stdout: string, log: string): LoadResult {
  const finished = /finished in ([\d.]+)(m?s)/.exec(stdout);
  const requests = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(stdout);
  const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(stdout);
  if (finished === null || requests === null || codes === null) {
    throw new Error(`h2load printed no summary: ${stdout.slice(-500)}`);
  }
  const seconds = Number(finished[1]) / (finished[2] === 'ms' ? 1000 : 1);
  const latenciesMs: number[] = [];
  const statuses: Record<string, number> = {};
  for (const line of log.split('\n')) {
    const [, status, durationMicros] = line.split('\t');
    if (durationMicros === undefined) continue;
    latenciesMs.push(Number(durationMicros) / 1000);
    statuses[status] = (statuses[status] ?? 0) + 1;
  }
  latenciesMs.sort((a, b) => a - b);
  const at = (share: number): number => (latenciesMs.length === 0 ? 0 : latenciesMs[Math.max(0, Math.ceil(share * latenciesMs.length) - 1)]);
  const done = Number(requests[3]);
  return {
    requests: done,
    seconds,
    requestsPerSecond: seconds > 0 ? done / seconds : 0,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    errors: Number(requests[5]) + Number(requests[6]),
    timeouts: Number(requests[7]),
    statuses,
  };
}
