// What the monitoring data (rules, dashboards, scrape config) needs to know about one deployed key server, and PromQL helpers built on it.
import { Duration } from 'cdk8s';

/**
 * Identifies the key server's series in Prometheus. The same four values hold in both modes: the
 * Prometheus Operator sets `job` to the Service name and `namespace`/`pod`/`container` from the target,
 * and the standalone scrape config relabels its targets to the same labels.
 */
export interface MonitoredKeyServer {
  /** Namespace the key server runs in (the `namespace` label of its series). */
  readonly namespace: string;
  /** The `job` label of its scraped series: the name of its Service. */
  readonly job: string;
  /** Name of its Deployment, as kube-state-metrics reports it in the `deployment` label. */
  readonly deployment: string;
  /** Name of its container, as cAdvisor and kube-state-metrics report it in the `container` label. */
  readonly container: string;
}

/** Throws unless every field is a non-empty string, naming the field, so a typo fails the synth, not a panel. */
export function validateMonitoredKeyServer(target: MonitoredKeyServer, propName: string): void {
  for (const field of ['namespace', 'job', 'deployment', 'container'] as const) {
    const value = target[field];
    if (typeof value !== 'string' || value.length === 0 || /["\\\n]/.test(value)) {
      throw new Error(`${propName}.${field} must be a non-empty string without quotes, backslashes or newlines, got ${JSON.stringify(value)}`);
    }
  }
}

/** `{job="…",namespace="…",…extra}`: the label matchers of the key server's own series. */
export function scrapeSelector(target: MonitoredKeyServer, ...extra: string[]): string {
  return `{${[`job="${target.job}"`, `namespace="${target.namespace}"`, ...extra].join(',')}}`;
}

/**
 * Matchers for the key server's pods in kube-state-metrics and cAdvisor series, whose `job` is theirs, not ours.
 * Deployment pods are named `<deployment>-<replicaset hash>-<pod hash>`.
 */
export function podSelector(target: MonitoredKeyServer, ...extra: string[]): string {
  return `{${[`namespace="${target.namespace}"`, `pod=~"${target.deployment}-[a-z0-9]+-[a-z0-9]+"`, ...extra].join(',')}}`;
}

/** A Prometheus duration literal (`15s`, `5m`, `1h`, `3d`) for a cdk8s Duration, in the largest exact unit. */
export function promDuration(duration: Duration): string {
  const seconds = duration.toSeconds();
  if (!Number.isInteger(seconds) || seconds <= 0) {
    throw new Error(`a Prometheus duration must be a positive whole number of seconds, got ${seconds}`);
  }
  const units: Array<[string, number]> = [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]];
  const [unit, size] = units.find(([, unitSeconds]) => seconds % unitSeconds === 0)!;
  return `${seconds / size}${unit}`;
}
