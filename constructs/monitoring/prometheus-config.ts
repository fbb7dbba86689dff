// The standalone Prometheus's prometheus.yml as a plain object: Kubernetes service discovery, the key server job, alerting and scale-out.
import type { Duration } from 'cdk8s';
import type { SecretKeyReference } from '../secrets';
import { MonitoredKeyServer, validateMonitoredKeyServer } from './monitored-key-server';
import { promDuration } from './prometheus-duration';
import { scrapeTiming } from './scrape-timing';

/** Where the Prometheus pod finds what prometheus.yml refers to; the construct mounts these paths. */
export const prometheusPaths = {
  config: '/etc/prometheus/config/prometheus.yml',
  rules: '/etc/prometheus/rules',
  data: '/prometheus',
  keyServerCa: '/etc/prometheus/key-server-ca/ca.crt',
  remoteWriteSecrets: '/etc/prometheus/remote-write',
  serviceAccount: '/var/run/secrets/kubernetes.io/serviceaccount',
} as const;

/** The `job` labels of the standalone stack's own targets, which the meta-monitoring alerts select. */
export const standaloneJobs = { prometheus: 'prometheus', alertmanager: 'alertmanager' } as const;

/** One remote_write destination: a Thanos Receive, Mimir or Cortex push endpoint. */
export interface RemoteWriteTarget {
  /** The push URL, e.g. `https://mimir.example.com/api/v1/push`. */
  readonly url: string;
  /**
   * Name of the queue in Prometheus's own metrics.
   * @default - Prometheus derives one from the URL
   */
  readonly name?: string;
  /**
   * Extra HTTP headers, e.g. `{ 'X-Scope-OrgID': 'team-a' }` for a multi-tenant Mimir or Cortex.
   * @default {}
   */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * A Secret in the Prometheus namespace holding a bearer token for the endpoint; mounted, never inlined.
   * @default - no Authorization header
   */
  readonly bearerTokenSecret?: SecretKeyReference;
}

/** Options of {@link standalonePrometheusConfig}. */
export interface StandalonePrometheusConfigOptions {
  /** The key server, scraped by its own `https` job. */
  readonly target: MonitoredKeyServer;
  /** Name of the key server port serving /metrics (the Service and endpoint port name). */
  readonly metricsPortName: string;
  /** Path of the metrics endpoint. */
  readonly metricsPath: string;
  /** Name the key server's certificate is verified against: one of its DNS names. */
  readonly tlsServerName: string;
  /**
   * Skip verification of the key server's certificate. For development clusters only.
   * @default false
   */
  readonly insecureSkipVerify?: boolean;
  /**
   * Namespaces service discovery watches; must match what the ServiceAccount may read.
   * @default - every namespace (needs cluster-wide read access)
   */
  readonly namespaces?: readonly string[];
  /**
   * Scrape the kubelets' cAdvisor endpoints for container CPU and memory (needs cluster-wide read of nodes/metrics).
   * @default false
   */
  readonly scrapeKubelet?: boolean;
  /**
   * Scrape and evaluation interval.
   * @default Duration.seconds(15)
   */
  readonly scrapeInterval?: Duration;
  /**
   * Scrape timeout; must be shorter than the interval.
   * @default Duration.seconds(10)
   */
  readonly scrapeTimeout?: Duration;
  /** `host:port` addresses of the Alertmanagers. */
  readonly alertmanagers: readonly string[];
  /**
   * Scrape those Alertmanagers too (job `alertmanager`), for the alerts on Alertmanager itself.
   * @default false
   */
  readonly scrapeAlertmanager?: boolean;
  /**
   * Labels added to every series and alert leaving this Prometheus (remote write, federation, Alertmanager), so a
   * global view tells clusters apart, e.g. `{ cluster: 'eu-1' }`.
   * @default {}
   */
  readonly externalLabels?: Readonly<Record<string, string>>;
  /**
   * Where to send every sample for long-term storage and a global view.
   * @default []
   */
  readonly remoteWrite?: readonly RemoteWriteTarget[];
}

/** A `relabel_configs` entry, as prometheus.yml spells it. */
export interface RelabelConfig {
  readonly source_labels?: readonly string[];
  readonly separator?: string;
  readonly regex?: string;
  readonly target_label?: string;
  readonly replacement?: string;
  readonly action?: 'replace' | 'keep' | 'drop' | 'labelmap' | 'labeldrop' | 'labelkeep' | 'hashmod';
}

/** prometheus.yml: the fields this library writes. */
export interface PrometheusConfig {
  readonly global: Record<string, unknown>;
  readonly rule_files: readonly string[];
  readonly alerting: Record<string, unknown>;
  readonly scrape_configs: ReadonlyArray<Record<string, unknown> & { readonly job_name: string }>;
  readonly remote_write?: ReadonlyArray<Record<string, unknown>>;
}

const labelNamePattern = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * The standalone prometheus.yml. Discovery uses `role: endpointslice` (the v1 Endpoints API is deprecated since
 * Kubernetes 1.33, and the API server warns on every watch). Jobs:
 * - the key server, over https, with the same `job`/`namespace`/`service`/`pod`/`container`/`endpoint` labels a
 *   ServiceMonitor produces, so rules and dashboards work unchanged in both modes;
 * - Services and pods annotated `prometheus.io/scrape: "true"` (kube-state-metrics, exporters), the convention
 *   of Prometheus's own Kubernetes example. These jobs honor the labels the exporter reports: kube-state-metrics
 *   describes other pods, and its `namespace`/`pod` must win over its own target labels, or the Kubernetes alerts,
 *   which select the key server's namespace and pods, would only ever see `exported_namespace`/`exported_pod`;
 * - Prometheus itself, and with `scrapeKubelet` the kubelets' cAdvisor.
 */
export function standalonePrometheusConfig(options: StandalonePrometheusConfigOptions): PrometheusConfig {
  validateMonitoredKeyServer(options.target, 'target');
  const { interval: scrapeInterval, timeout: scrapeTimeout } = scrapeTiming(options.scrapeInterval, options.scrapeTimeout);
  if (options.alertmanagers.length === 0) {
    throw new Error('alertmanagers must list at least one host:port');
  }
  for (const name of Object.keys(options.externalLabels ?? {})) {
    if (!labelNamePattern.test(name) || name.startsWith('__')) {
      throw new Error(`externalLabels has an invalid label name '${name}' (letters, digits and '_', not starting with a digit or '__')`);
    }
  }
  const remoteWrite = (options.remoteWrite ?? []).map((target, index) => remoteWriteEntry(target, index));
  const discovery = (role: 'endpointslice' | 'pod' | 'node') => [{
    role,
    ...(options.namespaces && role !== 'node' ? { namespaces: { names: [...options.namespaces] } } : {}),
  }];

  return {
    global: {
      scrape_interval: promDuration(scrapeInterval),
      scrape_timeout: promDuration(scrapeTimeout),
      evaluation_interval: promDuration(scrapeInterval),
      ...(options.externalLabels && Object.keys(options.externalLabels).length > 0 ? { external_labels: { ...options.externalLabels } } : {}),
    },
    rule_files: [`${prometheusPaths.rules}/*.yml`],
    alerting: {
      alertmanagers: [{ scheme: 'http', static_configs: [{ targets: [...options.alertmanagers] }] }],
    },
    scrape_configs: [
      {
        job_name: 'key-server',
        scheme: 'https',
        metrics_path: options.metricsPath,
        tls_config: options.insecureSkipVerify
          ? { insecure_skip_verify: true }
          : { ca_file: prometheusPaths.keyServerCa, server_name: options.tlsServerName },
        kubernetes_sd_configs: [{ role: 'endpointslice', namespaces: { names: [options.target.namespace] } }],
        relabel_configs: keyServerRelabeling(options.target, options.metricsPortName),
      },
      {
        job_name: 'kubernetes-service-endpoints',
        honor_labels: true,
        // Exporters found by annotation are not ours to vouch for: one that sends no or a wrong Content-Type is read
        // as the classic text format, as Prometheus 2 did, instead of failing every scrape (Prometheus 3 refuses it).
        fallback_scrape_protocol: 'PrometheusText0.0.4',
        kubernetes_sd_configs: discovery('endpointslice'),
        relabel_configs: [
          { source_labels: ['__meta_kubernetes_service_annotation_prometheus_io_scrape'], regex: 'true', action: 'keep' },
          // The key server has its own job above, with TLS verification.
          { source_labels: ['__meta_kubernetes_namespace', '__meta_kubernetes_service_name'], regex: `${options.target.namespace};${options.target.job}`, action: 'drop' },
          ...annotationRelabeling('service'),
          { source_labels: ['__meta_kubernetes_service_name'], target_label: 'service' },
          { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
        ],
      },
      {
        job_name: 'kubernetes-pods',
        honor_labels: true,
        fallback_scrape_protocol: 'PrometheusText0.0.4',
        kubernetes_sd_configs: discovery('pod'),
        relabel_configs: [
          { source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_scrape'], regex: 'true', action: 'keep' },
          // Completed and failed pods keep their annotations but answer nothing.
          { source_labels: ['__meta_kubernetes_pod_phase'], regex: 'Pending|Succeeded|Failed|Unknown', action: 'drop' },
          ...annotationRelabeling('pod'),
          { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
        ],
      },
      ...(options.scrapeKubelet ? [kubeletJob(discovery('node'))] : []),
      { job_name: standaloneJobs.prometheus, static_configs: [{ targets: ['localhost:9090'] }] },
      ...(options.scrapeAlertmanager ? [{ job_name: standaloneJobs.alertmanager, static_configs: [{ targets: [...options.alertmanagers] }] }] : []),
    ],
    ...(remoteWrite.length > 0 ? { remote_write: remoteWrite } : {}),
  };
}

/** Keeps the key server's metrics endpoints and labels them as the Prometheus Operator labels a ServiceMonitor's targets. */
export function keyServerRelabeling(target: MonitoredKeyServer, metricsPortName: string): RelabelConfig[] {
  return [
    { source_labels: ['__meta_kubernetes_service_name', '__meta_kubernetes_endpointslice_port_name'], regex: `${target.job};${metricsPortName}`, action: 'keep' },
    { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
    { source_labels: ['__meta_kubernetes_service_name'], target_label: 'service' },
    { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
    { source_labels: ['__meta_kubernetes_pod_container_name'], target_label: 'container' },
    { source_labels: ['__meta_kubernetes_endpointslice_port_name'], target_label: 'endpoint' },
    // The operator's default job label: the Service name.
    { source_labels: ['__meta_kubernetes_service_name'], target_label: 'job' },
  ];
}

/**
 * `prometheus.io/scheme`, `/path` and `/port` annotations of a Service or pod, then its namespace and labels. The port
 * annotation rewrites the address from the pod's IP, which has no colon in IPv4 and colons in IPv6 (written
 * `[addr]:port`); the old `([^:]+)(?::\d+)?` on `__address__` left every IPv6 target on its discovered port.
 */
function annotationRelabeling(kind: 'service' | 'pod'): RelabelConfig[] {
  const annotation = (name: string) => `__meta_kubernetes_${kind}_annotation_prometheus_io_${name}`;
  return [
    { source_labels: [annotation('scheme')], regex: '(https?)', target_label: '__scheme__' },
    { source_labels: [annotation('path')], regex: '(.+)', target_label: '__metrics_path__' },
    { source_labels: ['__meta_kubernetes_pod_ip', annotation('port')], regex: '([^:]+);(\\d+)', replacement: '$1:$2', target_label: '__address__' },
    { source_labels: ['__meta_kubernetes_pod_ip', annotation('port')], regex: '(.+:.*);(\\d+)', replacement: '[$1]:$2', target_label: '__address__' },
    { regex: `__meta_kubernetes_${kind}_label_(.+)`, action: 'labelmap' },
    { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
  ];
}

/**
 * cAdvisor on every kubelet, authenticated with the ServiceAccount token. Kubelet serving certificates are
 * self-signed unless the cluster enables serverTLSBootstrap, so only this job skips verification; the token
 * still authenticates and the connection is still encrypted.
 */
function kubeletJob(discovery: ReadonlyArray<Record<string, unknown>>): Record<string, unknown> & { job_name: string } {
  return {
    job_name: 'kubernetes-cadvisor',
    scheme: 'https',
    metrics_path: '/metrics/cadvisor',
    authorization: { credentials_file: `${prometheusPaths.serviceAccount}/token` },
    tls_config: { ca_file: `${prometheusPaths.serviceAccount}/ca.crt`, insecure_skip_verify: true },
    kubernetes_sd_configs: discovery,
    relabel_configs: [{ regex: '__meta_kubernetes_node_label_(.+)', action: 'labelmap' }],
  };
}

function remoteWriteEntry(target: RemoteWriteTarget, index: number): Record<string, unknown> {
  if (!/^https?:\/\/[^\s/]+/.test(target.url)) {
    throw new Error(`remoteWrite[${index}].url must be an http(s) URL, got ${JSON.stringify(target.url)}`);
  }
  return {
    url: target.url,
    ...(target.name ? { name: target.name } : {}),
    ...(target.headers && Object.keys(target.headers).length > 0 ? { headers: { ...target.headers } } : {}),
    ...(target.bearerTokenSecret
      ? { authorization: { credentials_file: remoteWriteCredentialsFile(target.bearerTokenSecret) } }
      : {}),
  };
}

/** Where the construct mounts a remote-write token Secret (every key a target reads from it, one file each). */
export function remoteWriteSecretDirectory(secretName: string): string {
  return `${prometheusPaths.remoteWriteSecrets}/${secretName}`;
}

/** The file of one remote-write token: its key in its Secret's directory. */
export function remoteWriteCredentialsFile(secret: SecretKeyReference): string {
  return `${remoteWriteSecretDirectory(secret.name)}/${secret.key}`;
}
