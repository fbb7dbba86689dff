// Where the scheduler puts the key server's pods under the manifests' spread constraints, on kwok's fake nodes:
// every replica still schedules on a single node (the constraints never leave a pod Pending), and with
// spreadAcrossZones (a variant synthesized here with the constructs) replicas land in different zones.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Chart, YamlOutputType } from 'cdk8s';
import { KeyServerApp, type KeyServerAppProps } from '../../constructs';
import { keyServerProps } from '../../main';
import { startCluster, type TestCluster } from './helpers/cluster';
import { waitForCollection, type Snapshot } from './helpers/collections';
import { nodesInZones, type FakeNode } from './helpers/fake-nodes';
import {
  applyWithDevCertificate, availableCount, describePods, distDirectory, keyServerWorkload, labelSelector, podsPath,
  unschedulablePods, type KeyServerWorkload, type Pod,
} from './helpers/key-server-workload';

// Every wait below has its own deadline and says what it waited for; this only backstops them on a busy machine.
jest.setTimeout(120_000);

const singleNode = nodesInZones(1, 3);
/** Three zones, zone-a with two nodes, so spreading over nodes alone could still put two replicas in one zone. */
const moreNodes: FakeNode[] = [...nodesInZones(2, 3, 1), { name: 'node-3', zone: 'zone-a' }];
const zoneOf = new Map<string, string>([...singleNode, ...moreNodes].map((node) => [node.name, node.zone]));

let cluster: TestCluster;
let scratch: string;

/** The app as main.ts builds it for production, with `props` on top, synthesized to a directory of its own. */
function synthesizeVariant(name: string, props: KeyServerAppProps): KeyServerWorkload {
  const directory = join(scratch, name);
  const app = new App({ outdir: directory, yamlOutputType: YamlOutputType.FILE_PER_CHART });
  new KeyServerApp(new Chart(app, 'key-server', { disableResourceNameHashes: true }), 'key-server', { ...keyServerProps('production'), ...props });
  app.synth();
  return keyServerWorkload(directory);
}

async function kubectlOk(args: readonly string[], input?: string): Promise<string> {
  const result = await cluster.kubectl(args, input);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

/** Scales the Deployment (within the autoscaler's range, which it then leaves alone without metrics) and waits. */
async function scaleAndSettle(workload: KeyServerWorkload, replicas: number): Promise<Snapshot<Pod>> {
  await kubectlOk(['-n', workload.target.namespace, 'scale', `deployment/${workload.target.deploymentName}`, `--replicas=${replicas}`]);
  return waitForCollection<Pod>(cluster, podsPath(workload), `${replicas} available pods`,
    (pods) => pods.size === replicas && availableCount(pods) === replicas, { describe: describePods });
}

/** Zones holding more than one of `pods`, as `zone: pod, pod`. */
function sharedZones(pods: Snapshot<Pod>): string[] {
  const byZone = new Map<string, string[]>();
  for (const pod of pods.values()) {
    const zone = zoneOf.get(pod.spec.nodeName ?? '') ?? '(unscheduled)';
    byZone.set(zone, [...(byZone.get(zone) ?? []), pod.metadata.name]);
  }
  return [...byZone].filter(([, names]) => names.length > 1).map(([zone, names]) => `${zone}: ${names.join(', ')}`);
}

function placement(pods: Snapshot<Pod>): string {
  return [...pods.values()].map((pod) => `${pod.spec.nodeName}/${zoneOf.get(pod.spec.nodeName ?? '')}`).sort().join(' ');
}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'key-server-spread-'));
  cluster = await startCluster({ nodes: singleNode });
}, 240_000);

afterAll(async () => {
  await cluster?.stop();
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

describe('on a single node', () => {
  const workload = keyServerWorkload(distDirectory);

  it('every replica the autoscaler may ask for schedules and becomes ready under dist/\'s constraints', async () => {
    const replicas = workload.autoscaler?.maxReplicas ?? 3;
    await applyWithDevCertificate(cluster, workload, join(scratch, 'dist-cert'));
    const pods = await scaleAndSettle(workload, replicas);
    expect(unschedulablePods(pods)).toEqual([]);
    expect(new Set([...pods.values()].map((pod) => pod.spec.nodeName))).toEqual(new Set([singleNode[0].name]));
    console.log(`single node: ${replicas} of ${replicas} replicas scheduled and ready on ${singleNode[0].name}`);
  });

  it('negative control: a hard constraint one node cannot meet (required anti-affinity per host) leaves a replica Pending, and the check names it', async () => {
    const { namespace } = workload.target;
    const labels = { 'app.kubernetes.io/name': 'negative-control' };
    const template = (workload.deployment.spec as unknown as { template: { spec: Record<string, unknown> } }).template.spec;
    const manifest = JSON.stringify({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'negative-control', namespace },
      spec: {
        replicas: 2, selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { ...template, topologySpreadConstraints: undefined, affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: labels }, topologyKey: 'kubernetes.io/hostname' }] } } },
        },
      },
    });
    await kubectlOk(['create', '-f', '-'], manifest);
    try {
      const pods = await waitForCollection<Pod>(cluster, `/api/v1/namespaces/${namespace}/pods?labelSelector=${encodeURIComponent(labelSelector(labels))}`,
        'one running and one unschedulable pod', (all) => availableCount(all) === 1 && unschedulablePods(all).some((line) => /anti-affinity/.test(line)),
        { describe: describePods });
      expect(unschedulablePods(pods)).toEqual([expect.stringMatching(/didn't match pod anti-affinity rules/)]);
    } finally {
      await kubectlOk(['-n', namespace, 'delete', 'deployment', 'negative-control', '--wait=true']);
      await kubectlOk(['-n', namespace, 'delete', 'deployment', workload.target.deploymentName, '--wait=true']);
    }
  });
});

describe('with spreadAcrossZones, on nodes in three zones', () => {
  let workload: KeyServerWorkload;

  beforeAll(async () => {
    workload = synthesizeVariant('spread-across-zones', { spreadAcrossZones: true });
    await cluster.addNodes(moreNodes);
    await waitForCollection<Pod>(cluster, podsPath(workload), 'no key server pods left from the single-node tests', (pods) => pods.size === 0);
    await applyWithDevCertificate(cluster, workload, join(scratch, 'zones-cert'));
  }, 120_000);

  it('puts one replica in each zone, although zone-a has two nodes', async () => {
    const zones = new Set(zoneOf.values()).size;
    const pods = await scaleAndSettle(workload, zones);
    console.log(`spreadAcrossZones, ${zones} replicas: ${placement(pods)}`);
    expect(sharedZones(pods)).toEqual([]);
  });

  it('negative control: with zones b and c cordoned, replicas still schedule (the constraint is a preference) and the check names the shared zone', async () => {
    const cordoned = moreNodes.filter((node) => node.zone !== 'zone-a').map((node) => node.name);
    await kubectlOk(['cordon', ...cordoned]);
    try {
      const { namespace, deploymentName } = workload.target;
      await kubectlOk(['-n', namespace, 'rollout', 'restart', `deployment/${deploymentName}`]);
      await kubectlOk(['-n', namespace, 'rollout', 'status', `deployment/${deploymentName}`, '--timeout=60s']);
      const zones = new Set(zoneOf.values()).size;
      const pods = await waitForCollection<Pod>(cluster, podsPath(workload), 'restarted pods settled',
        (all) => all.size === zones && availableCount(all) === zones, { describe: describePods });
      console.log(`zones b and c cordoned: ${placement(pods)}`);
      expect(unschedulablePods(pods)).toEqual([]);
      expect(sharedZones(pods)).toEqual([expect.stringMatching(/^zone-a: /)]);
    } finally {
      await kubectlOk(['uncordon', ...cordoned]);
    }
  });
});
