// MonitoringStack in both modes: the objects it synthesizes, their schema validity, and the real Prometheus tools on
// the rules and configs as they appear in the manifests.
import { Duration, Size } from 'cdk8s';
import { parse } from 'yaml';
import { KeyServerApp } from '../../../constructs/key-server/key-server-app';
import { MonitoringStack, MonitoringStackProps } from '../../../constructs/monitoring/monitoring-stack';
import { keyServerDashboards } from '../../../constructs/monitoring/dashboards/key-server-dashboards';
import { keyServerRuleGroups } from '../../../constructs/monitoring/rules/key-server-rules';
import { metaMonitoringAlertNames, metaMonitoringRuleGroups } from '../../../constructs/monitoring/rules/meta-monitoring-rules';
import type { RuleGroup } from '../../../constructs/monitoring/rules/rule-types';
import { runbookBaseUrl } from '../../../main';
import { invariantViolations, podTemplates } from '../helpers/invariants';
import { admits, peerIn } from '../helpers/network-policy';
import { missingResourceViolations, podSecurityRestrictedViolations } from '../helpers/pod-security';
import { only, synthesize } from '../helpers/synth';
import { expectStrictlyValid } from '../helpers/validate-strict';
import { checkConfigAsMounted, podFilesOf } from '../../rules/prometheus-config';
import { metricNamesIn, sourceOfMetric } from '../../rules/promql-names';
import { checkRules, runInTempDir } from '../../rules/promtool';

/* eslint-disable @typescript-eslint/no-explicit-any */

type StackOptions = Omit<MonitoringStackProps, 'keyServer' | 'runbookBaseUrl'> & { runbookBaseUrl?: string };

/** Key server plus monitoring in one chart; returns every object and the stack. */
function build(options: StackOptions): { objects: any[]; monitoring: any[]; stack: MonitoringStack } {
  let stack!: MonitoringStack;
  const objects = synthesize((scope) => {
    const keyServer = new KeyServerApp(scope, 'key-server');
    stack = new MonitoringStack(scope, 'monitoring', { keyServer, runbookBaseUrl, ...options });
  });
  const ours = new Set(stack.node.findAll().map((construct) => construct.node.path));
  const monitoring = objects.filter((object) => ours.has(pathOf(stack, object) ?? ''));
  return { objects, monitoring, stack };
}

/** The construct path of the ApiObject that synthesized `object`, found by kind, namespace and name. */
function pathOf(stack: MonitoringStack, object: any): string | undefined {
  const match = stack.node.findAll().find((construct: any) =>
    construct.kind === object.kind && construct.name === object.metadata?.name && (construct.metadata?.namespace ?? undefined) === object.metadata?.namespace);
  return match?.node.path;
}

const target = { namespace: 'key-server', job: 'key-server', deployment: 'key-server', container: 'key-server' };

/**
 * The sources whose series a mode's Prometheus stores, read from the objects: the key server when a ServiceMonitor or
 * a scrape job keeps its metrics port; in operator mode what kube-prometheus-stack scrapes itself (kube-state-metrics,
 * Prometheus, Alertmanager); in standalone mode the jobs of prometheus.yml.
 */
function scrapedSources(objects: any[]): Set<string> {
  const sources = new Set<string>();
  if (objects.some((object) => object.kind === 'ServiceMonitor')) ['keyServer', 'kubeStateMetrics', 'prometheus', 'alertmanager'].forEach((source) => sources.add(source));
  const configMap = objects.find((object) => object.kind === 'ConfigMap' && object.data?.['prometheus.yml'] !== undefined);
  for (const job of configMap === undefined ? [] : parse(configMap.data['prometheus.yml']).scrape_configs) {
    if (job.job_name === 'key-server') sources.add('keyServer');
    if (job.static_configs?.[0]?.targets?.includes('localhost:9090')) sources.add('prometheus');
    if (job.static_configs?.[0]?.targets?.some((address: string) => address.startsWith('alertmanager.'))) sources.add('alertmanager');
  }
  return sources;
}

/** Alerts of the emitted rules that read a metric no scraped source provides, with the metric. */
function alertsWithoutSource(objects: any[], groups: any[]): string[] {
  const sources = scrapedSources(objects);
  const recorded = new Set(groups.flatMap((group) => group.rules).flatMap((rule: any) => (rule.record ? [rule.record] : [])));
  return groups.flatMap((group) => group.rules).filter((rule: any) => rule.alert !== undefined).flatMap((rule: any) =>
    metricNamesIn(rule.expr).filter((metric) => !recorded.has(metric) && !sources.has(sourceOfMetric(metric))).map((metric) => `${rule.alert} reads ${metric} (${sourceOfMetric(metric)})`));
}

describe('MonitoringStack in operator mode', () => {
  const { objects, monitoring, stack } = build({ mode: 'operator' });

  it('emits a ServiceMonitor, a PrometheusRule and one ConfigMap per dashboard', () => {
    expect(monitoring.map((object) => `${object.kind}/${object.metadata.name}`).sort()).toEqual([
      'ConfigMap/key-server-http-dashboard',
      'ConfigMap/key-server-keys-dashboard',
      'PrometheusRule/key-server',
      'ServiceMonitor/key-server',
    ]);
  });

  it('passes strict schema validation, together with the key server', () => {
    expectStrictlyValid(objects);
  });

  it('scrapes the metrics port over https every 15 s, verifying the certificate against the CA Secret', () => {
    const monitor = only(objects, 'ServiceMonitor');
    expect(monitor.metadata.labels.release).toBe('prometheus-stack');
    expect(monitor.spec.endpoints).toEqual([{
      port: 'metrics', path: '/metrics', scheme: 'https', interval: '15s', scrapeTimeout: '10s',
      tlsConfig: { ca: { secret: { name: 'key-server-tls', key: 'ca.crt' } }, serverName: 'key-server.key-server.svc' },
    }]);
    expect(invariantViolations(objects)).toEqual([]);
  });

  it('carries the same rule groups the pure function builds, and they pass promtool check rules as emitted', () => {
    const rule = only(objects, 'PrometheusRule');
    expect(rule.metadata.labels.release).toBe('prometheus-stack');
    expect(rule.spec.groups).toEqual(keyServerRuleGroups({ target, runbookBaseUrl }));
    const result = checkRules(rule.spec.groups);
    if (result.status !== 0) throw new Error(result.output);
    expect(stack.ruleGroups).toEqual(rule.spec.groups);
  });

  it('labels dashboard ConfigMaps for the Grafana sidecar and stores the dashboards as JSON', () => {
    const configMaps = monitoring.filter((object) => object.kind === 'ConfigMap');
    for (const configMap of configMaps) {
      expect(configMap.metadata.labels.grafana_dashboard).toBe('1');
    }
    const stored = configMaps.flatMap((configMap) => Object.values(configMap.data).map((json) => JSON.parse(json as string)));
    expect(stored).toEqual(keyServerDashboards({ target }));
  });

  it('ships only alerts whose every metric has a source in operator mode, and leaves none out', () => {
    expect(alertsWithoutSource(objects, only(objects, 'PrometheusRule').spec.groups)).toEqual([]);
    expect(stack.omittedAlerts).toEqual([]);
  });

  it('leaves the Watchdog and the Prometheus and Alertmanager alerts to kube-prometheus-stack, which ships its own', () => {
    const alerts = only(objects, 'PrometheusRule').spec.groups.flatMap((group: any) => group.rules).map((rule: any) => rule.alert);
    expect(alerts.filter((alert: string) => (metaMonitoringAlertNames as readonly string[]).includes(alert))).toEqual([]);
  });

  it('refuses to synthesize without a runbook document, naming the prop', () => {
    expect(() => build({ mode: 'operator', runbookBaseUrl: undefined })).toThrow(/^runbookBaseUrl is required/);
  });

  it('uses the configured release label, dashboard label and namespace, and skips verification only when asked', () => {
    const custom = build({
      mode: 'operator',
      insecureSkipVerify: true,
      operator: { prometheusSelectorLabels: { release: 'kps' }, dashboardLabels: { grafana_dashboard: 'key-server' }, dashboardNamespace: 'monitoring' },
    }).objects;
    const monitor = only(custom, 'ServiceMonitor');
    expect(monitor.metadata.labels.release).toBe('kps');
    expect(only(custom, 'PrometheusRule').metadata.labels.release).toBe('kps');
    expect(monitor.spec.endpoints[0].tlsConfig).toEqual({ insecureSkipVerify: true });
    const dashboard = only(custom, 'ConfigMap', 'key-server-http-dashboard');
    expect(dashboard.metadata).toMatchObject({ namespace: 'monitoring', labels: { grafana_dashboard: 'key-server' } });
  });

  it('matches the reviewed snapshot', () => {
    expect(monitoring).toMatchSnapshot();
  });
});

describe('MonitoringStack in standalone mode', () => {
  const { objects, monitoring, stack } = build({ mode: 'standalone' });
  const prometheusPod = { 'app.kubernetes.io/name': 'prometheus', 'app.kubernetes.io/instance': 'key-server-prometheus' };

  it('emits Prometheus, Alertmanager and Grafana with their config, RBAC, Services and NetworkPolicies (no budget over one pod, no policy for the key server\'s pods)', () => {
    expect(monitoring.map((object) => `${object.kind}/${object.metadata.name}`).sort()).toEqual([
      'ConfigMap/grafana-dashboards',
      'ConfigMap/grafana-provisioning',
      'ConfigMap/prometheus-config',
      'ConfigMap/prometheus-rules',
      'Deployment/grafana',
      'NetworkPolicy/alertmanager',
      'NetworkPolicy/grafana',
      'NetworkPolicy/prometheus',
      'Role/prometheus',
      'RoleBinding/prometheus',
      'Secret/alertmanager-config',
      'Service/alertmanager',
      'Service/alertmanager-headless',
      'Service/grafana',
      'Service/prometheus',
      'Service/prometheus-headless',
      'ServiceAccount/prometheus',
      'StatefulSet/alertmanager',
      'StatefulSet/prometheus',
    ]);
  });

  it('ships only alerts whose every metric has a source in standalone mode, and names the ones it leaves out', () => {
    const groups = parse(only(objects, 'ConfigMap', 'prometheus-rules').data['key-server.yml']).groups;
    expect(alertsWithoutSource(objects, groups)).toEqual([]);
    expect(stack.omittedAlerts).toEqual([
      { alert: 'KeyServerNoPodsAvailable', missingSources: ['kubeStateMetrics'] },
      { alert: 'KeyServerPodsNotReady', missingSources: ['kubeStateMetrics'] },
      { alert: 'KeyServerReplicasMismatch', missingSources: ['kubeStateMetrics'] },
    ]);
  });

  it('ships the kube-state-metrics alerts once told a kube-state-metrics is scraped', () => {
    const withKsm = build({ mode: 'standalone', standalone: { kubeStateMetrics: true } });
    const alerts = withKsm.stack.ruleGroups.flatMap((group) => group.rules).flatMap((rule) => ('alert' in rule ? [rule.alert] : []));
    expect(alerts).toEqual(expect.arrayContaining(['KeyServerNoPodsAvailable', 'KeyServerPodsNotReady', 'KeyServerReplicasMismatch']));
    expect(withKsm.stack.omittedAlerts).toEqual([]);
  });

  it('watches itself: a Watchdog, and alerts on Prometheus and Alertmanager from the jobs that scrape them', () => {
    const groups = parse(only(objects, 'ConfigMap', 'prometheus-rules').data['key-server.yml']).groups;
    const meta = groups.find((group: any) => group.name === 'monitoring.alerts');
    expect(meta).toEqual(metaMonitoringRuleGroups({ prometheusJob: 'prometheus', alertmanagerJob: 'alertmanager', runbookBaseUrl })[0]);
    expect(meta.rules.map((rule: any) => rule.alert)).toEqual([...metaMonitoringAlertNames]);
    expect([...scrapedSources(objects)].sort()).toEqual(['alertmanager', 'keyServer', 'prometheus']);
  });

  it('passes strict schema validation, together with the key server', () => {
    expectStrictlyValid(objects);
  });

  it('meets Pod Security "restricted" and sets resources on every container', () => {
    for (const template of podTemplates(monitoring)) {
      expect(podSecurityRestrictedViolations(template.spec)).toEqual([]);
      expect(missingResourceViolations(template.spec)).toEqual([]);
    }
  });

  it('has selectors that select, probes on declared ports, and mounts no Secret but the key server CA and the Grafana admin one', () => {
    expect(invariantViolations(objects)).toEqual([]);
  });

  it('mounts a prometheus.yml the real promtool accepts as emitted, with the files the pod mounts where it reads them', () => {
    const yaml = only(objects, 'ConfigMap', 'prometheus-config').data['prometheus.yml'];
    const files = podFilesOf(objects, 'StatefulSet', 'prometheus');
    expect(Object.keys(files)).toEqual(expect.arrayContaining(['/etc/prometheus/config/prometheus.yml', '/etc/prometheus/rules/key-server.yml', '/etc/prometheus/key-server-ca/ca.crt']));
    const result = checkConfigAsMounted(yaml, files);
    if (result.status !== 0) throw new Error(`promtool check config failed:\n${result.output}`);
    expect(result.output).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('mounts the prometheus.yml it exposes, which passes the structural checks in monitoring-config.test.ts', () => {
    const config = parse(only(objects, 'ConfigMap', 'prometheus-config').data['prometheus.yml']);
    expect(config).toEqual(JSON.parse(JSON.stringify(stack.prometheusConfig)));
    expect(config.rule_files).toEqual(['/etc/prometheus/rules/*.yml']);
    expect(config.alerting.alertmanagers[0].static_configs[0].targets).toEqual(['alertmanager.key-server.svc:9093']);
    // Namespaced RBAC: discovery must stay inside the namespaces the Role covers.
    for (const job of config.scrape_configs.filter((candidate: any) => candidate.kubernetes_sd_configs)) {
      for (const sd of job.kubernetes_sd_configs) expect(sd.namespaces.names).toEqual(['key-server']);
    }
  });

  it('mounts rule files that pass promtool check rules as emitted', () => {
    const rules = only(objects, 'ConfigMap', 'prometheus-rules').data['key-server.yml'];
    const result = runInTempDir('promtool', ['check', 'rules', 'key-server.yml'], { 'key-server.yml': rules });
    if (result.status !== 0) throw new Error(result.output);
    expect(parse(rules).groups).toEqual(stack.ruleGroups);
    expect(parse(rules).groups.filter((group: RuleGroup) => group.name.startsWith('key-server.'))).toEqual(keyServerRuleGroups({ target, runbookBaseUrl, availableSources: ['keyServer', 'prometheus', 'alertmanager'] }));
  });

  it('mounts an Alertmanager config that passes amtool check-config as emitted', () => {
    const config = only(objects, 'Secret', 'alertmanager-config').stringData['alertmanager.yml'];
    const result = runInTempDir('amtool', ['check-config', 'alertmanager.yml'], { 'alertmanager.yml': config });
    if (result.status !== 0) throw new Error(result.output);
  });

  it('keeps 15 days or 80 % of a 20 GiB volume, whichever ends first', () => {
    const prometheus = only(objects, 'StatefulSet', 'prometheus');
    expect(prometheus.spec.template.spec.containers[0].args).toEqual(expect.arrayContaining([
      '--storage.tsdb.retention.time=15d', '--storage.tsdb.retention.size=16384MB',
    ]));
    expect(prometheus.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('20Gi');
  });

  it('runs the images of versions.json, each with a registry and a tag', () => {
    const images = podTemplates(monitoring).map((template) => template.spec.containers[0].image).sort();
    expect(images).toEqual(['docker.io/grafana/grafana:13.2.3', 'quay.io/prometheus/alertmanager:v0.35.0', 'quay.io/prometheus/prometheus:v3.13.5']);
  });

  it('accepts images by digest and labels the version from the tag, or from the digest when there is no tag', () => {
    const digest = `sha256:${'c'.repeat(64)}`;
    const { objects: all, monitoring: pinned } = build({ mode: 'standalone', standalone: { images: {
      prometheus: `registry.example.com/mirror/prometheus:v3.13.5@${digest}`, grafana: `registry.example.com/mirror/grafana@${digest}`,
    } } });
    const prometheus = only(pinned, 'StatefulSet', 'prometheus');
    expect(prometheus.spec.template.spec.containers[0].image).toBe(`registry.example.com/mirror/prometheus:v3.13.5@${digest}`);
    expect(prometheus.metadata.labels['app.kubernetes.io/version']).toBe('v3.13.5');
    const grafana = only(pinned, 'Deployment', 'grafana');
    expect(grafana.spec.template.spec.containers[0].image).toBe(`registry.example.com/mirror/grafana@${digest}`);
    expect(grafana.metadata.labels['app.kubernetes.io/version']).toBe('sha256-cccccccccccc');
    expect(invariantViolations(all)).toEqual([]);
  });

  it('mounts only the CA certificate of the key server Secret into Prometheus, never its private key', () => {
    const volumes = only(objects, 'StatefulSet', 'prometheus').spec.template.spec.volumes;
    expect(volumes.find((volume: any) => volume.name === 'key-server-ca').secret).toEqual({ secretName: 'key-server-tls', defaultMode: 0o440, items: [{ key: 'ca.crt', path: 'ca.crt' }] });
  });

  it('reads Grafana admin credentials from an existing Secret and writes none', () => {
    const grafana = only(objects, 'Deployment', 'grafana').spec.template.spec.containers[0];
    const env = Object.fromEntries(grafana.env.map((variable: any) => [variable.name, variable]));
    expect(env.GF_SECURITY_ADMIN_USER.valueFrom.secretKeyRef).toEqual({ name: 'grafana-admin', key: 'admin-user' });
    expect(env.GF_SECURITY_ADMIN_PASSWORD.valueFrom.secretKeyRef).toEqual({ name: 'grafana-admin', key: 'admin-password' });
    expect(monitoring.filter((object) => object.kind === 'Secret').map((secret) => secret.metadata.name)).toEqual(['alertmanager-config']);
    expect(JSON.stringify(monitoring)).not.toMatch(/admin-password"?\s*:\s*"[^"]/);
  });

  it('provisions the Prometheus datasource with uid prometheus and the dashboards that reference it', () => {
    const provisioning = only(objects, 'ConfigMap', 'grafana-provisioning').data;
    const datasource = parse(provisioning['datasources.yaml']).datasources[0];
    expect(datasource).toMatchObject({ uid: 'prometheus', type: 'prometheus', url: 'http://prometheus.key-server.svc:9090', jsonData: { timeInterval: '15s' } });
    const provider = parse(provisioning['dashboards.yaml']).providers[0];
    const grafana = only(objects, 'Deployment', 'grafana').spec.template.spec.containers[0];
    expect(grafana.volumeMounts).toContainEqual({ name: 'dashboards', mountPath: provider.options.path, readOnly: true });
    const dashboards = Object.values(only(objects, 'ConfigMap', 'grafana-dashboards').data).map((json) => JSON.parse(json as string));
    expect(dashboards.map((dashboard) => dashboard.uid)).toEqual(['key-server-http', 'key-server-keys']);
  });

  it('lets its Prometheus reach the key server metrics port but not the https port, and only Grafana query Prometheus', () => {
    // The key server admits it (allowMetricsFrom) in its own policy; its https port is kept to one client here, so
    // the test can tell the ports apart.
    const restricted = synthesize((scope) => {
      const keyServer = new KeyServerApp(scope, 'key-server', { allowedClients: [{ podLabels: { app: 'checkout' } }] });
      new MonitoringStack(scope, 'monitoring', { keyServer, runbookBaseUrl, mode: 'standalone' });
    });
    const keyServerPolicy = only(restricted, 'NetworkPolicy', 'key-server');
    expect(admits(keyServerPolicy, peerIn('key-server', prometheusPod), 'metrics')).toBe(true);
    expect(admits(keyServerPolicy, peerIn('key-server', prometheusPod), 'https')).toBe(false);
    expect(admits(keyServerPolicy, peerIn('key-server', { app: 'other' }), 'metrics')).toBe(false);
    expect(monitoring.filter((object) => object.kind === 'NetworkPolicy').map((policy) => policy.spec.podSelector.matchLabels['app.kubernetes.io/name']).sort())
      .toEqual(['alertmanager', 'grafana', 'prometheus']);
    const prometheusPolicy = only(objects, 'NetworkPolicy', 'prometheus');
    expect(admits(prometheusPolicy, peerIn('key-server', { 'app.kubernetes.io/name': 'grafana', 'app.kubernetes.io/instance': 'key-server-grafana' }), 'web')).toBe(true);
    expect(admits(prometheusPolicy, peerIn('key-server', { app: 'other' }), 'web')).toBe(false);
    const alertmanagerPolicy = only(objects, 'NetworkPolicy', 'alertmanager');
    expect(admits(alertmanagerPolicy, peerIn('key-server', prometheusPod), 'web')).toBe(true);
  });

  it('matches the reviewed snapshot', () => {
    expect(monitoring).toMatchSnapshot();
  });
});

describe('MonitoringStack standalone options', () => {
  it('in cluster RBAC mode reads every namespace, scrapes cAdvisor and writes remotely with external labels', () => {
    const { objects, stack } = build({
      mode: 'standalone',
      standalone: {
        rbacMode: 'cluster',
        externalLabels: { cluster: 'eu-1' },
        remoteWrite: [{ url: 'https://mimir.example.com/api/v1/push', bearerTokenSecret: { name: 'mimir', key: 'token' } }],
        retention: Duration.days(30),
        storageSize: Size.gibibytes(100),
        storageClassName: 'fast-ssd',
        grafanaAdminSecretName: 'ops-grafana',
      },
    });
    expect(only(objects, 'ClusterRole').rules.every((rule: any) => rule.verbs.every((verb: string) => ['get', 'list', 'watch'].includes(verb)))).toBe(true);
    const config = stack.prometheusConfig!;
    expect(config.scrape_configs.map((job) => job.job_name)).toContain('kubernetes-cadvisor');
    expect(config.global.external_labels).toEqual({ cluster: 'eu-1' });
    expect(config.remote_write).toEqual([{ url: 'https://mimir.example.com/api/v1/push', authorization: { credentials_file: '/etc/prometheus/remote-write/mimir/token' } }]);
    const prometheus = only(objects, 'StatefulSet', 'prometheus');
    expect(prometheus.spec.template.spec.containers[0].volumeMounts).toContainEqual({ name: 'remote-write-0', mountPath: '/etc/prometheus/remote-write/mimir', readOnly: true });
    expect(prometheus.spec.volumeClaimTemplates[0].spec).toMatchObject({ storageClassName: 'fast-ssd', resources: { requests: { storage: '100Gi' } } });
    expect(prometheus.spec.template.spec.containers[0].args).toContain('--storage.tsdb.retention.time=30d');
    expect(invariantViolations(objects, { externalSecrets: ['mimir'] })).toEqual([]);
    expectStrictlyValid(objects);
    const grafana = only(objects, 'Deployment', 'grafana').spec.template.spec.containers[0];
    expect(grafana.env.find((variable: any) => variable.name === 'GF_SECURITY_ADMIN_PASSWORD').valueFrom.secretKeyRef.name).toBe('ops-grafana');
  });

  it('references an existing Alertmanager config Secret instead of writing one', () => {
    const { monitoring } = build({ mode: 'standalone', standalone: { alertmanagerConfigSecretName: 'alertmanager-receivers' } });
    expect(monitoring.some((object) => object.kind === 'Secret')).toBe(false);
    expect(only(monitoring, 'StatefulSet', 'alertmanager').spec.template.spec.volumes[0].secret.secretName).toBe('alertmanager-receivers');
  });

  it('rolls Alertmanager when alertmanagerConfigSecretName names another Secret, the documented way to change its config', () => {
    const template = (secret: string) => only(build({ mode: 'standalone', standalone: { alertmanagerConfigSecretName: secret } }).monitoring, 'StatefulSet', 'alertmanager').spec.template;
    expect(template('alertmanager-receivers-v2')).not.toEqual(template('alertmanager-receivers-v1'));
    expect(template('alertmanager-receivers-v1')).toEqual(template('alertmanager-receivers-v1'));
  });

  it.each<[string, StackOptions, RegExp]>([
    ['an unknown mode', { mode: 'sidecar' as any }, /mode must be one of 'operator', 'standalone'/],
    ['standalone options in operator mode', { mode: 'operator', standalone: {} }, /standalone is only allowed with mode 'standalone'/],
    ['operator options in standalone mode', { mode: 'standalone', operator: {} }, /operator is only allowed with mode 'operator'/],
    ['an image without a registry', { mode: 'standalone', standalone: { images: { grafana: 'grafana/grafana:13.2.3' } } }, /^images\.grafana must be .*it names no registry: .* is pulled from docker\.io: got 'grafana\/grafana:13\.2\.3'$/],
    ['an image tagged latest', { mode: 'standalone', standalone: { images: { grafana: 'docker.io/grafana/grafana:latest' } } }, /^images\.grafana must be .*'latest' names no version/],
    ['an image with neither tag nor digest', { mode: 'standalone', standalone: { images: { prometheus: 'quay.io/prometheus/prometheus' } } }, /^images\.prometheus must be .*neither a tag nor a digest/],
    ['a malformed digest', { mode: 'standalone', standalone: { images: { alertmanager: 'quay.io/prometheus/alertmanager@sha256:abc' } } }, /^images\.alertmanager must be .*a digest is sha256:/],
    ['another namespace without a CA Secret there', { mode: 'standalone', standalone: { namespace: 'monitoring' } }, /^caSecret is required when namespace \('monitoring'\) differs from the key server's \('key-server'\)/],
    ['a scrape timeout as long as the interval', { mode: 'operator', scrapeTimeout: Duration.seconds(15) }, /scrapeTimeout \(15s\) must be shorter than scrapeInterval \(15s\)/],
    ['an availability objective of 100 %', { mode: 'operator', availabilityObjective: 1 }, /availabilityObjective must be a fraction/],
    ['a Prometheus volume smaller than 1 MiB', { mode: 'standalone', standalone: { storageSize: Size.kibibytes(10) } }, /storageSize must be a whole number of MiB/],
  ])('rejects %s with an error naming the prop', (_name, options, message) => {
    expect(() => build(options)).toThrow(message);
  });
});
