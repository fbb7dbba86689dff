// The Service side of the key server as the endpoint-slice controller publishes it: which pods are ready endpoints,
// on which named ports; and the ports the manifests promise there.
import type { KubeObject } from '../../../scripts/common/manifests';
import type { Snapshot } from './collections';
import type { KeyServerWorkload } from './key-server-workload';

/** The fields of an EndpointSlice the tests read. */
export interface EndpointSlice {
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Record<string, string> };
  readonly ports?: ReadonlyArray<{ readonly name?: string; readonly port?: number }>;
  readonly endpoints?: ReadonlyArray<{ readonly targetRef?: { readonly name: string }; readonly conditions?: { readonly ready?: boolean } }>;
}

/** The API path of the EndpointSlices the control plane keeps for the key server's Service. */
export function endpointSlicesPath(workload: KeyServerWorkload): string {
  return `/apis/discovery.k8s.io/v1/namespaces/${workload.target.namespace}/endpointslices?labelSelector=${encodeURIComponent(`kubernetes.io/service-name=${workload.target.serviceName}`)}`;
}

/** Names of the pods that are ready endpoints in any of `slices`. */
export function readyEndpointPods(slices: Snapshot<EndpointSlice>): string[] {
  return [...slices.values()]
    .flatMap((slice) => slice.endpoints ?? [])
    .filter((endpoint) => endpoint.conditions?.ready === true && endpoint.targetRef !== undefined)
    .map((endpoint) => endpoint.targetRef?.name as string)
    .sort();
}

/** Port name → port of every slice (the pods' container ports the Service targets). */
export function slicePorts(slices: Snapshot<EndpointSlice>): Record<string, number> {
  return Object.fromEntries([...slices.values()].flatMap((slice) => slice.ports ?? []).map((port) => [port.name ?? '', port.port ?? 0]));
}

interface ServicePort { readonly name: string; readonly targetPort?: number | string; readonly port: number }
interface ContainerPort { readonly name?: string; readonly containerPort: number }

/**
 * The named ports the Service promises to reach on each pod: its ports' targetPorts, resolved through the container
 * ports when they are names, as the endpoint-slice controller resolves them.
 */
export function promisedEndpointPorts(workload: KeyServerWorkload): Record<string, number> {
  const service = workload.objects.find((object) => object.kind === 'Service' && object.metadata.name === workload.target.serviceName
    && object.metadata.namespace === workload.target.namespace) as (KubeObject & { spec: { ports: ServicePort[] } }) | undefined;
  if (service === undefined) throw new Error(`no Service ${workload.target.serviceName} in the manifests`);
  const containers = (workload.deployment.spec as unknown as { template: { spec: { containers: Array<{ ports?: ContainerPort[] }> } } }).template.spec.containers;
  const containerPorts = containers.flatMap((container) => container.ports ?? []);
  return Object.fromEntries(service.spec.ports.map((port) => {
    const target = port.targetPort ?? port.port;
    const resolved = typeof target === 'number' ? target : containerPorts.find((candidate) => candidate.name === target)?.containerPort;
    if (resolved === undefined) throw new Error(`Service port ${port.name} targets '${String(target)}', which no container port is named`);
    return [port.name, resolved];
  }));
}
