// What every standalone monitoring workload shares: restricted security settings, a readable selector, and a config checksum.
import { createHash } from 'node:crypto';
import { ApiObject, JsonPatch, Size, SizeRoundingBehavior } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';

/** Container security settings Pod Security "restricted" requires, for a fixed non-root user. */
export function restrictedContainerSecurity(user: number): kplus.ContainerSecurityContextProps {
  return { ensureNonRoot: true, user, group: user, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, privileged: false };
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
