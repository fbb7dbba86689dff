// What a kubelet checks before it starts a container and kwok does not: that every Secret, ConfigMap and key a pod
// mounts or reads into its environment exists (unless marked optional). Fake nodes run pods whose volumes could
// never be mounted; this names those pods instead.
import type { ControlPlane } from './control-plane';
import { getJson } from './watch';

interface KeyToPath { readonly key: string }
interface SourceReference { readonly name?: string; readonly secretName?: string; readonly optional?: boolean; readonly items?: readonly KeyToPath[] }
interface KeyReference { readonly name: string; readonly key: string; readonly optional?: boolean }
interface Container {
  readonly name: string;
  readonly env?: ReadonlyArray<{ readonly valueFrom?: { readonly secretKeyRef?: KeyReference; readonly configMapKeyRef?: KeyReference } }>;
  readonly envFrom?: ReadonlyArray<{ readonly secretRef?: { name: string; optional?: boolean }; readonly configMapRef?: { name: string; optional?: boolean } }>;
}
interface PodSpec {
  readonly volumes?: ReadonlyArray<{
    readonly name: string;
    readonly secret?: SourceReference;
    readonly configMap?: SourceReference;
    readonly projected?: { readonly sources?: ReadonlyArray<{ readonly secret?: SourceReference; readonly configMap?: SourceReference }> };
  }>;
  readonly containers: readonly Container[];
  readonly initContainers?: readonly Container[];
}

/** One thing a pod needs from its namespace: a Secret or ConfigMap, and the keys it reads from it. */
export interface PodReference {
  readonly kind: 'Secret' | 'ConfigMap';
  readonly name: string;
  readonly keys: readonly string[];
  /** Where the pod uses it, for the message. */
  readonly usedBy: string;
}

/** The required (not optional) Secrets and ConfigMaps a pod spec reads, with the keys it reads from them. */
export function requiredReferences(spec: PodSpec): PodReference[] {
  const references: PodReference[] = [];
  const fromSource = (kind: PodReference['kind'], source: SourceReference | undefined, usedBy: string) => {
    const name = source?.secretName ?? source?.name;
    if (source === undefined || source.optional === true || name === undefined) return;
    references.push({ kind, name, keys: (source.items ?? []).map((item) => item.key), usedBy });
  };
  for (const volume of spec.volumes ?? []) {
    fromSource('Secret', volume.secret, `volume ${volume.name}`);
    fromSource('ConfigMap', volume.configMap, `volume ${volume.name}`);
    for (const projected of volume.projected?.sources ?? []) {
      fromSource('Secret', projected.secret, `volume ${volume.name}`);
      fromSource('ConfigMap', projected.configMap, `volume ${volume.name}`);
    }
  }
  for (const container of [...(spec.initContainers ?? []), ...spec.containers]) {
    for (const variable of container.env ?? []) {
      const secret = variable.valueFrom?.secretKeyRef;
      const configMap = variable.valueFrom?.configMapKeyRef;
      if (secret !== undefined && secret.optional !== true) references.push({ kind: 'Secret', name: secret.name, keys: [secret.key], usedBy: `container ${container.name} env` });
      if (configMap !== undefined && configMap.optional !== true) references.push({ kind: 'ConfigMap', name: configMap.name, keys: [configMap.key], usedBy: `container ${container.name} env` });
    }
    for (const source of container.envFrom ?? []) {
      if (source.secretRef !== undefined && source.secretRef.optional !== true) references.push({ kind: 'Secret', name: source.secretRef.name, keys: [], usedBy: `container ${container.name} envFrom` });
      if (source.configMapRef !== undefined && source.configMapRef.optional !== true) references.push({ kind: 'ConfigMap', name: source.configMapRef.name, keys: [], usedBy: `container ${container.name} envFrom` });
    }
  }
  return references;
}

/**
 * For every pod in `namespace`, the references a kubelet could not satisfy: `pod: Secret x (volume tls)` or
 * `pod: Secret x has no key ca.crt (...)`. Empty when every pod could start.
 */
export async function unsatisfiedPodReferences(controlPlane: ControlPlane, namespace: string): Promise<string[]> {
  const list = <T>(resource: string) => getJson<{ items: T[] }>(controlPlane, `/api/v1/namespaces/${namespace}/${resource}`).then((answer) => answer.items);
  type Holder = { metadata: { name: string }; data?: Record<string, string>; binaryData?: Record<string, string> };
  const [pods, secrets, configMaps] = await Promise.all([
    list<{ metadata: { name: string }; spec: PodSpec }>('pods'), list<Holder>('secrets'), list<Holder>('configmaps'),
  ]);
  const holders = { Secret: new Map(secrets.map((secret) => [secret.metadata.name, secret])), ConfigMap: new Map(configMaps.map((configMap) => [configMap.metadata.name, configMap])) };
  return pods.flatMap((pod) => requiredReferences(pod.spec).flatMap((reference) => {
    const holder = holders[reference.kind].get(reference.name);
    if (holder === undefined) return [`${pod.metadata.name}: ${reference.kind} ${reference.name} does not exist (${reference.usedBy})`];
    const missingKeys = reference.keys.filter((key) => holder.data?.[key] === undefined && holder.binaryData?.[key] === undefined);
    return missingKeys.map((key) => `${pod.metadata.name}: ${reference.kind} ${reference.name} has no key ${key} (${reference.usedBy})`);
  }));
}
