// The real Prometheus (the pinned 3.13) applies the standalone prometheus.yml's relabelling to what discovery would
// find: kube-state-metrics and cAdvisor series keep the labels the Kubernetes alerts select, and annotated targets
// get the annotation's port on IPv4 and IPv6 pod addresses alike.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { PrometheusConfig, standalonePrometheusConfig } from '../../../constructs/monitoring/prometheus-config';
import { keyServerRuleGroups } from '../../../constructs/monitoring/rules/key-server-rules';
import { runbookBaseUrl } from '../../../main';
import { startPrometheus, type RunningPrometheus } from '../../e2e/prometheus';
import { waitFor } from '../../e2e/processes';

const target = { namespace: 'key-server', job: 'key-server', deployment: 'key-server', container: 'key-server' };
const pod = 'key-server-7c9f8d6b5d-x2k4q';
const series = `namespace="${target.namespace}",pod="${pod}"`;
const container = `${series},container="${target.container}"`;
const startedAt = Date.now();

/** What kube-state-metrics reports about a key server pod in trouble: not ready, a replica missing, near both limits. */
function kubeStateMetrics(): string {
  return [
    `kube_pod_status_ready{${series},condition="true"} 0`,
    ...['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'].map((phase) => `kube_pod_status_phase{${series},phase="${phase}"} ${phase === 'Running' ? 1 : 0}`),
    `kube_deployment_spec_replicas{namespace="${target.namespace}",deployment="${target.deployment}"} 2`,
    `kube_deployment_status_replicas_available{namespace="${target.namespace}",deployment="${target.deployment}"} 1`,
    `kube_pod_container_resource_limits{${container},resource="cpu",unit="core"} 1`,
    `kube_pod_container_resource_limits{${container},resource="memory",unit="byte"} 134217728`,
    '',
  ].join('\n');
}

/**
 * What a kubelet's cAdvisor reports about the same container: CPU over its 1-core limit, 127 MiB of 128 in use.
 * The CPU counter grows 1000 s per second because the alert's rate() divides by its 5-minute window and this test
 * scrapes for seconds; only the labels matter here.
 */
function cadvisor(): string {
  const cpuSeconds = Date.now() - startedAt;
  return [
    `container_cpu_usage_seconds_total{${container},cpu="total",id="/kubepods/x",image="key-server",name="x"} ${cpuSeconds}`,
    `container_memory_working_set_bytes{${container},id="/kubepods/x",image="key-server",name="x"} 133169152`,
    '',
  ].join('\n');
}

/** The annotated targets discovery would find, by job: their meta labels and the address discovery gives them. */
interface DiscoveredTarget {
  readonly address: string;
  readonly labels: Record<string, string>;
}

/**
 * Each discovered job gets static targets whose labels are the meta labels Kubernetes discovery would give (an API
 * server is not part of this test); the job's real relabel_configs and honor_labels then run unchanged. Only the
 * kubelet job's transport changes (plain http to the fake exporter, no token).
 */
function withStaticTargets(config: PrometheusConfig, discovered: Record<string, DiscoveredTarget[]>): PrometheusConfig {
  const scrapeConfigs = config.scrape_configs
    .filter((job) => job.job_name in discovered)
    .map((job) => {
      const { kubernetes_sd_configs: _swapped, authorization: _token, tls_config: _tls, ...rest } = job;
      return {
        ...rest,
        scheme: 'http',
        scrape_interval: '1s',
        static_configs: discovered[job.job_name].map((target) => ({ targets: [target.address], labels: target.labels })),
      };
    });
  return { ...config, global: { scrape_interval: '1s', scrape_timeout: '500ms', evaluation_interval: '1s' }, alerting: {}, rule_files: [], scrape_configs: scrapeConfigs };
}

/** What endpointslice discovery gives a Service's endpoint backed by a pod (the Service annotated for scraping). */
function serviceEndpoint(address: string, podIp: string, annotations: Record<string, string>): DiscoveredTarget {
  return {
    address,
    labels: {
      __meta_kubernetes_namespace: 'kube-system',
      __meta_kubernetes_service_name: 'kube-state-metrics',
      __meta_kubernetes_endpointslice_port_name: 'http-metrics',
      __meta_kubernetes_service_label_app_kubernetes_io_name: 'kube-state-metrics',
      __meta_kubernetes_pod_name: 'kube-state-metrics-6d4b9c8f7-abcde',
      __meta_kubernetes_pod_ip: podIp,
      ...Object.fromEntries(Object.entries(annotations).map(([name, value]) => [`__meta_kubernetes_service_annotation_prometheus_io_${name}`, value])),
    },
  };
}

describe('standalone prometheus.yml stores kube-state-metrics and cAdvisor series under the labels the Kubernetes alerts select', () => {
  const alerts = new Map(keyServerRuleGroups({ target, runbookBaseUrl }).flatMap((group) => group.rules)
    .flatMap((rule) => ('alert' in rule ? [[rule.alert, rule.expr] as const] : [])));
  let directory: string;
  let exporter: Server;
  let prometheus: RunningPrometheus | undefined;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'prometheus-labels-'));
    exporter = createServer((request, response) => {
      response.setHeader('content-type', 'text/plain; version=0.0.4');
      const bodies: Record<string, () => string> = {
        '/metrics/cadvisor': cadvisor,
        '/ksm': kubeStateMetrics,
        // A pod-annotated exporter reporting about other pods (only one series, so no alert input is counted twice).
        '/pod-exporter': () => `kube_pod_info{${series}} 1\n`,
      };
      response.end((bodies[request.url ?? ''] ?? (() => ''))());
    });
    await new Promise<void>((resolve) => exporter.listen(0, '127.0.0.1', resolve));
    const { port } = exporter.address() as { port: number };
    const config = standalonePrometheusConfig({
      target, metricsPortName: 'metrics', metricsPath: '/metrics', tlsServerName: 'key-server.key-server.svc',
      alertmanagers: ['alertmanager:9093'], scrapeKubelet: true,
    });
    const exporterAddress = `127.0.0.1:${port}`;
    prometheus = await startPrometheus({
      directory,
      config: stringify(withStaticTargets(config, {
        'kubernetes-service-endpoints': [
          serviceEndpoint(exporterAddress, '127.0.0.1', { scrape: 'true', path: '/ksm' }),
          // Not reachable (documentation addresses): only their scrape URLs matter.
          serviceEndpoint('10.0.0.9:8080', '10.0.0.9', { scrape: 'true', port: '8443', path: '/ipv4' }),
          serviceEndpoint('[fd00::9]:8080', 'fd00::9', { scrape: 'true', port: '8443', path: '/ipv6' }),
        ],
        'kubernetes-pods': [{
          address: exporterAddress,
          labels: {
            __meta_kubernetes_namespace: 'kube-system',
            __meta_kubernetes_pod_name: 'kube-state-metrics-6d4b9c8f7-abcde',
            __meta_kubernetes_pod_phase: 'Running',
            __meta_kubernetes_pod_ip: '127.0.0.1',
            __meta_kubernetes_pod_annotation_prometheus_io_scrape: 'true',
            __meta_kubernetes_pod_annotation_prometheus_io_path: '/pod-exporter',
          },
        }],
        'kubernetes-cadvisor': [{ address: exporterAddress, labels: { __meta_kubernetes_node_name: 'node-1', __meta_kubernetes_node_label_kubernetes_io_hostname: 'node-1' } }],
      })),
    });
    // Two scrapes of the CPU counter, so rate() has its two samples.
    await waitFor('two cAdvisor scrapes', 15_000, async () =>
      Number((await prometheus!.query('count_over_time(container_cpu_usage_seconds_total[1m])'))[0]?.value ?? 0) >= 2 || 'fewer than 2 samples');
  }, 40_000);

  afterAll(async () => {
    await prometheus?.stop();
    await new Promise((resolve) => exporter?.close(resolve));
    rmSync(directory, { recursive: true, force: true });
  });

  it.each([
    ['kube_pod_status_ready', 'kubernetes-service-endpoints'],
    ['kube_pod_info', 'kubernetes-pods'],
  ])('keeps the namespace and pod an exporter reports in %s when the %s job scrapes it', async (name, job) => {
    const stored = await prometheus!.query(`${name}{job="${job}"}`);
    expect(stored.map((sample) => sample.metric)).toEqual([expect.objectContaining({ namespace: target.namespace, pod })]);
    expect(Object.keys(stored[0].metric).filter((label) => label.startsWith('exported_'))).toEqual([]);
  });

  it('keeps the namespace, pod and container cAdvisor reports', async () => {
    const stored = await prometheus!.query('container_memory_working_set_bytes');
    expect(stored.map((sample) => sample.metric)).toEqual([
      expect.objectContaining({ namespace: target.namespace, pod, container: target.container, job: 'kubernetes-cadvisor' }),
    ]);
  });

  it.each(['KeyServerPodsNotReady', 'KeyServerReplicasMismatch'])(
    '%s finds the troubled key server in what Prometheus stored', async (alert) => {
      const found = await prometheus!.query(alerts.get(alert)!);
      expect(found.length).toBeGreaterThan(0);
    });

  it('scrapes an annotated target on the annotation\'s port, at its IPv4 and its bracketed IPv6 pod address', async () => {
    const urls = (await prometheus!.targets()).filter((target) => target.scrapePool === 'kubernetes-service-endpoints').map((target) => target.scrapeUrl).sort();
    expect(urls).toEqual([`http://127.0.0.1:${(exporter.address() as { port: number }).port}/ksm`, 'http://10.0.0.9:8443/ipv4', 'http://[fd00::9]:8443/ipv6'].sort());
  });
});
