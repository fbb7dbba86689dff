// A real Prometheus applies the standalone prometheus.yml's relabelling to kube-state-metrics and cAdvisor series, and the Kubernetes alerts match what it stores.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { PrometheusConfig, standalonePrometheusConfig } from '../../constructs/monitoring-prometheus-config';
import { keyServerRuleGroups } from '../../constructs/rules/key-server-rules';
import { startPrometheus, type RunningPrometheus } from '../e2e/prometheus';
import { waitFor } from '../e2e/processes';

const target = { namespace: 'key-server', job: 'key-server', deployment: 'key-server', container: 'key-server' };
const pod = 'key-server-7c9f8d6b5d-x2k4q';
const series = `namespace="${target.namespace}",pod="${pod}"`;
const container = `${series},container="${target.container}"`;
const startedAt = Date.now();

/** What kube-state-metrics reports about a key server pod in trouble: not ready, a replica missing, near both limits. */
function kubeStateMetrics(): string {
  return [
    `kube_pod_status_ready{${series},condition="true"} 0`,
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

/**
 * Debian's Prometheus 2.42 lacks Kubernetes service discovery, so each discovered job gets one static target whose
 * labels are the meta labels discovery would give; its real relabel_configs and honor_labels then run unchanged.
 * Only the kubelet job's transport changes (plain http to the fake exporter, no token).
 */
function withStaticTargets(config: PrometheusConfig, address: string): PrometheusConfig {
  const discovered: Record<string, Record<string, string>> = {
    'kubernetes-service-endpoints': {
      __meta_kubernetes_namespace: 'kube-system',
      __meta_kubernetes_service_name: 'kube-state-metrics',
      __meta_kubernetes_service_annotation_prometheus_io_scrape: 'true',
      __meta_kubernetes_service_annotation_prometheus_io_path: '/ksm',
      __meta_kubernetes_service_label_app_kubernetes_io_name: 'kube-state-metrics',
      __meta_kubernetes_pod_name: 'kube-state-metrics-6d4b9c8f7-abcde',
    },
    'kubernetes-pods': {
      __meta_kubernetes_namespace: 'kube-system',
      __meta_kubernetes_pod_name: 'kube-state-metrics-6d4b9c8f7-abcde',
      __meta_kubernetes_pod_phase: 'Running',
      __meta_kubernetes_pod_annotation_prometheus_io_scrape: 'true',
      __meta_kubernetes_pod_annotation_prometheus_io_path: '/pod-exporter',
    },
    'kubernetes-cadvisor': {
      __meta_kubernetes_node_name: 'node-1',
      __meta_kubernetes_node_label_kubernetes_io_hostname: 'node-1',
    },
  };
  const scrapeConfigs = config.scrape_configs
    .filter((job) => job.job_name in discovered)
    .map((job) => {
      const { kubernetes_sd_configs: _swapped, authorization: _token, tls_config: _tls, ...rest } = job;
      return {
        ...rest,
        scheme: 'http',
        scrape_interval: '1s',
        static_configs: [{ targets: [address], labels: discovered[job.job_name] }],
      };
    });
  return { ...config, global: { scrape_interval: '1s', scrape_timeout: '500ms', evaluation_interval: '1s' }, alerting: {}, rule_files: [], scrape_configs: scrapeConfigs };
}

describe('standalone prometheus.yml stores kube-state-metrics and cAdvisor series under the labels the Kubernetes alerts select', () => {
  const alerts = new Map(keyServerRuleGroups({ target }).flatMap((group) => group.rules)
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
    prometheus = await startPrometheus({ directory, config: stringify(withStaticTargets(config, `127.0.0.1:${port}`)) });
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

  it.each(['KeyServerPodsNotReady', 'KeyServerReplicasMismatch', 'KeyServerCpuNearLimit', 'KeyServerMemoryNearLimit'])(
    '%s finds the troubled key server in what Prometheus stored', async (alert) => {
      const found = await prometheus!.query(alerts.get(alert)!);
      expect(found.length).toBeGreaterThan(0);
    });
});
