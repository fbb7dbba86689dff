// What kwok needs to play the kubelet for fake nodes: the Node objects (names, zones, capacity) and the stages that
// move nodes and pods through their lives (node ready; pod scheduled → running and ready → deleted), plus a
// readiness switch a test flips with an annotation, as a failing readiness probe would.
import { stringify } from 'yaml';

/** kwok manages only nodes carrying this annotation (its own convention), so nothing else is ever touched. */
export const fakeNodeAnnotation = { key: 'kwok.x-k8s.io/node', value: 'fake' } as const;

/**
 * Set to `failing` on a running pod and kwok marks it not ready (Ready and ContainersReady false), as a failing
 * readiness probe would; remove it and the pod is ready again.
 */
export const failingReadinessAnnotation = { key: 'kwok.key-server.test/readiness-probe', value: 'failing' } as const;

/** One fake node: its name (also `kubernetes.io/hostname`), its zone, and what it offers. */
export interface FakeNode {
  readonly name: string;
  readonly zone: string;
}

/**
 * A modest real node's capacity, so resource requests are checked against numbers that mean something (kwok's own
 * default is 1000 CPUs and 1 TiB).
 */
export const fakeNodeCapacity = { cpu: '4', memory: '16Gi', pods: '110' } as const;

/** `count` nodes spread over `zones` zones round-robin: node-0 in zone-a, node-1 in zone-b, ... */
export function nodesInZones(count: number, zones: number = count, firstIndex = 0): FakeNode[] {
  return Array.from({ length: count }, (_, offset) => {
    const index = firstIndex + offset;
    return { name: `node-${index}`, zone: `zone-${String.fromCharCode(97 + (index % zones))}` };
  });
}

/** The Node objects, with capacity in their status (kept on create, as a kubelet registering itself sends it). */
export function nodeManifests(nodes: readonly FakeNode[]): string {
  return nodes.map((node) => stringify({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: node.name,
      annotations: { [fakeNodeAnnotation.key]: fakeNodeAnnotation.value },
      labels: {
        'kubernetes.io/hostname': node.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'topology.kubernetes.io/zone': node.zone,
      },
    },
    spec: {},
    status: { capacity: fakeNodeCapacity, allocatable: fakeNodeCapacity },
  })).join('---\n');
}

type Selector = { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] };

function stage(name: string, kind: 'Node' | 'Pod', matchExpressions: Selector[], next: object, delayMs?: number): object {
  return {
    apiVersion: 'kwok.x-k8s.io/v1alpha1',
    kind: 'Stage',
    metadata: { name },
    spec: {
      resourceRef: { apiGroup: 'v1', kind },
      selector: { matchExpressions },
      ...(delayMs === undefined ? {} : { delay: { durationMilliseconds: delayMs } }),
      next,
    },
  };
}

const notDeleted: Selector = { key: '.metadata.deletionTimestamp', operator: 'DoesNotExist' };
const readyCondition = '.status.conditions.[] | select( .type == "Ready" ) | .status';
const readinessAnnotation = `.metadata.annotations["${failingReadinessAnnotation.key}"]`;

/** The Ready and ContainersReady conditions and container statuses of a running pod, ready or not. */
function runningStatus(ready: boolean): string {
  const status = ready ? '"True"' : '"False"';
  return `
{{ $now := Now }}
conditions:
- lastTransitionTime: {{ $now | Quote }}
  status: "True"
  type: Initialized
- lastTransitionTime: {{ $now | Quote }}
  status: ${status}
  type: Ready
- lastTransitionTime: {{ $now | Quote }}
  status: ${status}
  type: ContainersReady
containerStatuses:
{{ range .spec.containers }}
- image: {{ .image | Quote }}
  name: {{ .name | Quote }}
  ready: ${ready}
  started: true
  restartCount: 0
  state:
    running:
      startedAt: {{ $now | Quote }}
{{ end }}
`;
}

/**
 * The stages, adapted from kwok's `kustomize/stage/node/fast` and `pod/fast`: nodes become Ready at once (their
 * leases are kwok's heartbeat); pods become Running and Ready `podReadyDelayMs` after they are bound (the time a
 * real pod spends starting and passing its first probes), get addresses from kwok's pod CIDR (data only), follow
 * the readiness annotation, and are deleted at once when asked to (no grace period is simulated).
 */
export function kwokStages(podReadyDelayMs: number): string {
  const stages = [
    stage('node-initialize', 'Node', [{ key: readyCondition, operator: 'NotIn', values: ['True'] }], {
      statusTemplate: `
{{ $now := Now }}
{{ $lastTransitionTime := or .metadata.creationTimestamp $now }}
conditions:
{{ range NodeConditions }}
- lastHeartbeatTime: {{ $now | Quote }}
  lastTransitionTime: {{ $lastTransitionTime | Quote }}
  message: {{ .message | Quote }}
  reason: {{ .reason | Quote }}
  status: {{ .status | Quote }}
  type: {{ .type | Quote }}
{{ end }}
addresses:
{{ with NodeIP }}
- address: {{ . | Quote }}
  type: InternalIP
{{ end }}
{{ with NodeName }}
- address: {{ . | Quote }}
  type: Hostname
{{ end }}
{{ with NodePort }}
daemonEndpoints:
  kubeletEndpoint:
    Port: {{ . }}
{{ end }}
allocatable:
{{ YAML .status.allocatable 1 }}
capacity:
{{ YAML .status.capacity 1 }}
nodeInfo:
  architecture: amd64
  operatingSystem: linux
  kubeletVersion: {{ printf "kwok-%s" Version | Quote }}
  containerRuntimeVersion: {{ printf "kwok-%s" Version | Quote }}
phase: Running
`,
    }),
    stage('pod-ready', 'Pod', [
      notDeleted,
      { key: '.status.phase', operator: 'In', values: ['Pending'] },
      { key: readyCondition, operator: 'NotIn', values: ['True'] },
    ], {
      statusTemplate: `${runningStatus(true)}
{{ with NodeIPsWith .spec.nodeName }}
hostIP: {{ index . 0 | Quote }}
hostIPs:
{{ range . }}
- ip: {{ . | Quote }}
{{ end }}
{{ end }}
{{ with PodIPsWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) }}
podIP: {{ index . 0 | Quote }}
podIPs:
{{ range . }}
- ip: {{ . | Quote }}
{{ end }}
{{ end }}
phase: Running
startTime: {{ Now | Quote }}
`,
    }, podReadyDelayMs),
    stage('pod-readiness-failing', 'Pod', [
      notDeleted,
      { key: '.status.phase', operator: 'In', values: ['Running'] },
      { key: readyCondition, operator: 'In', values: ['True'] },
      { key: readinessAnnotation, operator: 'In', values: [failingReadinessAnnotation.value] },
    ], { statusTemplate: runningStatus(false) }),
    stage('pod-readiness-passing-again', 'Pod', [
      notDeleted,
      { key: '.status.phase', operator: 'In', values: ['Running'] },
      { key: readyCondition, operator: 'NotIn', values: ['True'] },
      { key: readinessAnnotation, operator: 'NotIn', values: [failingReadinessAnnotation.value] },
    ], { statusTemplate: runningStatus(true) }),
    stage('pod-delete', 'Pod', [
      { key: '.metadata.deletionTimestamp', operator: 'Exists' },
      { key: '.metadata.finalizers', operator: 'DoesNotExist' },
    ], { delete: true }),
  ];
  return stages.map((object) => stringify(object)).join('---\n');
}

/** Where a port-forward to a pod's container port goes: always a real listener on 127.0.0.1. */
export interface PodPortForward {
  readonly namespace: string;
  readonly containerPort: number;
  readonly localPort: number;
}

/**
 * kwok ClusterPortForward objects: `kubectl port-forward` to a pod in `namespace` on `containerPort` reaches
 * 127.0.0.1:`localPort` (the API server dials kwok's kubelet API on 127.0.0.1, kwok dials the target).
 */
export function kwokPortForwards(forwards: readonly PodPortForward[]): string {
  return forwards.map((forward, index) => stringify({
    apiVersion: 'kwok.x-k8s.io/v1alpha1',
    kind: 'ClusterPortForward',
    metadata: { name: `forward-${index}` },
    spec: {
      selector: { matchNamespaces: [forward.namespace] },
      forwards: [{ ports: [forward.containerPort], target: { address: '127.0.0.1', port: forward.localPort } }],
    },
  })).join('---\n');
}
