// The one hardened-workload building block every workload of the library uses (the key server, Prometheus,
// Alertmanager, Grafana): identity and selection, the restricted security context with the pod-template patches
// cdk8s-plus-27 cannot express, Services that select the pods, the named-port NetworkPolicy and the disruption policy.
import { createHash } from 'node:crypto';
import { ApiObject, JsonPatch, Size, SizeRoundingBehavior } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import type { Construct } from 'constructs';
import { DisruptionBudget, disruptionBudget } from './disruption-budget';
import { NamedPortNetworkPolicy } from './network-policy';

/** Name, namespace and labels of one object of a workload. */
export interface WorkloadObjectMetadata {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** Who a workload is: what every one of its objects is named and labelled, and the user its containers run as. */
export interface WorkloadIdentity {
  /** Name of the workload and, unless told otherwise, of each of its objects. */
  readonly name: string;
  readonly namespace: string;
  /** Labels on every object; the pods add `selectorLabels`. */
  readonly labels: Readonly<Record<string, string>>;
  /** Labels that select the pods (stable across versions, see selectorLabelsOf). */
  readonly selectorLabels: Readonly<Record<string, string>>;
  /** The uid and gid of every container, and the fsGroup that owns the volumes: a fixed non-root user. */
  readonly user: number;
}

/** Options of {@link HardenedWorkload.addService}. */
export interface WorkloadServiceOptions {
  readonly ports: kplus.ServicePort[];
  /**
   * Name of the Service.
   * @default - the workload's name
   */
  readonly name?: string;
  /** @default - none */
  readonly annotations?: Record<string, string>;
}

/** Options of {@link HardenedWorkload.addDisruptionBudget}. */
export interface WorkloadDisruptionOptions {
  /** The most pods the workload can run (an autoscaler's maximum, or its fixed replicas). */
  readonly mostPods: number;
  /** @default DisruptionBudget.onePodAtATime() */
  readonly budget?: DisruptionBudget;
  /** The prop errors name. */
  readonly prop: string;
}

/**
 * Builds the objects of one workload in `scope`, each with the workload's metadata, selecting its pods by
 * `selectorLabels`. Not a construct: the objects stay direct children of the workload's own construct, in the order
 * it creates them, which is the order they are written in.
 */
export class HardenedWorkload {
  constructor(private readonly scope: Construct, public readonly identity: WorkloadIdentity) {}

  /** Name, namespace and labels of one of the workload's objects, named after the workload unless `name` says otherwise. */
  public metadata(name: string = this.identity.name): WorkloadObjectMetadata {
    return { name, namespace: this.identity.namespace, labels: { ...this.identity.labels } };
  }

  /**
   * The pod-level props a Deployment and a StatefulSet share: our own selector (cdk8s-plus' default is a hash of the
   * construct path, unreadable in kubectl), pods labelled to be selected, the restricted pod security context and,
   * given the workload's configuration files, a checksum of them, so a change of configuration rolls the pods.
   */
  public podTemplateProps(configFiles?: readonly string[]): {
    metadata: WorkloadObjectMetadata; select: false; securityContext: kplus.PodSecurityContextProps;
    podMetadata: { labels: Record<string, string>; annotations?: Record<string, string> };
  } {
    return {
      metadata: this.metadata(),
      select: false,
      podMetadata: {
        labels: { ...this.identity.labels, ...this.identity.selectorLabels },
        ...(configFiles === undefined ? {} : { annotations: { 'checksum/config': configChecksum(...configFiles) } }),
      },
      securityContext: restrictedPodSecurity(this.identity.user),
    };
  }

  /** The container security context Pod Security "restricted" requires. */
  public get containerSecurity(): kplus.ContainerSecurityContextProps {
    return restrictedContainerSecurity(this.identity.user);
  }

  /**
   * Selects the pods by `selectorLabels` and patches the pod template where cdk8s-plus-27 has no option; call it
   * once the containers are added.
   */
  public harden(workload: kplus.Deployment | kplus.StatefulSet): void {
    workload.select(kplus.LabelSelector.of({ labels: { ...this.identity.selectorLabels } }));
    const pod = '/spec/template/spec';
    ApiObject.of(workload).addJsonPatch(
      // cdk8s-plus labels every pod with a hash of the construct path; the selector above replaces it.
      JsonPatch.remove('/spec/template/metadata/labels/cdk8s.io~1metadata.addr'),
      // PodSecurityContextProps has no seccompProfile, which "restricted" requires.
      JsonPatch.add(`${pod}/securityContext/seccompProfile`, { type: 'RuntimeDefault' }),
      // ContainerSecurityContextProps has no capabilities, and "restricted" requires dropping ALL.
      ...workload.containers.map((_container, index) => JsonPatch.add(`${pod}/containers/${index}/securityContext/capabilities`, { drop: ['ALL'] })),
    );
    if (workload instanceof kplus.StatefulSet) {
      // The StatefulSet also makes its Service select that removed label, which would leave the Service with no endpoints.
      ApiObject.of(workload.service).addJsonPatch(JsonPatch.remove('/spec/selector/cdk8s.io~1metadata.addr'));
    }
  }

  /**
   * A volume claim template mounted at `mountPath` in the first container, which cdk8s-plus-27's StatefulSet has no
   * option for. The API server makes the templates immutable: docs/runbooks.md, "Change monitoring storage".
   */
  public addVolumeClaim(statefulSet: kplus.StatefulSet, claim: { name: string; mountPath: string; storage: string; storageClassName?: string }): void {
    ApiObject.of(statefulSet).addJsonPatch(
      JsonPatch.add('/spec/volumeClaimTemplates', [{
        metadata: { name: claim.name },
        spec: {
          accessModes: ['ReadWriteOnce'],
          ...(claim.storageClassName ? { storageClassName: claim.storageClassName } : {}),
          // A Quantity, not a string: the StatefulSet's typed mapper runs over the patched JSON and drops plain strings.
          resources: { requests: { storage: kplus.k8s.Quantity.fromString(claim.storage) } },
        },
      }]),
      // Appended to the mounts cdk8s-plus wrote, or the first mount: call this after the container's other mounts.
      statefulSet.containers[0].mounts.length === 0
        ? JsonPatch.add('/spec/template/spec/containers/0/volumeMounts', [{ name: claim.name, mountPath: claim.mountPath }])
        : JsonPatch.add('/spec/template/spec/containers/0/volumeMounts/-', { name: claim.name, mountPath: claim.mountPath }),
    );
  }

  /** A ClusterIP Service in front of the pods. */
  public addService(id: string, options: WorkloadServiceOptions): kplus.Service {
    const service = new kplus.Service(this.scope, id, {
      metadata: { ...this.metadata(options.name), ...(options.annotations === undefined ? {} : { annotations: options.annotations }) },
      type: kplus.ServiceType.CLUSTER_IP,
      ports: options.ports,
    });
    this.select(service);
    return service;
  }

  /**
   * The headless Service a StatefulSet names as its `serviceName` (the API server makes that field immutable, so it is
   * right from the start): it gives each pod a stable DNS name, `<pod>.<service>.<namespace>.svc`. Clients keep using
   * the ClusterIP Service; cdk8s-plus-27 would create a headless one only from ports declared before the StatefulSet.
   */
  public addGoverningService(ports: kplus.ServicePort[]): kplus.Service {
    const service = new kplus.Service(this.scope, 'governing-service', {
      metadata: this.metadata(`${this.identity.name}-headless`),
      clusterIP: 'None',
      ports,
    });
    this.select(service);
    return service;
  }

  /** The workload's NetworkPolicy, admitting nothing until ports are opened on it; egress stays open unless given. */
  public addNetworkPolicy(egress?: readonly kplus.k8s.NetworkPolicyEgressRule[]): NamedPortNetworkPolicy {
    return new NamedPortNetworkPolicy(this.scope, 'network-policy', {
      metadata: this.metadata(), selectorLabels: this.identity.selectorLabels, egress,
    });
  }

  /** The library's one disruption policy ({@link disruptionBudget}): none for a single pod. */
  public addDisruptionBudget(id: string, options: WorkloadDisruptionOptions): kplus.k8s.KubePodDisruptionBudget | undefined {
    return disruptionBudget(this.scope, id, { ...options, metadata: this.metadata(), selectorLabels: this.identity.selectorLabels });
  }

  private select(service: kplus.Service): void {
    for (const [key, value] of Object.entries(this.identity.selectorLabels)) service.selectLabel(key, value);
  }
}

/**
 * The pod security context for a fixed non-root user whose group owns the volumes. `OnRootMismatch`: the kubelet
 * otherwise re-chowns every file of every volume at each start (cdk8s-plus defaults to `Always`), which for a 20 GiB
 * TSDB delays Prometheus by minutes.
 */
function restrictedPodSecurity(user: number): kplus.PodSecurityContextProps {
  return { ensureNonRoot: true, user, group: user, fsGroup: user, fsGroupChangePolicy: kplus.FsGroupChangePolicy.ON_ROOT_MISMATCH };
}

/** Container security settings Pod Security "restricted" requires, for a fixed non-root user. */
function restrictedContainerSecurity(user: number): kplus.ContainerSecurityContextProps {
  return { ensureNonRoot: true, user, group: user, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, privileged: false };
}

/** A short digest of configuration files, put on the pod template so a config change rolls the pods. */
function configChecksum(...contents: string[]): string {
  const hash = createHash('sha256');
  for (const content of contents) hash.update(content).update('\0');
  return hash.digest('hex').slice(0, 16);
}

/** A Kubernetes quantity for a size: whole GiB when exact, else whole MiB. */
export function sizeQuantity(prop: string, size: Size): string {
  const mebibytes = size.toMebibytes({ rounding: SizeRoundingBehavior.NONE });
  if (!Number.isInteger(mebibytes) || mebibytes < 1) {
    throw new Error(`${prop} must be a whole number of MiB, at least 1; got ${mebibytes} MiB`);
  }
  return mebibytes % 1024 === 0 ? `${mebibytes / 1024}Gi` : `${mebibytes}Mi`;
}
