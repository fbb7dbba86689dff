// StandaloneMonitoring on its own: what MonitoringStack's standalone mode delegates to, for any IKeyServer; the key
// server, not the monitoring, admits its Prometheus.
import { App, Duration } from 'cdk8s';
import { DiscoveryScope, KeyServerApp, MonitoringStack, StandaloneMonitoring, StandaloneMonitoringProps } from '../../../constructs';
import { buildStandalone, runbookBaseUrl } from '../../../main';
import { admits, peerIn } from '../helpers/network-policy';
import { only, synthesize } from '../helpers/synth';
import { expectStrictlyValid } from '../helpers/validate-strict';

/* eslint-disable @typescript-eslint/no-explicit-any */

type Options = Omit<StandaloneMonitoringProps, 'keyServer' | 'runbookBaseUrl'>;
const prometheusPod = { 'app.kubernetes.io/name': 'prometheus', 'app.kubernetes.io/instance': 'key-server-prometheus' };

describe('StandaloneMonitoring', () => {
  test('emits exactly what MonitoringStack emits in standalone mode: the facade adds nothing', () => {
    const direct = synthesize((scope) => {
      const keyServer = new KeyServerApp(scope, 'key-server');
      new StandaloneMonitoring(scope, 'monitoring', { keyServer, runbookBaseUrl });
    });
    const facade = synthesize((scope) => {
      const keyServer = new KeyServerApp(scope, 'key-server');
      new MonitoringStack(scope, 'monitoring', { keyServer, mode: 'standalone', runbookBaseUrl });
    });
    expect(direct).toEqual(facade);
  });

  test('writes no policy selecting the key server\'s pods: the key server admits its Prometheus in its own policy', () => {
    let monitoring!: StandaloneMonitoring;
    const objects = synthesize((scope) => {
      const keyServer = new KeyServerApp(scope, 'key-server');
      monitoring = new StandaloneMonitoring(scope, 'monitoring', { keyServer, runbookBaseUrl });
    });
    const keyServerPods = { 'app.kubernetes.io/name': 'key-server', 'app.kubernetes.io/instance': 'key-server', 'app.kubernetes.io/component': 'server' };
    const policies = objects.filter((object) => object.kind === 'NetworkPolicy'
      && Object.entries(keyServerPods).every(([key, value]) => object.spec.podSelector.matchLabels?.[key] === value));
    expect(policies.map((policy) => policy.metadata.name)).toEqual(['key-server']);
    expect(monitoring.node.findAll().some((construct: any) => construct.kind === 'NetworkPolicy' && construct.name === 'key-server')).toBe(false);
    expect(admits(policies[0], peerIn('key-server', prometheusPod), 'metrics')).toBe(true);
  });

  test('dist/standalone/ admits its own Prometheus to the key server\'s metrics port, and no other (not the default one in `monitoring`)', () => {
    const app = new App();
    buildStandalone(app, 'production');
    const objects = app.charts.flatMap((chart) => chart.toJson());
    const policy = only(objects, 'NetworkPolicy', 'key-server');
    expect(admits(policy, peerIn('key-server', prometheusPod), 'metrics')).toBe(true);
    expect(admits(policy, peerIn('monitoring', { 'app.kubernetes.io/name': 'prometheus' }), 'metrics')).toBe(false);
    // Named once although both the prop and the monitoring admit it.
    const metricsRule = policy.spec.ingress.find((rule: any) => rule.ports[0].port === 'metrics');
    expect(metricsRule.from).toHaveLength(1);
  });

  test('monitors a key server imported from dist/ whose pods a policy isolates, by asking it for a policy of its own', () => {
    const objects = synthesize((scope) => {
      const keyServer = KeyServerApp.fromAttributes(scope, 'key-server', { isolatedByNetworkPolicy: true });
      new StandaloneMonitoring(scope, 'monitoring', { keyServer, runbookBaseUrl });
    });
    const allow = only(objects, 'NetworkPolicy', 'key-server-allow-metrics');
    expect(admits(allow, peerIn('key-server', prometheusPod), 'metrics')).toBe(true);
    expect(admits(allow, peerIn('key-server', prometheusPod), 'https')).toBe(false);
    expectStrictlyValid(objects);
  });

  test('discovers the whole cluster, kubelets included, with DiscoveryScope.cluster()', () => {
    let monitoring!: StandaloneMonitoring;
    const objects = synthesize((scope) => {
      monitoring = new StandaloneMonitoring(scope, 'monitoring', { keyServer: KeyServerApp.fromAttributes(scope, 'key-server'), runbookBaseUrl, discovery: DiscoveryScope.cluster() });
    });
    expect(only(objects, 'ClusterRole').metadata.name).toBe('key-server-prometheus');
    expect(monitoring.prometheusConfig.scrape_configs.map((job) => job.job_name)).toContain('kubernetes-cadvisor');
    const discoveryJobs = monitoring.prometheusConfig.scrape_configs.filter((job) => job.job_name.startsWith('kubernetes-'));
    expect(discoveryJobs.flatMap((job) => job.kubernetes_sd_configs as object[])).toEqual([{ role: 'endpointslice' }, { role: 'pod' }, { role: 'node' }]);
  });

  test('discovers the monitoring and key server namespaces by default, or the namespaces it is given', () => {
    const namespacesOf = (options: Options) => {
      let monitoring!: StandaloneMonitoring;
      synthesize((scope) => {
        monitoring = new StandaloneMonitoring(scope, 'monitoring', { keyServer: KeyServerApp.fromAttributes(scope, 'key-server'), runbookBaseUrl, ...options });
      });
      return monitoring.rbac.watchedNamespaces;
    };
    expect(namespacesOf({ namespace: 'monitoring', caSecret: { name: 'ca', key: 'ca.crt' } })).toEqual(['monitoring', 'key-server']);
    expect(namespacesOf({ discovery: DiscoveryScope.namespaces(['key-server', 'kube-state-metrics']) })).toEqual(['key-server', 'kube-state-metrics']);
    // Added to, not instead of: without the key server's namespace Prometheus could not discover it.
    expect(namespacesOf({ discovery: DiscoveryScope.namespaces(['kube-state-metrics']) })).toEqual(['key-server', 'kube-state-metrics']);
    expect(namespacesOf({ namespace: 'monitoring', caSecret: { name: 'ca', key: 'ca.crt' }, discovery: DiscoveryScope.namespaces(['kube-system']) }))
      .toEqual(['monitoring', 'key-server', 'kube-system']);
  });

  test('refuses a key server name too long for its components\' instance labels, naming the prop', () => {
    expect(() => synthesize((scope) => {
      new StandaloneMonitoring(scope, 'monitoring', { keyServer: KeyServerApp.fromAttributes(scope, 'key-server', { name: 'k'.repeat(51) }), runbookBaseUrl });
    })).toThrow(/^keyServer.name \('k+'\) must be at most 50 characters for standalone monitoring/);
    expect(() => synthesize((scope) => {
      new StandaloneMonitoring(scope, 'monitoring', { keyServer: KeyServerApp.fromAttributes(scope, 'key-server', { name: 'k'.repeat(50) }), runbookBaseUrl });
    })).not.toThrow();
  });

  test('mounts one Secret that two remote-write targets share once, with both keys, where each target reads its own', () => {
    let monitoring!: StandaloneMonitoring;
    const objects = synthesize((scope) => {
      monitoring = new StandaloneMonitoring(scope, 'monitoring', {
        keyServer: KeyServerApp.fromAttributes(scope, 'key-server'), runbookBaseUrl,
        remoteWrite: [
          { url: 'https://a.example.com/push', bearerTokenSecret: { name: 'rw', key: 'a' } },
          { url: 'https://b.example.com/push', bearerTokenSecret: { name: 'rw', key: 'b' } },
        ],
      });
    });
    const spec = only(objects, 'StatefulSet', 'prometheus').spec.template.spec;
    const volumes = spec.volumes.filter((volume: any) => volume.secret?.secretName === 'rw');
    expect(volumes.map((volume: any) => volume.secret.items.map((item: any) => item.key))).toEqual([['a', 'b']]);
    const mount = spec.containers[0].volumeMounts.find((m: any) => m.name === volumes[0].name);
    const files = monitoring.prometheusConfig.remote_write!.map((entry: any) => entry.authorization.credentials_file);
    expect(files).toEqual([`${mount.mountPath}/a`, `${mount.mountPath}/b`]);
    expectStrictlyValid(objects);
  });

  test.each<[string, Options, RegExp]>([
    ['a namespace that is no DNS label', { namespace: 'Monitoring' }, /^namespace must be a DNS label/],
    ['another namespace without a CA Secret there', { namespace: 'monitoring' }, /^caSecret is required when namespace \('monitoring'\) differs from the key server's \('key-server'\)/],
    ['a discovery scope that is no DiscoveryScope', { discovery: 'cluster' as never }, /^discovery must be DiscoveryScope/],
    ['an image without a registry', { images: { prometheus: 'prometheus/prometheus:v3.13.5' } }, /^images\.prometheus must be .*it names no registry/],
    ['a retention in part of a second', { retention: Duration.millis(7_200_500) }, /^retention must be a positive whole number of seconds, got 7200.5 s$/],
    ['a scrape interval in part of a second', { scrapeInterval: Duration.millis(1500), scrapeTimeout: Duration.seconds(1) }, /^scrapeInterval must be a positive whole number of seconds, got 1.5 s$/],
    ['a storage class that is no DNS subdomain', { storageClassName: 'Bad Class' }, /^storageClassName must be a DNS subdomain/],
    ['a Grafana admin Secret that is no DNS subdomain', { grafanaAdminSecretName: 'Bad_Name' }, /^grafanaAdminSecretName must be a DNS subdomain/],
    ['a remote-write Secret key with a slash', { remoteWrite: [{ url: 'https://m.example.com/push', bearerTokenSecret: { name: 'rw', key: 'a/b' } }] }, /^remoteWrite\[0\]\.bearerTokenSecret\.key must be a Secret key/],
  ])('refuses %s, naming the prop', (_, options, message) => {
    expect(() => synthesize((scope) => {
      new StandaloneMonitoring(scope, 'monitoring', { keyServer: KeyServerApp.fromAttributes(scope, 'key-server'), runbookBaseUrl, ...options });
    })).toThrow(message);
  });
});
