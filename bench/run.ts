// `npm run bench`: the key server against bare baselines (node:https for HTTP/1.1, node:http2 for HTTP/2), interleaved,
// with medians and ratios.
// Traffic goes only to 127.0.0.1; every child process is stopped at the end, on failure and on Ctrl-C.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readDockerfile } from '../scripts/common/dockerfile';
import { createSelfSignedCertificate } from '../server/dev-cert';
import { measure, type Measurement } from './measure';
import { measureMetricsRender } from './metrics-render';
import { parseBenchOptions, serverNodeFlags, USAGE, type BenchOptions } from './options';
import { renderPlot } from './plot';
import { memoryUsage } from './proc-stats';
import { killAll, ROOT, runLoad, startBaseline, startKeyServer, type Generator, type ServerProcess } from './processes';
import { renderMarkdown, renderScenarioTable, type ReportInputs } from './report';
import { baselineAnswers, CONNECTION_SWEEP, SCENARIOS } from './scenarios';
import { evaluateTargets, rssGrowthBytes, summarizeScenario, type RoundPair } from './summary';
import { measureSynthSeconds } from './synth-time';

const RESULTS_DIRECTORY = join(ROOT, 'bench/results');
const SOAK_SAMPLE_SECONDS = 5;
const MB = 1024 * 1024;

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

/** The key server alone under steady load, RSS sampled every few seconds: growth that keeps going is a leak. */
async function soak(server: ServerProcess, seconds: number, generator: Generator): Promise<{ seconds: number; samplesMb: number[]; growthMb: number }> {
  const samplesMb: number[] = [];
  for (let elapsed = 0; elapsed < seconds; elapsed += SOAK_SAMPLE_SECONDS) {
    await runLoad({ generator, url: server.url, connections: 50, durationSeconds: SOAK_SAMPLE_SECONDS, paths: ['/key/32'] });
    samplesMb.push(memoryUsage(server.pid).rssBytes / MB);
  }
  return { seconds, samplesMb, growthMb: samplesMb[samplesMb.length - 1] - samplesMb[0] };
}

async function main(options: BenchOptions): Promise<void> {
  const startedAt = performance.now();
  const nodeFlags = serverNodeFlags(options, readDockerfile(join(ROOT, 'Dockerfile')));
  const loadAverageBefore = loadavg();
  const certificates = mkdtempSync(join(tmpdir(), 'key-server-bench-'));
  const servers: ServerProcess[] = [];
  try {
    const { certFile, keyFile } = createSelfSignedCertificate({ directory: certificates, days: 1 });
    const keyServer = await startKeyServer(certFile, keyFile, nodeFlags);
    servers.push(keyServer);
    // HTTP/2 scenarios get a key server process of their own, as they get a baseline of their own: under sustained
    // HTTP/2 load Node's RSS grows by 25 to 35 MB (a bare node:http2 server too), which would otherwise show up in the
    // HTTP/1.1 memory figures of the same process.
    const keyServerH2 = await startKeyServer(certFile, keyFile, nodeFlags);
    servers.push(keyServerH2);
    const baseline = await startBaseline(certFile, keyFile, baselineAnswers({ minSize: 1, maxSize: 1024 }), nodeFlags);
    servers.push(baseline);
    const h2Baseline = await startBaseline(certFile, keyFile, baselineAnswers({ minSize: 1, maxSize: 1024 }), nodeFlags, 'h2');
    servers.push(h2Baseline);
    log(
      `key server pid ${keyServer.pid} at ${keyServer.url} (HTTP/2: pid ${keyServerH2.pid} at ${keyServerH2.url}), ` +
        `baseline pid ${baseline.pid} at ${baseline.url}, HTTP/2 baseline pid ${h2Baseline.pid} at ${h2Baseline.url}`,
    );

    // Warm all up (JIT, TLS session machinery) so round 1 is not a measure of start-up.
    for (const server of [keyServer, baseline]) {
      await runLoad({ generator: options.generator, url: server.url, connections: 50, durationSeconds: 1, paths: ['/key/32'] });
    }
    for (const server of [keyServerH2, h2Baseline]) {
      await runLoad({ url: server.url, connections: 10, streams: 10, durationSeconds: 1, paths: ['/key/32'], protocol: 'h2' });
    }

    const selected = SCENARIOS.filter((scenario) => options.only === undefined || options.only.includes(scenario.id));
    if (selected.length === 0) {
      throw new Error(`--only matched no scenario; known: ${SCENARIOS.map((scenario) => scenario.id).join(', ')}`);
    }
    const rounds = new Map<string, RoundPair[]>(selected.map((scenario) => [scenario.id, []]));
    for (let round = 1; round <= options.rounds; round++) {
      for (const scenario of selected) {
        // Who goes first alternates by round (A B, B A, …), so a drift within a round favours neither server.
        const keyFirst = round % 2 === 1;
        const subject = scenario.protocol === 'h2' ? keyServerH2 : keyServer;
        const reference = scenario.protocol === 'h2' ? h2Baseline : baseline;
        const first = await measure(keyFirst ? subject : reference, scenario, options.durationSeconds, options.generator);
        const second = await measure(keyFirst ? reference : subject, scenario, options.durationSeconds, options.generator);
        const keyRun: Measurement = keyFirst ? first : second;
        const baseRun: Measurement = keyFirst ? second : first;
        rounds.get(scenario.id)!.push({ keyServer: keyRun, baseline: baseRun });
        log(
          `round ${round}/${options.rounds} ${scenario.id}: key ${keyRun.requestsPerSecond.toFixed(0)} req/s p99 ${keyRun.p99Ms.toFixed(2)} ms, ` +
            `baseline ${baseRun.requestsPerSecond.toFixed(0)} req/s p99 ${baseRun.p99Ms.toFixed(2)} ms`,
        );
      }
    }
    const scenarios = selected.map((scenario) => summarizeScenario(scenario, rounds.get(scenario.id)!));
    if (options.only !== undefined) {
      // A partial run checks no targets and leaves bench/results alone: it is for investigating one scenario.
      await Promise.all(servers.map((server) => server.stop()));
      process.stdout.write(renderScenarioTable(scenarios));
      return;
    }
    const steady = rounds.get('key32-c50')!;

    const soakResult = options.soakSeconds > 0 ? await soak(keyServer, options.soakSeconds, options.generator) : undefined;
    await Promise.all(servers.map((server) => server.stop()));

    log('timing /metrics renders');
    const metricsRender = await measureMetricsRender(certFile, keyFile, options.renders);
    let synthSeconds: number | undefined;
    if (options.synth) {
      log('timing cdk8s synth');
      synthSeconds = measureSynthSeconds();
    }

    const targets = evaluateTargets({
      scenarios,
      keyServerRssGrowthBytes: rssGrowthBytes(steady.map((pair) => pair.keyServer)),
      baselineRssGrowthBytes: rssGrowthBytes(steady.map((pair) => pair.baseline)),
      metricsRender,
    });
    const cpu = cpus();
    const report: ReportInputs = {
      context: {
        date: new Date().toISOString(),
        machine: `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB`,
        node: nodeFlags.length === 0 ? process.versions.node : `${process.versions.node} ${nodeFlags.join(' ')}`,
        loadAverageBefore,
        loadAverageAfter: loadavg(),
        rounds: options.rounds,
        durationSeconds: options.durationSeconds,
        generator:
          (options.generator === 'wrk'
            ? 'HTTP/1.1: wrk, 2 threads (separate process, keep-alive HTTPS, 1 request in flight per connection)'
            : 'HTTP/1.1: autocannon (separate process, keep-alive HTTPS, 1 request in flight per connection)') +
          '; HTTP/2: h2load, 1 thread (separate process, the streams in flight per connection as the scenario says)',
        wallSeconds: (performance.now() - startedAt) / 1000,
      },
      scenarios,
      targets,
      metricsRender,
      synthSeconds,
      soak: soakResult,
    };
    const markdown = renderMarkdown(report);
    mkdirSync(RESULTS_DIRECTORY, { recursive: true });
    writeFileSync(join(RESULTS_DIRECTORY, 'latest.json'), `${JSON.stringify({ ...report, options, rounds: Object.fromEntries(rounds) }, null, 2)}\n`);
    writeFileSync(join(RESULTS_DIRECTORY, 'latest.md'), markdown);
    writeFileSync(join(RESULTS_DIRECTORY, 'latest.svg'), renderPlot(scenarios.filter((scenario) => CONNECTION_SWEEP.includes(scenario.id))));
    process.stdout.write(markdown);
    log(`wrote bench/results/latest.{json,md,svg}`);
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    killAll();
    rmSync(certificates, { recursive: true, force: true });
  }
}

if (process.argv.includes('--help')) {
  process.stdout.write(USAGE);
  process.exit(0);
}
let options: BenchOptions;
try {
  options = parseBenchOptions(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`bench: ${(error as Error).message}\n`);
  process.exit(2);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}
main(options).catch((error: unknown) => {
  killAll();
  process.stderr.write(`bench: failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
