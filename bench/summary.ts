// Rounds → medians → ratios → targets: pure functions from raw measurements to what the README quotes.
import type { Measurement } from './measure';
import type { MetricsRenderResult } from './metrics-render';
import { median, ratio } from './stats';

/** Both servers' measurements of one scenario in one round. */
export interface RoundPair {
  readonly keyServer: Measurement;
  readonly baseline: Measurement;
}

/** Medians over rounds of one server in one scenario. */
export interface MedianFigures {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly cpuSecondsPer10k: number;
  readonly peakRssBytes: number;
  /** Requests the load generator saw fail (errors + timeouts), summed over rounds: should be 0. */
  readonly failures: number;
}

/**
 * The median over rounds of key server / baseline within each round. The two runs of a round are seconds apart,
 * so whatever else loads the machine weighs on both; a ratio of overall medians would mix runs minutes apart.
 */
export function pairedRatio(rounds: readonly RoundPair[], pick: (run: Measurement) => number): number {
  return median(rounds.map((round) => ratio(pick(round.keyServer), pick(round.baseline))));
}

/** One scenario's medians and the key server / baseline ratios (medians of per-round ratios). */
export interface ScenarioSummary {
  readonly id: string;
  readonly title: string;
  readonly connections: number;
  readonly keyServer: MedianFigures;
  readonly baseline: MedianFigures;
  readonly throughputRatio: number;
  readonly p99Ratio: number;
  readonly cpuRatio: number;
}

export function medianFigures(runs: readonly Measurement[]): MedianFigures {
  const of = (pick: (run: Measurement) => number): number => median(runs.map(pick));
  return {
    requestsPerSecond: of((run) => run.requestsPerSecond),
    p50Ms: of((run) => run.p50Ms),
    p99Ms: of((run) => run.p99Ms),
    cpuSecondsPer10k: of((run) => run.cpuSecondsPer10k),
    peakRssBytes: Math.max(...runs.map((run) => run.peakRssBytes)),
    failures: runs.reduce((sum, run) => sum + run.errors + run.timeouts, 0),
  };
}

export function summarizeScenario(scenario: { id: string; title: string; connections: number }, rounds: readonly RoundPair[]): ScenarioSummary {
  const keyServer = medianFigures(rounds.map((round) => round.keyServer));
  const baseline = medianFigures(rounds.map((round) => round.baseline));
  return {
    id: scenario.id,
    title: scenario.title,
    connections: scenario.connections,
    keyServer,
    baseline,
    throughputRatio: pairedRatio(rounds, (run) => run.requestsPerSecond),
    p99Ratio: pairedRatio(rounds, (run) => run.p99Ms),
    cpuRatio: pairedRatio(rounds, (run) => run.cpuSecondsPer10k),
  };
}

/** RSS growth of a process across rounds of one scenario: last round's RSS after the load minus the first's. */
export function rssGrowthBytes(runs: readonly Measurement[]): number {
  return runs.length < 2 ? 0 : runs[runs.length - 1].rssAfterBytes - runs[0].rssAfterBytes;
}

/** One target of issue 6 with what was measured. */
export interface TargetResult {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
}

const MB = 1024 * 1024;
/** RSS growth that counts as noise: the allocator and JIT settle by a few MB in either direction. */
export const RSS_GROWTH_NOISE_BYTES = 5 * MB;

/**
 * Whether RSS growth across rounds is beyond noise: more than {@link RSS_GROWTH_NOISE_BYTES}, or than the baseline's
 * own growth over the same rounds (a bare server has no state to leak, so its growth is the machine's noise).
 */
export function isGrowthBeyondNoise(growthBytes: number, baselineGrowthBytes: number): boolean {
  return growthBytes > Math.max(RSS_GROWTH_NOISE_BYTES, baselineGrowthBytes + RSS_GROWTH_NOISE_BYTES / 2);
}

/** What the targets are checked against. */
export interface TargetInputs {
  readonly scenarios: readonly ScenarioSummary[];
  readonly keyServerRssGrowthBytes: number;
  readonly baselineRssGrowthBytes: number;
  readonly metricsRender: MetricsRenderResult;
}

/** The targets, each with its measured value. */
export function evaluateTargets(inputs: TargetInputs): TargetResult[] {
  const byId = (id: string): ScenarioSummary => {
    const found = inputs.scenarios.find((scenario) => scenario.id === id);
    if (found === undefined) {
      throw new Error(`no results for scenario ${id}`);
    }
    return found;
  };
  const c50 = byId('key32-c50');
  const h2 = byId('h2-key32-c10-m10');
  const large = byId('key1024-c50');
  const c200 = byId('key32-c200');
  const growth = inputs.keyServerRssGrowthBytes;
  return [
    { target: '/key/32 at 50 connections: throughput ≥ 0.90 × baseline', measured: `${c50.throughputRatio.toFixed(2)} ×`, met: c50.throughputRatio >= 0.9 },
    { target: '/key/32 at 50 connections: p99 ≤ 1.2 × baseline', measured: `${c50.p99Ratio.toFixed(2)} ×`, met: c50.p99Ratio <= 1.2 },
    { target: '/key/1024: throughput ≥ 0.75 × baseline (2048-character body)', measured: `${large.throughputRatio.toFixed(2)} ×`, met: large.throughputRatio >= 0.75 },
    {
      target: 'HTTP/2 /key/32 at 10 connections × 10 streams: throughput ≥ 0.85 × bare node:http2',
      measured: `${h2.throughputRatio.toFixed(2)} ×`,
      met: h2.throughputRatio >= 0.85,
    },
    {
      target: 'Peak RSS under 200 connections < 100 MB',
      measured: `${(c200.keyServer.peakRssBytes / MB).toFixed(1)} MB`,
      met: c200.keyServer.peakRssBytes < 100 * MB,
    },
    {
      target: `No RSS growth from the first to the last /key/32 round at 50 connections beyond noise (${RSS_GROWTH_NOISE_BYTES / MB} MB, or the baseline's growth + ${RSS_GROWTH_NOISE_BYTES / MB / 2} MB)`,
      measured: `${(growth / MB).toFixed(1)} MB (baseline ${(inputs.baselineRssGrowthBytes / MB).toFixed(1)} MB)`,
      met: !isGrowthBeyondNoise(growth, inputs.baselineRssGrowthBytes),
    },
    {
      target: '/metrics renders in < 5 ms with every series populated',
      measured: `${inputs.metricsRender.medianMs.toFixed(2)} ms median, ${inputs.metricsRender.p99Ms.toFixed(2)} ms p99 (${inputs.metricsRender.series} series)`,
      met: inputs.metricsRender.medianMs < 5,
    },
  ];
}
