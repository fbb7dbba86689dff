// The shape of a Prometheus rule file, as plain data, shared by the PrometheusRule object, the standalone rule ConfigMap and promtool.

/** A recording rule: stores the result of an expensive expression as a new series. */
export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
  readonly labels?: Readonly<Record<string, string>>;
}

/** An alerting rule; `for`, `labels.severity` and the three annotations are always set by this library. */
export interface AlertingRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: Readonly<Record<string, string>> & { readonly severity: Severity };
  readonly annotations: {
    readonly summary: string;
    readonly description: string;
    readonly runbook_url: string;
  };
}

export type Rule = RecordingRule | AlertingRule;

/** One `groups[]` entry of a Prometheus rule file. */
export interface RuleGroup {
  readonly name: string;
  readonly interval?: string;
  readonly rules: readonly Rule[];
}

/** Severities route alerts: `critical` pages, `warning` opens a ticket, `info` only shows on dashboards. */
export type Severity = 'critical' | 'warning' | 'info';

export function isAlertingRule(rule: Rule): rule is AlertingRule {
  return 'alert' in rule;
}
