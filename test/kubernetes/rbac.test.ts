// RBAC as a real kube-apiserver evaluates it (`kubectl auth can-i --as=system:serviceaccount:NS:NAME`): every
// ServiceAccount the manifests create or their pods run as may do what Prometheus' service discovery needs in each
// namespace it watches, and nothing else: no Secrets, no writes, no escalate/bind/impersonate, no other namespace.
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { Chart, Testing } from 'cdk8s';
import { DiscoveryScope, KeyServerApp, StandaloneMonitoring } from '../../constructs';
import { runbookBaseUrl } from '../../main';
import { readObjects, toYamlStream, type KubeObject } from '../../scripts/common/manifests';
import { serverSideApplyArgs, startControlPlane, type ControlPlane } from './helpers/control-plane';

const repositoryRoot = resolve(__dirname, '..', '..');
const directories = [join(repositoryRoot, 'dist'), join(repositoryRoot, 'dist', 'standalone')];
const objects = directories.flatMap((directory) => readObjects(directory));

/** What each Kubernetes service discovery role lists and watches (Prometheus' discovery/kubernetes). */
const resourcesOfRole: Readonly<Record<string, readonly string[]>> = {
  endpoints: ['endpoints', 'services', 'pods'],
  endpointslice: ['endpointslices.discovery.k8s.io', 'services', 'pods'],
  pod: ['pods'],
  service: ['services'],
  ingress: ['ingresses.networking.k8s.io'],
  node: ['nodes'],
};

/**
 * An identity no manifest binds: what the API server lets it do is what every authenticated identity gets from
 * the default ClusterRoles (self reviews, ClusterTrustBundles, discovery), which no manifest of ours can take away.
 */
const unboundUser = 'system:serviceaccount:key-server:rbac-test-unbound';

/** A namespace the manifests never touch: nothing of ours may read it. */
const foreignNamespace = 'default';

interface Need { readonly namespace: string | undefined; readonly resource: string }

/** Every (namespace, resource) the standalone Prometheus discovers, read from the prometheus.yml it is given. */
function discoveryNeeds(): { serviceAccount: string; namespace: string; needs: Need[] } {
  const configMap = objects.find((object) => object.kind === 'ConfigMap' && object.metadata.name === 'prometheus-config') as KubeObject & { data: Record<string, string> };
  const prometheus = objects.find((object) => object.kind === 'StatefulSet' && object.metadata.name === 'prometheus') as KubeObject & { spec: { template: { spec: { serviceAccountName: string } } } };
  const config = parse(configMap.data['prometheus.yml']) as { scrape_configs: Array<{ kubernetes_sd_configs?: Array<{ role: string; namespaces?: { names?: string[] } }> }> };
  const needs = config.scrape_configs.flatMap((scrape) => scrape.kubernetes_sd_configs ?? []).flatMap((sd) => {
    const resources = resourcesOfRole[sd.role];
    if (resources === undefined) throw new Error(`unknown kubernetes_sd_configs role '${sd.role}'`);
    const namespaces = sd.role === 'node' ? [undefined] : sd.namespaces?.names ?? [undefined];
    return namespaces.flatMap((namespace) => resources.map((resource) => ({ namespace, resource })));
  });
  return { serviceAccount: prometheus.spec.template.spec.serviceAccountName, namespace: prometheus.metadata.namespace as string, needs };
}

/** `system:serviceaccount:NS:NAME` of every ServiceAccount created, and of every one a pod runs as. */
function serviceAccountsInUse(): string[] {
  const created = objects.filter((object) => object.kind === 'ServiceAccount').map((object) => `${object.metadata.namespace}:${object.metadata.name}`);
  const usedByPods = objects
    .filter((object) => (object as { spec?: { template?: unknown } }).spec?.template !== undefined)
    .map((object) => `${object.metadata.namespace}:${(object as unknown as { spec: { template: { spec: { serviceAccountName?: string } } } }).spec.template.spec.serviceAccountName ?? 'default'}`);
  return [...new Set([...created, ...usedByPods])].sort().map((account) => `system:serviceaccount:${account}`);
}

describe('RBAC of every ServiceAccount, as a real kube-apiserver evaluates it', () => {
  let controlPlane: ControlPlane;
  const discovery = discoveryNeeds();
  const prometheusUser = `system:serviceaccount:${discovery.namespace}:${discovery.serviceAccount}`;
  const accounts = serviceAccountsInUse();

  beforeAll(async () => {
    controlPlane = await startControlPlane({ crdFiles: undefined });
    for (const directory of directories) {
      const applied = await controlPlane.kubectl(serverSideApplyArgs(directory));
      if (applied.code !== 0) throw new Error(`apply ${directory} failed: ${applied.stderr}`);
    }
  }, 600_000);

  afterAll(async () => {
    await controlPlane?.stop();
  });

  /** `kubectl auth can-i` as `user`: true when the API server answers yes. */
  async function can(user: string, verb: string, resource: string, namespace: string | undefined): Promise<boolean> {
    // `nodes/metrics` is a subresource; kubectl would read `<resource>/<x>` as the object named x.
    const [kind, subresource] = resource.startsWith('/') ? [resource] : resource.split('/');
    const result = await controlPlane.kubectl(['auth', 'can-i', verb, kind, ...(subresource === undefined ? [] : [`--subresource=${subresource}`]),
      `--as=${user}`, ...(namespace === undefined ? [] : ['-n', namespace])]);
    if (result.stdout.trim() !== 'yes' && result.stdout.trim() !== 'no') throw new Error(`can-i gave no answer: ${result.stderr}`);
    return result.stdout.trim() === 'yes';
  }

  it('finds the identities to check: the key server\'s and Prometheus\'', () => {
    expect(accounts).toEqual(expect.arrayContaining([prometheusUser, 'system:serviceaccount:key-server:key-server']));
    expect(discovery.needs.length).toBeGreaterThan(0);
  });

  it('lets Prometheus get, list and watch everything its service discovery reads, in each namespace it watches', async () => {
    const refused: string[] = [];
    for (const { namespace, resource } of discovery.needs) {
      for (const verb of ['get', 'list', 'watch']) {
        if (!(await can(prometheusUser, verb, resource, namespace))) refused.push(`${verb} ${resource} in ${namespace ?? 'the cluster'}`);
      }
    }
    expect(refused).toEqual([]);
  });

  /** Requests no identity of ours may make, in its own namespace, a foreign one and cluster-wide. */
  const forbidden: ReadonlyArray<readonly [string, string]> = [
    ['get', 'secrets'], ['list', 'secrets'], ['watch', 'secrets'],
    ['create', 'pods'], ['delete', 'pods'], ['update', 'services'], ['patch', 'deployments.apps'], ['create', 'pods/exec'],
    ['create', 'configmaps'], ['create', 'roles.rbac.authorization.k8s.io'], ['create', 'rolebindings.rbac.authorization.k8s.io'],
    ['escalate', 'roles.rbac.authorization.k8s.io'], ['bind', 'clusterroles.rbac.authorization.k8s.io'],
    ['impersonate', 'users'], ['impersonate', 'serviceaccounts'], ['create', 'serviceaccounts/token'],
    ['*', '*'],
  ];

  it.each(accounts)('denies %s Secrets, writes, escalate, bind and impersonate, anywhere', async (user) => {
    const namespace = user.split(':')[2];
    const allowed: string[] = [];
    for (const scope of [namespace, foreignNamespace, undefined]) {
      for (const [verb, resource] of forbidden) {
        if (await can(user, verb, resource, scope)) allowed.push(`${verb} ${resource} in ${scope ?? 'the cluster'}`);
      }
    }
    expect(allowed).toEqual([]);
  });

  it.each(accounts)('denies %s any read outside the namespaces it watches', async (user) => {
    const allowed: string[] = [];
    for (const resource of ['pods', 'services', 'endpoints', 'endpointslices.discovery.k8s.io', 'configmaps', 'nodes']) {
      for (const scope of [foreignNamespace, 'kube-system']) if (await can(user, 'list', resource, scope)) allowed.push(`list ${resource} in ${scope}`);
    }
    expect(allowed).toEqual([]);
  });

  it('lets a cluster-wide standalone Prometheus read what its jobs discover, nodes\' metrics included, and nothing more', async () => {
    const namespace = 'cluster-monitoring';
    const chart = new Chart(Testing.app(), 'cluster-monitoring', { disableResourceNameHashes: true });
    const monitoring = new StandaloneMonitoring(chart, 'monitoring', {
      keyServer: KeyServerApp.fromAttributes(chart, 'key-server'), runbookBaseUrl, namespace,
      caSecret: { name: 'key-server-ca', key: 'ca.crt' }, discovery: DiscoveryScope.cluster(),
    });
    const identity = Testing.synth(chart).filter((object) => ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding'].includes(object.kind));
    const applied = await controlPlane.kubectl(['apply', '-f', '-'], toYamlStream([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }, ...identity]));
    if (applied.code !== 0) throw new Error(`apply failed: ${applied.stderr}`);
    const user = `system:serviceaccount:${namespace}:${monitoring.rbac.serviceAccountName}`;
    const roles = monitoring.prometheusConfig.scrape_configs.flatMap((job) => (job.kubernetes_sd_configs ?? []) as Array<{ role: string }>).map((sd) => sd.role);
    const needs = [...new Set(roles.flatMap((role) => resourcesOfRole[role]))];
    const refused: string[] = [];
    for (const resource of needs) {
      for (const verb of ['get', 'list', 'watch']) if (!(await can(user, verb, resource, undefined))) refused.push(`${verb} ${resource}`);
    }
    // The kubelet authorizes /metrics/cadvisor as `get nodes/metrics` (its SubjectAccessReview).
    if (!(await can(user, 'get', 'nodes/metrics', undefined))) refused.push('get nodes/metrics');
    expect(refused).toEqual([]);
    const beyond: string[] = [];
    for (const [verb, resource] of [['list', 'ingresses.networking.k8s.io'], ['get', '/metrics'], ['list', 'secrets'], ['list', 'configmaps'], ['get', 'nodes/proxy']]) {
      if (await can(user, verb, resource, undefined)) beyond.push(`${verb} ${resource}`);
    }
    expect(beyond).toEqual([]);
  });

  /** The resource rows of `kubectl auth can-i --list` as `user` in `namespace`: [resource, ..., verbs]. */
  async function listedRules(user: string, namespace: string): Promise<string[][]> {
    const listed = await controlPlane.kubectl(['auth', 'can-i', '--list', `--as=${user}`, '-n', namespace]);
    if (listed.code !== 0) throw new Error(`can-i --list failed: ${listed.stderr}`);
    return listed.stdout.trim().split('\n').slice(1).map((line) => line.trim().split(/\s{2,}/))
      .filter(([resource]) => resource !== '' && !resource.startsWith('['));
  }

  it.each(accounts)('grants %s only read verbs, as `kubectl auth can-i --list` shows', async (user) => {
    const namespace = user.split(':')[2];
    const grantedToEveryone = new Set((await listedRules(unboundUser, namespace)).map((row) => row.join(' ')));
    const resourceRows = (await listedRules(user, namespace)).filter((row) => !grantedToEveryone.has(row.join(' ')));
    const writeRows = resourceRows.filter((row) => !/^\[(?:(?:get|list|watch)\s?)+\]$/.test(row[row.length - 1]));
    expect(writeRows).toEqual([]);
    const readable = resourceRows.map(([resource]) => resource).sort();
    if (user === prometheusUser) {
      expect(readable).toEqual([...new Set(discovery.needs.filter((need) => need.namespace === namespace).map((need) => need.resource))].sort());
    } else {
      expect(readable).toEqual([]); // the key server (and any pod's default account) can do nothing
    }
  });
});
