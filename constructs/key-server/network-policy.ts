// The key server's NetworkPolicy: its https port to the allowed clients, its metrics port to Prometheus only (and to
// whatever else is admitted through allowMetricsFrom), and egress nowhere or to DNS.
import * as kplus from 'cdk8s-plus-27';
import type { NamedPortNetworkPolicy, PeerSelector } from '../network-policy';
import { requireLabels, requireOneOf } from '../validation';
import type { HardenedWorkload } from '../workload';

/** The Prometheus allowed to reach the metrics port. */
export interface PrometheusSelector {
  /**
   * Labels of the namespace Prometheus runs in.
   * @default { 'kubernetes.io/metadata.name': 'monitoring' }
   */
  readonly namespaceLabels?: Record<string, string>;
  /**
   * Labels of the Prometheus pods.
   * @default { 'app.kubernetes.io/name': 'prometheus' }
   */
  readonly podLabels?: Record<string, string>;
}

/** Where the key server pods may send traffic. The server makes no outbound calls, so nowhere is the default. */
export enum EgressPolicy {
  /** No egress at all. */
  NONE = 'none',
  /** DNS only, to the cluster's kube-dns pods on port 53. */
  DNS = 'dns',
}

/** The rules of {@link keyServerNetworkPolicy}, checked. */
export interface KeyServerNetworkRules {
  readonly httpsPortName: string;
  readonly metricsPortName: string;
  /** The peers admitted to the `https` port; undefined for every source. */
  readonly allowedClients?: readonly PeerSelector[];
  readonly prometheusSelector: Required<PrometheusSelector>;
  readonly egress: EgressPolicy;
}

const dnsPorts: kplus.k8s.NetworkPolicyPort[] = [
  { protocol: 'UDP', port: kplus.k8s.IntOrString.fromNumber(53) },
  { protocol: 'TCP', port: kplus.k8s.IntOrString.fromNumber(53) },
];

/** The policy: ingress to `https` from the allowed clients, to `metrics` from Prometheus; egress nowhere or DNS. */
export function keyServerNetworkPolicy(workload: HardenedWorkload, rules: KeyServerNetworkRules): NamedPortNetworkPolicy {
  const policy = workload.addNetworkPolicy(rules.egress === EgressPolicy.DNS
    ? [{ to: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }], ports: dnsPorts }]
    : []);
  if (rules.allowedClients === undefined) {
    policy.allowFromAnySource(rules.httpsPortName);
  } else {
    // A rule with an empty `from` would admit every source, the opposite of what a list of clients means.
    if (rules.allowedClients.length === 0) throw new Error('allowedClients must not be empty (an empty `from` admits every source)');
    for (const client of rules.allowedClients) policy.allowFrom(rules.httpsPortName, client);
  }
  policy.allowFrom(rules.metricsPortName, rules.prometheusSelector);
  return policy;
}

/** The Prometheus selector with its defaults, each label checked. */
export function validatedPrometheusSelector(selector: PrometheusSelector | undefined): Required<PrometheusSelector> {
  return {
    namespaceLabels: requireLabels('prometheusSelector.namespaceLabels',
      selector?.namespaceLabels ?? { 'kubernetes.io/metadata.name': 'monitoring' }),
    podLabels: requireLabels('prometheusSelector.podLabels', selector?.podLabels ?? { 'app.kubernetes.io/name': 'prometheus' }),
  };
}

/** At least one client, each with valid labels: an empty list would be a rule with no `from`, which admits every source. */
export function validatedClients(clients: readonly PeerSelector[] | undefined): readonly PeerSelector[] | undefined {
  if (clients === undefined) return undefined;
  if (clients.length === 0) {
    throw new Error('allowedClients must list at least one client; leave it out to admit any source');
  }
  return clients.map((peer, i) => validatedPeer(`allowedClients[${i}]`, peer));
}

/** A peer whose labels are all valid. */
export function validatedPeer(prop: string, peer: PeerSelector): PeerSelector {
  if (peer.namespaceLabels !== undefined) requireLabels(`${prop}.namespaceLabels`, peer.namespaceLabels);
  if (peer.podLabels !== undefined) requireLabels(`${prop}.podLabels`, peer.podLabels);
  return peer;
}

/** The egress policy, with its default. */
export function validatedEgress(egress: EgressPolicy | undefined): EgressPolicy {
  return requireOneOf('egress', egress ?? EgressPolicy.NONE, Object.values(EgressPolicy));
}
