// dist/ on a cluster without containers (real controllers and scheduler, kwok's fake nodes in three zones): the
// autoscaler finds its target, endpoints follow readiness, a rolling update and a node drain keep the capacity the
// manifests promise. Each promise is checked on every state the API server streams, with a negative control.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordAvailability, type AvailabilityRecord } from './helpers/availability';
import { startBackground } from './helpers/background-command';
import { startCluster, type TestCluster } from './helpers/cluster';
import { waitForCollection } from './helpers/collections';
import { endpointSlicesPath, promisedEndpointPorts, readyEndpointPods, slicePorts, type EndpointSlice } from './helpers/endpoints';
import { failingReadinessAnnotation } from './helpers/fake-nodes';
import {
  applyWithDevCertificate, availableCount, describePods, desiredReplicas, distDirectory, isAvailable, keyServerWorkload,
  podsPath, promisedAvailable, type Pod,
} from './helpers/key-server-workload';
import { getJson } from './helpers/watch';

// Every wait below has its own deadline and says what it waited for; this only backstops them on a busy machine.
jest.setTimeout(120_000);

const workload = keyServerWorkload(distDirectory);
const { namespace, deploymentName } = workload.target;
const desired = desiredReplicas(workload);

let cluster: TestCluster;
let certificateDirectory: string;

/** Waits until exactly `count` pods exist, all available, none terminating; returns them. */
async function waitForSettledPods(count: number, what: string) {
  return waitForCollection<Pod>(cluster, podsPath(workload), what,
    (pods) => pods.size === count && availableCount(pods) === count, { describe: describePods });
}

async function kubectlOk(args: readonly string[], input?: string): Promise<string> {
  const result = await cluster.kubectl(args, input);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

function logRecord(what: string, record: AvailabilityRecord): void {
  console.log(`${what}: fewest available ${record.minimumAvailable}, most pods ${record.maximumPods}\n  ${record.timeline.join('\n  ')}`);
}

beforeAll(async () => {
  cluster = await startCluster();
  certificateDirectory = mkdtempSync(join(tmpdir(), 'key-server-cluster-cert-'));
  await applyWithDevCertificate(cluster, workload, certificateDirectory);
  await waitForSettledPods(desired, `${desired} available key server pods`);
}, 240_000);

afterAll(async () => {
  await cluster?.stop();
  if (certificateDirectory !== undefined) rmSync(certificateDirectory, { recursive: true, force: true });
});

describe('the HorizontalPodAutoscaler', () => {
  interface Autoscaler {
    metadata: { name: string; namespace: string };
    status?: { currentReplicas?: number; conditions?: Array<{ type: string; status: string; reason: string; message: string }> };
  }
  const condition = (hpa: Autoscaler, type: string) => hpa.status?.conditions?.find((candidate) => candidate.type === type);
  const autoscalersPath = `/apis/autoscaling/v2/namespaces/${namespace}/horizontalpodautoscalers`;

  it('resolves its scale target (AbleToScale) and holds the Deployment at minReplicas; without a metrics API it cannot compute CPU (ScalingActive False)', async () => {
    if (workload.autoscaler === undefined) throw new Error('dist/ has no HorizontalPodAutoscaler for the key server');
    const name = workload.autoscaler.name;
    const reported = (hpa: Autoscaler | undefined): hpa is Autoscaler => hpa !== undefined && condition(hpa, 'ScalingActive') !== undefined;
    const autoscalers = await waitForCollection<Autoscaler>(cluster, autoscalersPath, `HPA ${name} reports its conditions`,
      (all) => reported(all.get(`${namespace}/${name}`)));
    const hpa = autoscalers.get(`${namespace}/${name}`) as Autoscaler;
    expect(condition(hpa, 'AbleToScale')).toMatchObject({ status: 'True', reason: 'SucceededGetScale' });
    expect(condition(hpa, 'ScalingActive')).toMatchObject({ status: 'False', reason: 'FailedGetResourceMetric' });
    const deployment = await getJson<{ spec: { replicas: number }; status: { availableReplicas: number } }>(cluster, `/apis/apps/v1/namespaces/${namespace}/deployments/${deploymentName}`);
    expect({ spec: deployment.spec.replicas, available: deployment.status.availableReplicas, hpa: hpa.status?.currentReplicas })
      .toEqual({ spec: workload.autoscaler.minReplicas, available: workload.autoscaler.minReplicas, hpa: workload.autoscaler.minReplicas });
    console.log(`HPA ${name}: AbleToScale True; ScalingActive False (${condition(hpa, 'ScalingActive')?.message})`);
  });

  it('negative control: an autoscaler whose target does not exist reports AbleToScale False', async () => {
    const manifest = JSON.stringify({
      apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'negative-control', namespace },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'no-such-deployment' }, minReplicas: 1, maxReplicas: 2,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }] },
    });
    await kubectlOk(['create', '-f', '-'], manifest);
    try {
      const autoscalers = await waitForCollection<Autoscaler>(cluster, autoscalersPath, 'the negative-control HPA reports AbleToScale',
        (all) => condition(all.get(`${namespace}/negative-control`) ?? { metadata: { name: 'negative-control', namespace } }, 'AbleToScale') !== undefined);
      expect(condition(autoscalers.get(`${namespace}/negative-control`) as Autoscaler, 'AbleToScale')).toMatchObject({ status: 'False', reason: 'FailedGetScale' });
    } finally {
      await kubectlOk(['-n', namespace, 'delete', 'hpa', 'negative-control']);
    }
  });
});

describe('the Service\'s EndpointSlices', () => {
  const slicesPath = () => endpointSlicesPath(workload);

  it('list every ready pod as a ready endpoint on the ports the Service names (https, metrics)', async () => {
    const pods = await waitForSettledPods(desired, 'settled pods');
    const readyPods = [...pods.values()].filter(isAvailable).map((pod) => pod.metadata.name).sort();
    const slices = await waitForCollection<EndpointSlice>(cluster, slicesPath(), 'every ready pod is a ready endpoint',
      (all) => JSON.stringify(readyEndpointPods(all)) === JSON.stringify(readyPods));
    expect(readyEndpointPods(slices)).toEqual(readyPods);
    expect(slicePorts(slices)).toEqual(promisedEndpointPorts(workload));
    expect(Object.keys(slicePorts(slices)).sort()).toEqual(expect.arrayContaining(['https', 'metrics']));
  });

  it('drop a pod whose readiness probe fails from the ready endpoints, and take it back once it passes', async () => {
    const pods = await waitForSettledPods(desired, 'settled pods');
    const [failing, ...others] = [...pods.values()].map((pod) => pod.metadata.name).sort();
    const annotation = `${failingReadinessAnnotation.key}=${failingReadinessAnnotation.value}`;
    await kubectlOk(['-n', namespace, 'annotate', 'pod', failing, annotation]);
    try {
      const whileFailing = await waitForCollection<EndpointSlice>(cluster, slicesPath(), `${failing} leaves the ready endpoints`,
        (all) => JSON.stringify(readyEndpointPods(all)) === JSON.stringify(others));
      expect(readyEndpointPods(whileFailing)).not.toContain(failing);
    } finally {
      await kubectlOk(['-n', namespace, 'annotate', 'pod', failing, `${failingReadinessAnnotation.key}-`]);
    }
    const afterwards = await waitForCollection<EndpointSlice>(cluster, slicesPath(), `${failing} is a ready endpoint again`,
      (all) => readyEndpointPods(all).includes(failing));
    expect(readyEndpointPods(afterwards)).toEqual([failing, ...others].sort());
  });
});

describe('a rolling update', () => {
  /** Restarts the rollout as users do, and records the pods until `kubectl rollout status` returns. */
  async function recordRestart(): Promise<{ record: AvailabilityRecord; status: { code: number; stderr: string }; seconds: number }> {
    await waitForSettledPods(desired, 'settled pods before the rollout');
    const recorder = await recordAvailability(cluster, podsPath(workload));
    const started = Date.now();
    await kubectlOk(['-n', namespace, 'rollout', 'restart', `deployment/${deploymentName}`]);
    const status = await cluster.kubectl(['-n', namespace, 'rollout', 'status', `deployment/${deploymentName}`, '--timeout=90s']);
    await waitForSettledPods(desired, 'settled pods after the rollout');
    return { record: await recorder.stop(), status, seconds: (Date.now() - started) / 1000 };
  }

  it('never has fewer available pods than desired (maxUnavailable 0), surges by at most maxSurge, and completes', async () => {
    const maxSurge = workload.deployment.spec.strategy?.rollingUpdate?.maxSurge;
    if (typeof maxSurge !== 'number') throw new Error(`maxSurge ${String(maxSurge)}: this test reads an absolute number from dist/`);
    const before = new Set((await waitForSettledPods(desired, 'settled pods')).keys());
    const { record, status, seconds } = await recordRestart();
    logRecord(`rolling update of ${desired} replicas in ${seconds.toFixed(1)} s`, record);
    expect(status.code).toBe(0);
    expect(record.minimumAvailable).toBeGreaterThanOrEqual(desired);
    expect(record.maximumPods).toBeLessThanOrEqual(desired + maxSurge);
    const after = await waitForSettledPods(desired, 'settled pods');
    expect([...after.keys()].filter((name) => before.has(name))).toEqual([]);
  });

  it('negative control: the same watch sees capacity drop when the strategy allows an unavailable pod', async () => {
    const original = JSON.stringify({ spec: { strategy: workload.deployment.spec.strategy } });
    await kubectlOk(['-n', namespace, 'patch', 'deployment', deploymentName, '--type=merge', '-p', JSON.stringify({ spec: { strategy: { rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } } } })]);
    try {
      const { record } = await recordRestart();
      logRecord('negative control, maxUnavailable 1', record);
      expect(record.minimumAvailable).toBeLessThan(desired);
    } finally {
      await kubectlOk(['-n', namespace, 'patch', 'deployment', deploymentName, '--type=merge', '-p', original]);
    }
  });
});

describe('kubectl drain against the PodDisruptionBudget', () => {
  const budget = () => {
    if (workload.disruptionBudget === undefined) throw new Error('dist/ has no PodDisruptionBudget for the key server');
    return promisedAvailable(workload.disruptionBudget, desired);
  };
  const nodesOf = (pods: Map<string, Pod> | ReadonlyMap<string, Pod>) => [...new Set([...pods.values()].map((pod) => pod.spec.nodeName as string))].sort();
  const allNodes = async () => (await kubectlOk(['get', 'nodes', '-o', 'jsonpath={.items[*].metadata.name}'])).trim().split(/\s+/).sort();
  const refusal = /would violate the pod's disruption budget/;

  it('evicts within the budget, waits while an eviction would break it, and finishes once a replacement is ready elsewhere', async () => {
    const promised = budget();
    const pods = await waitForSettledPods(desired, 'settled pods before the drain');
    const drained = nodesOf(pods);
    const spare = (await allNodes()).filter((node) => !drained.includes(node));
    if (spare.length === 0) throw new Error(`no node without a key server pod (pods on ${drained.join(', ')})`);
    // With the spare nodes cordoned as well, a replacement has nowhere to go, so the budget must hold the drain.
    await kubectlOk(['cordon', ...spare]);
    const recorder = await recordAvailability(cluster, podsPath(workload));
    const started = Date.now();
    const drain = startBackground('kubectl', ['drain', ...drained, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=150s'],
      { ...process.env, KUBECONFIG: cluster.kubeconfig, HOME: cluster.directory });
    try {
      // kubectl retries a refused eviction every 5 s: two refusals show it keeps waiting instead of giving up.
      await drain.waitForOutput(refusal, { times: 2, timeoutMs: 60_000 });
      const blockedSeconds = (Date.now() - started) / 1000;
      expect(drain.running()).toBe(true);
      expect(availableCount(recorder.current())).toBe(promised);
      const uncordoned = Date.now();
      await kubectlOk(['uncordon', ...spare]);
      const code = await drain.exited;
      const record = await recorder.stop();
      logRecord(`drain of ${drained.join(', ')}: blocked ${blockedSeconds.toFixed(1)} s (two refusals), finished ${((Date.now() - uncordoned) / 1000).toFixed(1)} s after a node was free`, record);
      expect({ code, output: drain.output() }).toEqual({ code: 0, output: expect.stringMatching(/drained/) });
      expect(record.minimumAvailable).toBeGreaterThanOrEqual(promised);
      const after = await waitForSettledPods(desired, 'settled pods after the drain');
      expect(nodesOf(after).every((node) => spare.includes(node))).toBe(true);
    } finally {
      await drain.stop();
      await kubectlOk(['uncordon', ...drained, ...spare]);
    }
  });

  it('negative control: deleting pods past the budget (drain --disable-eviction) drops below it, and the watch sees it', async () => {
    const promised = budget();
    const pods = await waitForSettledPods(desired, 'settled pods before the drain');
    const recorder = await recordAvailability(cluster, podsPath(workload));
    const drain = await cluster.kubectl(['drain', ...nodesOf(pods), '--ignore-daemonsets', '--delete-emptydir-data', '--disable-eviction', '--timeout=60s']);
    try {
      expect(drain.code).toBe(0);
      await waitForSettledPods(desired, 'replacements after the forced drain');
      const record = await recorder.stop();
      logRecord('negative control, drain --disable-eviction', record);
      expect(record.minimumAvailable).toBeLessThan(promised);
    } finally {
      await kubectlOk(['uncordon', ...nodesOf(pods)]);
    }
  });
});
