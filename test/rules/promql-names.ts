// Finds the metric names a PromQL expression reads, and knows which names exist, so a typo fails a test instead of blanking a panel.
import type { MetricSource } from '../../constructs/monitoring/rules/metric-sources';
import { metricCatalogue, type MetricDefinition } from '../../server/metric-catalogue';

const functions = new Set([
  'sum', 'min', 'max', 'avg', 'count', 'topk', 'bottomk', 'quantile', 'group',
  'rate', 'irate', 'increase', 'delta', 'deriv', 'histogram_quantile', 'absent', 'absent_over_time',
  'time', 'vector', 'scalar', 'clamp_min', 'clamp_max', 'abs', 'round', 'label_replace',
  'max_over_time', 'min_over_time', 'avg_over_time', 'sum_over_time', 'changes', 'resets',
]);
const keywords = new Set(['and', 'or', 'unless', 'bool', 'offset']);

/**
 * Metric names read by `expr`. Strips strings, label matchers, range selectors and grouping clauses first, so
 * what remains is functions (followed by `(`), set operators and metric names. Throws on an unknown function,
 * so a misspelt function is not mistaken for a metric.
 */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\[[^\]]*\]/g, '[]')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names: string[] = [];
  for (const match of stripped.matchAll(/(?<![\w.])([a-zA-Z_:][\w:]*)(\s*\()?/g)) {
    const [, token, call] = match;
    if (keywords.has(token)) {
      continue;
    }
    if (call) {
      if (!functions.has(token)) {
        throw new Error(`unknown PromQL function ${token} in ${expr}`);
      }
    } else {
      names.push(token);
    }
  }
  return names;
}

/**
 * Names the key server exports: every entry of its metric catalogue (its own metrics and the prom-client defaults the
 * alerts and dashboards read), a histogram as its three series, and Prometheus's own `up` of its job.
 */
const keyServerNames = new Set<string>([
  'up',
  ...Object.values(metricCatalogue as Record<string, MetricDefinition>).flatMap((definition) => (definition.type === 'histogram'
    ? [`${definition.name}_bucket`, `${definition.name}_sum`, `${definition.name}_count`]
    : [definition.name])),
]);

/** Standard names from cAdvisor (kubelet) and kube-state-metrics v2. */
const kubernetesNames = new Set([
  'container_cpu_usage_seconds_total',
  'container_memory_working_set_bytes',
  'container_cpu_cfs_throttled_periods_total',
  'container_cpu_cfs_periods_total',
  'kube_pod_container_resource_limits',
  'kube_pod_container_resource_requests',
  'kube_pod_status_ready',
  'kube_pod_status_phase',
  'kube_pod_container_status_restarts_total',
  'kube_deployment_spec_replicas',
  'kube_deployment_status_replicas_available',
]);

/** Names from Prometheus scraping itself and Alertmanager, which the meta-monitoring alerts read. */
const monitoringNames = new Set([
  'prometheus_rule_evaluation_failures_total',
  'prometheus_notifications_errors_total',
  'prometheus_notifications_sent_total',
  'prometheus_tsdb_compactions_failed_total',
  'alertmanager_notifications_failed_total',
  'alertmanager_notifications_total',
]);

export function isKnownMetricName(name: string): boolean {
  return keyServerNames.has(name) || kubernetesNames.has(name) || monitoringNames.has(name);
}

/**
 * The source that exports `name`: the key server (and `up` of its job), kube-state-metrics, cAdvisor (which no
 * alert may need: no mode is guaranteed to scrape it), Prometheus or Alertmanager. Throws on an unknown name.
 */
export function sourceOfMetric(name: string): MetricSource | 'cadvisor' {
  if (keyServerNames.has(name)) return 'keyServer';
  if (kubernetesNames.has(name)) return name.startsWith('kube_') ? 'kubeStateMetrics' : 'cadvisor';
  if (monitoringNames.has(name)) return name.startsWith('prometheus_') ? 'prometheus' : 'alertmanager';
  throw new Error(`unknown metric ${name}: add it to test/rules/promql-names.ts with its source`);
}
