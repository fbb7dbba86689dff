// How every Secret is mounted into a pod: read-only, and its files readable by the pod's group only.
import * as kplus from 'cdk8s-plus-27';
import type { Construct } from 'constructs';

/**
 * Mode of every file of a mounted Secret: 0440, owner and group may read, others nothing (Kubernetes' default is
 * 0644). The kubelet gives the files the pod's `fsGroup`, which every workload here sets to its own user's group.
 */
export const secretFileMode = 0o440;

/** A Secret volume whose files have {@link secretFileMode}; `items` picks keys (and renames them) when given. */
export function secretVolume(
  scope: Construct, id: string, secret: kplus.ISecret, options: { readonly name: string; readonly items?: Record<string, kplus.PathMapping> },
): kplus.Volume {
  return kplus.Volume.fromSecret(scope, id, secret, { ...options, defaultMode: secretFileMode });
}
