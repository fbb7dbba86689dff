// Where the key server pods go: spread over nodes (and zones when asked) without ever blocking scheduling.
import { ApiObject, JsonPatch } from 'cdk8s';
import type * as kplus from 'cdk8s-plus-27';

/**
 * Spread over nodes (and zones) without ever blocking scheduling: a small cluster still runs every replica.
 * `matchLabelKeys: [pod-template-hash]` counts only pods of the same ReplicaSet, so during a rollout the old pods,
 * about to go, do not push the new ones onto the nodes that have none of the old (Kubernetes 1.27+).
 */
export function spreadConstraints(selectorLabels: Readonly<Record<string, string>>, acrossZones: boolean) {
  const keys = ['kubernetes.io/hostname', ...(acrossZones ? ['topology.kubernetes.io/zone'] : [])];
  return keys.map((topologyKey) => ({
    maxSkew: 1, topologyKey, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { ...selectorLabels } },
    matchLabelKeys: ['pod-template-hash'],
  }));
}

/** Adds the constraints to the pod template: cdk8s-plus-27 writes none (its `spread` is required pod anti-affinity, which leaves replicas Pending). */
export function spreadPods(deployment: kplus.Deployment, selectorLabels: Readonly<Record<string, string>>, acrossZones: boolean): void {
  ApiObject.of(deployment).addJsonPatch(JsonPatch.add('/spec/template/spec/topologySpreadConstraints', spreadConstraints(selectorLabels, acrossZones)));
}
