// What every standalone monitoring workload shares: restricted security settings, a readable selector, and a config checksum.
import { createHash } from 'node:crypto';
import { ApiObject, Duration, JsonPatch, Size, SizeRoundingBehavior } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import type { Construct } from 'constructs';

/** Container security settings Pod Security "restricted" requires, for a fixed non-root user. */
export function restrictedContainerSecurity(user: number): kplus.ContainerSecurityContextProps {
  return { ensureNonRoot: true, user, group: user, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, privileged: false };
}

/**
 * The pod security context for a fixed non-root user whose group owns the volumes. `OnRootMismatch`: the kubelet
 * otherwise re-chowns every file of every volume at each start (cdk8s-plus defaults to `Always`), which for a 20 GiB
 * TSDB delays Prometheus by minutes.
 */
export function restrictedPodSecurity(user: number): kplus.PodSecurityContextProps {
  return { ensureNonRoot: true, user, group: user, fsGroup: user, fsGroupChangePolicy: kplus.FsGroupChangePolicy.ON_ROOT_MISMATCH };
}

/**
 * Probe timing of the monitoring workloads, prometheus-operator's for Prometheus and Alertmanager: a 3 s timeout
 * (a TSDB compaction or a large query can hold the process for more than the 1 s default), readiness after 3 misses.
 */
export const monitoringProbeTimeout = Duration.seconds(3);

/**
 * The headless Service a StatefulSet names as its `serviceName` (the API server makes that field immutable, so it is
 * right from the start): it gives each pod a stable DNS name, `<pod>.<service>.<namespace>.svc`. Clients keep using
 * the ClusterIP Service; cdk8s-plus-27 would create a headless one only from ports declared before the StatefulSet.
 */
export function governingService(
  scope: Construct, metadata: WorkloadObjectMetadata, selectorLabels: Record<string, string>, ports: kplus.ServicePort[],
): kplus.Service {
  const service = new kplus.Service(scope, 'governing-service', {
    metadata: { ...metadata, name: `${metadata.name}-headless`, labels: { ...metadata.labels } },
    clusterIP: 'None',
    ports,
  });
  for (const [key, value] of Object.entries(selectorLabels)) service.selectLabel(key, value);
  return service;
}

/**
 * Selects pods by `selectorLabels` and adds the pod-template fields cdk8s-plus has no option for (seccomp
 * profile, dropped capabilities); removes the construct-path label cdk8s-plus adds, which kubectl users cannot read.
 */
export function hardenWorkload(workload: kplus.Deployment | kplus.StatefulSet, selectorLabels: Record<string, string>): void {
  workload.select(kplus.LabelSelector.of({ labels: selectorLabels }));
  const pod = '/spec/template/spec';
  ApiObject.of(workload).addJsonPatch(
    JsonPatch.remove('/spec/template/metadata/labels/cdk8s.io~1metadata.addr'),
    JsonPatch.add(`${pod}/securityContext/seccompProfile`, { type: 'RuntimeDefault' }),
    ...workload.containers.map((_container, index) => JsonPatch.add(`${pod}/containers/${index}/securityContext/capabilities`, { drop: ['ALL'] })),
  );
  if (workload instanceof kplus.StatefulSet) {
    // The StatefulSet also makes its Service select that removed label, which would leave the Service with no endpoints.
    ApiObject.of(workload.service).addJsonPatch(JsonPatch.remove('/spec/selector/cdk8s.io~1metadata.addr'));
  }
}

/** A short digest of configuration files, put on the pod template so a config change rolls the pods. */
export function configChecksum(...contents: string[]): string {
  const hash = createHash('sha256');
  for (const content of contents) hash.update(content).update('\0');
  return hash.digest('hex').slice(0, 16);
}

/** A StatefulSet volume claim template, which cdk8s-plus-27's StatefulSet has no option for. */
export function addVolumeClaimTemplate(
  statefulSet: kplus.StatefulSet, name: string, mountPath: string, storage: string, storageClassName: string | undefined,
): void {
  ApiObject.of(statefulSet).addJsonPatch(
    JsonPatch.add('/spec/volumeClaimTemplates', [{
      metadata: { name },
      spec: {
        accessModes: ['ReadWriteOnce'],
        ...(storageClassName ? { storageClassName } : {}),
        // A Quantity, not a string: the StatefulSet's typed mapper runs over the patched JSON and drops plain strings.
        resources: { requests: { storage: kplus.k8s.Quantity.fromString(storage) } },
      },
    }]),
    JsonPatch.add('/spec/template/spec/containers/0/volumeMounts/-', { name, mountPath }),
  );
}

/** A Kubernetes quantity for a size: whole GiB when exact, else whole MiB. */
export function sizeQuantity(prop: string, size: Size): string {
  const mebibytes = size.toMebibytes({ rounding: SizeRoundingBehavior.NONE });
  if (!Number.isInteger(mebibytes) || mebibytes < 1) {
    throw new Error(`${prop} must be a whole number of MiB, at least 1; got ${mebibytes} MiB`);
  }
  return mebibytes % 1024 === 0 ? `${mebibytes / 1024}Gi` : `${mebibytes}Mi`;
}

/** Name, namespace and labels of one object of a monitoring workload. */
export interface WorkloadObjectMetadata {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Record<string, string>;
}

/**
 * A NetworkPolicy that admits ingress only to the named container port, only from pods matching `fromPodLabels`
 * in the same namespace (every pod there when undefined). Egress is left open. L1 because cdk8s-plus-27's L2 names
 * ports by number only.
 */
export function namedPortIngressPolicy(
  scope: Construct, metadata: WorkloadObjectMetadata, selectorLabels: Record<string, string>,
  portName: string, fromPodLabels: Record<string, string> | undefined,
): kplus.k8s.KubeNetworkPolicy {
  return new kplus.k8s.KubeNetworkPolicy(scope, 'network-policy', {
    metadata,
    spec: {
      podSelector: { matchLabels: { ...selectorLabels } },
      policyTypes: ['Ingress'],
      ingress: [{
        ports: [{ protocol: 'TCP', port: kplus.k8s.IntOrString.fromString(portName) }],
        from: [{ podSelector: fromPodLabels === undefined ? {} : { matchLabels: { ...fromPodLabels } } }],
      }],
    },
  });
}
