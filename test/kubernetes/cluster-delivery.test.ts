// npm run dev-cert, deploy, verify and clean as users run them (Debian's kubectl, a kubeconfig for the test cluster)
// against a cluster without containers: deploy's rollout wait is a real one, verify's port-forward goes through the
// API server and kwok's kubelet API to a real key server on 127.0.0.1 running the Deployment's own flags, and clean
// leaves nothing of the project behind.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runNpmScript } from '../delivery/helpers/fake-kubectl';
import { freePort } from '../server/helpers/http';
import { startTestServer, type RunningTestServer } from '../server/helpers/server';
import { startCluster, type TestCluster } from './helpers/cluster';
import { waitForCollection } from './helpers/collections';
import { promisedEndpointPorts } from './helpers/endpoints';
import { containerConfig, desiredReplicas, distDirectory, leftoverObjects, keyServerWorkload, podsPath, unschedulablePods, type Pod } from './helpers/key-server-workload';
import { unsatisfiedPodReferences } from './helpers/pod-references';
import { getJson } from './helpers/watch';

// Every wait below has its own deadline and says what it waited for; this only backstops them on a busy machine.
jest.setTimeout(120_000);

const workload = keyServerWorkload(distDirectory);
const { namespace, deploymentName, tlsSecretName } = workload.target;

let cluster: TestCluster;
let keyServer: RunningTestServer;
let certificateDirectory: string;
let environment: NodeJS.ProcessEnv;

async function deploymentStatus() {
  return getJson<{ spec: { replicas: number }; status: { availableReplicas?: number; updatedReplicas?: number; conditions?: Array<{ type: string; status: string }> } }>(
    cluster, `/apis/apps/v1/namespaces/${namespace}/deployments/${deploymentName}`);
}

beforeAll(async () => {
  certificateDirectory = mkdtempSync(join(tmpdir(), 'key-server-delivery-'));
  const madeCertificate = await runNpmScript('dev-cert', ['--out', certificateDirectory], process.env);
  if (madeCertificate.code !== 0) throw new Error(`npm run dev-cert: ${madeCertificate.stderr}`);
  // The key server behind every forwarded pod: the Deployment's flags, with the dev certificate and loopback ports.
  keyServer = await startTestServer({
    ...containerConfig(workload), host: '127.0.0.1', srvPort: 0, metricsPort: 0, shutdownDelay: 0,
    tls: { certFile: join(certificateDirectory, `${tlsSecretName}.crt`), keyFile: join(certificateDirectory, `${tlsSecretName}.key`) },
  });
  const containerPorts = promisedEndpointPorts(workload);
  cluster = await startCluster({
    podPortForwards: [
      { namespace, containerPort: containerPorts.https, localPort: Number(new URL(keyServer.addresses.url).port) },
      { namespace, containerPort: containerPorts.metrics, localPort: Number(new URL(keyServer.addresses.metricsUrl as string).port) },
    ],
  });
  environment = { ...process.env, KUBECONFIG: cluster.kubeconfig, KUBECACHEDIR: join(cluster.directory, 'kube-cache') };
}, 240_000);

afterAll(async () => {
  await keyServer?.stop();
  await cluster?.stop();
  if (certificateDirectory !== undefined) rmSync(certificateDirectory, { recursive: true, force: true });
});

describe('npm run deploy -- --dev-cert', () => {
  it('fails naming the rollout wait when no node can run the pods (the wait is real, not a formality)', async () => {
    const nodes = (await cluster.kubectl(['get', 'nodes', '-o', 'name'])).stdout.trim().split('\n');
    await cluster.kubectl(['cordon', ...nodes]);
    try {
      const result = await runNpmScript('deploy', ['--dev-cert', '--dev-cert-dir', certificateDirectory, '--timeout', '5s'], environment);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`deploy: FAILED: \`kubectl -n ${namespace} rollout status deployment/${deploymentName} --timeout=5s\` failed`);
      const pods = await waitForCollection<Pod>(cluster, podsPath(workload), 'a pending pod', (all) => unschedulablePods(all).length > 0);
      expect(unschedulablePods(pods).join('\n')).toMatch(/unschedulable/);
    } finally {
      // Back to a cluster without the Deployment, so the next deploy waits for a rollout from zero.
      await cluster.kubectl(['-n', namespace, 'delete', 'deployment', deploymentName, '--wait=true']);
      await cluster.kubectl(['uncordon', ...nodes]);
    }
  });

  it('applies dist/ with the dev certificate and returns once the Deployment is Available with the autoscaler\'s minimum of replicas', async () => {
    const desired = desiredReplicas(workload);
    const started = Date.now();
    const result = await runNpmScript('deploy', ['--dev-cert', '--dev-cert-dir', certificateDirectory], environment);
    const seconds = (Date.now() - started) / 1000;
    expect(result.stdout).toContain(`deployment "${deploymentName}" successfully rolled out`);
    expect(result.code).toBe(0);
    const { spec, status } = await deploymentStatus();
    expect(status.conditions?.find((condition) => condition.type === 'Available')?.status).toBe('True');
    // A new Deployment starts at one replica and is Available there; before the fix deploy returned at 1 of 1 and the
    // autoscaler's floor came one HPA sync later. Now the script waits for the floor (unless the autoscaler was
    // quicker than the first rollout) and its rollout.
    expect({ replicas: spec.replicas, updated: status.updatedReplicas, available: status.availableReplicas }).toEqual({ replicas: desired, updated: desired, available: desired });
    const waited = result.stderr.includes(`waiting for the autoscaler to raise ${deploymentName}`);
    console.log(`npm run deploy -- --dev-cert returned after ${seconds.toFixed(1)} s with ${status.availableReplicas} of ${spec.replicas} replicas available (${waited ? 'it waited for the autoscaler' : 'the autoscaler was quicker than the first rollout'})`);
  });

  it('leaves every Secret and ConfigMap key the pods read present (what a kubelet needs to start them)', async () => {
    expect(await unsatisfiedPodReferences(cluster, namespace)).toEqual([]);
  });
});

describe('npm run verify', () => {
  const verifyEnvironment = async () => ({
    ...environment, KEY_SERVER_VERIFY_HTTPS_PORT: String(await freePort()), KEY_SERVER_VERIFY_METRICS_PORT: String(await freePort()),
  });

  it('gets a key, /ready and /metrics over verified TLS through kubectl port-forward, the API server and kwok', async () => {
    const result = await runNpmScript('verify', [], await verifyEnvironment());
    expect(result.stderr).toContain('ok   GET /key/32 returns 32 random bytes in hex');
    expect(result.stderr).toContain('ok   GET /ready is 200');
    expect(result.stderr).toContain("ok   GET /metrics on the metrics port has the key server's series");
    expect(result.code).toBe(0);
  });

  it('negative control: fails once the key server behind the forward is gone', async () => {
    await keyServer.stop();
    const result = await runNpmScript('verify', [], await verifyEnvironment());
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('verify: FAILED: GET /key/32 returns 32 random bytes in hex: request failed');
  });
});

describe('npm run clean', () => {
  it('removes every object of the project, namespaced and cluster-scoped, and the dev certificate\'s Secret with its namespace', async () => {
    const before = await leftoverObjects(cluster, distDirectory);
    expect(before).toEqual(expect.arrayContaining([`namespace/${namespace}`, `deployment.apps/${deploymentName}`, `secret/${tlsSecretName}`]));
    const result = await runNpmScript('clean', [], environment, 120_000);
    expect(result.code).toBe(0);
    expect(await leftoverObjects(cluster, distDirectory)).toEqual([]);
  }, 150_000);
});
