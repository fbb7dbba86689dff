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

/**
 * Severities route alerts: `critical` pages, `warning` opens a ticket, `info` only shows on dashboards, `none` marks
 * the Watchdog, which is always firing and goes to a dead man's switch.
 */
export type Severity = 'critical' | 'warning' | 'info' | 'none';

export function isAlertingRule(rule: Rule): rule is AlertingRule {
  return 'alert' in rule;
}

/**
 * The runbook document every alert links to (`#<alertname in lower case>` is appended). Required and checked, so an
 * alert never links to a page that does not exist: the URL of docs/runbooks.md where this repository is published.
 */
export function validatedRunbookBaseUrl(url: string | undefined, prop = 'runbookBaseUrl'): string {
  if (url === undefined || url === '') {
    throw new Error(`${prop} is required: the URL of docs/runbooks.md in your published copy of this repository, e.g. 'https://github.com/<owner>/key-server/blob/main/docs/runbooks.md'; every alert's runbook_url points into it`);
  }
  if (!/^https?:\/\/\S+$/.test(url) || url.includes('#')) {
    throw new Error(`${prop} must be an http(s) URL without a #fragment, got ${JSON.stringify(url)}`);
  }
  return url;
}
