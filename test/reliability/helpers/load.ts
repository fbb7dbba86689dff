// A closed-loop load generator over keep-alive connections that counts exactly what the client saw.
import * as http from 'node:http';
import * as https from 'node:https';

/** Options for {@link runLoad}. */
export interface LoadOptions {
  /** Full URL of every request. */
  readonly url: string;
  /** Concurrent connections, each with one request at a time. */
  readonly connections: number;
  /** Stop sending after this long, in milliseconds; requests in flight then finish. */
  readonly durationMs: number;
  /** Stop sending after this many requests in total, whichever limit comes first. */
  readonly maxRequests: number;
  /** CA PEM for HTTPS. */
  readonly ca?: string;
  /** Abort a request that takes longer than this, in milliseconds (counted as an error). @default 10000 */
  readonly requestTimeoutMs?: number;
}

/** What the client saw. */
export interface LoadResult {
  readonly sent: number;
  /** Responses by status code. */
  readonly statuses: Readonly<Record<number, number>>;
  /** Network errors and timeouts, by code. */
  readonly errors: Readonly<Record<string, number>>;
  readonly errorCount: number;
  /** Responses whose body was not what a 200 promises (a key of the right size). */
  readonly malformed: number;
  readonly elapsedMs: number;
  /** Response latency percentiles, in milliseconds. */
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
}

/** Sends requests from `connections` loops until the duration or the count runs out, and waits for every answer. */
export async function runLoad(options: LoadOptions, isWellFormed: (body: string) => boolean = () => true): Promise<LoadResult> {
  const secure = options.url.startsWith('https:');
  const agent = secure
    ? new https.Agent({ keepAlive: true, maxSockets: options.connections, ca: options.ca })
    : new http.Agent({ keepAlive: true, maxSockets: options.connections });
  const statuses: Record<number, number> = {};
  const errors: Record<string, number> = {};
  const latencies: number[] = [];
  let sent = 0;
  let malformed = 0;
  const startedAt = Date.now();
  const deadline = startedAt + options.durationMs;

  function once(): Promise<void> {
    return new Promise((resolve) => {
      const requestStartedAt = performance.now();
      const request = (secure ? https : http).get(options.url, { agent, timeout: options.requestTimeoutMs ?? 10_000 }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => {
          latencies.push(performance.now() - requestStartedAt);
          const code = response.statusCode ?? 0;
          statuses[code] = (statuses[code] ?? 0) + 1;
          if (code === 200 && !isWellFormed(body)) malformed++;
          resolve();
        });
        response.on('error', (error: NodeJS.ErrnoException) => {
          errors[error.code ?? error.message] = (errors[error.code ?? error.message] ?? 0) + 1;
          resolve();
        });
      });
      request.on('timeout', () => request.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
      request.on('error', (error: NodeJS.ErrnoException) => {
        errors[error.code ?? error.message] = (errors[error.code ?? error.message] ?? 0) + 1;
        resolve();
      });
    });
  }

  async function loop(): Promise<void> {
    while (Date.now() < deadline && sent < options.maxRequests) {
      sent++;
      await once();
    }
  }

  try {
    await Promise.all(Array.from({ length: options.connections }, loop));
  } finally {
    agent.destroy();
  }
  latencies.sort((a, b) => a - b);
  const at = (share: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * share))] ?? 0;
  return {
    sent,
    statuses,
    errors,
    errorCount: Object.values(errors).reduce((total, count) => total + count, 0),
    malformed,
    elapsedMs: Date.now() - startedAt,
    latencyMs: { p50: at(0.5), p99: at(0.99), max: latencies[latencies.length - 1] ?? 0 },
  };
}
