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

/** Throws unless `key` can be a key of a Secret's data: letters, digits, `-`, `_` and `.`, at most 253 characters. */
export function requireSecretKey(prop: string, key: string): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > 253 || !/^[-._a-zA-Z0-9]+$/.test(key) || key === '.' || key === '..') {
    throw new Error(`${prop} must be a Secret key (letters, digits, '-', '_' and '.', at most 253 characters); got ${JSON.stringify(key)}`);
  }
  return key;
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
