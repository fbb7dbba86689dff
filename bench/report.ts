// The Markdown report: the machine, the settings, one row per scenario, the targets and the one-off figures.
import type { ScenarioSummary, TargetResult } from './summary';
import type { MetricsRenderResult } from './metrics-render';

/** Where and how the run happened: absolute numbers mean little without it. */
export interface RunContext {
  readonly date: string;
  readonly machine: string;
  readonly node: string;
  readonly loadAverageBefore: readonly number[];
  readonly loadAverageAfter: readonly number[];
  readonly rounds: number;
  readonly durationSeconds: number;
  readonly generator: string;
  readonly wallSeconds: number;
}

/** Everything the report shows. */
export interface ReportInputs {
  readonly context: RunContext;
  readonly scenarios: readonly ScenarioSummary[];
  readonly targets: readonly TargetResult[];
  readonly metricsRender: MetricsRenderResult;
  readonly synthSeconds: number | undefined;
  readonly soak?: { readonly seconds: number; readonly samplesMb: readonly number[]; readonly growthMb: number };
}

const MB = 1024 * 1024;

function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

function scenarioRow(summary: ScenarioSummary): string {
  const { keyServer: key, baseline: base } = summary;
  return `| ${summary.title} | ${fixed(key.requestsPerSecond, 0)} | ${fixed(base.requestsPerSecond, 0)} | **${fixed(summary.throughputRatio, 2)}** | ${fixed(key.p50Ms, 2)} / ${fixed(base.p50Ms, 2)} | ${fixed(key.p99Ms, 2)} / ${fixed(base.p99Ms, 2)} | **${fixed(summary.p99Ratio, 2)}** | ${fixed(key.cpuSecondsPer10k, 2)} / ${fixed(base.cpuSecondsPer10k, 2)} | ${fixed(key.peakRssBytes / MB, 1)} / ${fixed(base.peakRssBytes / MB, 1)} | ${key.failures} / ${base.failures} |`;
}

/** The per-scenario table alone. */
export function renderScenarioTable(scenarios: readonly ScenarioSummary[]): string {
  return `${[TABLE_HEADER, TABLE_RULE, ...scenarios.map(scenarioRow)].join('\n')}\n`;
}

const TABLE_HEADER =
  '| Scenario | key req/s | baseline req/s | ratio | p50 ms key / base | p99 ms key / base | p99 ratio | CPU s per 10k req key / base | peak RSS MB key / base | failed requests key / base |';
const TABLE_RULE = '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|';

export function renderMarkdown(inputs: ReportInputs): string {
  const { context } = inputs;
  const lines = [
    `# Benchmark: key server / bare baseline (node:https for HTTP/1.1, node:http2 for HTTP/2)`,
    '',
    `${context.date} · ${context.machine} · Node ${context.node} · load average ${context.loadAverageBefore.map((value) => value.toFixed(2)).join(' ')} before, ${context.loadAverageAfter.map((value) => value.toFixed(2)).join(' ')} after`,
    `${context.rounds} interleaved rounds (key server then baseline, then the other way round, …) of ${context.durationSeconds} s per scenario; figures are medians over rounds, ratios the median of per-round key server / baseline ratios; ${context.generator}; run took ${context.wallSeconds.toFixed(0)} s.`,
    '',
    TABLE_HEADER,
    TABLE_RULE,
    ...inputs.scenarios.map(scenarioRow),
    '',
    '| Target | Measured | Met |',
    '|---|---|---|',
    ...inputs.targets.map((target) => `| ${target.target} | ${target.measured} | ${target.met ? 'yes' : '**no**'} |`),
    '',
    `/metrics render (in process, every series populated): ${inputs.metricsRender.series} series, ${(inputs.metricsRender.bytes / 1024).toFixed(1)} KiB, median ${fixed(inputs.metricsRender.medianMs, 2)} ms, p99 ${fixed(inputs.metricsRender.p99Ms, 2)} ms over ${inputs.metricsRender.renders} renders.`,
    inputs.synthSeconds === undefined ? '`cdk8s synth`: skipped.' : `\`cdk8s synth\` wall time: ${inputs.synthSeconds.toFixed(1)} s.`,
  ];
  if (inputs.soak !== undefined) {
    lines.push(
      `Soak: /key/32 at 50 connections for ${inputs.soak.seconds} s, RSS every 5 s (MB): ${inputs.soak.samplesMb.map((value) => value.toFixed(1)).join(', ')}; growth after the first sample ${inputs.soak.growthMb.toFixed(1)} MB.`,
    );
  }
  return `${lines.join('\n')}\n`;
}
