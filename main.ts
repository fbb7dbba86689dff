// The cdk8s app: composes the constructs for an environment and writes dist/ (operator mode) and dist/standalone/.
import * as path from 'node:path';
import { App, Chart, YamlOutputType } from 'cdk8s';
import { Construct } from 'constructs';
import { KeyServerApp, KeyServerAppProps, KeyServerScaling, MonitoringStack, standalonePrometheusPeer } from './constructs';
import { keyServerDefaults } from './constructs/key-server/defaults';

/**
 * Where this repository is published: every alert's runbook_url points at docs/runbooks.md there, and gitops/ syncs
 * from it. Replace it with your copy's URL when you fork (test/delivery/gitops.test.ts checks gitops/ agrees).
 */
export const repository = { url: 'https://github.com/example/key-server', branch: 'main' } as const;

/** docs/runbooks.md as published, which the alerts link to. */
export const runbookBaseUrl = `${repository.url}/blob/${repository.branch}/docs/runbooks.md`;

/** The environments this app knows; `KEY_SERVER_ENV` picks one, `production` by default. */
export const environments = ['production', 'development'] as const;
export type Environment = (typeof environments)[number];

/** KeyServerApp props per environment. Production keeps the construct's defaults; development is one small pod. */
export function keyServerProps(environment: Environment): KeyServerAppProps {
  switch (environment) {
    case 'production':
      return {};
    case 'development':
      // One pod; access logs help while debugging.
      return { scaling: KeyServerScaling.fixedReplicas(1), accessLog: true };
  }
}

/** Reads `KEY_SERVER_ENV`, refusing names it does not know instead of synthesizing production by surprise. */
export function environmentFrom(value: string | undefined): Environment {
  const environment = value === undefined || value === '' ? 'production' : value;
  if (!(environments as readonly string[]).includes(environment)) {
    throw new Error(`KEY_SERVER_ENV must be one of ${environments.join(', ')}; got '${environment}'`);
  }
  return environment as Environment;
}

/** A chart holding objects that set their own namespaces. */
function chart(scope: Construct, id: string): Chart {
  return new Chart(scope, id, { disableResourceNameHashes: true });
}

/** How a build differs by where its output goes. */
export interface BuildOptions {
  /**
   * Whether the key server's Namespace is one of the objects. A Helm chart leaves it out: `helm install -n key-server
   * --create-namespace` creates it, and a chart holding it too fails on ownership.
   * @default true
   */
  readonly createNamespace?: boolean;
}

/**
 * The charts of dist/: the key server, and its ServiceMonitor, PrometheusRule and dashboards for a cluster
 * running prometheus-operator (kube-prometheus-stack) and cert-manager.
 */
export function buildOperatorMode(app: App, environment: Environment, options: BuildOptions = {}): { keyServer: KeyServerApp; monitoring: MonitoringStack } {
  const keyServer = new KeyServerApp(chart(app, 'key-server'), 'key-server', { ...keyServerProps(environment), createNamespace: options.createNamespace });
  const monitoring = new MonitoringStack(chart(app, 'monitoring'), 'monitoring', { keyServer, mode: 'operator', runbookBaseUrl });
  return { keyServer, monitoring };
}

/** The TLS Secret dist/standalone/ mounts and leaves to you: `npm run dev-cert` writes one, or your own PKI. */
export const standaloneTlsSecretName = 'key-server-tls';

/**
 * The charts of dist/standalone/: the key server with its own Prometheus, Alertmanager and Grafana, for a cluster
 * with nothing installed: neither prometheus-operator nor cert-manager. The pods mount an existing TLS Secret
 * (`kubernetes.io/tls` with `ca.crt`, which Prometheus verifies the key server against), so no cert-manager object
 * is applied; with cert-manager, pass `tls` props to KeyServerApp as dist/ does.
 */
export function buildStandalone(app: App, environment: Environment, options: BuildOptions = {}): { keyServer: KeyServerApp; monitoring: MonitoringStack } {
  const keyServer = new KeyServerApp(chart(app, 'key-server'), 'key-server', {
    ...keyServerProps(environment), createNamespace: options.createNamespace, tls: { existingSecretName: standaloneTlsSecretName },
    // The stack's own Prometheus, not the default (`monitoring` namespace, any Prometheus), which this set never runs.
    prometheusSelector: standalonePrometheusPeer(keyServerDefaults.name, keyServerDefaults.namespace),
  });
  const monitoring = new MonitoringStack(chart(app, 'monitoring'), 'monitoring', { keyServer, mode: 'standalone', runbookBaseUrl });
  return { keyServer, monitoring };
}

/** One cdk8s App per output directory, one YAML file per chart, so a GitOps diff names the chart it touches. */
function appAt(outdir: string): App {
  return new App({ outdir, yamlOutputType: YamlOutputType.FILE_PER_CHART });
}

/** Synthesizes every output directory under `outdir` (dist/ itself holds operator mode). */
export function synthesizeAll(outdir: string, environment: Environment): void {
  const operatorMode = appAt(outdir);
  buildOperatorMode(operatorMode, environment);
  operatorMode.synth();
  const standalone = appAt(path.join(outdir, 'standalone'));
  buildStandalone(standalone, environment);
  standalone.synth();
}

if (require.main === module) {
  // `cdk8s synth` empties its output directory, then runs this with CDK8S_OUTDIR set to it.
  synthesizeAll(process.env.CDK8S_OUTDIR ?? 'dist', environmentFrom(process.env.KEY_SERVER_ENV));
}
