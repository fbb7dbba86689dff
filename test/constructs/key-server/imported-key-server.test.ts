// KeyServerApp.fromAttributes: a key server installed by other means, described by attributes whose defaults are what
// KeyServerApp emits, monitored exactly like one this app builds, and never given a policy that would isolate its pods.
import { Testing } from 'cdk8s';
import { IKeyServer, KeyServerApp, KeyServerAttributes, MonitoringStack } from '../../../constructs';
import { runbookBaseUrl } from '../../../main';
import { admits, peerIn } from '../helpers/network-policy';
import { newChart, only, synthesize } from '../helpers/synth';
import { expectStrictlyValid } from '../helpers/validate-strict';

/* eslint-disable @typescript-eslint/no-explicit-any */

/** Every member of IKeyServer but the construct plumbing, for comparison. */
function contract(keyServer: IKeyServer) {
  const {
    name, namespace, version, partOf, serviceName, selectorLabels, deploymentName, containerName, metricsPortName, metricsPath,
    caSecret, tlsServerName, containerLimits,
  } = keyServer;
  return { name, namespace, version, partOf, serviceName, selectorLabels, deploymentName, containerName, metricsPortName, metricsPath, caSecret, tlsServerName, containerLimits };
}

/** The monitoring objects for `keyServer` (built by `build` in a fresh chart), without the key server's own objects. */
function monitoringOf(build: (chart: ReturnType<typeof newChart>) => IKeyServer, mode: 'operator' | 'standalone'): any[] {
  const chart = newChart();
  const keyServer = build(chart);
  const stack = new MonitoringStack(chart, 'monitoring', { keyServer, mode, runbookBaseUrl });
  return stack.node.findAll().filter((construct: any) => typeof construct.toJson === 'function' && construct.kind !== undefined).map((object: any) => object.toJson());
}

describe('KeyServerApp.fromAttributes', () => {
  test('with its namespace alone, describes what KeyServerApp emits in that namespace', () => {
    const chart = newChart();
    const built = new KeyServerApp(chart, 'built', { namespace: 'keys' });
    const imported = KeyServerApp.fromAttributes(chart, 'imported', { namespace: 'keys' });
    expect(contract(imported)).toEqual(contract(built));
  });

  test('with another name, follows it as KeyServerApp does (Service, Deployment, labels, TLS Secret and server name)', () => {
    const chart = newChart();
    const built = new KeyServerApp(chart, 'built', { name: 'vault-keys', namespace: 'security' });
    const imported = KeyServerApp.fromAttributes(chart, 'imported', { name: 'vault-keys', namespace: 'security' });
    expect(contract(imported)).toEqual(contract(built));
  });

  test('emits nothing of its own', () => {
    expect(synthesize((scope) => { KeyServerApp.fromAttributes(scope, 'keys'); })).toEqual([]);
  });

  test.each(['operator', 'standalone'] as const)('is monitored in %s mode with exactly the objects a KeyServerApp of the same defaults gets', (mode) => {
    const forImported = monitoringOf((chart) => KeyServerApp.fromAttributes(chart, 'key-server'), mode);
    const forBuilt = monitoringOf((chart) => new KeyServerApp(chart, 'key-server'), mode);
    expect(forImported.length).toBeGreaterThan(0);
    expect(forImported).toEqual(forBuilt);
  });

  test('takes every attribute it is given into the monitoring objects', () => {
    const attributes: KeyServerAttributes = {
      name: 'keys', namespace: 'payments', version: '2.0.0', partOf: 'payments', serviceName: 'keys-svc',
      selectorLabels: { app: 'keys' }, deploymentName: 'keys-deploy', containerName: 'server', metricsPortName: 'prom',
      metricsPath: '/internal/metrics', caSecret: { name: 'keys-ca', key: 'ca.pem' }, tlsServerName: 'keys.payments.example',
      containerLimits: { cpuCores: 2, memoryBytes: 512 * 1048576 },
    };
    const objects = synthesize((scope) => {
      new MonitoringStack(scope, 'monitoring', { keyServer: KeyServerApp.fromAttributes(scope, 'keys', attributes), mode: 'operator', runbookBaseUrl });
    });
    const monitor = only(objects, 'ServiceMonitor');
    expect(monitor.metadata).toMatchObject({ name: 'keys', namespace: 'payments', labels: { 'app.kubernetes.io/version': '2.0.0', 'app.kubernetes.io/part-of': 'payments' } });
    expect(monitor.spec.selector).toEqual({ matchLabels: { app: 'keys' } });
    expect(monitor.spec.endpoints[0]).toMatchObject({
      port: 'prom', path: '/internal/metrics', tlsConfig: { ca: { secret: { name: 'keys-ca', key: 'ca.pem' } }, serverName: 'keys.payments.example' },
    });
    const rules = JSON.stringify(only(objects, 'PrometheusRule').spec.groups);
    expect(rules).toContain('job=\\"keys-svc\\",namespace=\\"payments\\"');
    expect(rules).toContain('deployment=\\"keys-deploy\\"');
    expect(rules).toContain('/ 2 > 0.85');
    expect(rules).toContain(`/ ${512 * 1048576} > 0.85`);
    expectStrictlyValid(objects);
  });

  test('allowMetricsFrom writes no policy for pods no policy isolates: one selecting them would cut off their other clients', () => {
    const objects = synthesize((scope) => {
      const keyServer = KeyServerApp.fromAttributes(scope, 'keys', { namespace: 'keys' });
      keyServer.allowMetricsFrom({ podLabels: { app: 'prometheus' } });
    });
    expect(objects).toEqual([]);
  });

  test('allowMetricsFrom writes one policy of its own for isolated pods, admitting every peer to the metrics port only', () => {
    const objects = synthesize((scope) => {
      const keyServer = KeyServerApp.fromAttributes(scope, 'keys', { namespace: 'keys', isolatedByNetworkPolicy: true });
      keyServer.allowMetricsFrom({ podLabels: { app: 'prometheus' } });
      keyServer.allowMetricsFrom({ namespaceLabels: { team: 'observability' }, podLabels: { app: 'agent' } });
    });
    const policy = only(objects, 'NetworkPolicy');
    expect(policy.metadata).toMatchObject({ name: 'key-server-allow-metrics', namespace: 'keys' });
    expect(policy.spec.podSelector).toEqual({ matchLabels: { 'app.kubernetes.io/name': 'key-server', 'app.kubernetes.io/instance': 'key-server', 'app.kubernetes.io/component': 'server' } });
    expect(policy.spec.policyTypes).toEqual(['Ingress']);
    expect(admits(policy, peerIn('keys', { app: 'prometheus' }), 'metrics')).toBe(true);
    expect(admits(policy, { namespace: 'o', namespaceLabels: { team: 'observability' }, podLabels: { app: 'agent' } }, 'metrics')).toBe(true);
    expect(admits(policy, peerIn('keys', { app: 'prometheus' }), 'https')).toBe(false);
    expect(admits(policy, peerIn('other', { app: 'prometheus' }), 'metrics')).toBe(false);
    expectStrictlyValid(objects);
  });

  test.each<[string, KeyServerAttributes, RegExp]>([
    ['a namespace that is no DNS label', { namespace: 'Keys' }, /^namespace must be a DNS label/],
    ['a version that is no label value', { version: 'v1 beta' }, /^version must be usable as a label value/],
    ['empty selector labels, which select everything', { selectorLabels: {} }, /^selectorLabels must not be empty/],
    ['a port name longer than 15 characters', { metricsPortName: 'prometheus-metrics' }, /^metricsPortName must be a port name/],
    ['a relative metrics path', { metricsPath: 'metrics' }, /^metricsPath must be an absolute path/],
    ['a CA Secret name that is no DNS name', { caSecret: { name: 'CA!', key: 'ca.crt' } }, /^caSecret.name must be a DNS subdomain/],
    ['limits of zero', { containerLimits: { cpuCores: 0, memoryBytes: 1 } }, /^containerLimits must be positive/],
    ['limits without end', { containerLimits: { cpuCores: Infinity, memoryBytes: 1 } }, /^containerLimits must be positive and finite; got Infinity cores/],
  ])('refuses %s, naming the attribute', (_, attributes, message) => {
    expect(() => KeyServerApp.fromAttributes(Testing.chart(), 'keys', attributes)).toThrow(message);
  });
});
