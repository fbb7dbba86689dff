// The key server's recording and alerting rules as plain rule groups, built from the shared metric names.
import { Duration } from 'cdk8s';
import { ConnectionCutReason, handlers, metricNames as metric } from '../../../server/metric-catalogue';
import { ContainerLimits, defaultContainerLimits, validatedContainerLimits } from '../../key-server/resources';
import { MonitoredKeyServer, podSelector, scrapeSelector, validateMonitoredKeyServer } from '../monitored-key-server';
import { MetricSource, metricSources, OmittedAlert, partitionBySources } from './metric-sources';
import { AlertingRule, RecordingRule, RuleGroup, Severity, validatedRunbookBaseUrl } from './rule-types';

/** Every alert these rules define, in the order they appear; docs/runbooks.md has one anchor per name. */
export const keyServerAlertNames = [
  'KeyServerDown',
  'KeyServerHighErrorRate',
  'KeyServerHighLatency',
  'KeyServerErrorBudgetBurnFast',
  'KeyServerErrorBudgetBurnSlow',
  'KeyServerUnusualClientErrorShare',
  'KeyServerNoPodsAvailable',
  'KeyServerPodsNotReady',
  'KeyServerReplicasMismatch',
  'KeyServerCpuNearLimit',
  'KeyServerMemoryNearLimit',
  'KeyServerCertificateExpiringSoon',
  'KeyServerCertificateReloadFailing',
  'KeyServerNoAccessTokens',
  'KeyServerConnectionsShed',
] as const;

export type KeyServerAlertName = (typeof keyServerAlertNames)[number];

/**
 * The sources each alert reads. CPU and memory compare the server's own process metrics with the limits the
 * construct set, so they need no cAdvisor or kube-state-metrics; readiness and replicas exist only in kube-state-metrics.
 */
export const keyServerAlertSources: Readonly<Record<KeyServerAlertName, readonly MetricSource[]>> = {
  KeyServerDown: ['keyServer'],
  KeyServerHighErrorRate: ['keyServer'],
  KeyServerHighLatency: ['keyServer'],
  KeyServerErrorBudgetBurnFast: ['keyServer'],
  KeyServerErrorBudgetBurnSlow: ['keyServer'],
  KeyServerUnusualClientErrorShare: ['keyServer'],
  KeyServerNoPodsAvailable: ['kubeStateMetrics'],
  KeyServerPodsNotReady: ['kubeStateMetrics'],
  KeyServerReplicasMismatch: ['kubeStateMetrics'],
  KeyServerCpuNearLimit: ['keyServer'],
  KeyServerMemoryNearLimit: ['keyServer'],
  KeyServerCertificateExpiringSoon: ['keyServer'],
  KeyServerCertificateReloadFailing: ['keyServer'],
  KeyServerNoAccessTokens: ['keyServer'],
  KeyServerConnectionsShed: ['keyServer'],
};

/** Options of {@link keyServerRuleGroups}. */
export interface KeyServerRuleOptions {
  /** The key server whose series the rules select. */
  readonly target: MonitoredKeyServer;
  /**
   * p95 latency of served requests above which KeyServerHighLatency fires.
   * @default Duration.millis(500)
   */
  readonly latencyThreshold?: Duration;
  /**
   * Share of served requests answered with 5xx above which KeyServerHighErrorRate fires.
   * @default 0.05
   */
  readonly errorRatioThreshold?: number;
  /**
   * Share of served requests answered with 4xx above which KeyServerUnusualClientErrorShare fires (scanning, abuse, a broken client).
   * @default 0.25
   */
  readonly clientErrorRatioThreshold?: number;
  /**
   * Availability objective the error-budget burn-rate alerts protect, as a fraction of served requests.
   * @default 0.999
   */
  readonly availabilityObjective?: number;
  /**
   * How long before the served certificate expires KeyServerCertificateExpiringSoon fires.
   * @default Duration.days(14)
   */
  readonly certificateExpiryWarning?: Duration;
  /**
   * Fraction of the container's CPU or memory limit above which the resource alerts fire.
   * @default 0.85
   */
  readonly resourceLimitRatio?: number;
  /**
   * The container's limits the resource alerts compare the process's CPU and resident memory with.
   * @default - KeyServerApp's default limits
   */
  readonly containerLimits?: ContainerLimits;
  /**
   * Fewest served requests a window must hold before an alert may judge the error ratio, client error share or
   * latency over it. Below it one failure among a handful of requests is a ratio of 20 % or more: an idle service
   * would page on a single 500 or a scanner's few 404s. Checked on the recorded request rates
   * (`namespace_job:http_requests:rate<window>`), for both windows of a burn-rate pair.
   * @default 100
   */
  readonly minimumRequests?: number;
  /**
   * Series sources the Prometheus evaluating these rules scrapes; alerts needing another are left out (see
   * {@link omittedKeyServerAlerts}).
   * @default - every source, as kube-prometheus-stack provides them
   */
  readonly availableSources?: readonly MetricSource[];
  /**
   * Runbook document every alert links to, with `#<alertname in lower case>` appended: the URL of docs/runbooks.md
   * where your copy of this repository is published. Required, so no alert links to a page that does not exist.
   */
  readonly runbookBaseUrl: string;
}

/** Fully resolved options: what the rule builders below read. */
interface ResolvedRuleOptions {
  readonly target: MonitoredKeyServer;
  readonly latencyThreshold: Duration;
  readonly errorRatioThreshold: number;
  readonly clientErrorRatioThreshold: number;
  readonly availabilityObjective: number;
  readonly certificateExpiryWarning: Duration;
  readonly resourceLimitRatio: number;
  readonly containerLimits: ContainerLimits;
  readonly minimumRequests: number;
  readonly availableSources: readonly MetricSource[];
  readonly runbookBaseUrl: string;
}

/**
 * The window of every short rate() in these rules: four 15 s scrape intervals plus slack, so one missed scrape
 * does not blank an expression.
 */
const shortWindow = '5m';

/**
 * The multiwindow, multi-burn-rate pairs of the Google SRE workbook (chapter "Alerting on SLOs") for a 30-day
 * budget: each alert fires when both its long and its short window burn faster than the factor.
 */
const burnRateAlerts = [
  { alert: 'KeyServerErrorBudgetBurnFast', severity: 'critical', for: '2m', pairs: [['1h', '5m', 14.4], ['6h', '30m', 6]] },
  { alert: 'KeyServerErrorBudgetBurnSlow', severity: 'warning', for: '15m', pairs: [['1d', '2h', 3], ['3d', '6h', 1]] },
] as const;

/** Windows recorded at the evaluation interval of Prometheus: the short window and the windows the fast burn reads. */
const errorRatioWindows = ['5m', '30m', '1h', '2h', '6h'] as const;

/**
 * Windows a day or more long, read only by the slow burn (`for: 15m`). A rate over three days reads 17,280 samples
 * per series at a 15 s scrape; recorded every 15 s, these rules would cost more than all the others together, for a
 * value that moves a fraction of a percent a minute.
 */
const longErrorRatioWindows = ['1d', '3d'] as const;

/**
 * Evaluation interval of the long windows' group. Two evaluations fit in Prometheus' five-minute lookback, so one
 * missed evaluation leaves the slow burn a value instead of a gap that would restart its `for`.
 */
export const longWindowEvaluationInterval = '2m';

/** Seconds of a window literal used here (`5m`, `1h`, `3d`). */
function windowSeconds(window: string): number {
  const match = /^(\d+)([smhd])$/.exec(window);
  if (match === null) throw new Error(`not a window: ${window}`);
  return Number(match[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[match[2] as 's' | 'm' | 'h' | 'd'];
}

/**
 * Reasons of `http_connections_closed_total` that cost a client its connection; `idle_evicted` (nothing in flight) and
 * `drain_deadline` (counted as the process exits, after its last scrape) are left out.
 */
export const shedReasons: readonly ConnectionCutReason[] = ['max_connections', 'send_timeout', 'h2_abuse'];

/** Connections shed a second, summed over pods, above which KeyServerConnectionsShed fires: a few a minute is noise. */
const connectionsShedPerSecond = 0.1;

/** Names of the recorded series, so alerts and tests refer to one spelling. */
export const recordedSeries = {
  servedRequestRate: (window: string) => `namespace_job:${metric.httpRequestsTotal.replace(/_total$/, '')}:rate${window}`,
  errorRatio: (window: string) => `namespace_job:http_request_errors:ratio_rate${window}`,
  clientErrorRatio: `namespace_job:http_request_client_errors:ratio_rate${shortWindow}`,
  latencyQuantile: (quantile: number) => `namespace_job:${metric.httpRequestDurationSeconds}:p${Math.round(quantile * 100)}_rate${shortWindow}`,
} as const;

/**
 * The key server's rule groups: recording rules first (alerts read them), then alerts.
 * Pure: the same options give the same groups, so PrometheusRule, the standalone ConfigMap and promtool see one source.
 */
export function keyServerRuleGroups(options: KeyServerRuleOptions): RuleGroup[] {
  const resolved = resolveOptions(options);
  const { kept } = partitionBySources(alertingRules(resolved), sourcesOf, resolved.availableSources);
  return [
    { name: 'key-server.recording', rules: recordingRules(resolved) },
    { name: 'key-server.recording.long-windows', interval: longWindowEvaluationInterval, rules: errorRatioRules(resolved, longErrorRatioWindows) },
    { name: 'key-server.alerts', rules: kept },
  ];
}

/** The alerts {@link keyServerRuleGroups} leaves out for lack of a source, each with the sources it lacks. */
export function omittedKeyServerAlerts(options: KeyServerRuleOptions): OmittedAlert[] {
  const resolved = resolveOptions(options);
  return partitionBySources(alertingRules(resolved), sourcesOf, resolved.availableSources).omitted;
}

function sourcesOf(rule: AlertingRule): readonly MetricSource[] {
  return keyServerAlertSources[rule.alert as KeyServerAlertName];
}

function resolveOptions(options: KeyServerRuleOptions): ResolvedRuleOptions {
  validateMonitoredKeyServer(options.target, 'target');
  const resolved: ResolvedRuleOptions = {
    target: options.target,
    latencyThreshold: options.latencyThreshold ?? Duration.millis(500),
    errorRatioThreshold: options.errorRatioThreshold ?? 0.05,
    clientErrorRatioThreshold: options.clientErrorRatioThreshold ?? 0.25,
    availabilityObjective: options.availabilityObjective ?? 0.999,
    certificateExpiryWarning: options.certificateExpiryWarning ?? Duration.days(14),
    resourceLimitRatio: options.resourceLimitRatio ?? 0.85,
    containerLimits: options.containerLimits ?? defaultContainerLimits,
    minimumRequests: options.minimumRequests ?? 100,
    availableSources: options.availableSources ?? metricSources,
    runbookBaseUrl: validatedRunbookBaseUrl(options.runbookBaseUrl),
  };
  for (const name of ['errorRatioThreshold', 'clientErrorRatioThreshold', 'availabilityObjective', 'resourceLimitRatio'] as const) {
    const value = resolved[name];
    if (!(value > 0 && value < 1)) {
      throw new Error(`${name} must be a fraction between 0 and 1 (exclusive), got ${value}`);
    }
  }
  if (!(resolved.latencyThreshold.toMilliseconds() > 0)) {
    throw new Error(`latencyThreshold must be longer than 0 ms, got ${resolved.latencyThreshold.toMilliseconds()} ms`);
  }
  if (!(resolved.certificateExpiryWarning.toSeconds() > 0)) {
    throw new Error(`certificateExpiryWarning must be longer than 0 s, got ${resolved.certificateExpiryWarning.toSeconds()} s`);
  }
  if (!Number.isInteger(resolved.minimumRequests) || resolved.minimumRequests < 1) {
    throw new Error(`minimumRequests must be a whole number of requests, at least 1, got ${resolved.minimumRequests}`);
  }
  validatedContainerLimits('containerLimits', resolved.containerLimits);
  for (const source of resolved.availableSources) {
    if (!metricSources.includes(source)) throw new Error(`availableSources has an unknown source '${source}' (known: ${metricSources.join(', ')})`);
  }
  return resolved;
}

/**
 * Requests users make: everything but probes and scrapes, which would dilute error ratios with guaranteed
 * successes (a scrape every 15 s per Prometheus).
 */
export function servedTrafficMatcher(): string {
  const probes = [handlers.health, handlers.ready, handlers.metrics];
  return `handler!~"${probes.map(escapeRegex).join('|')}"`;
}

function escapeRegex(literal: string): string {
  return literal.replace(/[.*+?^${}()|[\]\\]/g, '\\\\$&');
}

/**
 * Ratio of served requests whose code matches `codePattern`, per namespace and job. The `or … * 0` arm
 * makes the ratio 0, not absent, while no request has failed yet, so dashboards and burn rates see a value.
 */
function codeRatio(target: MonitoredKeyServer, codePattern: string, window: string): string {
  const served = servedTrafficMatcher();
  const all = `sum by (namespace, job) (rate(${metric.httpRequestsTotal}${scrapeSelector(target, served)}[${window}]))`;
  const matching = `sum by (namespace, job) (rate(${metric.httpRequestsTotal}${scrapeSelector(target, served, `code=~"${codePattern}"`)}[${window}]))`;
  return `(${matching} or ${all} * 0) / ${all}`;
}

function recordingRules(options: ResolvedRuleOptions): RecordingRule[] {
  const { target } = options;
  const served = servedTrafficMatcher();
  const latency = (quantile: number): RecordingRule => ({
    record: recordedSeries.latencyQuantile(quantile),
    expr: `histogram_quantile(${quantile}, sum by (namespace, job, le) (rate(${metric.httpRequestDurationSeconds}_bucket${scrapeSelector(target, served)}[${shortWindow}])))`,
  });
  return [
    ...errorRatioRules(options, errorRatioWindows),
    { record: recordedSeries.clientErrorRatio, expr: codeRatio(target, '4..', shortWindow) },
    latency(0.5),
    latency(0.95),
    latency(0.99),
  ];
}

/**
 * Per window, the served request rate (the minimum-traffic guard of the alerts that judge that window) and the
 * ratio of those requests that failed with 5xx.
 */
function errorRatioRules(options: ResolvedRuleOptions, windows: readonly string[]): RecordingRule[] {
  const { target } = options;
  const served = servedTrafficMatcher();
  return [
    ...windows.map((window) => ({
      record: recordedSeries.servedRequestRate(window),
      expr: `sum by (namespace, job) (rate(${metric.httpRequestsTotal}${scrapeSelector(target, served)}[${window}]))`,
    })),
    ...windows.map((window) => ({ record: recordedSeries.errorRatio(window), expr: codeRatio(target, '5..', window) })),
  ];
}

function alertingRules(options: ResolvedRuleOptions): AlertingRule[] {
  const { target } = options;
  const alert = (
    name: KeyServerAlertName,
    severity: Severity,
    forDuration: string,
    expr: string,
    summary: string,
    description: string,
  ): AlertingRule => ({
    alert: name,
    expr,
    for: forDuration,
    labels: { severity },
    annotations: { summary, description, runbook_url: `${options.runbookBaseUrl}#${name.toLowerCase()}` },
  });
  const where = '{{ $labels.namespace }}/{{ $labels.job }}';
  const deploymentSelector = `{namespace="${target.namespace}",deployment="${target.deployment}"}`;
  const pod = '{{ $labels.namespace }}/{{ $labels.pod }}';
  // Rounded so 1 - 0.999 prints as 0.001, not 0.0010000000000000009.
  const budget = String(+(1 - options.availabilityObjective).toPrecision(6));
  const objectivePercent = `${+(options.availabilityObjective * 100).toFixed(4)} %`;
  const latencySeconds = options.latencyThreshold.toMilliseconds() / 1000;
  const expirySeconds = options.certificateExpiryWarning.toSeconds();
  const { cpuCores, memoryBytes } = options.containerLimits;
  const memoryMebibytes = +(memoryBytes / 1048576).toFixed(1);
  /** The guard: the window holds at least `minimumRequests` served requests. */
  const enoughTraffic = (window: string) =>
    `${recordedSeries.servedRequestRate(window)}${scrapeSelector(target)} * ${windowSeconds(window)} >= ${options.minimumRequests}`;
  const guarded = (expr: string, ...windows: string[]) => [`(${expr})`, ...windows.map((window) => `(${enoughTraffic(window)})`)].join(' and ');

  const rules: AlertingRule[] = [
    alert('KeyServerDown', 'critical', '1m',
      `up${scrapeSelector(target)} == 0 or absent(up${scrapeSelector(target)})`,
      'Key server target down or missing',
      `Prometheus cannot scrape ${where} {{ with $labels.instance }}at {{ . }} {{ end }}or finds no target at all: check the pods, the Service and the ServiceMonitor or scrape config.`),
    alert('KeyServerHighErrorRate', 'critical', '5m',
      guarded(`${recordedSeries.errorRatio(shortWindow)}${scrapeSelector(target)} > ${options.errorRatioThreshold}`, shortWindow),
      'Key server answers too many requests with 5xx',
      `{{ $value | humanizePercentage }} of the requests served by ${where} failed with 5xx over 5 minutes (threshold ${options.errorRatioThreshold * 100} %).`),
    alert('KeyServerHighLatency', 'warning', '5m',
      guarded(`${recordedSeries.latencyQuantile(0.95)}${scrapeSelector(target)} > ${latencySeconds}`, shortWindow),
      'Key server p95 latency is high',
      `95th percentile latency of ${where} is {{ $value | humanizeDuration }} (threshold ${options.latencyThreshold.toMilliseconds()} ms).`),
    ...burnRateAlerts.map(({ alert: name, severity, for: forDuration, pairs }) => alert(name, severity, forDuration,
      pairs.map(([long, short, factor]) => `(${guarded(
        `${recordedSeries.errorRatio(long)}${scrapeSelector(target)} > (${factor} * ${budget})` +
        ` and ${recordedSeries.errorRatio(short)}${scrapeSelector(target)} > (${factor} * ${budget})`, long, short)})`).join(' or '),
      `Key server is burning its ${objectivePercent} availability error budget ${severity === 'critical' ? 'fast' : 'steadily'}`,
      `${where} fails {{ $value | humanizePercentage }} of requests; at this rate the 30-day error budget of the ${objectivePercent} objective runs out in ${severity === 'critical' ? 'days' : 'weeks'}.`)),
    alert('KeyServerUnusualClientErrorShare', 'warning', '10m',
      guarded(`${recordedSeries.clientErrorRatio}${scrapeSelector(target)} > ${options.clientErrorRatioThreshold}`, shortWindow),
      'Unusual share of 4xx answers from the key server',
      `{{ $value | humanizePercentage }} of the requests to ${where} were rejected with 4xx over 5 minutes: a scanner, abuse or a broken client.`),
    // Scrapes reach pods that are not ready (metrics have their own port), so `up` stays 1 and no request reaches a
    // server to count a 5xx when every pod fails its readiness probe: only the Deployment's status shows that outage.
    alert('KeyServerNoPodsAvailable', 'critical', '2m',
      `kube_deployment_status_replicas_available${deploymentSelector} == 0 and kube_deployment_spec_replicas${deploymentSelector} > 0`,
      'No key server pod is available',
      `Deployment {{ $labels.namespace }}/{{ $labels.deployment }} has had no available (ready) pod for 2 minutes: its Service has no endpoints and every client fails.`),
    // Pods that ended (Failed after an eviction, Succeeded) stay unready until deleted: only live phases count.
    alert('KeyServerPodsNotReady', 'warning', '5m',
      `kube_pod_status_ready${podSelector(target, 'condition="true"')} == 0` +
      ` and on (namespace, pod) kube_pod_status_phase${podSelector(target, 'phase=~"Pending|Running|Unknown"')} == 1`,
      'Key server pod not ready',
      `Pod ${pod} has not been ready for 5 minutes.`),
    alert('KeyServerReplicasMismatch', 'warning', '10m',
      `kube_deployment_spec_replicas${deploymentSelector} != kube_deployment_status_replicas_available${deploymentSelector}`,
      'Key server Deployment does not have its desired replicas available',
      `Deployment {{ $labels.namespace }}/{{ $labels.deployment }} has had a different number of available replicas than desired for 10 minutes.`),
    // The container runs one process, the server, so its own CPU and resident memory are the container's; the
    // limits are the ones the construct wrote into the Deployment, so these need neither cAdvisor nor kube-state-metrics.
    alert('KeyServerCpuNearLimit', 'warning', '10m',
      `rate(${metric.processCpuSecondsTotal}${scrapeSelector(target)}[${shortWindow}]) / ${cpuCores} > ${options.resourceLimitRatio}`,
      'Key server container close to its CPU limit',
      `The server in ${pod} uses {{ $value | humanizePercentage }} of its ${cpuCores} CPU limit; above it the kernel throttles it.`),
    alert('KeyServerMemoryNearLimit', 'warning', '10m',
      `${metric.processResidentMemoryBytes}${scrapeSelector(target)} / ${memoryBytes} > ${options.resourceLimitRatio}`,
      'Key server container close to its memory limit',
      `The server in ${pod} uses {{ $value | humanizePercentage }} of its ${memoryMebibytes} MiB memory limit; at the limit it is OOM-killed.`),
    alert('KeyServerCertificateExpiringSoon', 'warning', '15m',
      `${metric.tlsCertificateExpiryTimestampSeconds}${scrapeSelector(target)} - time() < ${expirySeconds}`,
      'Key server certificate expires soon',
      `The certificate served by ${where} {{ with $labels.pod }}(pod {{ . }}) {{ end }}expires in {{ $value | humanizeDuration }}; renewal (cert-manager) or the hot reload is not working.`),
    // The server counts every failed check (at least one per 30 s poll) while the files stay broken, so the counter
    // keeps growing for as long as the pair is broken and stops once a good pair loads: the alert holds exactly as
    // long, and 5 minutes (several scrapes at any sane interval) bounds how long it outlives the fix.
    alert('KeyServerCertificateReloadFailing', 'warning', '1m',
      `increase(${metric.tlsCertificateReloadsTotal}${scrapeSelector(target, 'result="failure"')}[5m]) > 0`,
      'Key server failed to reload its certificate',
      `${where} {{ with $labels.pod }}(pod {{ . }}) {{ end }}cannot load the certificate files on disk (failed checks in the last 5 minutes) and keeps serving the previous certificate.`),
    // A failed token reload leaves no token in force (revocation fails closed), so the gauge at 0 covers a file that
    // was emptied, deleted or made unreadable alike. Without --auth-token-file the gauge is not exported: no series,
    // no alert.
    alert('KeyServerNoAccessTokens', 'critical', '1m',
      `${metric.authTokensLoaded}${scrapeSelector(target)} == 0`,
      'Key server has no access token in force and refuses every key request',
      `${pod} holds no access token (the token file is empty, missing or unreadable), so it answers every /key request with 401.`),
    // Refused at the cap, a reader that stopped reading, an HTTP/2 flood: each one a client that lost its connection.
    // Idle connections evicted at the cap are left out: they had nothing in flight.
    alert('KeyServerConnectionsShed', 'warning', '10m',
      `sum by (namespace, job, reason) (rate(${metric.httpConnectionsClosedTotal}${scrapeSelector(target, `reason=~"${shedReasons.join('|')}"`)}[${shortWindow}])) > ${connectionsShedPerSecond}`,
      'Key server is shedding client connections',
      `${where} closes {{ $value | humanize }} connections a second for reason {{ $labels.reason }}: clients at the connection cap, clients that stopped reading, or an HTTP/2 flood.`),
  ];
  return rules;
}
