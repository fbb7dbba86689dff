// The named-port NetworkPolicy of every workload the library runs, and the peers it admits. L1, because
// cdk8s-plus-27's NetworkPolicy names ports by number only: a named port keeps the policy right when a number changes.
import { Lazy } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import type { Construct } from 'constructs';
import type { WorkloadObjectMetadata } from './workload';

/** Pods, possibly in other namespaces, identified by labels. */
export interface PeerSelector {
  /**
   * Labels of the namespaces the pods run in; `{}` means every namespace.
   * @default - only the namespace of the pods the policy protects
   */
  readonly namespaceLabels?: Record<string, string>;
  /**
   * Labels of the pods; `{}` means every pod of the selected namespaces.
   * @default {}
   */
  readonly podLabels?: Record<string, string>;
}

/** Options of {@link NamedPortNetworkPolicy}. */
export interface NamedPortNetworkPolicyOptions {
  readonly metadata: WorkloadObjectMetadata;
  /** Labels of the pods the policy protects. */
  readonly selectorLabels: Readonly<Record<string, string>>;
  /**
   * Where the pods may send traffic: a list isolates egress to its rules (an empty one to nothing at all).
   * @default - egress stays open
   */
  readonly egress?: readonly kplus.k8s.NetworkPolicyEgressRule[];
}

/**
 * A NetworkPolicy that admits ingress only to named container ports, each from the peers added for it. The rules are
 * rendered at synth time, so a peer added after construction (KeyServerApp.allowMetricsFrom) joins its port's rule
 * instead of needing a policy of its own.
 */
export class NamedPortNetworkPolicy {
  /** The emitted NetworkPolicy. */
  public readonly resource: kplus.k8s.KubeNetworkPolicy;
  /** Peers admitted to each port, in the order the ports were first opened; `undefined` admits every source. */
  private readonly peersByPort = new Map<string, PeerSelector[] | undefined>();

  constructor(scope: Construct, id: string, options: NamedPortNetworkPolicyOptions) {
    const egress = options.egress;
    this.resource = new kplus.k8s.KubeNetworkPolicy(scope, id, {
      metadata: { ...options.metadata, labels: { ...options.metadata.labels } },
      spec: {
        podSelector: { matchLabels: { ...options.selectorLabels } },
        policyTypes: egress === undefined ? ['Ingress'] : ['Ingress', 'Egress'],
        ingress: Lazy.any({ produce: () => this.ingressRules() }),
        // With Egress in policyTypes, no egress rule at all denies all egress. Not `egress: []`: the API server drops
        // an empty list, so every server-side apply would set it again, bump the generation and show as GitOps drift.
        egress: egress === undefined || egress.length === 0 ? undefined : [...egress],
      },
    });
  }

  /** Admits every source to the named port. */
  public allowFromAnySource(portName: string): void {
    this.peersByPort.set(portName, undefined);
  }

  /**
   * Admits `peer` to the named port, next to the peers already admitted there (a port open to every source stays
   * open; a peer admitted already is not listed twice).
   */
  public allowFrom(portName: string, peer: PeerSelector): void {
    if (!this.peersByPort.has(portName)) {
      this.peersByPort.set(portName, [peer]);
      return;
    }
    const peers = this.peersByPort.get(portName);
    const key = JSON.stringify(networkPolicyPeer(peer));
    if (peers !== undefined && !peers.some((admitted) => JSON.stringify(networkPolicyPeer(admitted)) === key)) peers.push(peer);
  }

  private ingressRules(): kplus.k8s.NetworkPolicyIngressRule[] {
    return [...this.peersByPort].map(([portName, peers]) => ({
      ports: [{ protocol: 'TCP', port: kplus.k8s.IntOrString.fromString(portName) }],
      // No `from` admits every source; the peer lists here are never empty, which Kubernetes would read the same way.
      from: peers?.map(networkPolicyPeer),
    }));
  }
}

/** The NetworkPolicy peer for a selector: no namespace selector means the policy's own namespace. */
export function networkPolicyPeer(peer: PeerSelector): kplus.k8s.NetworkPolicyPeer {
  return {
    namespaceSelector: peer.namespaceLabels === undefined ? undefined : labelSelector(peer.namespaceLabels),
    podSelector: labelSelector(peer.podLabels ?? {}),
  };
}

/** `{}` (everything) for no labels, else `matchLabels`. */
function labelSelector(labels: Readonly<Record<string, string>>): kplus.k8s.LabelSelector {
  return Object.keys(labels).length === 0 ? {} : { matchLabels: { ...labels } };
}
