// A rollout seen from the client: SIGTERM under steady traffic loses nothing, /ready flips first, exit 0 in time.
import * as http from 'node:http';
import { fetchText } from '../server/helpers/http';
import { makeTempDirectory } from '../server/helpers/tls';
import { compileServer, startServerProcess } from './helpers/compiled-server';

const SHUTDOWN_DELAY_SECONDS = 2;
/** How long the emulated load balancer keeps sending after /ready turns 503: endpoint propagation, below the delay. */
const PROPAGATION_MS = 1700;
/** Each /key answer is held this long (--fault-latency), so requests are in flight when the listener closes. */
const LATENCY_SECONDS = 0.5;
/** Kubernetes' grace period for this delay, as KeyServerApp sets it (delay + 25 s). */
const GRACE_PERIOD_MS = (SHUTDOWN_DELAY_SECONDS + 25) * 1000;

interface Outcome {
  readonly sentAt: number;
  readonly finishedAt: number;
  readonly status?: number;
  readonly bodyOk?: boolean;
  readonly error?: string;
}

describe('SIGTERM under steady traffic', () => {
  it('flips /ready to 503 first, answers every request it accepted in full, and exits 0 within the grace period', async () => {
    const { directory, remove } = makeTempDirectory();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 20 });
    try {
      const server = await startServerProcess(compileServer(directory), [
        '--shutdown-delay', String(SHUTDOWN_DELAY_SECONDS), '--fault-latency', String(LATENCY_SECONDS),
      ]);
      const outcomes: Outcome[] = [];
      let firstNotReadyAt: number | undefined;
      let stopSendingAt = Number.POSITIVE_INFINITY;

      // The load balancer's view: probe /ready every 50 ms; stop sending PROPAGATION_MS after the first 503.
      const prober = (async () => {
        for (let probe = 0; probe < 400 && firstNotReadyAt === undefined; probe++) {
          const ready = await fetchText(`${server.url}/ready`).catch(() => undefined);
          if (ready?.status === 503) {
            firstNotReadyAt = Date.now();
            stopSendingAt = firstNotReadyAt + PROPAGATION_MS;
          }
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })();
      const hardStop = Date.now() + 20_000;
      // Staggered over one answer's latency: started together, the 20 workers sent in lock-step every 0.5 s, and when
      // that beat fell on the listener's close no request was in flight across it (seen once in a full run).
      const worker = async (index: number): Promise<void> => {
        await new Promise((resolve) => setTimeout(resolve, (index * LATENCY_SECONDS * 1000) / 20));
        while (Date.now() < stopSendingAt && Date.now() < hardStop) {
          const sentAt = Date.now();
          try {
            const response = await fetchText(`${server.url}/key/16`, { agent, timeoutMs: 15_000 });
            outcomes.push({ sentAt, finishedAt: Date.now(), status: response.status, bodyOk: /^[0-9a-f]{32}$/.test(response.body) });
          } catch (error) {
            outcomes.push({ sentAt, finishedAt: Date.now(), error: (error as NodeJS.ErrnoException).code ?? (error as Error).message });
          }
        }
      };
      const workers = Promise.all(Array.from({ length: 20 }, (_, index) => worker(index)));
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const sigtermAt = Date.now();
      server.child.kill('SIGTERM');
      await Promise.all([workers, prober]);
      const result = await server.exited;
      const exitedAfterMs = Date.now() - sigtermAt;

      const failed = outcomes.filter((outcome) => outcome.error !== undefined || outcome.status !== 200 || !outcome.bodyOk);
      const afterNotReady = outcomes.filter((outcome) => firstNotReadyAt !== undefined && outcome.sentAt >= firstNotReadyAt);
      // The listeners close SHUTDOWN_DELAY after SIGTERM; these were sent before and answered after (50 ms margins).
      const closeAt = sigtermAt + SHUTDOWN_DELAY_SECONDS * 1000;
      const inFlightAtClose = outcomes.filter((outcome) => outcome.sentAt < closeAt - 50 && outcome.finishedAt > closeAt + 50);
      console.log(
        `SIGTERM under load: ${outcomes.length} requests (${afterNotReady.length} sent after /ready turned 503, ${inFlightAtClose.length} in flight when the listener closed), `
          + `${failed.length} failed; `
          + `/ready 503 ${(firstNotReadyAt ?? Number.NaN) - sigtermAt} ms after SIGTERM; exit ${result.code} after ${exitedAfterMs} ms `
          + `(grace period ${GRACE_PERIOD_MS} ms)`,
      );
      expect(firstNotReadyAt).toBeDefined();
      expect((firstNotReadyAt as number) - sigtermAt).toBeLessThan(500);
      expect(afterNotReady.length).toBeGreaterThan(20); // still serving while not ready
      expect(inFlightAtClose.length).toBeGreaterThan(0); // the drain was exercised, not just the delay
      expect(failed).toEqual([]);
      expect(result.code).toBe(0);
      expect(exitedAfterMs).toBeLessThan(GRACE_PERIOD_MS);
      expect(exitedAfterMs).toBeGreaterThanOrEqual(SHUTDOWN_DELAY_SECONDS * 1000);
      await expect(fetchText(`${server.url}/health`)).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      agent.destroy();
      remove();
    }
  }, 60_000);
});
