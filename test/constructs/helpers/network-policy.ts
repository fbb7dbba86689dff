// Evaluates NetworkPolicy ingress rules for one peer, the way a CNI plugin would, so tests can ask who gets in.
import { selectorMatches } from './invariants';

/* eslint-disable @typescript-eslint/no-explicit-any */

/** A pod trying to connect: its namespace's labels and its own labels. */
export interface Peer {
  readonly namespace: string;
  readonly namespaceLabels: Record<string, string>;
  readonly podLabels: Record<string, string>;
}

/** Whether `policy` (which must select the target pod) lets `peer` reach the target's port named `portName`. */
export function admits(policy: any, peer: Peer, portName: string): boolean {
  if (!(policy.spec.policyTypes ?? ['Ingress']).includes('Ingress')) return true;
  return (policy.spec.ingress ?? []).some((rule: any) => {
    const portMatches = rule.ports === undefined || rule.ports.some((p: any) => p.port === undefined || p.port === portName);
    // Kubernetes reads a missing or empty `from` as every source.
    const peerMatches = rule.from === undefined || rule.from.length === 0 || rule.from.some((from: any) => {
      if (from.ipBlock !== undefined) return false;
      const namespaceMatches = from.namespaceSelector === undefined
        ? peer.namespace === policy.metadata.namespace
        : selectorMatches(from.namespaceSelector, peer.namespaceLabels);
      const podMatches = from.podSelector === undefined || selectorMatches(from.podSelector, peer.podLabels);
      return namespaceMatches && podMatches;
    });
    return portMatches && peerMatches;
  });
}

/** A peer in `namespace`, whose namespace carries the automatic `kubernetes.io/metadata.name` label. */
export function peerIn(namespace: string, podLabels: Record<string, string> = {}): Peer {
  return { namespace, namespaceLabels: { 'kubernetes.io/metadata.name': namespace }, podLabels };
}
