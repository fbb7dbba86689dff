// OperatorMonitoring on its own: what MonitoringStack's operator mode delegates to, for any IKeyServer.
import { Duration } from 'cdk8s';
import { KeyServerApp, MonitoringStack, OperatorMonitoring, OperatorMonitoringProps } from '../../../constructs';
import { runbookBaseUrl } from '../../../main';
import { only, synthesize } from '../helpers/synth';

/* eslint-disable @typescript-eslint/no-explicit-any */

type Options = Omit<OperatorMonitoringProps, 'keyServer' | 'runbookBaseUrl'>;

function build(options: Options = {}): any[] {
  return synthesize((scope) => {
    const keyServer = KeyServerApp.fromAttributes(scope, 'key-server');
    new OperatorMonitoring(scope, 'monitoring', { keyServer, runbookBaseUrl, ...options });
  });
}

describe('OperatorMonitoring', () => {
  test('emits exactly what MonitoringStack emits in operator mode: the facade adds nothing', () => {
    const facade = synthesize((scope) => {
      new MonitoringStack(scope, 'monitoring', { keyServer: KeyServerApp.fromAttributes(scope, 'key-server'), mode: 'operator', runbookBaseUrl });
    });
    expect(build()).toEqual(facade);
  });

  test('scrapes with the given timing and verifies against the key server CA unless told to skip', () => {
    const monitor = only(build({ scrapeInterval: Duration.seconds(30), scrapeTimeout: Duration.seconds(20) }), 'ServiceMonitor');
    expect(monitor.spec.endpoints[0]).toMatchObject({ interval: '30s', scrapeTimeout: '20s', tlsConfig: { ca: { secret: { name: 'key-server-tls', key: 'ca.crt' } } } });
    expect(only(build({ insecureSkipVerify: true }), 'ServiceMonitor').spec.endpoints[0].tlsConfig).toEqual({ insecureSkipVerify: true });
    const custom = only(build({ caSecret: { name: 'my-ca', key: 'root.pem' } }), 'ServiceMonitor').spec.endpoints[0].tlsConfig;
    expect(custom.ca).toEqual({ secret: { name: 'my-ca', key: 'root.pem' } });
  });

  test('puts the dashboards into the folder and namespace asked for', () => {
    const dashboards = build({ dashboardFolder: 'Security', dashboardNamespace: 'grafana' }).filter((object) => object.kind === 'ConfigMap');
    expect(dashboards.map((configMap) => [configMap.metadata.namespace, configMap.metadata.annotations.grafana_folder])).toEqual([['grafana', 'Security'], ['grafana', 'Security']]);
  });

  test.each<[string, Options, RegExp]>([
    ['a release label that is no label value', { prometheusSelectorLabels: { release: 'my release' } }, /^prometheusSelectorLabels\['release'\] must be usable as a label value/],
    ['a dashboard label key that is no label key', { dashboardLabels: { 'bad key!': '1' } }, /^dashboardLabels has an invalid label key 'bad key!' \(an optional DNS-subdomain prefix/],
    ['a dashboard namespace that is no DNS label', { dashboardNamespace: 'Grafana' }, /^dashboardNamespace must be a DNS label/],
    ['a scrape timeout as long as the interval', { scrapeTimeout: Duration.seconds(15) }, /^scrapeTimeout \(15s\) must be shorter than scrapeInterval \(15s\)$/],
  ])('refuses %s, naming the prop', (_, options, message) => {
    expect(() => build(options)).toThrow(message);
  });
});
