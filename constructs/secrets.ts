// How the library refers to Secrets and mounts them: by name and key, read-only, files readable by the pod's group only.
import * as kplus from 'cdk8s-plus-27';
import type { Construct } from 'constructs';

/** A key in a Secret. */
export interface SecretKeyReference {
  /** Name of the Secret. */
  readonly name: string;
  /** Key inside it. */
  readonly key: string;
}

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
