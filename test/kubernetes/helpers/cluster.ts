// A cluster without containers for one test file: the API-server control plane with kube-controller-manager, plus
// kube-scheduler and kwok playing the kubelet for fake nodes labelled with hostname and zone. Everything listens on
// 127.0.0.1; pod and node addresses are data only, except that every fake node's InternalIP is 127.0.0.1, where
// kwok serves the kubelet API (port-forward) that the API server dials. Torn down by stop().
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireProgram } from '../../../scripts/toolchain/build-tools';
import { freePort } from '../../server/helpers/http';
import {
  adminGet, kubeconfigFor, startComponent, startControlPlane, stopComponent, waitUntil, type ControlPlane,
} from './control-plane';
import { fakeNodeAnnotation, kwokPortForwards, kwokStages, nodeManifests, nodesInZones, type FakeNode, type PodPortForward } from './fake-nodes';

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  /** The fake nodes at start. @default three nodes in three zones */
  readonly nodes?: readonly FakeNode[];
  /** Where `kubectl port-forward` to pods goes (fixed when kwok starts). @default none: port-forward fails */
  readonly podPortForwards?: readonly PodPortForward[];
  /** How long a bound pod takes to become Running and Ready. @default 1000 ms */
  readonly podReadyDelayMs?: number;
}

/** A running cluster: the control plane's API plus its nodes. */
export interface TestCluster extends ControlPlane {
  /** Registers more fake nodes and resolves once they are Ready. */
  readonly addNodes: (nodes: readonly FakeNode[]) => Promise<void>;
}

/**
 * Controller-manager settings of this cluster: the HPA and the volume binder (which gives a claim the default
 * StorageClass that appeared after it) look every few seconds instead of every 15 s, so a test waits seconds, not
 * a quarter minute, for what they decide (the decisions themselves are unchanged).
 */
const controllerManagerArgs = ['--horizontal-pod-autoscaler-sync-period=3s', '--pvclaimbinder-sync-period=2s'];

/** Creates the Node objects and waits until kwok has made every one Ready. */
async function registerNodes(controlPlane: ControlPlane, nodes: readonly FakeNode[], logTail: () => string): Promise<void> {
  if (nodes.length === 0) return;
  const created = await controlPlane.kubectl(['create', '-f', '-'], nodeManifests(nodes));
  if (created.code !== 0) throw new Error(`creating nodes failed: ${created.stderr}`);
  const ready = await controlPlane.kubectl(['wait', '--for=condition=Ready', '--timeout=60s', ...nodes.map((node) => `node/${node.name}`)]);
  if (ready.code !== 0) throw new Error(`fake nodes not Ready: ${ready.stderr}\nkwok log:\n${logTail()}`);
}

/** Starts the control plane, the scheduler and kwok, and registers the nodes. */
export async function startCluster(options: ClusterOptions = {}): Promise<TestCluster> {
  const scheduler = await requireProgram('kube-scheduler');
  const kwok = await requireProgram('kwok');
  const controlPlane = await startControlPlane({ controllerManager: true, controllerManagerArgs });
  const { directory, pki, serverUrl, caFile } = controlPlane;
  const children: ReturnType<typeof startComponent>[] = [];
  const stop = async () => {
    for (const child of [...children].reverse()) await stopComponent(child);
    await controlPlane.stop();
  };

  try {
    const schedulerClient = pki.issueClient('system:kube-scheduler', []);
    const schedulerServing = pki.issueLoopbackServer('kube-scheduler');
    const schedulerKubeconfig = join(directory, 'kube-scheduler.kubeconfig');
    writeFileSync(schedulerKubeconfig, kubeconfigFor(serverUrl, caFile, schedulerClient, 'system:kube-scheduler'), { mode: 0o600 });
    const schedulerPort = await freePort();
    children.push(startComponent(scheduler, [
      `--kubeconfig=${schedulerKubeconfig}`, `--authentication-kubeconfig=${schedulerKubeconfig}`, `--authorization-kubeconfig=${schedulerKubeconfig}`,
      '--bind-address=127.0.0.1', `--secure-port=${schedulerPort}`,
      `--tls-cert-file=${schedulerServing.certFile}`, `--tls-private-key-file=${schedulerServing.keyFile}`,
      '--leader-elect=false', '--profiling=false',
    ], join(directory, 'kube-scheduler.log')));

    // kwok acts for every fake node, so it gets the admin identity rather than one node's (the Node authorizer would
    // confine a system:node:<name> identity to that node's pods).
    const kwokServing = pki.issueLoopbackServer('kwok');
    const kwokPort = await freePort();
    const kwokConfig = join(directory, 'kwok.yaml');
    writeFileSync(kwokConfig, [kwokStages(options.podReadyDelayMs ?? 1000), kwokPortForwards(options.podPortForwards ?? [])]
      .filter((part) => part !== '').join('---\n'));
    children.push(startComponent(kwok, [
      `--kubeconfig=${controlPlane.kubeconfig}`, `--config=${kwokConfig}`,
      `--manage-nodes-with-annotation-selector=${fakeNodeAnnotation.key}=${fakeNodeAnnotation.value}`,
      '--node-ip=127.0.0.1', `--node-port=${kwokPort}`, `--server-address=127.0.0.1:${kwokPort}`,
      `--tls-cert-file=${kwokServing.certFile}`, `--tls-private-key-file=${kwokServing.keyFile}`,
      '--cidr=10.244.0.0/16', '--node-lease-duration-seconds=40',
    ], join(directory, 'kwok.log')));

    const deadline = Date.now() + 60_000;
    await waitUntil('kube-scheduler /readyz', deadline,
      async () => (await adminGet(schedulerPort, '/readyz', controlPlane.admin, caFile)).status === 200,
      () => controlPlane.logTail('kube-scheduler'));
    await waitUntil('kwok /healthz', deadline,
      async () => (await adminGet(kwokPort, '/healthz', controlPlane.admin, caFile)).status === 200,
      () => controlPlane.logTail('kwok'));

    const addNodes = (nodes: readonly FakeNode[]) => registerNodes(controlPlane, nodes, () => controlPlane.logTail('kwok'));
    await addNodes(options.nodes ?? nodesInZones(3));
    return { ...controlPlane, addNodes, stop };
  } catch (error) {
    const message = (error as Error).message;
    const logs = ['kube-scheduler', 'kwok', 'kube-controller-manager'].map((component) => `${component} log:\n${controlPlane.logTail(component, 15)}`).join('\n');
    await stop();
    throw new Error(`test cluster failed to start: ${message}\n${logs}`);
  }
}
