// Reads the synthesized manifests the delivery scripts act on, so names, ports and Secrets come from dist/, never re-typed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';

/** The fields of a Kubernetes object the scripts read; everything else is carried through untouched. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Record<string, string> };
  readonly [field: string]: unknown;
}

/** What the scripts need to know about the deployed key server, all read from its manifests. */
export interface KeyServerTarget {
  readonly namespace: string;
  readonly deploymentName: string;
  readonly serviceName: string;
  /** Service port named `https` (keys, /health, /ready). */
  readonly httpsPort: number;
  /** Service port named `metrics`. */
  readonly metricsPort: number;
  /** The Secret the pods mount their certificate from. */
  readonly tlsSecretName: string;
  /** The DNS names the serving certificate must hold (from the cert-manager Certificate, or the Service's names). */
  readonly dnsNames: readonly string[];
  /** minReplicas of the HorizontalPodAutoscaler that scales the Deployment, when one does. */
  readonly autoscalerMinReplicas?: number;
}

/** The `*.yaml` files directly in `directory`, sorted: `kubectl apply -f <dir>` does not descend either. */
export function manifestFiles(directory: string): string[] {
  if (!fs.existsSync(directory) || !fs.statSync(directory).isDirectory()) {
    throw new Error(`${directory} is not a directory of manifests: run \`npm run synth\` first`);
  }
  return fs.readdirSync(directory)
    .filter((name) => /\.ya?ml$/.test(name) && fs.statSync(path.join(directory, name)).isFile())
    .sort()
    .map((name) => path.join(directory, name));
}

/** Every object in the manifests of `directory`, in file order. */
export function readObjects(directory: string): KubeObject[] {
  const objects = manifestFiles(directory).flatMap((file) =>
    parseAllDocuments(fs.readFileSync(file, 'utf8')).map((document) => document.toJSON() as KubeObject | null));
  const present = objects.filter((object): object is KubeObject => object !== null);
  if (present.length === 0) {
    throw new Error(`no manifests in ${directory}: run \`npm run synth\` first`);
  }
  return present;
}

/** The API group of an apiVersion: `cert-manager.io/v1` → `cert-manager.io`, `v1` → `` (core). */
export function apiGroupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
}

/** Distinct apiVersions of `objects`, sorted. */
export function apiVersionsOf(objects: readonly KubeObject[]): string[] {
  return [...new Set(objects.map((object) => object.apiVersion))].sort();
}

/** A multi-document YAML stream of `objects`, for `kubectl ... -f -`. */
export function toYamlStream(objects: readonly KubeObject[]): string {
  return objects.map((object) => stringify(object)).join('---\n');
}

interface ServicePort { readonly name?: string; readonly port: number }
interface DeploymentLike extends KubeObject {
  readonly spec: { readonly template: { readonly spec: { readonly volumes?: ReadonlyArray<{ readonly name: string; readonly secret?: { readonly secretName: string } }> } } };
}

/** Finds the key server's Deployment, Service, TLS Secret and certificate names among `objects`. */
export function keyServerTarget(objects: readonly KubeObject[]): KeyServerTarget {
  const isKeyServer = (object: KubeObject): boolean => object.metadata.labels?.['app.kubernetes.io/name'] === 'key-server';
  const deployment = objects.find((object) => object.kind === 'Deployment' && isKeyServer(object)) as DeploymentLike | undefined;
  if (deployment === undefined) {
    throw new Error('no Deployment labelled app.kubernetes.io/name=key-server in the manifests');
  }
  const namespace = deployment.metadata.namespace ?? 'default';
  const service = objects.find((object) => object.kind === 'Service' && isKeyServer(object) && (object.metadata.namespace ?? 'default') === namespace);
  if (service === undefined) {
    throw new Error(`no key server Service in namespace ${namespace} in the manifests`);
  }
  const ports = (service as unknown as { spec: { ports: ServicePort[] } }).spec.ports;
  const portNamed = (name: string): number => {
    const port = ports.find((candidate) => candidate.name === name);
    if (port === undefined) throw new Error(`Service ${namespace}/${service.metadata.name} has no port named ${name}`);
    return port.port;
  };
  const tlsVolume = deployment.spec.template.spec.volumes?.find((volume) => volume.name === 'tls' && volume.secret !== undefined);
  if (tlsVolume?.secret === undefined) {
    throw new Error(`Deployment ${namespace}/${deployment.metadata.name} mounts no Secret volume named tls`);
  }
  const tlsSecretName = tlsVolume.secret.secretName;
  const certificate = objects.find((object) => object.kind === 'Certificate' && object.metadata.namespace === namespace
    && (object as unknown as { spec: { secretName: string } }).spec.secretName === tlsSecretName);
  const serviceName = service.metadata.name;
  const dnsNames = certificate !== undefined
    ? (certificate as unknown as { spec: { dnsNames: string[] } }).spec.dnsNames
    : [serviceName, `${serviceName}.${namespace}`, `${serviceName}.${namespace}.svc`, `${serviceName}.${namespace}.svc.cluster.local`];
  const autoscaler = objects.find((object) => object.kind === 'HorizontalPodAutoscaler' && (object.metadata.namespace ?? 'default') === namespace
    && (object as unknown as { spec: { scaleTargetRef: { kind: string; name: string } } }).spec.scaleTargetRef.kind === 'Deployment'
    && (object as unknown as { spec: { scaleTargetRef: { name: string } } }).spec.scaleTargetRef.name === deployment.metadata.name);
  return {
    namespace, deploymentName: deployment.metadata.name, serviceName,
    httpsPort: portNamed('https'), metricsPort: portNamed('metrics'), tlsSecretName, dnsNames,
    ...(autoscaler === undefined ? {} : { autoscalerMinReplicas: (autoscaler as unknown as { spec: { minReplicas?: number } }).spec.minReplicas ?? 1 }),
  };
}

/** The name clients use inside the cluster, which the certificate holds: `<service>.<namespace>.svc`. */
export function serviceHostName(target: KeyServerTarget): string {
  return `${target.serviceName}.${target.namespace}.svc`;
}

/**
 * Secrets the pods mount that no object of the manifests provides (no Secret, no cert-manager Certificate writing it):
 * they must exist in the cluster before the pods can start, e.g. the TLS Secret of dist/standalone/.
 */
export function externalSecretsOf(objects: readonly KubeObject[]): Array<{ readonly namespace: string; readonly name: string }> {
  const provided = new Set<string>();
  for (const object of objects) {
    const namespace = object.metadata.namespace ?? 'default';
    if (object.kind === 'Secret') provided.add(`${namespace}/${object.metadata.name}`);
    if (object.kind === 'Certificate') provided.add(`${namespace}/${(object as unknown as { spec: { secretName: string } }).spec.secretName}`);
  }
  const needed = new Map<string, { namespace: string; name: string }>();
  for (const object of objects) {
    const volumes = (object as unknown as { spec?: { template?: { spec?: { volumes?: Array<{ secret?: { secretName: string } }> } } } }).spec?.template?.spec?.volumes ?? [];
    for (const volume of volumes) {
      const namespace = object.metadata.namespace ?? 'default';
      const name = volume.secret?.secretName;
      if (name !== undefined && !provided.has(`${namespace}/${name}`)) needed.set(`${namespace}/${name}`, { namespace, name });
    }
  }
  return [...needed.values()];
}
