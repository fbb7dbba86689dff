// The key server as the manifests describe it (Deployment, Service, PDB, HPA read from a dist directory, never
// re-typed), how to put it on a test cluster the way `npm run deploy -- --dev-cert` does, and what its pods' state
// means (ready, available, where they run).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { objectsToApply } from '../../../scripts/deploy';
import { tlsSecretManifest } from '../../../scripts/dev-cert';
import { keyServerTarget, readObjects, toYamlStream, type KeyServerTarget, type KubeObject } from '../../../scripts/common/manifests';
import { parseConfig, type Config } from '../../../server/config';
import { createSelfSignedCertificate } from '../../../server/dev-cert';
import type { ControlPlane } from './control-plane';
import type { Snapshot } from './collections';

/** The fields of a Pod the cluster tests read. */
export interface Pod {
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
    readonly deletionTimestamp?: string;
  };
  readonly spec: { readonly nodeName?: string };
  readonly status?: {
    readonly phase?: string;
    readonly podIP?: string;
    readonly conditions?: ReadonlyArray<{ readonly type: string; readonly status: string; readonly reason?: string; readonly message?: string }>;
  };
}

/** A PodDisruptionBudget's promise, as the manifests state it. */
export interface DisruptionBudget {
  readonly minAvailable?: number | string;
  readonly maxUnavailable?: number | string;
}

/** Everything of the key server the cluster tests act on, read from one manifest directory. */
export interface KeyServerWorkload {
  readonly directory: string;
  readonly objects: readonly KubeObject[];
  readonly target: KeyServerTarget;
  readonly deployment: KubeObject & { spec: { replicas?: number; selector: { matchLabels: Record<string, string> }; strategy?: { rollingUpdate?: { maxUnavailable?: number | string; maxSurge?: number | string } } } };
  readonly selector: Record<string, string>;
  readonly disruptionBudget?: DisruptionBudget;
  readonly autoscaler?: { readonly minReplicas: number; readonly maxReplicas: number; readonly name: string };
}

/** Reads the key server's objects from `directory` (dist/ or dist/standalone/). */
export function keyServerWorkload(directory: string): KeyServerWorkload {
  const objects = readObjects(directory);
  const target = keyServerTarget(objects);
  const inNamespace = (kind: string) => objects.filter((object) => object.kind === kind && object.metadata.namespace === target.namespace);
  const deployment = inNamespace('Deployment').find((object) => object.metadata.name === target.deploymentName) as KeyServerWorkload['deployment'];
  const selector = deployment.spec.selector.matchLabels;
  const selects = (object: KubeObject) => JSON.stringify((object as unknown as { spec: { selector: { matchLabels: unknown } } }).spec.selector.matchLabels) === JSON.stringify(selector);
  const pdb = inNamespace('PodDisruptionBudget').find(selects) as unknown as { spec: DisruptionBudget } | undefined;
  const hpa = inNamespace('HorizontalPodAutoscaler').find((object) => {
    const ref = (object as unknown as { spec: { scaleTargetRef: { kind: string; name: string } } }).spec.scaleTargetRef;
    return ref.kind === 'Deployment' && ref.name === target.deploymentName;
  }) as unknown as ({ metadata: { name: string }; spec: { minReplicas?: number; maxReplicas: number } }) | undefined;
  return {
    directory, objects, target, deployment, selector,
    disruptionBudget: pdb?.spec,
    autoscaler: hpa === undefined ? undefined : { name: hpa.metadata.name, minReplicas: hpa.spec.minReplicas ?? 1, maxReplicas: hpa.spec.maxReplicas },
  };
}

/** The key server container's args, parsed by the server's own parser: the configuration the pods would run. */
export function containerConfig(workload: KeyServerWorkload): Config {
  const container = (workload.deployment.spec as unknown as { template: { spec: { containers: Array<{ args: string[] }> } } }).template.spec.containers[0];
  const parsed = parseConfig(container.args, {});
  if (parsed.kind !== 'config') throw new Error(`the Deployment's args do not parse: ${JSON.stringify(parsed)}`);
  return parsed.config;
}

/** The replica count the workload promises: the autoscaler's floor when one manages it, else the Deployment's own. */
export function desiredReplicas(workload: KeyServerWorkload): number {
  return workload.autoscaler?.minReplicas ?? workload.deployment.spec.replicas ?? 1;
}

/** `a=b,c=d`, for `?labelSelector=` and `kubectl -l`. */
export function labelSelector(matchLabels: Record<string, string>): string {
  return Object.entries(matchLabels).map(([key, value]) => `${key}=${value}`).join(',');
}

/** The API path of the key server's pods. */
export function podsPath(workload: KeyServerWorkload): string {
  return `/api/v1/namespaces/${workload.target.namespace}/pods?labelSelector=${encodeURIComponent(labelSelector(workload.selector))}`;
}

export function isReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') ?? false;
}

/** What a Deployment counts as available (minReadySeconds 0): ready and not being deleted. */
export function isAvailable(pod: Pod): boolean {
  return isReady(pod) && pod.metadata.deletionTimestamp === undefined;
}

export function availableCount(pods: Snapshot<Pod>): number {
  return [...pods.values()].filter(isAvailable).length;
}

/** Pods the scheduler could not place, with its reason (e.g. `0/1 nodes are available: ...`). */
export function unschedulablePods(pods: Snapshot<Pod>): string[] {
  return [...pods.values()]
    .filter((pod) => pod.spec.nodeName === undefined)
    .map((pod) => `${pod.metadata.name}: ${pod.status?.conditions?.find((condition) => condition.type === 'PodScheduled')?.message ?? 'not scheduled yet'}`);
}

/** One line per pod: name, node, phase, ready, terminating; for failure messages. */
export function describePods(pods: Snapshot<Pod>): string {
  return [...pods.values()].map((pod) => `${pod.metadata.name} node=${pod.spec.nodeName ?? '-'} phase=${pod.status?.phase ?? '-'} ready=${isReady(pod)}${pod.metadata.deletionTimestamp === undefined ? '' : ' terminating'}`).join('\n') || '(no pods)';
}

/**
 * The fewest pods a PodDisruptionBudget promises stay available out of `replicas`, computed as the disruption
 * controller does (a percentage of minAvailable rounds up; a percentage of maxUnavailable rounds up too).
 */
export function promisedAvailable(budget: DisruptionBudget, replicas: number): number {
  const scaled = (value: number | string) => (typeof value === 'number' ? value : Math.ceil((Number.parseInt(value, 10) / 100) * replicas));
  if (budget.minAvailable !== undefined) return scaled(budget.minAvailable);
  if (budget.maxUnavailable !== undefined) return replicas - scaled(budget.maxUnavailable);
  throw new Error('a PodDisruptionBudget names minAvailable or maxUnavailable');
}

/**
 * Puts the manifests of `directory` on the cluster as `npm run deploy -- --dev-cert` does (cert-manager's objects
 * left out, a self-signed certificate's Secret in their place), with server-side apply. Returns the certificate.
 */
export async function applyWithDevCertificate(controlPlane: ControlPlane, workload: KeyServerWorkload, certificateDirectory: string): Promise<{ certFile: string; keyFile: string }> {
  const files = createSelfSignedCertificate({
    directory: certificateDirectory,
    name: workload.target.tlsSecretName,
    commonName: `${workload.target.serviceName}.${workload.target.namespace}.svc`,
    subjectAltNames: [...workload.target.dnsNames.map((name) => `DNS:${name}`), 'DNS:localhost', 'IP:127.0.0.1'],
  });
  const secret = tlsSecretManifest(workload.target, fs.readFileSync(files.certFile, 'utf8'), fs.readFileSync(files.keyFile, 'utf8'));
  const applied = await controlPlane.kubectl(['apply', '--server-side', '--field-manager=key-server', '-f', '-'], toYamlStream(objectsToApply(workload.objects, true)));
  if (applied.code !== 0) throw new Error(`applying ${workload.directory}: ${applied.stderr}`);
  const secretApplied = await controlPlane.kubectl(['apply', '--server-side', '--field-manager=key-server', '-f', '-'], stringify(secret));
  if (secretApplied.code !== 0) throw new Error(`applying the dev certificate Secret: ${secretApplied.stderr}`);
  return files;
}

/** The repository's manifest directories. */
export const distDirectory = path.resolve(__dirname, '..', '..', '..', 'dist');
export const standaloneDirectory = path.join(distDirectory, 'standalone');

/**
 * Every object of the project still in the cluster: labelled as the key server's or as part of it, across every
 * listable type in every namespace and cluster-wide, and every object of `directory` by name.
 */
export async function leftoverObjects(controlPlane: ControlPlane, directory: string): Promise<string[]> {
  const types = await controlPlane.kubectl(['api-resources', '--verbs=list', '-o', 'name']);
  if (types.code !== 0) throw new Error(`kubectl api-resources: ${types.stderr}`);
  const everyType = types.stdout.trim().split('\n').join(',');
  const results = await Promise.all([
    ...['app.kubernetes.io/part-of=key-server', 'app.kubernetes.io/name=key-server'].map((selector) =>
      controlPlane.kubectl(['get', everyType, '--all-namespaces', '-l', selector, '-o', 'name'])),
    controlPlane.kubectl(['get', '-f', directory, '--ignore-not-found', '-o', 'name']),
  ]);
  for (const result of results) if (result.code !== 0) throw new Error(`listing leftovers: ${result.stderr}`);
  return [...new Set(results.flatMap((result) => result.stdout.split('\n')).filter((line) => line !== ''))].sort();
}
