import { Duration } from 'cdk8s';
import { handlers, metricNames as metric } from '../../../../server/metric-catalogue';
import {
  keyServerAlertNames,
  keyServerAlertSources,
  keyServerRuleGroups,
  omittedKeyServerAlerts,
  recordedSeries,
} from '../../../../constructs/monitoring/rules/key-server-rules';
import { isAlertingRule } from '../../../../constructs/monitoring/rules/rule-types';
import { runbookBaseUrl } from '../../../../main';
import { checkRules, RuleTest, testRules, ToolResult } from '../../../rules/promtool';
import { metricNamesIn, isKnownMetricName, sourceOfMetric } from '../../../rules/promql-names';

const target = { namespace: 'keys', job: 'key-server', deployment: 'key-server', container: 'key-server' };
/** Limits of 1 CPU and 128 MiB, round figures for the resource alert tests. */
const containerLimits = { cpuCores: 1, memoryBytes: 128 * 1048576 };
const groups = keyServerRuleGroups({ target, containerLimits, runbookBaseUrl });
const alerts = groups.flatMap((group) => group.rules).filter(isAlertingRule);

/** Labels Prometheus attaches to a scraped key server series, as the ServiceMonitor or the standalone job produce them. */
const scraped = 'job="key-server",namespace="keys",service="key-server",endpoint="metrics",pod="key-server-5d8f7c9b4-x7k2p",instance="10.0.0.7:9090",container="key-server"';
const requests = (code: string, handler: string, values: string) => ({
  series: `${metric.httpRequestsTotal}{${scraped},code="${code}",handler="${handler}",method="GET"}`,
  values,
});
/** Served traffic with `errorsPerMinute` 5xx out of 100 key requests a minute, plus a busy /metrics that must not dilute the ratio. */
const trafficWithErrors = (errorsPerMinute: number, minutes: number) => [
  requests('200', handlers.key, `0+${100 - errorsPerMinute}x${minutes}`),
  requests('500', handlers.key, `0+${errorsPerMinute}x${minutes}`),
  requests('200', handlers.metrics, `0+1000x${minutes}`),
];
const jobLabels = { severity: 'critical', job: 'key-server', namespace: 'keys' };

function expectPass(result: ToolResult): void {
  if (result.status !== 0) {
    throw new Error(`promtool failed (exit ${result.status}):\n${result.output}`);
  }
}

describe('key server rule groups', () => {
  it('pass promtool check rules', () => {
    expectPass(checkRules(groups));
  });

  it('record the day-long windows only in their own group, evaluated every 2 m, and read them only from the slow burn', () => {
    const readsDays = (expr: string) => /\[\d+d\]|rate\d+d\b/.test(expr);
    const long = groups.filter((group) => group.name === 'key-server.recording.long-windows');
    expect(long.map((group) => group.interval)).toEqual(['2m']);
    expect(long[0].rules.map((rule) => ('record' in rule ? rule.record : rule.alert)).sort())
      .toEqual([recordedSeries.servedRequestRate('1d'), recordedSeries.servedRequestRate('3d'), recordedSeries.errorRatio('1d'), recordedSeries.errorRatio('3d')].sort());
    const elsewhere = groups.filter((group) => group !== long[0]).flatMap((group) => group.rules);
    expect(elsewhere.filter((rule) => !isAlertingRule(rule) && readsDays(rule.expr))).toEqual([]);
    expect(elsewhere.filter(isAlertingRule).filter((rule) => readsDays(rule.expr)).map((rule) => rule.alert)).toEqual(['KeyServerErrorBudgetBurnSlow']);
    expect(groups.filter((group) => group !== long[0]).every((group) => group.interval === undefined)).toBe(true);
  });

  it('define exactly the exported alert names, in order', () => {
    expect(alerts.map((rule) => rule.alert)).toEqual([...keyServerAlertNames]);
  });

  it.each(alerts.map((rule) => [rule.alert, rule] as const))('%s has for, severity, summary, description and its runbook anchor', (name, rule) => {
    expect(rule.for).toMatch(/^\d+[smhd]$/);
    expect(['critical', 'warning', 'info']).toContain(rule.labels.severity);
    expect(rule.annotations.summary.length).toBeGreaterThan(10);
    expect(rule.annotations.description.length).toBeGreaterThan(20);
    expect(rule.annotations.runbook_url).toBe(`${runbookBaseUrl}#${name.toLowerCase()}`);
  });

  it('point runbook links at the configured document', () => {
    const custom = keyServerRuleGroups({ target, runbookBaseUrl: 'https://runbooks.example.org/key-server' });
    const urls = custom.flatMap((group) => group.rules).filter(isAlertingRule).map((rule) => rule.annotations.runbook_url);
    expect(urls).toContain('https://runbooks.example.org/key-server#keyserverhighlatency');
  });

  it('refuse to build without a runbook document, naming the option, rather than link every alert to nowhere', () => {
    expect(() => keyServerRuleGroups({ target } as never)).toThrow(/^runbookBaseUrl is required/);
    expect(() => keyServerRuleGroups({ target, runbookBaseUrl: '' })).toThrow(/^runbookBaseUrl is required/);
  });

  it('select only the key server job and namespace in its own series', () => {
    for (const rule of groups.flatMap((group) => group.rules)) {
      for (const match of rule.expr.matchAll(/\b(http_\w+|key_\w+|tls_\w+|up|namespace_job:\w+)\{([^}]*)\}/g)) {
        expect(match[2]).toContain('job="key-server"');
        expect(match[2]).toContain('namespace="keys"');
      }
    }
  });

  it('declare for every alert exactly the sources of the metrics it reads', () => {
    const recorded = new Set(groups.flatMap((group) => group.rules).flatMap((rule) => ('record' in rule ? [rule.record] : [])));
    for (const rule of alerts) {
      const read = new Set(metricNamesIn(rule.expr).map((name) => (recorded.has(name) ? 'keyServer' : sourceOfMetric(name))));
      expect({ alert: rule.alert, sources: [...read].sort() }).toEqual({ alert: rule.alert, sources: [...keyServerAlertSources[rule.alert as keyof typeof keyServerAlertSources]].sort() });
    }
  });

  it('leave out, by name and missing source, the alerts whose source a Prometheus does not scrape', () => {
    const options = { target, runbookBaseUrl, availableSources: ['keyServer'] as const };
    const kept = keyServerRuleGroups(options).flatMap((group) => group.rules).filter(isAlertingRule).map((rule) => rule.alert);
    expect(kept).not.toContain('KeyServerPodsNotReady');
    expect(kept).toContain('KeyServerCpuNearLimit');
    expect(omittedKeyServerAlerts(options)).toEqual([
      { alert: 'KeyServerNoPodsAvailable', missingSources: ['kubeStateMetrics'] },
      { alert: 'KeyServerPodsNotReady', missingSources: ['kubeStateMetrics'] },
      { alert: 'KeyServerReplicasMismatch', missingSources: ['kubeStateMetrics'] },
    ]);
    expect(omittedKeyServerAlerts({ target, runbookBaseUrl })).toEqual([]);
  });

  it('use only metric names the key server, cAdvisor or kube-state-metrics export, or series they record', () => {
    const recorded = new Set(groups.flatMap((group) => group.rules).flatMap((rule) => ('record' in rule ? [rule.record] : [])));
    const names = groups.flatMap((group) => group.rules).flatMap((rule) => metricNamesIn(rule.expr));
    expect(names.length).toBeGreaterThan(10);
    expect(names.filter((name) => !recorded.has(name) && !isKnownMetricName(name))).toEqual([]);
  });

  it('put the latency threshold from the options into KeyServerHighLatency, behind the traffic guard', () => {
    const custom = keyServerRuleGroups({ target, runbookBaseUrl, latencyThreshold: Duration.millis(250), minimumRequests: 50 });
    const rule = custom.flatMap((group) => group.rules).filter(isAlertingRule).find((candidate) => candidate.alert === 'KeyServerHighLatency');
    expect(rule?.expr).toBe(`(${recordedSeries.latencyQuantile(0.95)}{job="key-server",namespace="keys"} > 0.25)`
      + ` and (${recordedSeries.servedRequestRate('5m')}{job="key-server",namespace="keys"} * 300 >= 50)`);
  });

  it('guard every alert that judges a ratio or a latency with the request rate of each window it reads', () => {
    for (const rule of alerts) {
      const windows = [...rule.expr.matchAll(/:(?:ratio_rate|p\d+_rate)(\d+[mhd])\{/g)].map((match) => match[1]);
      const guards = [...rule.expr.matchAll(/namespace_job:http_requests:rate(\d+[mhd])\{[^}]*\} \* \d+ >= 100/g)].map((match) => match[1]);
      expect({ alert: rule.alert, guards: [...new Set(guards)].sort() }).toEqual({ alert: rule.alert, guards: [...new Set(windows)].sort() });
    }
  });

  it.each([
    [{ errorRatioThreshold: 5 }, /errorRatioThreshold must be a fraction/],
    [{ availabilityObjective: 1 }, /availabilityObjective must be a fraction/],
    [{ resourceLimitRatio: 0 }, /resourceLimitRatio must be a fraction/],
    [{ latencyThreshold: Duration.millis(0) }, /latencyThreshold must be longer/],
    [{ runbookBaseUrl: 'runbooks.md#x' }, /runbookBaseUrl must be an http\(s\) URL/],
    [{ target: { ...target, job: '' } }, /target\.job must be a non-empty string/],
    [{ minimumRequests: 0 }, /minimumRequests must be a whole number of requests, at least 1/],
    [{ containerLimits: { cpuCores: 0, memoryBytes: 1 } }, /containerLimits must be positive/],
    [{ availableSources: ['cadvisor' as never] }, /availableSources has an unknown source 'cadvisor'/],
  ])('reject invalid options %# with an error naming the option', (override, message) => {
    expect(() => keyServerRuleGroups({ target, runbookBaseUrl, ...override })).toThrow(message);
  });
});

/** Cumulative counter values, one per minute, from the requests made in each minute. */
function cumulative(perMinute: (minute: number) => number, minutes: number): string {
  const values: number[] = [];
  let total = 0;
  for (let minute = 0; minute <= minutes; minute++) {
    values.push(total);
    total += perMinute(minute);
  }
  return values.join(' ');
}

describe('key server alerts at low traffic: the minimum-traffic guard', () => {
  const judging = ['KeyServerHighErrorRate', 'KeyServerHighLatency', 'KeyServerErrorBudgetBurnFast', 'KeyServerErrorBudgetBurnSlow', 'KeyServerUnusualClientErrorShare'];
  const silentAt = (evalTimes: string[]) => evalTimes.flatMap((evalTime) => judging.map((alertname) => ({ evalTime, alertname, expAlerts: [] })));
  const scrapes = (minutes: number) => requests('200', handlers.metrics, `0+4x${minutes}`);
  /** A slow scanner on an idle service: 5 unknown paths a minute for 30 minutes, every one 404 (25 per 5 minutes). */
  const scanner = [scrapes(40), requests('404', handlers.unmatched, cumulative((minute) => (minute >= 5 && minute < 35 ? 5 : 0), 40))];
  /** One key request a minute; those `fails` picks fail with 500, and the one in minute `slowMinute` takes 0.8 s. */
  const trickle = (minutes: number, fails: (minute: number) => boolean, slowMinute = 10) => {
    const histogram = (le: string, counts: (minute: number) => number) => ({
      series: `${metric.httpRequestDurationSeconds}_bucket{${scraped},code="200",handler="${handlers.key}",method="GET",le="${le}"}`,
      values: cumulative(counts, minutes),
    });
    return [
      scrapes(minutes),
      requests('200', handlers.key, cumulative((minute) => (fails(minute) ? 0 : 1), minutes)),
      requests('500', handlers.key, cumulative((minute) => (fails(minute) ? 1 : 0), minutes)),
      histogram('0.1', (minute) => (minute === slowMinute ? 0 : 1)),
      histogram('1', () => 1),
      histogram('+Inf', () => 1),
    ];
  };

  it('stay silent on an idle service: only scrapes, no request to judge', () => {
    expectPass(testRules(groups, [{ name: 'idle', interval: '1m', inputSeries: [scrapes(60)], alertRuleTests: silentAt(['10m', '60m']) }]));
  });

  it('stay silent when a scanner probes an idle service for half an hour, every request a 404', () => {
    expectPass(testRules(groups, [{ name: 'scanner on an idle service', interval: '1m', inputSeries: scanner, alertRuleTests: silentAt(['16m', '25m', '35m']) }]));
  });

  it('would fire on that scanner without the guard (control: the guard, not the data, keeps it silent)', () => {
    const unguarded = keyServerRuleGroups({ target, containerLimits, runbookBaseUrl, minimumRequests: 1 });
    expectPass(testRules(unguarded, [{
      name: 'scanner, guard at one request',
      interval: '1m',
      inputSeries: scanner,
      alertRuleTests: [{ evalTime: '25m', alertname: 'KeyServerUnusualClientErrorShare', expAlerts: [{ expLabels: { ...jobLabels, severity: 'warning' } }] }],
    }]));
  });

  it('stay silent on a trickle of one request a minute, three days long, whose only failure is a slow 500', () => {
    const threeDays = 3 * 1440;
    const failure = threeDays + 10;
    const after = (minutes: number) => `${failure + minutes}m`;
    expectPass(testRules(groups, [{
      name: 'trickle with one failure',
      interval: '1m',
      inputSeries: trickle(threeDays + 60, (minute) => minute === failure, failure),
      alertRuleTests: silentAt([after(2), after(5), after(10), after(30), after(50)]),
    }]));
  }, 120_000); // promtool evaluates three days of rules minute by minute: about 25 s on two cores

  it('do not page on a trickle that fails completely, and open a ticket (slow burn) once two hours hold 100 requests', () => {
    expectPass(testRules(groups, [{
      name: 'trickle, every request failing',
      interval: '1m',
      inputSeries: trickle(130, () => true),
      alertRuleTests: [
        ...['KeyServerHighErrorRate', 'KeyServerErrorBudgetBurnFast'].map((alertname) => ({ evalTime: '130m', alertname, expAlerts: [] })),
        { evalTime: '60m', alertname: 'KeyServerErrorBudgetBurnSlow', expAlerts: [] },
        { evalTime: '130m', alertname: 'KeyServerErrorBudgetBurnSlow', expAlerts: [{ expLabels: { ...jobLabels, severity: 'warning' } }] },
      ],
    }]));
  });

  it('page on a real outage: one request a second, half of them failing', () => {
    const outage = [
      scrapes(30),
      requests('200', handlers.key, '0+30x30'),
      requests('500', handlers.key, '0+30x30'),
    ];
    expectPass(testRules(groups, [{
      name: 'outage at 1 request per second',
      interval: '1m',
      inputSeries: outage,
      alertRuleTests: [
        { evalTime: '8m', alertname: 'KeyServerHighErrorRate', expAlerts: [{ expLabels: jobLabels }] },
        { evalTime: '8m', alertname: 'KeyServerErrorBudgetBurnFast', expAlerts: [{ expLabels: jobLabels }] },
      ],
    }]));
  });
});

describe('key server alerts under promtool test rules', () => {
  const run = (tests: RuleTest[]) => expectPass(testRules(groups, tests));

  it('stay silent at a 4 % error ratio and fire KeyServerHighErrorRate 5 minutes after it reaches 6 %', () => {
    run([
      {
        name: '4 % of key requests fail',
        interval: '1m',
        inputSeries: trafficWithErrors(4, 30),
        alertRuleTests: [{ evalTime: '30m', alertname: 'KeyServerHighErrorRate', expAlerts: [] }],
      },
      {
        name: '6 % of key requests fail, diluted by /metrics scrapes that must not count',
        interval: '1m',
        inputSeries: trafficWithErrors(6, 30),
        alertRuleTests: [
          // The ratio exists from the second sample (1m); `for: 5m` holds it pending until 6m.
          { evalTime: '5m', alertname: 'KeyServerHighErrorRate', expAlerts: [] },
          { evalTime: '6m', alertname: 'KeyServerHighErrorRate', expAlerts: [{ expLabels: jobLabels }] },
        ],
      },
    ]);
  });

  it('render summary, description and runbook link of a firing alert', () => {
    expectPass(testRules(groups, [{
      name: '6 % of key requests fail',
      interval: '1m',
      inputSeries: trafficWithErrors(6, 10),
      alertRuleTests: [{
        evalTime: '10m',
        alertname: 'KeyServerHighErrorRate',
        expAlerts: [{
          expLabels: jobLabels,
          expAnnotations: {
            summary: 'Key server answers too many requests with 5xx',
            description: '6% of the requests served by keys/key-server failed with 5xx over 5 minutes (threshold 5 %).',
            runbook_url: `${runbookBaseUrl}#keyserverhigherrorrate`,
          },
        }],
      }],
    }], true));
  });

  it('record an error ratio of 0, not nothing, before the first 5xx', () => {
    run([{
      name: 'only successes',
      interval: '1m',
      inputSeries: [requests('200', handlers.key, '0+100x10')],
      promqlExprTests: [
        { expr: recordedSeries.errorRatio('5m'), evalTime: '5m', expSamples: [{ labels: `${recordedSeries.errorRatio('5m')}{job="key-server",namespace="keys"}`, value: 0 }] },
      ],
    }]);
  });

  it('fire KeyServerDown 1 minute after an instance stops answering, and when no target exists at all', () => {
    run([
      {
        name: 'instance down',
        interval: '1m',
        inputSeries: [{ series: `up{${scraped}}`, values: '1 0x10' }],
        alertRuleTests: [
          { evalTime: '1m', alertname: 'KeyServerDown', expAlerts: [] },
          {
            evalTime: '2m',
            alertname: 'KeyServerDown',
            expAlerts: [{ expLabels: { severity: 'critical', job: 'key-server', namespace: 'keys', service: 'key-server', endpoint: 'metrics', pod: 'key-server-5d8f7c9b4-x7k2p', instance: '10.0.0.7:9090', container: 'key-server' } }],
          },
        ],
      },
      {
        name: 'instance up',
        interval: '1m',
        inputSeries: [{ series: `up{${scraped}}`, values: '1x10' }],
        alertRuleTests: [{ evalTime: '10m', alertname: 'KeyServerDown', expAlerts: [] }],
      },
      {
        name: 'no target: the ServiceMonitor or scrape config selects nothing',
        interval: '1m',
        inputSeries: [{ series: 'up{job="other",namespace="keys"}', values: '1x10' }],
        alertRuleTests: [{ evalTime: '2m', alertname: 'KeyServerDown', expAlerts: [{ expLabels: jobLabels }] }],
      },
    ]);
  });

  it('fire KeyServerCertificateExpiringSoon for a certificate 13 days from expiry and not for one 20 days away', () => {
    const expiry = (days: number) => [{ series: `${metric.tlsCertificateExpiryTimestampSeconds}{${scraped}}`, values: `${days * 86400}x30` }];
    const certificateLabels = { severity: 'warning', job: 'key-server', namespace: 'keys', service: 'key-server', endpoint: 'metrics', pod: 'key-server-5d8f7c9b4-x7k2p', instance: '10.0.0.7:9090', container: 'key-server' };
    run([
      {
        name: '13 days left',
        interval: '1m',
        inputSeries: expiry(13),
        alertRuleTests: [
          { evalTime: '14m', alertname: 'KeyServerCertificateExpiringSoon', expAlerts: [] },
          { evalTime: '15m', alertname: 'KeyServerCertificateExpiringSoon', expAlerts: [{ expLabels: certificateLabels }] },
        ],
      },
      {
        name: '20 days left',
        interval: '1m',
        inputSeries: expiry(20),
        alertRuleTests: [{ evalTime: '30m', alertname: 'KeyServerCertificateExpiringSoon', expAlerts: [] }],
      },
    ]);
  });

  it('fire KeyServerHighLatency when p95 is above 500 ms for 5 minutes and not when it is below', () => {
    // 100 requests a minute, as the histogram's +Inf bucket counts them.
    const histogram = (perBucket: Record<string, number>) => [requests('200', handlers.key, '0+100x20'), ...Object.entries(perBucket).map(([le, perMinute]) => ({
      series: `${metric.httpRequestDurationSeconds}_bucket{${scraped},code="200",handler="${handlers.key}",method="GET",le="${le}"}`,
      values: `0+${perMinute}x20`,
    }))];
    run([
      {
        name: 'half the requests take 0.5 to 1 s: p95 is 0.95 s',
        interval: '1m',
        inputSeries: histogram({ '0.1': 10, '0.5': 50, '1': 100, '+Inf': 100 }),
        alertRuleTests: [
          { evalTime: '5m', alertname: 'KeyServerHighLatency', expAlerts: [] },
          { evalTime: '6m', alertname: 'KeyServerHighLatency', expAlerts: [{ expLabels: { ...jobLabels, severity: 'warning' } }] },
        ],
      },
      {
        name: 'almost all requests under 100 ms',
        interval: '1m',
        inputSeries: histogram({ '0.1': 99, '0.5': 100, '1': 100, '+Inf': 100 }),
        alertRuleTests: [{ evalTime: '20m', alertname: 'KeyServerHighLatency', expAlerts: [] }],
      },
    ]);
  });

  it('page on a fast error-budget burn, open a ticket on a slow one, and stay silent within budget', () => {
    // Per 1000 requests a minute: 20 failures burn the 0.1 % budget 20x, 5 burn it 5x, 0.5 stays within it.
    const traffic = (okPerMinute: number, errorsPerMinute: number) => [
      requests('200', handlers.key, `0+${okPerMinute}x90`),
      requests('503', handlers.key, `0+${errorsPerMinute}x90`),
    ];
    run([
      {
        name: '2 % errors: 20x burn',
        interval: '1m',
        inputSeries: traffic(980, 20),
        alertRuleTests: [
          { evalTime: '5m', alertname: 'KeyServerErrorBudgetBurnFast', expAlerts: [{ expLabels: jobLabels }] },
        ],
      },
      {
        name: '0.5 % errors: 5x burn',
        interval: '1m',
        inputSeries: traffic(995, 5),
        alertRuleTests: [
          { evalTime: '60m', alertname: 'KeyServerErrorBudgetBurnFast', expAlerts: [] },
          { evalTime: '20m', alertname: 'KeyServerErrorBudgetBurnSlow', expAlerts: [{ expLabels: { ...jobLabels, severity: 'warning' } }] },
        ],
      },
      {
        name: '0.05 % errors: within budget',
        interval: '1m',
        inputSeries: traffic(1999, 1),
        alertRuleTests: [
          { evalTime: '90m', alertname: 'KeyServerErrorBudgetBurnFast', expAlerts: [] },
          { evalTime: '90m', alertname: 'KeyServerErrorBudgetBurnSlow', expAlerts: [] },
        ],
      },
    ]);
  });

  it('fire KeyServerUnusualClientErrorShare when a third of the requests are rejected with 4xx', () => {
    run([{
      name: 'scanner',
      interval: '1m',
      inputSeries: [requests('200', handlers.key, '0+60x30'), requests('404', handlers.unmatched, '0+30x30'), requests('400', handlers.key, '0+10x30')],
      alertRuleTests: [
        { evalTime: '10m', alertname: 'KeyServerUnusualClientErrorShare', expAlerts: [] },
        { evalTime: '11m', alertname: 'KeyServerUnusualClientErrorShare', expAlerts: [{ expLabels: { ...jobLabels, severity: 'warning' } }] },
      ],
    }]);
  });

  it('fire KeyServerCpuNearLimit when the server process uses 90 % of its 1-CPU limit, and not at half of it', () => {
    const cpu = (coresUsed: number) => [{ series: `process_cpu_seconds_total{${scraped}}`, values: `0+${coresUsed * 60}x30` }];
    const labels = { ...jobLabels, severity: 'warning', service: 'key-server', endpoint: 'metrics', pod: 'key-server-5d8f7c9b4-x7k2p', instance: '10.0.0.7:9090', container: 'key-server' };
    run([
      { name: '0.9 of a core', interval: '1m', inputSeries: cpu(0.9), alertRuleTests: [{ evalTime: '15m', alertname: 'KeyServerCpuNearLimit', expAlerts: [{ expLabels: labels }] }] },
      { name: '0.5 of a core', interval: '1m', inputSeries: cpu(0.5), alertRuleTests: [{ evalTime: '30m', alertname: 'KeyServerCpuNearLimit', expAlerts: [] }] },
    ]);
  });

  it('fire KeyServerMemoryNearLimit at 90 % of the memory limit and stay silent at half of it', () => {
    const memory = (usedMebibytes: number) => [{ series: `process_resident_memory_bytes{${scraped}}`, values: `${usedMebibytes * 1048576}x30` }];
    const labels = { ...jobLabels, severity: 'warning', service: 'key-server', endpoint: 'metrics', pod: 'key-server-5d8f7c9b4-x7k2p', instance: '10.0.0.7:9090', container: 'key-server' };
    run([
      { name: '115 of 128 MiB', interval: '1m', inputSeries: memory(115), alertRuleTests: [{ evalTime: '10m', alertname: 'KeyServerMemoryNearLimit', expAlerts: [{ expLabels: labels }] }] },
      { name: '64 of 128 MiB', interval: '1m', inputSeries: memory(64), alertRuleTests: [{ evalTime: '30m', alertname: 'KeyServerMemoryNearLimit', expAlerts: [] }] },
    ]);
  });

  const ready = (pod: string, values: string) => ({ series: `kube_pod_status_ready{namespace="keys",pod="${pod}",condition="true",job="kube-state-metrics"}`, values });
  /** kube-state-metrics' phase series of a pod: 1 for its phase, 0 for the others. */
  const phase = (pod: string, current: string, minutes = 10) => ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'].map((name) => ({
    series: `kube_pod_status_phase{namespace="keys",pod="${pod}",phase="${name}",job="kube-state-metrics"}`,
    values: `${name === current ? 1 : 0}x${minutes}`,
  }));

  it('fire KeyServerPodsNotReady for a pod of the Deployment unready for 5 minutes, ignoring other Deployments', () => {
    run([{
      name: 'one key server pod stuck unready',
      interval: '1m',
      inputSeries: [
        ready('key-server-5d8f7c9b4-x7k2p', '0x10'),
        ready('key-server-5d8f7c9b4-q9w8e', '1x10'),
        ready('key-server-cache-6c7d8-abcde', '0x10'),
        ...phase('key-server-5d8f7c9b4-x7k2p', 'Running'),
        ...phase('key-server-5d8f7c9b4-q9w8e', 'Running'),
        ...phase('key-server-cache-6c7d8-abcde', 'Running'),
      ],
      alertRuleTests: [
        { evalTime: '4m', alertname: 'KeyServerPodsNotReady', expAlerts: [] },
        {
          evalTime: '5m',
          alertname: 'KeyServerPodsNotReady',
          expAlerts: [{ expLabels: { severity: 'warning', namespace: 'keys', pod: 'key-server-5d8f7c9b4-x7k2p', condition: 'true', job: 'kube-state-metrics' } }],
        },
      ],
    }]);
  });

  it('leave KeyServerPodsNotReady silent for a pod that ended (evicted, Failed) and stays unready until deleted', () => {
    run([{
      name: 'an evicted pod left behind, its replacement ready',
      interval: '1m',
      inputSeries: [
        ready('key-server-5d8f7c9b4-x7k2p', '0x30'),
        ...phase('key-server-5d8f7c9b4-x7k2p', 'Failed', 30),
        ready('key-server-5d8f7c9b4-q9w8e', '1x30'),
        ...phase('key-server-5d8f7c9b4-q9w8e', 'Running', 30),
      ],
      alertRuleTests: [{ evalTime: '30m', alertname: 'KeyServerPodsNotReady', expAlerts: [] }],
    }]);
  });

  it('page with KeyServerNoPodsAvailable after 2 minutes without an available pod, only for the key server\'s Deployment', () => {
    const deployment = (name: string) => `namespace="keys",deployment="${name}",job="kube-state-metrics"`;
    run([{
      name: 'every pod unready from minute 3; another Deployment with none available all along',
      interval: '1m',
      inputSeries: [
        { series: `kube_deployment_spec_replicas{${deployment('key-server')}}`, values: '2x20' },
        { series: `kube_deployment_status_replicas_available{${deployment('key-server')}}`, values: '2 2 2 0x17' },
        { series: `kube_deployment_spec_replicas{${deployment('key-server-cache')}}`, values: '1x20' },
        { series: `kube_deployment_status_replicas_available{${deployment('key-server-cache')}}`, values: '0x20' },
      ],
      alertRuleTests: [
        { evalTime: '4m', alertname: 'KeyServerNoPodsAvailable', expAlerts: [] },
        {
          evalTime: '5m',
          alertname: 'KeyServerNoPodsAvailable',
          expAlerts: [{ expLabels: { severity: 'critical', namespace: 'keys', deployment: 'key-server', job: 'kube-state-metrics' } }],
        },
      ],
    }]);
  });

  it('leave KeyServerNoPodsAvailable silent for a Deployment scaled to 0 on purpose', () => {
    const deployment = 'namespace="keys",deployment="key-server",job="kube-state-metrics"';
    run([{
      name: 'replicas 0 in Git',
      interval: '1m',
      inputSeries: [
        { series: `kube_deployment_spec_replicas{${deployment}}`, values: '0x20' },
        { series: `kube_deployment_status_replicas_available{${deployment}}`, values: '0x20' },
      ],
      alertRuleTests: [{ evalTime: '20m', alertname: 'KeyServerNoPodsAvailable', expAlerts: [] }],
    }]);
  });

  it('fire KeyServerReplicasMismatch when fewer replicas than desired are available for 10 minutes', () => {
    const deployment = 'namespace="keys",deployment="key-server",job="kube-state-metrics"';
    run([{
      name: '1 of 3 available',
      interval: '1m',
      inputSeries: [
        { series: `kube_deployment_spec_replicas{${deployment}}`, values: '3x20' },
        { series: `kube_deployment_status_replicas_available{${deployment}}`, values: '1x20' },
      ],
      alertRuleTests: [
        { evalTime: '9m', alertname: 'KeyServerReplicasMismatch', expAlerts: [] },
        { evalTime: '10m', alertname: 'KeyServerReplicasMismatch', expAlerts: [{ expLabels: { severity: 'warning', namespace: 'keys', deployment: 'key-server', job: 'kube-state-metrics' } }] },
      ],
    }]);
  });

  const reloadFailing = { ...jobLabels, severity: 'warning', service: 'key-server', endpoint: 'metrics', pod: 'key-server-5d8f7c9b4-x7k2p', instance: '10.0.0.7:9090', container: 'key-server', result: 'failure' };

  it('keep KeyServerCertificateReloadFailing firing for as long as the certificate files stay broken, and clear within 5 minutes of the fix', () => {
    run([{
      // The server's 30 s poll counts a failure on every check while the pair is broken: from minute 1 to minute 41.
      name: 'broken for 40 minutes, then fixed',
      interval: '30s',
      inputSeries: [{ series: `${metric.tlsCertificateReloadsTotal}{${scraped},result="failure"}`, values: '0 0 1+1x80 81x40' }],
      alertRuleTests: [
        { evalTime: '30s', alertname: 'KeyServerCertificateReloadFailing', expAlerts: [] },
        { evalTime: '3m', alertname: 'KeyServerCertificateReloadFailing', expAlerts: [{ expLabels: reloadFailing }] },
        { evalTime: '31m', alertname: 'KeyServerCertificateReloadFailing', expAlerts: [{ expLabels: reloadFailing }] },
        { evalTime: '41m', alertname: 'KeyServerCertificateReloadFailing', expAlerts: [{ expLabels: reloadFailing }] },
        { evalTime: '47m', alertname: 'KeyServerCertificateReloadFailing', expAlerts: [] },
      ],
    }]);
  });

  it('fire KeyServerCertificateReloadFailing on a single failed check and clear 5 minutes later', () => {
    run([{
      name: 'one failed check at minute 2, a good pair by the next poll',
      interval: '1m',
      inputSeries: [{ series: `${metric.tlsCertificateReloadsTotal}{${scraped},result="failure"}`, values: '0 0 1x30' }],
      alertRuleTests: [
        { evalTime: '4m', alertname: 'KeyServerCertificateReloadFailing', expAlerts: [{ expLabels: reloadFailing }] },
        { evalTime: '8m', alertname: 'KeyServerCertificateReloadFailing', expAlerts: [] },
      ],
    }]);
  });

  const podLabels = { ...jobLabels, service: 'key-server', endpoint: 'metrics', pod: 'key-server-5d8f7c9b4-x7k2p', instance: '10.0.0.7:9090', container: 'key-server' };

  it('fire KeyServerNoAccessTokens a minute after a pod is left with no token, and clear once tokens are back', () => {
    run([{
      name: 'token file emptied at minute 5, refilled at minute 20',
      interval: '1m',
      inputSeries: [{ series: `${metric.authTokensLoaded}{${scraped}}`, values: '3x4 0x14 2x10' }],
      alertRuleTests: [
        { evalTime: '4m', alertname: 'KeyServerNoAccessTokens', expAlerts: [] },
        { evalTime: '5m', alertname: 'KeyServerNoAccessTokens', expAlerts: [] },
        { evalTime: '6m', alertname: 'KeyServerNoAccessTokens', expAlerts: [{ expLabels: podLabels }] },
        { evalTime: '19m', alertname: 'KeyServerNoAccessTokens', expAlerts: [{ expLabels: podLabels }] },
        { evalTime: '20m', alertname: 'KeyServerNoAccessTokens', expAlerts: [] },
      ],
    }]);
  });

  it('never fire KeyServerNoAccessTokens for a server without access control, which exports no token gauge', () => {
    run([{
      name: 'serving keys without --auth-token-file',
      interval: '1m',
      inputSeries: [requests('200', handlers.key, '0+100x30')],
      alertRuleTests: [{ evalTime: '30m', alertname: 'KeyServerNoAccessTokens', expAlerts: [] }],
    }]);
  });

  const closed = (reason: string, values: string) => ({ series: `${metric.httpConnectionsClosedTotal}{${scraped},reason="${reason}"}`, values });

  it('fire KeyServerConnectionsShed per reason after 10 minutes of refusals at the cap, and not for idle evictions', () => {
    run([{
      // 30 refused a minute (0.5/s) from minute 5 on; idle evictions at 600 a minute all along.
      name: 'at the connection cap',
      interval: '1m',
      inputSeries: [
        closed('max_connections', '0x5 0+30x30'),
        closed('idle_evicted', '0+600x35'),
        closed('send_timeout', '0x35'),
      ],
      alertRuleTests: [
        { evalTime: '14m', alertname: 'KeyServerConnectionsShed', expAlerts: [] },
        {
          evalTime: '20m',
          alertname: 'KeyServerConnectionsShed',
          expAlerts: [{ expLabels: { severity: 'warning', job: 'key-server', namespace: 'keys', reason: 'max_connections' } }],
        },
      ],
    }]);
  });

  it('leave KeyServerConnectionsShed silent for a few cut connections a minute', () => {
    run([{
      name: 'three slow readers cut a minute (0.05/s), for half an hour',
      interval: '1m',
      inputSeries: [closed('send_timeout', '0+3x30')],
      alertRuleTests: [{ evalTime: '30m', alertname: 'KeyServerConnectionsShed', expAlerts: [] }],
    }]);
  });

  it('fail the harness when an expectation is wrong (negative control)', () => {
    const result = testRules(groups, [{
      name: 'wrong on purpose: 4 % must not fire',
      interval: '1m',
      inputSeries: trafficWithErrors(4, 30),
      alertRuleTests: [{ evalTime: '30m', alertname: 'KeyServerHighErrorRate', expAlerts: [{ expLabels: jobLabels }] }],
    }]);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('KeyServerHighErrorRate');
  });
});
