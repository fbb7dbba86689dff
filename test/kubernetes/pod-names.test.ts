// Pod names as the real Deployment and ReplicaSet controllers give them: the pattern the pod alerts select by
// (podNamePattern) matches every pod of its Deployment and, up to 46 characters of name, no other Deployment's, for
// names short enough to keep `<deployment>-<hash>-<suffix>` whole and long enough to have it cut at 58 characters.
import { toYamlStream, type KubeObject } from '../../scripts/common/manifests';
import { podNamePattern } from '../../constructs/monitoring/monitored-key-server';
import { startControlPlane, waitUntil, type ControlPlane } from './helpers/control-plane';

const namespace = 'pod-names';
/** Names around each boundary: 46 keeps the whole shape, 47 loses the hash's dash, 57 the hash, 63 the dash too. */
const deploymentNames = [
  'key-server', 'key-server-canary', 'key.server',
  ...[46, 47, 50, 56, 57, 58, 63].map((length) => `k${'e'.repeat(length - 2)}y`),
];

function deployment(name: string): KubeObject {
  const labels = { app: name.replace(/\./g, '-').slice(0, 63) };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas: 2,
      selector: { matchLabels: labels },
      // Nothing schedules or runs these pods: only their names matter.
      template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] } },
    },
  };
}

describe('pod names from the real Deployment controller, and the pattern the pod alerts select them by', () => {
  let controlPlane: ControlPlane;
  const podsOf = new Map<string, string[]>();

  beforeAll(async () => {
    controlPlane = await startControlPlane({ controllerManager: true, crdFiles: [] });
    const objects = [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }, ...deploymentNames.map(deployment)];
    const applied = await controlPlane.kubectl(['apply', '-f', '-'], toYamlStream(objects));
    if (applied.code !== 0) throw new Error(`apply failed: ${applied.stderr}`);
    await waitUntil('two pods of every Deployment', Date.now() + 90_000, async () => {
      const listed = await controlPlane.kubectl(['get', 'pods', '-n', namespace, '-o', 'json']);
      if (listed.code !== 0) return false;
      podsOf.clear();
      for (const pod of JSON.parse(listed.stdout).items as Array<{ metadata: { name: string; ownerReferences?: Array<{ name: string }> } }>) {
        // The owner is the ReplicaSet `<deployment>-<hash>`; the Deployment is the one whose name it extends by one dash.
        const replicaSet = pod.metadata.ownerReferences?.[0]?.name ?? '';
        const owner = deploymentNames.filter((name) => replicaSet.startsWith(`${name}-`) && !replicaSet.slice(name.length + 1).includes('-'));
        if (owner.length !== 1) throw new Error(`pod ${pod.metadata.name} of ReplicaSet ${replicaSet}: owners ${owner.join(', ')}`);
        podsOf.set(owner[0], [...(podsOf.get(owner[0]) ?? []), pod.metadata.name]);
      }
      return deploymentNames.every((name) => (podsOf.get(name) ?? []).length === 2);
    }, () => `pods: ${JSON.stringify(Object.fromEntries(podsOf))}\n${controlPlane.logTail('kube-controller-manager')}`);
  }, 600_000);

  afterAll(async () => {
    await controlPlane?.stop();
  });

  it('cuts long names as the pattern expects: whole up to 46 characters, 63 characters at most', () => {
    for (const [name, pods] of podsOf) {
      for (const pod of pods) expect(pod.length).toBeLessThanOrEqual(63);
      if (name.length <= 46) expect(pods.every((pod) => /^[a-z0-9]+-[a-z0-9]+$/.test(pod.slice(name.length + 1)))).toBe(true);
    }
    // Control: the old pattern `<deployment>-[a-z0-9]+-[a-z0-9]+` misses the pods of a 50-character name.
    const fifty = deploymentNames.find((name) => name.length === 50)!;
    expect(podsOf.get(fifty)!.some((pod) => new RegExp(`^${fifty}-[a-z0-9]+-[a-z0-9]+$`).test(pod))).toBe(false);
  });

  it.each(deploymentNames.map((name) => [name.length, name]))('matches every pod of the %i-character Deployment %s', (_length, name) => {
    const pattern = new RegExp(`^(?:${podNamePattern(name)})$`);
    expect(podsOf.get(name)!.filter((pod) => !pattern.test(pod))).toEqual([]);
  });

  it.each(deploymentNames.filter((name) => name.length <= 46).map((name) => [name]))('matches no other Deployment\'s pods with %s', (name) => {
    const pattern = new RegExp(`^(?:${podNamePattern(name)})$`);
    const others = [...podsOf].filter(([other]) => other !== name).flatMap(([, pods]) => pods);
    expect(others.filter((pod) => pattern.test(pod))).toEqual([]);
  });
});
