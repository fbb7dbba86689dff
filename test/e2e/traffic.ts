// Client traffic for the end-to-end test: keys of several lengths, bad lengths and probes, over verified TLS to 127.0.0.1.
import * as https from 'node:https';

/** Where to send traffic and how to verify the server. */
export interface TrafficTarget {
  /** `https://127.0.0.1:<port>` */
  readonly baseUrl: string;
  /** The CA that signed the server's certificate. */
  readonly caPem: string;
  /** Name checked against the certificate (a client in the cluster would use the Service's DNS name). */
  readonly serverName: string;
}

/**
 * One round of what the server sees in production: valid keys of several lengths, one bad length of each kind
 * (the 4xx share stays under the 25 % of KeyServerUnusualClientErrorShare), and the kubelet's probes.
 */
export const trafficRound: readonly string[] = [
  '/key/16', '/key/32', '/key/64', '/key/100', '/key/256', '/key/512', '/key/1024',
  '/key/16', '/key/32', '/key/64', '/key/128', '/key/256', '/key/700', '/key/1000',
  '/key/0', '/key/not-a-number',
  '/health', '/ready',
];

/** Status codes answered, by path. */
export type StatusCounts = Map<string, Map<number, number>>;

/** Sends `GET path` and resolves with the status code (the body is read and dropped). */
function get(agent: https.Agent, target: TrafficTarget, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = https.get(`${target.baseUrl}${path}`, { agent, servername: target.serverName, timeout: 10_000 }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`GET ${path} timed out`)));
    request.on('error', reject);
  });
}

/** A running traffic loop. */
export interface TrafficLoop {
  /** Statuses so far. */
  readonly counts: StatusCounts;
  /** Ends the loop after the requests in flight and resolves with every status seen. */
  stop(): Promise<StatusCounts>;
}

/**
 * Sends {@link trafficRound} over and over with `concurrency` keep-alive connections until stopped or until
 * `maxDurationMs` passes (a forgotten loop ends by itself). Network errors are counted as status 0.
 */
export function startTraffic(target: TrafficTarget, options: { concurrency: number; maxDurationMs: number; pauseMs?: number }): TrafficLoop {
  const agent = new https.Agent({ keepAlive: true, maxSockets: options.concurrency, ca: target.caPem });
  const counts: StatusCounts = new Map();
  const deadline = Date.now() + options.maxDurationMs;
  let stopped = false;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (!stopped && Date.now() < deadline) {
      const path = trafficRound[next++ % trafficRound.length];
      const status = await get(agent, target, path).catch(() => 0);
      const byStatus = counts.get(path) ?? new Map<number, number>();
      byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
      counts.set(path, byStatus);
      if (options.pauseMs) {
        await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
      }
    }
  };
  const workers = Promise.all(Array.from({ length: options.concurrency }, worker));
  return {
    counts,
    async stop() {
      stopped = true;
      await workers;
      agent.destroy();
      return counts;
    },
  };
}

/** Total requests in `counts` answered with a status matching `accept`. */
export function countStatuses(counts: StatusCounts, accept: (status: number, path: string) => boolean): number {
  let total = 0;
  for (const [path, byStatus] of counts) {
    for (const [status, count] of byStatus) {
      if (accept(status, path)) total += count;
    }
  }
  return total;
}
