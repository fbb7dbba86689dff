// How the end-to-end test reads its server flags, scrape job, rules and dashboards from the manifests, and how it fails when they disagree.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Testing } from 'cdk8s';
import { parse, parseAllDocuments } from 'yaml';
import { buildStandalone } from '../../main';
import { parseConfig } from '../../server/config';
import {
  dashboardsFrom, kubernetesTargetLabels, localServerArgs, resolveScrapeTarget, ruleGroupsFrom, scrapeConfig,
  synthesizeOperatorManifests, withTestTiming, type LocalEnvironment,
} from './manifests';
import { panelQueries, substituteVariables } from './panels';

/* eslint-disable @typescript-eslint/no-explicit-any */

const { objects, keyServer } = synthesizeOperatorManifests();
const target = resolveScrapeTarget(objects);
const local: LocalEnvironment = {
  host: '127.0.0.1',
  ports: new Map([[target.servingContainerPort, 40001], [target.metricsContainerPort, 40002]]),
  certFile: '/tmp/e2e/tls.crt',
  keyFile: '/tmp/e2e/tls.key',
};

/** A deep copy of the manifests with `edit` applied to the first object of `kind`. */
function edited(kind: string, edit: (object: any) => void): any[] {
  const copy = structuredClone(objects);
  edit(copy.find((object) => object.kind === kind));
  return copy;
}

describe('the scrape target read from the synthesized manifests', () => {
  it('is the ServiceMonitor endpoint resolved through the Service to the key server container', () => {
    expect(target).toEqual(expect.objectContaining({
      jobName: 'serviceMonitor/key-server/key-server/0',
      namespace: keyServer.namespace,
      service: keyServer.service.name,
      endpointPortName: keyServer.metricsPortName,
      scheme: keyServer.metricsScheme,
      metricsPath: keyServer.metricsPath,
      metricsContainerPort: keyServer.metricsPort,
      servingContainerPort: keyServer.httpsPort,
      containerName: 'key-server',
      tls: { caSecret: { name: keyServer.tlsSecretName, key: keyServer.tlsCaSecretKey }, serverName: 'key-server.key-server.svc', insecureSkipVerify: false },
    }));
    expect(target.certificateDnsNames).toContain(target.tls.serverName);
  });

  it('runs with the container args committed in dist/, which are KeyServerApp.serverArgs', () => {
    const committed = parseAllDocuments(readFileSync(join(__dirname, '..', '..', 'dist', 'key-server.k8s.yaml'), 'utf8'))
      .map((document) => document.toJS())
      .find((object) => object?.kind === 'Deployment');
    expect(target.containerArgs).toEqual(committed.spec.template.spec.containers[0].args);
    expect(target.containerArgs).toEqual([...keyServer.serverArgs]);
  });

  it('names the target when the Service no longer has the port the ServiceMonitor scrapes', () => {
    const renamed = edited('Service', (service) => {
      service.spec.ports.find((port: any) => port.name === 'metrics').name = 'prometheus';
    });
    expect(() => resolveScrapeTarget(renamed)).toThrow(
      'scrape target serviceMonitor/key-server/key-server/0 (ServiceMonitor key-server/key-server, endpoint port "metrics"): '
      + 'Service key-server/key-server has no port named "metrics" (its ports: https, prometheus)');
  });

  it('names the target when the Service port targets a port the container does not declare', () => {
    const moved = edited('Deployment', (deployment) => {
      deployment.spec.template.spec.containers[0].ports.find((port: any) => port.name === 'metrics').containerPort = 9465;
    });
    expect(() => resolveScrapeTarget(moved)).toThrow(/scrape target serviceMonitor\/key-server\/key-server\/0 .*targets 9464, which no container/);
  });

  it('names the target when the server flags open another port than the one scraped', () => {
    const args = [...target.containerArgs];
    args[args.indexOf('--metrics-port') + 1] = '9465';
    expect(() => localServerArgs({ ...target, containerArgs: args }, local)).toThrow(
      /scrape target serviceMonitor\/key-server\/key-server\/0 .*--metrics-port 9465 opens a port the container does not declare/);
    expect(() => localServerArgs({ ...target, containerArgs: args.filter((arg) => !['--metrics-port', '9465'].includes(arg)) }, local))
      .toThrow(/resolves to container port 9464, but no flag of key-server .* opens it/);
  });
});

describe('the local server args', () => {
  const args = localServerArgs(target, local);

  it('swap only the host, the ports and the certificate files, and the server accepts them', () => {
    const flagOf = (index: number) => args[index - 1];
    expect(args.flatMap((arg, index) => (arg === target.containerArgs[index] ? [] : [`${flagOf(index)} ${arg}`]))).toEqual([
      '--host 127.0.0.1', '--srv-port 40001', '--metrics-port 40002', '--tls-cert /tmp/e2e/tls.crt', '--tls-key /tmp/e2e/tls.key',
    ]);
    const parsed = parseConfig(args, {});
    expect(parsed).toEqual({ kind: 'config', config: expect.objectContaining({ srvPort: 40001, metricsPort: 40002, faultErrorRatio: 0, faultLatency: 0 }) });
  });

  it('refuse certificate paths outside the mount of the Secret whose CA the scrape trusts', () => {
    const args = [...target.containerArgs];
    args[args.indexOf('--tls-cert') + 1] = '/elsewhere/tls.crt';
    expect(() => localServerArgs({ ...target, containerArgs: args }, local)).toThrow(/--tls-cert \/elsewhere\/tls.crt is not in the mount of Secret key-server-tls/);
  });
});

describe('the scrape job', () => {
  it('keeps the endpoint\'s scheme, path and TLS verification, with a static target labelled as Kubernetes would', () => {
    const job = scrapeConfig(target, {
      address: '127.0.0.1:40002', labels: kubernetesTargetLabels(target, 'key-server-abc-def'), interval: '1s', caFile: '/tmp/ca.crt',
    });
    expect(job).toEqual({
      job_name: 'serviceMonitor/key-server/key-server/0',
      scheme: 'https',
      metrics_path: '/metrics',
      scrape_interval: '1s',
      scrape_timeout: '1s',
      tls_config: { ca_file: '/tmp/ca.crt', server_name: 'key-server.key-server.svc' },
      static_configs: [{
        targets: ['127.0.0.1:40002'],
        labels: { job: 'key-server', namespace: 'key-server', service: 'key-server', pod: 'key-server-abc-def', container: 'key-server', endpoint: 'metrics' },
      }],
    });
  });

  it('agrees with the standalone prometheus.yml, so one test covers both modes', () => {
    const app = Testing.app();
    buildStandalone(app, 'production');
    const configMap = app.charts.flatMap((chart) => Testing.synth(chart))
      .find((object) => object.kind === 'ConfigMap' && object.data?.['prometheus.yml'] !== undefined);
    const job = parse(configMap.data['prometheus.yml']).scrape_configs.find((candidate: any) => candidate.job_name === 'key-server');
    expect({ scheme: job.scheme, path: job.metrics_path, serverName: job.tls_config.server_name })
      .toEqual({ scheme: target.scheme, path: target.metricsPath, serverName: target.tls.serverName });
    const keep = job.relabel_configs.find((relabel: any) => relabel.action === 'keep');
    expect(keep).toEqual(expect.objectContaining({ regex: `${target.service};${target.endpointPortName}` }));
    const written = job.relabel_configs.map((relabel: any) => relabel.target_label).filter(Boolean).sort();
    expect(written).toEqual(Object.keys(kubernetesTargetLabels(target, 'pod')).sort());
  });

  it('skips verification only when the ServiceMonitor does', () => {
    const insecure = resolveScrapeTarget(edited('ServiceMonitor', (monitor) => {
      monitor.spec.endpoints[0].tlsConfig = { insecureSkipVerify: true };
    }));
    expect(scrapeConfig(insecure, { address: 'a:1', labels: {}, interval: '1s', caFile: '/ca' }).tls_config).toEqual({ insecure_skip_verify: true });
  });
});

describe('the rules and dashboards read from the manifests', () => {
  it('changes only the alerts\' `for` and the groups\' own intervals in the test copy of the rules', () => {
    const groups = ruleGroupsFrom(objects);
    const shortened = withTestTiming(groups, '2s');
    const without = (rule: any) => ({ ...rule, for: undefined });
    expect(shortened.map((group) => group.rules.map(without))).toEqual(groups.map((group) => group.rules.map(without)));
    expect(shortened.map((group) => group.name)).toEqual(groups.map((group) => group.name));
    expect(new Set(shortened.flatMap((group) => group.rules).flatMap((rule) => ('alert' in rule ? [rule.for] : [])))).toEqual(new Set(['2s']));
    expect(groups.flatMap((group) => group.rules).some((rule) => 'alert' in rule && rule.for !== '2s')).toBe(true);
    expect(groups.some((group) => group.interval !== undefined)).toBe(true);
    expect(shortened.every((group) => group.interval === undefined)).toBe(true);
  });

  it('finds both dashboards in the ConfigMaps Grafana\'s sidecar loads', () => {
    expect(dashboardsFrom(objects).map((dashboard) => dashboard.title).sort()).toEqual(['Key Server HTTP Overview', 'Key Server Key Generation']);
  });

  it('substitutes $__rate_interval as four scrape intervals and refuses unknown variables', () => {
    expect(substituteVariables('rate(x[$__rate_interval])', { scrapeIntervalSeconds: 15 })).toBe('rate(x[60s])');
    expect(substituteVariables('x{pod="$pod",ns="${ns}",j="[[job]]"}', { scrapeIntervalSeconds: 1, values: { pod: 'p', ns: 'n', job: 'j' } }))
      .toBe('x{pod="p",ns="n",j="j"}');
    expect(() => substituteVariables('rate(x[$__interval])', { scrapeIntervalSeconds: 1 })).toThrow('unknown Grafana variable $__interval');
    expect(panelQueries(dashboardsFrom(objects), { scrapeIntervalSeconds: 1 }).every((query) => !query.expr.includes('$'))).toBe(true);
  });
});
