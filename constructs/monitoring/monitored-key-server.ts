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
 * Longest `generateName` prefix the API server keeps: it cuts a longer one to leave room for the five random
 * characters it appends within a name's 63 (`maxGeneratedNameLength` in k8s.io/apiserver).
 */
const longestGeneratedNamePrefix = 58;

/** Characters of a pod-template hash and of a generated name's suffix. */
const nameCharacters = '[a-z0-9]';

/**
 * A regular expression (Prometheus anchors it; its syntax and JavaScript's agree on it) matching the names of the pods of
 * Deployment `deployment`: the Deployment controller names a ReplicaSet `<deployment>-<hash>` (up to 10 characters of
 * hash) and the ReplicaSet's pods `<replicaset>-<5 random>`, through `generateName`, which the API server cuts to 58
 * characters. Up to 46 characters of Deployment name the whole shape survives, and no other Deployment's pods match;
 * past that only a prefix is fixed, which the pods of a Deployment whose name extends this one's share.
 */
export function podNamePattern(deployment: string): string {
  const generateName = `${deployment}-`;
  const escaped = (literal: string) => literal.replace(/\./g, '\\.');
  if (generateName.length + 10 + 1 <= longestGeneratedNamePrefix) {
    return `${escaped(generateName)}${nameCharacters}+-${nameCharacters}+`;
  }
  if (generateName.length < longestGeneratedNamePrefix) {
    // `<deployment>-` whole, then the part of `<hash>-` that was kept and the random suffix, which cannot be told apart.
    return `${escaped(generateName)}[-a-z0-9]+`;
  }
  return `${escaped(generateName.slice(0, longestGeneratedNamePrefix))}${nameCharacters}{5}`;
}

/** Matchers for the key server's pods in kube-state-metrics and cAdvisor series, whose `job` is theirs, not ours. */
export function podSelector(target: MonitoredKeyServer, ...extra: string[]): string {
  // Inside a PromQL string a backslash is written twice.
  const pattern = podNamePattern(target.deployment).replace(/\\/g, '\\\\');
  return `{${[`namespace="${target.namespace}"`, `pod=~"${pattern}"`, ...extra].join(',')}}`;
}
