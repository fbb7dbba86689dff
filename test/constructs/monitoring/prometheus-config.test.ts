// The standalone prometheus.yml: Kubernetes discovery checked against Prometheus' reference and the real promtool,
// labels as a ServiceMonitor gives them, TLS verification, remote write.
import { stringify } from 'yaml';
import {
  PrometheusConfig, prometheusPaths, RelabelConfig, remoteWriteCredentialsFile, standalonePrometheusConfig, StandalonePrometheusConfigOptions,
} from '../../../constructs/monitoring/prometheus-config';
import { keyServerRuleGroups } from '../../../constructs/monitoring/rules/key-server-rules';
import { runbookBaseUrl } from '../../../main';
import { checkConfigAsMounted } from '../../rules/prometheus-config';

const target = { namespace: 'keys', job: 'key-server', deployment: 'key-server', container: 'key-server' };
const baseOptions: StandalonePrometheusConfigOptions = {
  target,
  metricsPortName: 'metrics',
  metricsPath: '/metrics',
  tlsServerName: 'key-server.keys.svc',
  alertmanagers: ['alertmanager.keys.svc:9093'],
};
const fullOptions: StandalonePrometheusConfigOptions = {
  ...baseOptions,
  scrapeKubelet: true,
  externalLabels: { cluster: 'eu-1' },
  remoteWrite: [
    { url: 'https://mimir.example.com/api/v1/push', name: 'mimir', headers: { 'X-Scope-OrgID': 'team-a' }, bearerTokenSecret: { name: 'mimir-token', key: 'token' } },
    { url: 'http://thanos-receive.thanos.svc:19291/api/v1/receive' },
  ],
};

type ScrapeConfig = PrometheusConfig['scrape_configs'][number];

/**
 * The fields of `kubernetes_sd_config` in the upstream configuration reference
 * (https://prometheus.io/docs/prometheus/latest/configuration/configuration/#kubernetes_sd_config).
 */
const kubernetesSdFields = new Set([
  'api_server', 'role', 'kubeconfig_file', 'namespaces', 'selectors', 'attach_metadata',
  'basic_auth', 'authorization', 'oauth2', 'proxy_url', 'no_proxy', 'proxy_from_environment', 'proxy_connect_header',
  'follow_redirects', 'enable_http2', 'tls_config',
]);
/** Roles this library may use: `endpoints` reads the v1 Endpoints API, deprecated since Kubernetes 1.33. */
const kubernetesSdRoles = new Set(['node', 'service', 'pod', 'endpointslice', 'ingress']);
/**
 * Meta label prefixes each role provides (the reference lists them per role; endpointslice targets also carry their
 * pod's and Service's).
 */
const metaPrefixesByRole: Record<string, string[]> = {
  node: ['__meta_kubernetes_node_'],
  pod: ['__meta_kubernetes_namespace', '__meta_kubernetes_pod_'],
  endpointslice: ['__meta_kubernetes_namespace', '__meta_kubernetes_endpointslice_', '__meta_kubernetes_service_', '__meta_kubernetes_pod_'],
};
const relabelActions = new Set(['replace', 'keep', 'drop', 'keepequal', 'dropequal', 'hashmod', 'labelmap', 'labeldrop', 'labelkeep', 'lowercase', 'uppercase']);
const relabelFields = new Set(['source_labels', 'separator', 'regex', 'modulus', 'target_label', 'replacement', 'action']);

/** Problems with one job's Kubernetes service discovery and relabelling, checked against the reference by hand. */
function kubernetesSdProblems(job: ScrapeConfig): string[] {
  const problems: string[] = [];
  const sdConfigs = job.kubernetes_sd_configs as Array<Record<string, unknown>>;
  const roles = new Set<string>();
  for (const sd of sdConfigs) {
    for (const field of Object.keys(sd)) {
      if (!kubernetesSdFields.has(field)) problems.push(`${job.job_name}: unknown kubernetes_sd_configs field ${field}`);
    }
    const role = String(sd.role);
    if (!kubernetesSdRoles.has(role)) problems.push(`${job.job_name}: invalid role ${role}`);
    roles.add(role);
    if (sd.namespaces !== undefined) {
      const namespaces = sd.namespaces as Record<string, unknown>;
      for (const field of Object.keys(namespaces)) {
        if (!['names', 'own_namespace'].includes(field)) problems.push(`${job.job_name}: unknown namespaces field ${field}`);
      }
      if (!Array.isArray(namespaces.names) || namespaces.names.length === 0) problems.push(`${job.job_name}: namespaces.names must be a non-empty list`);
    }
  }
  const allowedPrefixes = [...roles].flatMap((role) => metaPrefixesByRole[role] ?? []);
  for (const [index, rule] of ((job.relabel_configs ?? []) as RelabelConfig[]).entries()) {
    const where = `${job.job_name} relabel_configs[${index}]`;
    for (const field of Object.keys(rule)) {
      if (!relabelFields.has(field)) problems.push(`${where}: unknown field ${field}`);
    }
    const action = rule.action ?? 'replace';
    if (!relabelActions.has(action)) problems.push(`${where}: unknown action ${action}`);
    let groups = 0;
    try {
      // RE2 and JavaScript agree on the constructs used here. The empty alternative always matches, so the
      // match array has one entry per capture group plus the whole match.
      groups = new RegExp(`(?:${rule.regex ?? '(.*)'})|`).exec('')!.length - 1;
    } catch (error) {
      problems.push(`${where}: regex does not parse: ${(error as Error).message}`);
    }
    if (action === 'replace' || action === 'labelmap') {
      for (const reference of (rule.replacement ?? '$1').matchAll(/\$(\d+)/g)) {
        if (Number(reference[1]) > groups) problems.push(`${where}: replacement uses $${reference[1]} but the regex has ${groups} groups`);
      }
    }
    if (action === 'replace' && !rule.target_label) problems.push(`${where}: replace needs target_label`);
    if ((action === 'keep' || action === 'drop') && !rule.source_labels) problems.push(`${where}: ${action} needs source_labels`);
    for (const label of rule.source_labels ?? []) {
      if (label.startsWith('__meta_') && !allowedPrefixes.some((prefix) => label.startsWith(prefix))) {
        problems.push(`${where}: ${label} is not a meta label of role ${[...roles].join(', ')}`);
      }
    }
    if (action === 'labelmap' && rule.regex && !allowedPrefixes.some((prefix) => rule.regex!.startsWith(prefix))) {
      problems.push(`${where}: labelmap ${rule.regex} maps no meta label of role ${[...roles].join(', ')}`);
    }
  }
  return problems;
}

/** The files the Prometheus pod has where `config` points (prometheusPaths): rules, CA, tokens, its service account. */
function podFiles(config: PrometheusConfig, options: StandalonePrometheusConfigOptions): Record<string, string> {
  const files: Record<string, string> = {
    [`${prometheusPaths.rules}/key-server.yml`]: stringify({ groups: keyServerRuleGroups({ target, runbookBaseUrl }) }),
    [prometheusPaths.keyServerCa]: 'placeholder CA\n',
    [`${prometheusPaths.serviceAccount}/token`]: 'placeholder token\n',
    [`${prometheusPaths.serviceAccount}/ca.crt`]: 'placeholder cluster CA\n',
  };
  for (const target of options.remoteWrite ?? []) {
    if (target.bearerTokenSecret) files[remoteWriteCredentialsFile(target.bearerTokenSecret)] = 'placeholder token\n';
  }
  expect(config.rule_files).toEqual([`${prometheusPaths.rules}/*.yml`]);
  return files;
}

describe('standalone prometheus.yml', () => {
  it.each([
    ['the defaults', baseOptions],
    ['kubelet scraping, external labels and remote write', fullOptions],
    ['namespaced discovery', { ...baseOptions, namespaces: ['keys', 'kube-system'] }],
  ])('with %s: kubernetes_sd_configs use only fields, roles and meta labels from the upstream reference, and relabel rules parse', (_name, options) => {
    const config = standalonePrometheusConfig(options);
    const discovered = config.scrape_configs.filter((job) => job.kubernetes_sd_configs);
    expect(discovered.length).toBeGreaterThanOrEqual(3);
    expect(discovered.flatMap(kubernetesSdProblems)).toEqual([]);
  });

  it('discovers through EndpointSlices, never the deprecated v1 Endpoints API', () => {
    const roles = standalonePrometheusConfig(fullOptions).scrape_configs.flatMap((job) => ((job.kubernetes_sd_configs ?? []) as Array<{ role: string }>).map((sd) => sd.role));
    expect(roles).toContain('endpointslice');
    expect(roles).not.toContain('endpoints');
    expect(JSON.stringify(standalonePrometheusConfig(fullOptions))).not.toMatch(/__meta_kubernetes_endpoints?_/);
  });

  it('has a structural check that catches an unknown field, a bad role and a broken regex (negative control)', () => {
    const broken = {
      job_name: 'broken',
      kubernetes_sd_configs: [{ role: 'deployment', namespace: ['keys'] }],
      relabel_configs: [{ source_labels: ['__meta_kubernetes_node_name'], regex: '([a-z', target_label: 'x', replacement: '$2' }],
    };
    expect(kubernetesSdProblems(broken)).toEqual([
      'broken: unknown kubernetes_sd_configs field namespace',
      'broken: invalid role deployment',
      expect.stringMatching(/regex does not parse/),
      'broken relabel_configs[0]: replacement uses $2 but the regex has 0 groups',
      'broken relabel_configs[0]: __meta_kubernetes_node_name is not a meta label of role deployment',
    ]);
  });

  it.each([
    ['the defaults', baseOptions],
    ['kubelet scraping, external labels and remote write', fullOptions],
    ['the Alertmanager scraped, in namespaced discovery', { ...baseOptions, scrapeAlertmanager: true, namespaces: ['keys', 'kube-system'] }],
  ])('with %s passes the real promtool check config as emitted, Kubernetes service discovery included', (_name, options) => {
    const config = standalonePrometheusConfig(options);
    const yaml = stringify(config);
    const result = checkConfigAsMounted(yaml, podFiles(config, options));
    if (result.status !== 0) throw new Error(`promtool check config failed:\n${result.output}\n${yaml}`);
    expect(result.output).toMatch(/SUCCESS: 1 rule files found/);
    expect(result.output).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('is refused by the real promtool for an unknown discovery role or field (negative control)', () => {
    const config = standalonePrometheusConfig(baseOptions);
    const files = podFiles(config, baseOptions);
    for (const broken of [stringify(config).replace('role: endpointslice', 'role: endpointslices'), stringify(config).replace('honor_labels:', 'honour_labels:')]) {
      const result = checkConfigAsMounted(broken, files);
      expect(result.status).not.toBe(0);
      expect(result.output).toMatch(/endpointslices|honour_labels/);
    }
  });

  it('labels key server targets as a ServiceMonitor does, with job set to the Service name', () => {
    const job = standalonePrometheusConfig(baseOptions).scrape_configs.find((candidate) => candidate.job_name === 'key-server')!;
    expect(job.scheme).toBe('https');
    expect(job.tls_config).toEqual({ ca_file: '/etc/prometheus/key-server-ca/ca.crt', server_name: 'key-server.keys.svc' });
    const relabel = job.relabel_configs as RelabelConfig[];
    expect(relabel[0]).toEqual({ source_labels: ['__meta_kubernetes_service_name', '__meta_kubernetes_endpointslice_port_name'], regex: 'key-server;metrics', action: 'keep' });
    expect(relabel.map((rule) => rule.target_label).filter(Boolean)).toEqual(['namespace', 'service', 'pod', 'container', 'endpoint', 'job']);
  });

  it('leaves the key server out of the annotation-driven job, which would scrape it without TLS verification', () => {
    const job = standalonePrometheusConfig(baseOptions).scrape_configs.find((candidate) => candidate.job_name === 'kubernetes-service-endpoints')!;
    expect(job.relabel_configs).toContainEqual({ source_labels: ['__meta_kubernetes_namespace', '__meta_kubernetes_service_name'], regex: 'keys;key-server', action: 'drop' });
  });

  it('skips certificate verification only when asked to', () => {
    const job = standalonePrometheusConfig({ ...baseOptions, insecureSkipVerify: true }).scrape_configs.find((candidate) => candidate.job_name === 'key-server')!;
    expect(job.tls_config).toEqual({ insecure_skip_verify: true });
  });

  it('writes remote write targets and external labels for a global view, with tokens read from files', () => {
    const config = standalonePrometheusConfig(fullOptions);
    expect(config.global.external_labels).toEqual({ cluster: 'eu-1' });
    expect(config.remote_write).toEqual([
      { url: 'https://mimir.example.com/api/v1/push', name: 'mimir', headers: { 'X-Scope-OrgID': 'team-a' }, authorization: { credentials_file: '/etc/prometheus/remote-write/mimir-token/token' } },
      { url: 'http://thanos-receive.thanos.svc:19291/api/v1/receive' },
    ]);
  });

  it.each([
    [{ scrapeTimeout: undefined, scrapeInterval: undefined, alertmanagers: [] }, /alertmanagers must list/],
    [{ externalLabels: { 'not-a-label': 'x' } }, /externalLabels has an invalid label name 'not-a-label'/],
    [{ remoteWrite: [{ url: 'mimir:9009' }] }, /remoteWrite\[0\]\.url must be an http\(s\) URL/],
  ])('rejects invalid options %# with an error naming the option', (override, message) => {
    expect(() => standalonePrometheusConfig({ ...baseOptions, ...override })).toThrow(message);
  });
});
