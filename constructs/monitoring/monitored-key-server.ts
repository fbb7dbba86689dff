// How the key server's series are labelled in Prometheus, which rules, dashboards and the scrape config select by,
// derived from an IKeyServer, and the PromQL matchers built on it.
import type { IKeyServer } from '../key-server/key-server';

/** Identifies the key server's series in Prometheus: the same four values in both modes (see {@link monitoredKeyServer}). */
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

/**
 * The labels of `keyServer`'s series. The Prometheus Operator names the job after the Service and takes `namespace`,
 * `pod` and `container` from the target; the standalone scrape config relabels its targets the same way.
 */
export function monitoredKeyServer(keyServer: IKeyServer): MonitoredKeyServer {
  return { namespace: keyServer.namespace, job: keyServer.serviceName, deployment: keyServer.deploymentName, container: keyServer.containerName };
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
