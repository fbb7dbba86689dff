// Where the series an alert reads come from, so each mode ships only alerts that can fire in it.

/**
 * A source of series:
 * - `keyServer`: the key server's own /metrics (its metrics and prom-client's `process_*`/`nodejs_*`), and `up` of its job;
 * - `kubeStateMetrics`: kube-state-metrics (`kube_*`), which kube-prometheus-stack installs and a standalone cluster may not have;
 * - `prometheus`: Prometheus scraping itself (`prometheus_*`);
 * - `alertmanager`: Prometheus scraping Alertmanager (`alertmanager_*`).
 */
export type MetricSource = 'keyServer' | 'kubeStateMetrics' | 'prometheus' | 'alertmanager';

export const metricSources: readonly MetricSource[] = ['keyServer', 'kubeStateMetrics', 'prometheus', 'alertmanager'];

/** An alert left out of a mode, and the sources that mode lacks for it. */
export interface OmittedAlert {
  readonly alert: string;
  readonly missingSources: readonly MetricSource[];
}

/** Splits alerts into those whose sources are all available and those left out, with what each lacks. */
export function partitionBySources<T extends { readonly alert: string }>(
  alerts: readonly T[], sourcesOf: (alert: T) => readonly MetricSource[], available: readonly MetricSource[],
): { kept: T[]; omitted: OmittedAlert[] } {
  const kept: T[] = [];
  const omitted: OmittedAlert[] = [];
  for (const alert of alerts) {
    const missingSources = sourcesOf(alert).filter((source) => !available.includes(source));
    if (missingSources.length === 0) kept.push(alert);
    else omitted.push({ alert: alert.alert, missingSources });
  }
  return { kept, omitted };
}
