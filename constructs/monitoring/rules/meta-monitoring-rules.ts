// Alerts on the standalone monitoring itself: a Watchdog that always fires (a dead man's switch outside the cluster
// notices when it stops) and the failures of Prometheus and Alertmanager that would otherwise silence every alert.
// kube-prometheus-stack ships its own (kube-prometheus' prometheus and alertmanager mixins); these follow them.
import { MetricSource } from './metric-sources';
import { AlertingRule, RuleGroup, Severity, validatedRunbookBaseUrl } from './rule-types';

/** Every alert these rules define, in order; docs/runbooks.md has one section per name. */
export const metaMonitoringAlertNames = [
  'Watchdog',
  'PrometheusRuleEvaluationFailures',
  'PrometheusErrorSendingAlerts',
  'PrometheusTsdbCompactionsFailing',
  'AlertmanagerNotificationsFailing',
] as const;

export type MetaMonitoringAlertName = (typeof metaMonitoringAlertNames)[number];

/** The sources each alert reads (the Watchdog reads nothing: it fires while rules are evaluated at all). */
export const metaMonitoringAlertSources: Readonly<Record<MetaMonitoringAlertName, readonly MetricSource[]>> = {
  Watchdog: [],
  PrometheusRuleEvaluationFailures: ['prometheus'],
  PrometheusErrorSendingAlerts: ['prometheus'],
  PrometheusTsdbCompactionsFailing: ['prometheus'],
  AlertmanagerNotificationsFailing: ['alertmanager'],
};

/** Options of {@link metaMonitoringRuleGroups}. */
export interface MetaMonitoringRuleOptions {
  /** The `job` label of Prometheus scraping itself. */
  readonly prometheusJob: string;
  /** The `job` label of Prometheus scraping Alertmanager. */
  readonly alertmanagerJob: string;
  /** Runbook document every alert links to, with `#<alertname in lower case>` appended (required, as for the key server's). */
  readonly runbookBaseUrl: string;
}

/**
 * The meta-monitoring rule group. Not here on purpose: config reload failures (nothing reloads these configs; a bad
 * one stops the process at start, which the Watchdog's silence reports) and Alertmanager down (Prometheus cannot
 * deliver that alert; PrometheusErrorSendingAlerts shows it in Prometheus and the Watchdog stops reaching the switch).
 */
export function metaMonitoringRuleGroups(options: MetaMonitoringRuleOptions): RuleGroup[] {
  const runbookBaseUrl = validatedRunbookBaseUrl(options.runbookBaseUrl);
  for (const field of ['prometheusJob', 'alertmanagerJob'] as const) {
    if (!/^[^"\\\n]+$/.test(options[field] ?? '')) throw new Error(`${field} must be a non-empty job name without quotes, got ${JSON.stringify(options[field])}`);
  }
  const prometheus = `job="${options.prometheusJob}"`;
  const alertmanager = `job="${options.alertmanagerJob}"`;
  const alert = (name: MetaMonitoringAlertName, severity: Severity, forDuration: string, expr: string, summary: string, description: string): AlertingRule => ({
    alert: name,
    expr,
    for: forDuration,
    labels: { severity },
    annotations: { summary, description, runbook_url: `${runbookBaseUrl}#${name.toLowerCase()}` },
  });
  return [{
    name: 'monitoring.alerts',
    rules: [
      alert('Watchdog', 'none', '0s', 'vector(1)',
        'Alerting pipeline is alive',
        'Always firing while Prometheus evaluates rules and reaches Alertmanager. Route it to a dead man\'s switch outside the cluster, which pages when it stops arriving.'),
      alert('PrometheusRuleEvaluationFailures', 'critical', '15m',
        `increase(prometheus_rule_evaluation_failures_total{${prometheus}}[5m]) > 0`,
        'Prometheus fails to evaluate rules',
        '{{ printf "%.0f" $value }} rule evaluations of group {{ $labels.rule_group }} failed in 5 minutes: the alerts of that group cannot fire.'),
      // Prometheus 3 counts in `sent` only the alerts delivered, so the share of failed attempts is errors over
      // errors plus sent (kube-prometheus' errors / sent is +Inf or NaN when every attempt fails).
      alert('PrometheusErrorSendingAlerts', 'critical', '15m',
        `rate(prometheus_notifications_errors_total{${prometheus}}[5m]) / (rate(prometheus_notifications_errors_total{${prometheus}}[5m]) + rate(prometheus_notifications_sent_total{${prometheus}}[5m])) > 0.01`,
        'Prometheus fails to send alerts to Alertmanager',
        '{{ $value | humanizePercentage }} of the alerts sent to {{ $labels.alertmanager }} failed in 5 minutes: alerts are not reaching anyone.'),
      alert('PrometheusTsdbCompactionsFailing', 'warning', '4h',
        `increase(prometheus_tsdb_compactions_failed_total{${prometheus}}[3h]) > 0`,
        'Prometheus fails to compact its storage',
        '{{ printf "%.0f" $value }} compactions failed in 3 hours, usually a full or broken volume: the write-ahead log grows and memory with it.'),
      alert('AlertmanagerNotificationsFailing', 'warning', '5m',
        `sum by (integration) (rate(alertmanager_notifications_failed_total{${alertmanager}}[5m])) / sum by (integration) (rate(alertmanager_notifications_total{${alertmanager}}[5m])) > 0.01`,
        'Alertmanager fails to deliver notifications',
        '{{ $value | humanizePercentage }} of the {{ $labels.integration }} notifications failed in 5 minutes: check the receiver\'s URL and credentials.'),
    ],
  }];
}
