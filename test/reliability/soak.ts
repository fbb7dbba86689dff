// The soak: the compiled server under steady HTTPS load, checked for errors, memory growth, event loop delay and
// metrics that match what the client saw. `npm run soak` runs it full length; soak.test.ts runs a short one.
import { join } from 'node:path';
import { handlers, metricNames as names } from '../../server/metric-catalogue';
import { fetchText, parsePrometheusText, sampleValue, type Sample } from '../server/helpers/http';
import { createTestCertificate, makeTempDirectory } from '../server/helpers/tls';
import { compileServer, startServerProcess } from './helpers/compiled-server';
import { runLoad, type LoadResult } from './helpers/load';

/** How long and how hard to soak. */
export interface SoakOptions {
  /** Load before the memory baseline, so lazy allocations and JIT warm-up are not counted as growth. */
  readonly warmupSeconds: number;
  readonly durationSeconds: number;
  readonly connections: number;
  /** Count limit: the soak stops at the duration or after this many requests, whichever comes first. */
  readonly maxRequests: number;
  /** Key length requested. @default 32 */
  readonly keyLength?: number;
}

/** The figures the soak measured. */
export interface SoakReport {
  readonly load: LoadResult;
  readonly requestsPerSecond: number;
  readonly rssAfterWarmupBytes: number;
  readonly rssAtEndBytes: number;
  /** (end − after warm-up) / after warm-up. */
  readonly rssGrowth: number;
  /** The server's own event loop delay p99 over the soak (prom-client's monitor, reset by each scrape). */
  readonly eventLoopDelayP99Seconds: number;
  /** Increase of http_requests_total for /key over the soak, all codes and code 200. */
  readonly serverCountedRequests: number;
  readonly serverCountedOk: number;
  readonly exitCode: number | null;
}

/** The bounds the soak must stay within, shared by the test and `npm run soak`. */
export const SOAK_BOUNDS = Object.freeze({ rssGrowth: 0.2, eventLoopDelayP99Seconds: 0.25 });

/** Runs one soak against a freshly started, compiled server and stops it (SIGTERM) at the end. */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const { directory, remove } = makeTempDirectory('key-server-soak-');
  const certificate = createTestCertificate(directory);
  const keyLength = options.keyLength ?? 32;
  const server = await startServerProcess(compileServer(join(directory, 'app')), [
    '--tls-cert', certificate.certFile, '--tls-key', certificate.keyFile, '--metrics-port', '0', '--shutdown-delay', '0',
  ]);
  try {
    const scrape = async (): Promise<Sample[]> =>
      parsePrometheusText((await fetchText(`${server.metricsUrl}/metrics`, { ca: certificate.certPem })).body);
    const url = `${server.url}/key/${keyLength}`;
    const wellFormed = new RegExp(`^[0-9a-f]{${keyLength * 2}}$`);
    const isKey = (body: string) => wellFormed.test(body);
    const connections = options.connections;
    await runLoad({ url, connections, ca: certificate.certPem, durationMs: options.warmupSeconds * 1000, maxRequests: Number.MAX_SAFE_INTEGER }, isKey);

    const before = await scrape();
    const load = await runLoad(
      { url, connections, ca: certificate.certPem, durationMs: options.durationSeconds * 1000, maxRequests: options.maxRequests },
      isKey,
    );
    const after = await scrape();

    const keyRequests = (samples: Sample[], code?: string) =>
      samples
        .filter((sample) => sample.name === names.httpRequestsTotal && sample.labels.handler === handlers.key)
        .filter((sample) => code === undefined || sample.labels.code === code)
        .reduce((total, sample) => total + sample.value, 0);
    const rssAfterWarmupBytes = sampleValue(before, 'process_resident_memory_bytes');
    const rssAtEndBytes = sampleValue(after, 'process_resident_memory_bytes');
    server.child.kill('SIGTERM');
    const exit = await server.exited;
    return {
      load,
      requestsPerSecond: load.sent / (load.elapsedMs / 1000),
      rssAfterWarmupBytes,
      rssAtEndBytes,
      rssGrowth: (rssAtEndBytes - rssAfterWarmupBytes) / rssAfterWarmupBytes,
      eventLoopDelayP99Seconds: sampleValue(after, 'nodejs_eventloop_lag_p99_seconds'),
      serverCountedRequests: keyRequests(after) - keyRequests(before),
      serverCountedOk: keyRequests(after, '200') - keyRequests(before, '200'),
      exitCode: exit.code,
    };
  } finally {
    server.child.kill('SIGKILL');
    remove();
  }
}

/** One line per figure, for the test log and the `npm run soak` output. */
export function formatSoakReport(options: SoakOptions, report: SoakReport): string {
  const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;
  const { load } = report;
  return [
    `soak: ${options.durationSeconds} s at ${options.connections} connections (after ${options.warmupSeconds} s warm-up), /key/${options.keyLength ?? 32} over HTTPS`,
    `  requests sent ${load.sent} (${report.requestsPerSecond.toFixed(0)}/s), statuses ${JSON.stringify(load.statuses)}, errors ${load.errorCount} ${JSON.stringify(load.errors)}, malformed ${load.malformed}`,
    `  latency p50 ${load.latencyMs.p50.toFixed(1)} ms, p99 ${load.latencyMs.p99.toFixed(1)} ms, max ${load.latencyMs.max.toFixed(1)} ms`,
    `  RSS after warm-up ${mib(report.rssAfterWarmupBytes)}, at end ${mib(report.rssAtEndBytes)}, growth ${(report.rssGrowth * 100).toFixed(1)} % (bound ${SOAK_BOUNDS.rssGrowth * 100} %)`,
    `  event loop delay p99 ${(report.eventLoopDelayP99Seconds * 1000).toFixed(1)} ms (bound ${SOAK_BOUNDS.eventLoopDelayP99Seconds * 1000} ms)`,
    `  server counted ${report.serverCountedRequests} /key requests (${report.serverCountedOk} with 200); client saw ${load.sent - load.errorCount} answers; exit code ${report.exitCode}`,
  ].join('\n');
}

/** Every bound the soak must meet, as failures (empty when it passed). */
export function soakFailures(report: SoakReport): string[] {
  const failures: string[] = [];
  if (report.load.errorCount > 0) failures.push(`${report.load.errorCount} network errors`);
  if (report.load.malformed > 0) failures.push(`${report.load.malformed} malformed keys`);
  const notOk = report.load.sent - (report.load.statuses[200] ?? 0);
  if (notOk > 0) failures.push(`${notOk} requests without a 200`);
  if (report.rssGrowth > SOAK_BOUNDS.rssGrowth) failures.push(`RSS grew ${(report.rssGrowth * 100).toFixed(1)} %`);
  if (report.eventLoopDelayP99Seconds > SOAK_BOUNDS.eventLoopDelayP99Seconds) failures.push('event loop delay p99 above bound');
  if (report.serverCountedRequests !== report.load.sent || report.serverCountedOk !== (report.load.statuses[200] ?? 0)) {
    failures.push(`metrics counted ${report.serverCountedRequests}/${report.serverCountedOk}, client sent ${report.load.sent}`);
  }
  if (report.exitCode !== 0) failures.push(`exit code ${report.exitCode}`);
  return failures;
}

/** `npm run soak`: the full-length soak (60 s at 100 connections, at most 3,000,000 requests). */
async function main(): Promise<void> {
  const options: SoakOptions = {
    warmupSeconds: Number(process.env.SOAK_WARMUP_SECONDS ?? 10),
    durationSeconds: Number(process.env.SOAK_SECONDS ?? 60),
    connections: Number(process.env.SOAK_CONNECTIONS ?? 100),
    maxRequests: 3_000_000,
  };
  const report = await runSoak(options);
  console.log(formatSoakReport(options, report));
  const failures = soakFailures(report);
  console.log(failures.length === 0 ? 'soak: PASS' : `soak: FAIL: ${failures.join('; ')}`);
  process.exitCode = failures.length === 0 ? 0 : 1;
}

if (require.main === module) {
  void main();
}
