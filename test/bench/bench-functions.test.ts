// The benchmark's pure parts: /proc parsing, statistics, flags and target checks (no load is generated here).
import { parseBenchOptions, serverNodeFlags } from '../../bench/options';
import { parseDockerfile } from '../../scripts/common/dockerfile';
import { parseCpuTicks, parseMemoryUsage } from '../../bench/proc-stats';
import { generatorCommand } from '../../bench/processes';
import { h2loadArgs, parseH2load } from '../../bench/h2load';
import { baselineAnswers, SCENARIOS } from '../../bench/scenarios';
import { median, percentile, ratio } from '../../bench/stats';
import { evaluateTargets, isGrowthBeyondNoise, pairedRatio, summarizeScenario, type RoundPair } from '../../bench/summary';
import type { Measurement } from '../../bench/measure';

const MB = 1024 * 1024;

describe('proc parsing', () => {
  it('reads utime + stime even when the command name holds spaces and parentheses', () => {
    const stat = '4242 (node (worker) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 31 0 0 20 0 11 0 100 1000 2000';
    expect(parseCpuTicks(stat)).toBe(281);
  });

  it('reads VmRSS and VmHWM in bytes', () => {
    const status = 'Name:\tnode\nVmHWM:\t   81234 kB\nVmRSS:\t   70000 kB\nThreads:\t11\n';
    expect(parseMemoryUsage(status)).toEqual({ rssBytes: 70000 * 1024, peakRssBytes: 81234 * 1024 });
  });

  it('names the missing field', () => {
    expect(() => parseMemoryUsage('Name:\tnode\n')).toThrow('no VmRSS line');
  });
});

describe('stats', () => {
  it.each([
    [[3, 1, 2], 2],
    [[4, 1, 3, 2], 2.5],
    [[7], 7],
  ])('median of %j is %d', (values, expected) => {
    expect(median(values)).toBe(expected);
  });

  it('takes nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, index) => index + 1);
    expect(percentile(values, 0.5)).toBe(50);
    expect(percentile(values, 0.99)).toBe(99);
    expect(percentile(values, 1)).toBe(100);
  });

  it('gives NaN rather than a misleading number for no data or a zero reference', () => {
    expect(median([])).toBeNaN();
    expect(ratio(5, 0)).toBeNaN();
  });
});

describe('parseBenchOptions', () => {
  it('defaults to 5 rounds of 2 s with autocannon, and --quick to 1 round of 1 s', () => {
    expect(parseBenchOptions([])).toMatchObject({ rounds: 5, durationSeconds: 2, soakSeconds: 0, synth: true, generator: 'autocannon' });
    expect(parseBenchOptions(['--quick'])).toMatchObject({ rounds: 1, durationSeconds: 1 });
  });

  it('passes node flags to both servers as given, none for an empty value, and leaves the default to the image', () => {
    expect(parseBenchOptions(['--node-flags', '--max-semi-space-size=4 --no-opt']).nodeFlags).toEqual(['--max-semi-space-size=4', '--no-opt']);
    expect(parseBenchOptions(['--node-flags', '']).nodeFlags).toEqual([]);
    expect(parseBenchOptions([]).nodeFlags).toBeUndefined();
  });

  it('runs both servers with the node flags of the Dockerfile ENTRYPOINT unless --node-flags says otherwise', () => {
    const dockerfile = parseDockerfile('FROM node:22 AS build\nFROM runtime\nENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=4", "/app/lib/server/cli.js"]\n');
    expect(serverNodeFlags(parseBenchOptions([]), dockerfile)).toEqual(['--max-semi-space-size=4']);
    expect(serverNodeFlags(parseBenchOptions(['--node-flags', '']), dockerfile)).toEqual([]);
    expect(serverNodeFlags(parseBenchOptions(['--node-flags', '--jitless']), dockerfile)).toEqual(['--jitless']);
  });

  it.each([
    [['--rounds', '0'], '--rounds must be an integer from 1 to 20'],
    [['--duration', 'x'], '--duration must be an integer from 1 to 60'],
    [['--soak', '5'], '--soak must be an integer from 10 to 600'],
    [['--generator', 'ab'], '--generator must be autocannon or wrk'],
    [['--fast'], 'unknown flag "--fast"'],
    [['--node-flags', 'rm -rf'], '--node-flags must be node flags'],
  ])('rejects %j naming the flag', (argv, message) => {
    expect(() => parseBenchOptions(argv)).toThrow(message);
  });
});

describe('scenarios and generators', () => {
  it('sends exactly one bad length in ten in the mixed scenario, and the baseline answers it like the server', () => {
    const mixed = SCENARIOS.find((scenario) => scenario.id === 'mixed-c50')!;
    const answers = baselineAnswers({ minSize: 1, maxSize: 1024 });
    const bad = mixed.paths.filter((path) => answers[path].status === 400);
    expect(bad.length / mixed.paths.length).toBe(0.1);
    expect(answers['/key/0'].body).toBe('Invalid key length: must be a whole number of bytes from 1 to 1024\n');
  });

  it('gives the baseline bodies of the key server hex sizes', () => {
    const answers = baselineAnswers({ minSize: 1, maxSize: 1024 });
    expect(answers['/key/32'].body).toHaveLength(64);
    expect(answers['/key/1024'].body).toHaveLength(2048);
  });

  it('never gives wrk more threads than connections', () => {
    const { command, args } = generatorCommand({ generator: 'wrk', url: 'https://127.0.0.1:1', connections: 1, durationSeconds: 2, paths: ['/key/32'] });
    expect(command).toBe('wrk');
    expect(args.slice(0, 6)).toEqual(['-t', '1', '-c', '1', '-d', '2s']);
  });
});

describe('h2load', () => {
  const summary = [
    'finished in 2.00s, 20312.00 req/s, 1.80MB/s',
    'requests: 40624 total, 40640 started, 40624 done, 40620 succeeded, 4 failed, 3 errored, 1 timeout',
    'status codes: 40620 2xx, 0 3xx, 4 4xx, 0 5xx',
  ].join('\n');

  it('runs one thread, timing-based, with the scenario streams and a per-request log, every path a full URL', () => {
    expect(h2loadArgs({ url: 'https://127.0.0.1:9/', connections: 10, streams: 32, durationSeconds: 2, paths: ['/key/32', '/key/0'], logFile: '/tmp/x.tsv' })).toEqual([
      '--threads=1', '--clients=10', '--max-concurrent-streams=32', '--duration=2', '--log-file=/tmp/x.tsv',
      'https://127.0.0.1:9/key/32', 'https://127.0.0.1:9/key/0',
    ]);
  });

  it('reads throughput and failures from the summary and latency percentiles from the per-request log', () => {
    const log = Array.from({ length: 100 }, (_, index) => `1796231449363964\t${index < 96 ? 200 : 400}\t${(index + 1) * 1000}`).join('\n');
    expect(parseH2load(summary, `${log}\n`)).toEqual({
      requests: 40624, seconds: 2, requestsPerSecond: 20312, p50Ms: 50, p99Ms: 99, errors: 7, timeouts: 1, statuses: { 200: 96, 400: 4 },
    });
  });

  it('names the missing summary instead of reporting zeros', () => {
    expect(() => parseH2load('connection refused', '')).toThrow('h2load printed no summary');
  });
});

function run(requestsPerSecond: number, p99Ms: number, extra: Partial<Measurement> = {}): Measurement {
  return {
    requests: requestsPerSecond * 4, seconds: 4, requestsPerSecond, p50Ms: p99Ms / 4, p99Ms, errors: 0, timeouts: 0, statuses: {},
    serverCpuSeconds: 1, cpuSecondsPer10k: 1, peakRssBytes: 60 * MB, rssAfterBytes: 60 * MB, ...extra,
  };
}

describe('pairedRatio', () => {
  it('takes the median of per-round ratios, so one disturbed round does not move it', () => {
    const rounds: RoundPair[] = [
      { keyServer: run(9_000, 10), baseline: run(10_000, 10) },
      { keyServer: run(4_000, 10), baseline: run(4_500, 10) },
      { keyServer: run(2_000, 10), baseline: run(10_000, 10) },
    ];
    expect(pairedRatio(rounds, (measurement) => measurement.requestsPerSecond)).toBeCloseTo(0.889, 3);
  });
});

describe('targets', () => {
  function summaries(c50Ratio: number, peakRssMb: number) {
    const pair = (keyRate: number): RoundPair[] => [{ keyServer: run(keyRate, 10, { peakRssBytes: peakRssMb * MB }), baseline: run(10_000, 10) }];
    return SCENARIOS.map((scenario) => summarizeScenario(scenario, pair(scenario.id === 'key32-c50' ? c50Ratio * 10_000 : 9_000)));
  }
  const render = { series: 900, renders: 10, medianMs: 2, p99Ms: 3, bytes: 80_000 };

  it('meets the throughput target at 0.90 and misses it below', () => {
    const met = (c50Ratio: number): boolean =>
      evaluateTargets({ scenarios: summaries(c50Ratio, 70), keyServerRssGrowthBytes: 0, baselineRssGrowthBytes: 0, metricsRender: render })[0].met;
    expect(met(0.9)).toBe(true);
    expect(met(0.89)).toBe(false);
  });

  it('meets the HTTP/2 target at 0.85 of bare node:http2 and misses it below', () => {
    const h2Met = (h2Ratio: number): boolean => {
      const scenarios = SCENARIOS.map((scenario) =>
        summarizeScenario(scenario, [{ keyServer: run(scenario.id === 'h2-key32-c10-m10' ? h2Ratio * 10_000 : 9_500, 10), baseline: run(10_000, 10) }]),
      );
      return evaluateTargets({ scenarios, keyServerRssGrowthBytes: 0, baselineRssGrowthBytes: 0, metricsRender: render }).find((target) => target.target.startsWith('HTTP/2'))!.met;
    };
    expect(h2Met(0.85)).toBe(true);
    expect(h2Met(0.84)).toBe(false);
  });

  it('misses the memory target at 100 MB', () => {
    const targets = evaluateTargets({ scenarios: summaries(1, 100), keyServerRssGrowthBytes: 0, baselineRssGrowthBytes: 0, metricsRender: render });
    expect(targets.find((target) => target.target.startsWith('Peak RSS'))!.met).toBe(false);
  });

  it('calls RSS growth a leak only beyond 5 MB and beyond the baseline own growth', () => {
    expect(isGrowthBeyondNoise(4 * MB, 0)).toBe(false);
    expect(isGrowthBeyondNoise(6 * MB, 0)).toBe(true);
    expect(isGrowthBeyondNoise(6 * MB, 4 * MB)).toBe(false);
    expect(isGrowthBeyondNoise(7 * MB, 4 * MB)).toBe(true);
  });
});
