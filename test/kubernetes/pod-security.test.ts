// Pod Security admission of a real kube-apiserver: every pod template in dist/ and dist/standalone/, created as a
// Pod (server-side dry run) in its namespace, which enforces `restricted`, is admitted without a warning; a planted
// violation is refused with the API server's own message.
import { join, resolve } from 'node:path';
import { readObjects, toYamlStream, type KubeObject } from '../../scripts/common/manifests';
import { serverSideApplyArgs, startControlPlane, type ControlPlane } from './helpers/control-plane';

const repositoryRoot = resolve(__dirname, '..', '..');
const directories = [join(repositoryRoot, 'dist'), join(repositoryRoot, 'dist', 'standalone')];

interface PodTemplate { metadata?: { labels?: Record<string, string> }; spec: { volumes?: unknown[]; [field: string]: unknown } }
interface Workload extends KubeObject {
  spec: { template: PodTemplate; volumeClaimTemplates?: Array<{ metadata: { name: string } }> };
}

/**
 * The Pod a workload's controller would create from its template: a StatefulSet's claim templates become the
 * `persistentVolumeClaim` volumes its controller adds (`<template>-<pod>`), so the Pod is valid on its own.
 */
export function podFromTemplate(workload: Workload): KubeObject {
  // Not `<name>-0`: the controllers running beside the API server may have created that very pod already.
  const name = `${workload.metadata.name}-admission-check`;
  const claimVolumes = (workload.spec.volumeClaimTemplates ?? []).map((claim) => ({
    name: claim.metadata.name, persistentVolumeClaim: { claimName: `${claim.metadata.name}-${workload.metadata.name}-0` },
  }));
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: workload.metadata.namespace, labels: workload.spec.template.metadata?.labels },
    spec: { ...workload.spec.template.spec, volumes: [...(workload.spec.template.spec.volumes ?? []), ...claimVolumes] },
  };
}

const workloadKinds = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job']);
const workloads = directories.flatMap((directory) =>
  readObjects(directory).filter((object): object is Workload => workloadKinds.has(object.kind))
    .map((workload) => ({ id: `${directory.slice(repositoryRoot.length + 1)} ${workload.kind}/${workload.metadata.name}`, workload })));

describe('Pod Security admission (restricted) of a real kube-apiserver', () => {
  let controlPlane: ControlPlane;

  beforeAll(async () => {
    // The controller manager creates each namespace's `default` ServiceAccount, which pods that name none run as.
    controlPlane = await startControlPlane({ controllerManager: true });
    // The namespaces (with their pod-security labels) and the ServiceAccounts the pods name must exist.
    for (const directory of directories) {
      const applied = await controlPlane.kubectl(serverSideApplyArgs(directory));
      if (applied.code !== 0) throw new Error(`apply ${directory} failed: ${applied.stderr}`);
    }
    for (const namespace of new Set(workloads.map(({ workload }) => workload.metadata.namespace as string))) {
      const deadline = Date.now() + 60_000;
      while ((await controlPlane.kubectl(['get', 'serviceaccount', 'default', '-n', namespace])).code !== 0) {
        if (Date.now() > deadline) throw new Error(`no default ServiceAccount in ${namespace}:\n${controlPlane.logTail('kube-controller-manager')}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  }, 600_000);

  afterAll(async () => {
    await controlPlane?.stop();
  });

  it('finds the workloads of both sets (key server, Prometheus, Alertmanager, Grafana)', () => {
    expect(workloads.map(({ id }) => id)).toEqual(expect.arrayContaining([
      expect.stringMatching(/^dist Deployment\/key-server$/),
      expect.stringMatching(/^dist\/standalone StatefulSet\/prometheus$/),
      expect.stringMatching(/^dist\/standalone StatefulSet\/alertmanager$/),
      expect.stringMatching(/^dist\/standalone Deployment\/grafana$/),
    ]));
  });

  it.each(workloads)('admits the pod of $id in a namespace enforcing restricted, with no warning', async ({ workload }) => {
    const namespace = await controlPlane.kubectl(['get', 'namespace', workload.metadata.namespace as string, '-o', 'jsonpath={.metadata.labels}']);
    expect(JSON.parse(namespace.stdout)).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted' });
    const created = await controlPlane.kubectl(['create', '--dry-run=server', '-f', '-'], toYamlStream([podFromTemplate(workload)]));
    expect({ code: created.code, stderr: created.stderr }).toEqual({ code: 0, stderr: '' });
  });

  it('refuses a planted violation (runAsNonRoot: false) with the API server\'s PodSecurity message', async () => {
    const keyServer = workloads.find(({ id }) => id === 'dist Deployment/key-server')?.workload as Workload;
    const pod = podFromTemplate(keyServer) as KubeObject & { spec: { securityContext: Record<string, unknown> } };
    pod.spec.securityContext = { ...pod.spec.securityContext, runAsNonRoot: false };
    const created = await controlPlane.kubectl(['create', '--dry-run=server', '-f', '-'], toYamlStream([pod]));
    expect(created.code).not.toBe(0);
    expect(created.stderr).toMatch(/violates PodSecurity "restricted:[^"]+": runAsNonRoot != true/);
  });
});
