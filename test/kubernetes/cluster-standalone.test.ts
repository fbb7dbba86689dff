// dist/standalone/ on a cluster without containers: its pods (the key server, Prometheus and Alertmanager with
// their claims, Grafana) are scheduled and ready where volumes allow, and Prometheus' own service discovery, run by
// the real promtool with Prometheus' ServiceAccount token, finds the key server's pods with the labels every alert
// and dashboard selects, and the annotation-driven jobs find an annotated Service and pod. Nothing is scraped.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { KubeObject } from '../../scripts/common/manifests';
import { metricCatalogue, type MetricDefinition } from '../../server/metric-catalogue';
import { runNpmScript } from '../delivery/helpers/fake-kubectl';
import { fetchText } from '../server/helpers/http';
import { startTestServer } from '../server/helpers/server';
import { startCluster, type TestCluster } from './helpers/cluster';
import { waitForCollection, type Snapshot } from './helpers/collections';
import { promisedEndpointPorts, readyEndpointPods, type EndpointSlice } from './helpers/endpoints';
import { nodesInZones } from './helpers/fake-nodes';
import {
  applyWithDevCertificate, availableCount, containerConfig, describePods, leftoverObjects, desiredReplicas, keyServerWorkload, labelSelector, standaloneDirectory, unschedulablePods, type Pod,
} from './helpers/key-server-workload';
import { unsatisfiedPodReferences } from './helpers/pod-references';
import { discoverTargets, labelMatchers, satisfies, serviceAccountKubeconfig, withKubeconfig, type DiscoveryResult } from './helpers/service-discovery';

// Every wait below has its own deadline and says what it waited for; this only backstops them on a busy machine.
jest.setTimeout(120_000);

const workload = keyServerWorkload(standaloneDirectory);
const { namespace } = workload.target;
const nodes = nodesInZones(3);

interface ClaimTemplate { metadata: { name: string }; spec: { accessModes: string[]; resources: { requests: { storage: string } } } }
interface Workload extends KubeObject {
  spec: { replicas?: number; serviceName?: string; volumeClaimTemplates?: ClaimTemplate[]; template: { spec: { serviceAccountName?: string } } };
}
const workloads = workload.objects.filter((object) => ['Deployment', 'StatefulSet'].includes(object.kind) && object.metadata.namespace === namespace) as Workload[];
const statefulSets = workloads.filter((object) => object.kind === 'StatefulSet');
const prometheus = statefulSets.find((object) => object.metadata.labels?.['app.kubernetes.io/name'] === 'prometheus');
/** Every pod the manifests ask for: each workload's replicas, the key server's being the autoscaler's floor. */
const expectedPods = workloads.reduce((sum, object) => sum + (object.metadata.name === workload.target.deploymentName ? desiredReplicas(workload) : object.spec.replicas ?? 1), 0);

/** The claims the StatefulSets' volumeClaimTemplates create: `<template>-<statefulset>-<ordinal>`, with their size. */
const claims = statefulSets.flatMap((set) => (set.spec.volumeClaimTemplates ?? []).flatMap((template) =>
  Array.from({ length: set.spec.replicas ?? 1 }, (_, ordinal) => ({ name: `${template.metadata.name}-${set.metadata.name}-${ordinal}`, pod: `${set.metadata.name}-${ordinal}`, template }))));

/** Values of every ConfigMap in the manifests, parsed by `parseValue` where it recognises them. */
function configMapValues<T>(parseValue: (text: string) => T | undefined): T[] {
  return workload.objects.filter((object) => object.kind === 'ConfigMap')
    .flatMap((object) => Object.values((object as unknown as { data?: Record<string, string> }).data ?? {}))
    .map((text) => { try { return parseValue(text); } catch { return undefined; } })
    .filter((value): value is T => value !== undefined);
}
const prometheusYml = configMapValues((text) => ((parse(text) as { scrape_configs?: unknown })?.scrape_configs === undefined ? undefined : text))[0];
interface Rule { alert?: string; record?: string; expr: string }
const rules = configMapValues((text) => (parse(text) as { groups?: Array<{ rules: Rule[] }> })?.groups).flat().flatMap((group) => group.rules);
const ruleExpressions = rules.map((rule) => String(rule.expr));
type Panel = { targets?: Array<{ expr?: string }>; panels?: Panel[] };
const dashboardExpressions = configMapValues((text) => (JSON.parse(text) as { panels?: Panel[] }).panels)
  .flat().flatMap(function expressions(panel: Panel): string[] {
    return [...(panel.targets ?? []).flatMap((target) => (target.expr === undefined ? [] : [target.expr])), ...(panel.panels ?? []).flatMap(expressions)];
  });

let cluster: TestCluster;
let scratch: string;
let certificate: { certFile: string; keyFile: string };

const allPodsPath = `/api/v1/namespaces/${namespace}/pods`;

async function kubectlOk(args: readonly string[], input?: string): Promise<string> {
  const result = await cluster.kubectl(args, input);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

/** The SD config as emitted, pointed at the cluster as `serviceAccount`. */
async function discoveryConfig(serviceAccount: string): Promise<string> {
  const file = join(scratch, `prometheus-${serviceAccount}.yml`);
  writeFileSync(file, withKubeconfig(prometheusYml, await serviceAccountKubeconfig(cluster, namespace, serviceAccount)));
  return file;
}

beforeAll(async () => {
  if (prometheus === undefined || prometheusYml === undefined) throw new Error('dist/standalone/ has no Prometheus StatefulSet or prometheus.yml');
  scratch = mkdtempSync(join(tmpdir(), 'key-server-standalone-'));
  cluster = await startCluster({ nodes });
  certificate = await applyWithDevCertificate(cluster, workload, join(scratch, 'cert'));
}, 240_000);

afterAll(async () => {
  await cluster?.stop();
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

describe('dist/standalone/ pods on fake nodes', () => {
  it('read only Secrets and ConfigMaps that exist once the README\'s grafana-admin Secret is created (before it, the check names it)', async () => {
    await waitForCollection<Pod>(cluster, allPodsPath, 'every pod created', (pods) => pods.size === expectedPods, { describe: describePods });
    const before = await unsatisfiedPodReferences(cluster, namespace);
    expect(before).toEqual([expect.stringMatching(/^grafana-.*: Secret grafana-admin does not exist/), expect.stringMatching(/^grafana-.*: Secret grafana-admin does not exist/)]);
    await kubectlOk(['-n', namespace, 'create', 'secret', 'generic', 'grafana-admin', '--from-literal=admin-user=admin', '--from-literal=admin-password=test-only']);
    expect(await unsatisfiedPodReferences(cluster, namespace)).toEqual([]);
  });

  it('stay unscheduled while the StatefulSets\' claims find no StorageClass or volume (a cluster without a provisioner)', async () => {
    const pods = await waitForCollection<Pod>(cluster, allPodsPath, 'the StatefulSets\' pods unschedulable for their claims',
      (all) => unschedulablePods(all).filter((line) => /unbound immediate PersistentVolumeClaims/.test(line)).length === statefulSets.length,
      { describe: (all) => unschedulablePods(all).join('\n') });
    const pending = unschedulablePods(pods);
    console.log(`without a StorageClass:\n  ${pending.join('\n  ')}`);
    expect(pending.map((line) => line.split(':')[0]).sort()).toEqual(statefulSets.map((set) => `${set.metadata.name}-0`).sort());
    const claimPhases = JSON.parse(await kubectlOk(['-n', namespace, 'get', 'pvc', '-o', 'json'])) as { items: Array<{ metadata: { name: string }; status: { phase: string } }> };
    expect(claimPhases.items.map((claim) => `${claim.metadata.name}=${claim.status.phase}`).sort()).toEqual(claims.map((claim) => `${claim.name}=Pending`).sort());
  });

  it('are all scheduled and ready once a default local StorageClass has a volume per claim (claims bound on the volumes\' nodes)', async () => {
    const storageClass = { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'local', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'WaitForFirstConsumer' };
    // One local volume per claim, each pinned to a node, sized as its template asks and reserved for its claim (else
    // the small claim may take the large volume first, as the scheduler prefers any node with a fitting volume):
    // what an operator of a cluster without a provisioner prepares. The paths are data only.
    const volumes = claims.map((claim, index) => ({
      apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: `local-${claim.name}` },
      spec: {
        capacity: { storage: claim.template.spec.resources.requests.storage }, accessModes: claim.template.spec.accessModes,
        claimRef: { namespace, name: claim.name },
        storageClassName: 'local', persistentVolumeReclaimPolicy: 'Retain', local: { path: `/mnt/disks/${claim.name}` },
        nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [nodes[index % nodes.length].name] }] }] } },
      },
    }));
    const started = Date.now();
    await kubectlOk(['create', '-f', '-'], [storageClass, ...volumes].map((object) => stringify(object)).join('---\n'));
    const pods = await waitForCollection<Pod>(cluster, allPodsPath, `${expectedPods} ready pods`,
      (all) => all.size === expectedPods && availableCount(all) === expectedPods, { describe: describePods, timeoutMs: 90_000 });
    console.log(`standalone ready ${((Date.now() - started) / 1000).toFixed(1)} s after the volumes existed:\n  ${describePods(pods).split('\n').join('\n  ')}`);
    const bound = JSON.parse(await kubectlOk(['-n', namespace, 'get', 'pvc', '-o', 'json'])) as { items: Array<{ metadata: { name: string }; spec: { volumeName: string }; status: { phase: string } }> };
    expect(bound.items.map((claim) => `${claim.metadata.name}=${claim.status.phase}:${claim.spec.volumeName}`).sort())
      .toEqual(claims.map((claim) => `${claim.name}=Bound:local-${claim.name}`).sort());
    for (const [index, claim] of claims.entries()) {
      const pod = [...pods.values()].find((candidate) => candidate.metadata.name === claim.pod);
      expect({ claim: claim.name, node: pod?.spec.nodeName }).toEqual({ claim: claim.name, node: nodes[index % nodes.length].name });
    }
  }, 120_000);
});

describe('Prometheus service discovery (promtool check service-discovery, nothing scraped)', () => {
  interface ScrapeJob { job_name: string; kubernetes_sd_configs?: Array<{ role: string }>; relabel_configs?: Array<{ source_labels?: string[] }> }
  const discoveringJobs = (parse(prometheusYml) as { scrape_configs: ScrapeJob[] }).scrape_configs.filter((job) => (job.kubernetes_sd_configs?.length ?? 0) > 0);
  /** Jobs that keep whatever carries a `prometheus.io/scrape` annotation (kube-prometheus' and Helm charts' convention). */
  const annotationDriven = (job: ScrapeJob) => (job.relabel_configs ?? []).some((rule) => (rule.source_labels ?? []).some((label) => /annotation_prometheus_io_scrape$/.test(label)));
  /**
   * Jobs with static targets scrape Prometheus and Alertmanager themselves (not discovered, so promtool does not
   * list them); each exports the families named after its program, which the meta-monitoring alerts read.
   */
  const selfScrapedJobs = (parse(prometheusYml) as { scrape_configs: Array<ScrapeJob & { static_configs?: unknown[] }> }).scrape_configs
    .filter((job) => job.static_configs !== undefined && ['prometheus', 'alertmanager'].includes(job.job_name))
    .map((job) => job.job_name);
  const selfScrapedPrefixes = selfScrapedJobs.map((job) => `${job}_`);
  /** What the key server's series must satisfy: every matcher but those selecting the self-scraped jobs. */
  const matchers = labelMatchers([...ruleExpressions, ...dashboardExpressions], ['job', 'namespace', 'pod'])
    .filter((matcher) => !(matcher.label === 'job' && selfScrapedJobs.includes(matcher.value)));
  const exporterLabels = { 'app.kubernetes.io/name': 'annotated-exporter' };
  const scrapeAnnotations = { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8080', 'prometheus.io/path': '/custom-metrics' };
  let keyServerPods: Snapshot<Pod>;
  let results: Array<{ job: ScrapeJob } & DiscoveryResult>;
  let asDefaultServiceAccount: DiscoveryResult;

  /** An exporter of someone else's, announced the conventional way: annotations on its Service and on its pod. */
  async function createAnnotatedExporter(): Promise<void> {
    const container = {
      name: 'exporter', image: 'registry.example/exporter:1', ports: [{ name: 'http-metrics', containerPort: 8080 }],
      securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: 'RuntimeDefault' } },
    };
    await kubectlOk(['-n', namespace, 'apply', '--server-side', '-f', '-'], [
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'annotated-exporter', namespace, labels: exporterLabels, annotations: scrapeAnnotations }, spec: { containers: [container] } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'annotated-exporter', namespace, annotations: scrapeAnnotations }, spec: { selector: exporterLabels, ports: [{ name: 'http-metrics', port: 8080 }] } },
    ].map((object) => stringify(object)).join('---\n'));
    await waitForCollection<Pod>(cluster, `${allPodsPath}?labelSelector=${encodeURIComponent(labelSelector(exporterLabels))}`, 'annotated pod ready', (all) => availableCount(all) === 1);
    await waitForCollection<EndpointSlice>(cluster, `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices?labelSelector=${encodeURIComponent('kubernetes.io/service-name=annotated-exporter')}`,
      'annotated Service has its endpoint', (all) => readyEndpointPods(all).length === 1);
  }

  beforeAll(async () => {
    keyServerPods = await waitForCollection<Pod>(cluster, `${allPodsPath}?labelSelector=${encodeURIComponent(labelSelector(workload.selector))}`,
      'settled key server pods', (all) => all.size === desiredReplicas(workload) && availableCount(all) === all.size);
    await createAnnotatedExporter();
    // Every discovering job at once, as Prometheus' own ServiceAccount (its Role is what discovery may read), and the
    // negative control's run as the default ServiceAccount beside them: each promtool run lasts its whole timeout.
    const config = await discoveryConfig(prometheus?.spec.template.spec.serviceAccountName ?? 'default');
    const withoutRole = await discoveryConfig('default');
    [results, asDefaultServiceAccount] = await Promise.all([
      Promise.all(discoveringJobs.map(async (job) => ({ job, ...(await discoverTargets(config, job.job_name)) }))),
      discoverTargets(withoutRole, discoveringJobs[0].job_name),
    ]);
    for (const result of results) {
      console.log(`${result.job.job_name} (${result.job.kubernetes_sd_configs?.[0].role}): kept ${result.kept.map((target) => `${target.pod} ${target.__address__}${target.__metrics_path__} job=${target.job}`).join(', ') || 'none'}; dropped ${result.dropped}`);
    }
  }, 120_000);

  it('finds every key server pod once, on its metrics port, with the job and namespace every alert and dashboard selects and the pod they group by', () => {
    const alertJob = matchers.find((matcher) => matcher.label === 'job' && matcher.operator === '=')?.value;
    expect(matchers.map((matcher) => matcher.label)).toEqual(expect.arrayContaining(['job', 'namespace']));
    const keyServerTargets = results.flatMap((result) => result.kept).filter((labels) => labels.job === alertJob);
    const podNames = [...keyServerPods.values()].map((pod) => pod.metadata.name).sort();
    expect(keyServerTargets.map((labels) => labels.pod).sort()).toEqual(podNames);
    for (const labels of keyServerTargets) {
      expect({ pod: labels.pod, unmet: matchers.filter((matcher) => !satisfies(labels, matcher)) }).toEqual({ pod: labels.pod, unmet: [] });
      const pod = [...keyServerPods.values()].find((candidate) => candidate.metadata.name === labels.pod);
      expect(labels.__address__).toBe(`${pod?.status?.podIP}:${promisedEndpointPorts(workload).metrics}`);
    }
    console.log(`matchers checked on ${keyServerTargets.length} key server targets: ${matchers.map((m) => `${m.label}${m.operator}"${m.value}"`).join(' ')}`);
    for (const result of results) expect({ job: result.job.job_name, errors: result.log.split('\n').filter((line) => /^E\d{4}|forbidden/i.test(line)) }).toEqual({ job: result.job.job_name, errors: [] });
  });

  it('each annotation-driven job finds the annotated exporter at its annotated port and path, and leaves the key server to its own job', () => {
    const annotationJobs = results.filter((result) => annotationDriven(result.job));
    expect(annotationJobs.map((result) => result.job.kubernetes_sd_configs?.[0].role)).toEqual(expect.arrayContaining(['pod']));
    for (const result of annotationJobs) {
      expect({ job: result.job.job_name, kept: result.kept.map((target) => ({ pod: target.pod, namespace: target.namespace, port: target.__address__.split(':')[1], path: target.__metrics_path__ })) })
        .toEqual({ job: result.job.job_name, kept: [{ pod: 'annotated-exporter', namespace, port: scrapeAnnotations['prometheus.io/port'], path: scrapeAnnotations['prometheus.io/path'] }] });
    }
  });

  // FINDING (issue 15): with `role: endpoints` Prometheus lists and watches core/v1 Endpoints, which the API server
  // marks deprecated since v1.33 and answers with a warning on every request; the fix is `role: endpointslice`
  // (issue 12). The test holds before and after that change: a warning exactly where a job still uses v1 Endpoints.
  it('draws the API server\'s v1 Endpoints deprecation warning exactly for the jobs that discover with role: endpoints', () => {
    const warned = results.map((result) => ({ job: result.job.job_name, role: result.job.kubernetes_sd_configs?.[0].role, warned: /v1 Endpoints is deprecated/.test(result.log) }));
    console.log(`deprecation warnings: ${warned.map((entry) => `${entry.job} (${entry.role}): ${entry.warned ? 'warned' : 'none'}`).join(', ')}`);
    expect(warned).toEqual(warned.map((entry) => ({ ...entry, warned: entry.role === 'endpoints' })));
  });

  // Issue 15 found four alerts here with no source in standalone (kube-state-metrics and cAdvisor series no job
  // discovers); issue 12 left them out of standalone or moved them to the server's own process metrics. Nothing is
  // exempt any more.
  const alertsWithoutSourceInStandalone: string[] = [];
  it('every alert and dashboard query reads series the discovered targets (or Prometheus and Alertmanager themselves) export', async () => {
    // What the key server's target exports: the real server's exposition, run with the Deployment's flags and a
    // certificate (TLS adds the certificate series), by metric family, plus what a scrape adds.
    const server = await startTestServer({ ...containerConfig(workload), host: '127.0.0.1', srvPort: 0, metricsPort: 0, shutdownDelay: 0, tls: certificate });
    const exposition = await fetchText(`${server.addresses.metricsUrl as string}/metrics`, { ca: readFileSync(certificate.certFile, 'utf8') }).finally(() => server.stop());
    const families = [...exposition.body.matchAll(/^# TYPE (\S+) (\S+)$/gm)].flatMap(([, name, type]) =>
      (type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : type === 'summary' ? [name, `${name}_sum`, `${name}_count`] : [name]));
    const keyServerDiscovered = results.some((result) => result.kept.some((labels) => [...keyServerPods.values()].some((pod) => pod.metadata.name === labels.pod)));
    // The Deployment runs without access control or rate limiting; with either on, the same target exports its
    // metrics (auth_tokens_loaded, ...), and alerts on them are silent while it is off, by design.
    const featureFamilies = Object.values(metricCatalogue as Record<string, MetricDefinition>)
      .filter((definition) => definition.exportedWhen === 'accessControl' || definition.exportedWhen === 'rateLimit')
      .map((definition) => definition.name);
    const sourced = new Set([...(keyServerDiscovered ? [...families, ...featureFamilies] : []), 'up', 'scrape_duration_seconds', 'scrape_samples_scraped']);
    const metricsRead = (expression: string) => [...expression.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{/g)].map((match) => match[1]);
    // Recorded series count as sourced when everything their rule reads is.
    for (let changed = true; changed;) {
      changed = false;
      for (const rule of rules) {
        if (rule.record !== undefined && !sourced.has(rule.record) && metricsRead(rule.expr).every((name) => sourced.has(name))) {
          sourced.add(rule.record);
          changed = true;
        }
      }
    }
    const unsourced = (expression: string) => metricsRead(expression).filter((name) => !sourced.has(name) && !selfScrapedPrefixes.some((prefix) => name.startsWith(prefix)));
    const alertsWithout = rules.filter((rule) => rule.alert !== undefined && unsourced(rule.expr).length > 0);
    console.log(`alerts without a discovered source in standalone: ${alertsWithout.map((rule) => `${rule.alert} (${[...new Set(unsourced(rule.expr))].join(', ')})`).join('; ')}`);
    expect(alertsWithout.map((rule) => rule.alert).sort()).toEqual(alertsWithoutSourceInStandalone);
    expect(dashboardExpressions.filter((expression) => unsourced(expression).length > 0)).toEqual([]);
  });

  it('negative control: as the namespace\'s default ServiceAccount (no Role) discovery is forbidden and finds nothing', () => {
    expect(asDefaultServiceAccount.kept).toEqual([]);
    expect(asDefaultServiceAccount.log).toMatch(/forbidden/i);
  });
});

describe('npm run clean -- --dir dist/standalone/ (the README\'s quick path)', () => {
  it('removes every object of the project and, with the namespace, the StatefulSets\' claims and the Secrets users added', async () => {
    expect(await leftoverObjects(cluster, standaloneDirectory)).toEqual(expect.arrayContaining([`namespace/${namespace}`, `statefulset.apps/${prometheus?.metadata.name}`]));
    const result = await runNpmScript('clean', ['--dir', 'dist/standalone/'],
      { ...process.env, KUBECONFIG: cluster.kubeconfig, KUBECACHEDIR: join(cluster.directory, 'kube-cache') }, 120_000);
    expect(result.code).toBe(0);
    expect(await leftoverObjects(cluster, standaloneDirectory)).toEqual([]);
    const claimsLeft = JSON.parse(await kubectlOk(['get', 'pvc', '--all-namespaces', '-o', 'json'])) as { items: unknown[] };
    expect(claimsLeft.items).toEqual([]);
  }, 150_000);
});
