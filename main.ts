// The cdk8s app: composes the constructs for an environment and writes dist/ (operator mode) and dist/standalone/.
import * as path from 'node:path';
import { App, Chart, YamlOutputType } from 'cdk8s';
import { Construct } from 'constructs';
import { KeyServerApp, KeyServerAppProps, MonitoringStack } from './constructs';

/** The environments this app knows; `KEY_SERVER_ENV` picks one, `production` by default. */
export const environments = ['production', 'development'] as const;
export type Environment = (typeof environments)[number];

/** KeyServerApp props per environment. Production keeps the construct's defaults; development is one small pod. */
export function keyServerProps(environment: Environment): KeyServerAppProps {
  switch (environment) {
    case 'production':
      return {};
    case 'development':
      // One replica cannot honour a PodDisruptionBudget or need an autoscaler; access logs help while debugging.
      return { replicas: 1, autoscaling: false, podDisruptionBudget: false, accessLog: true };
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

/**
 * The charts of dist/: the key server, and its ServiceMonitor, PrometheusRule and dashboards for a cluster
 * running prometheus-operator (kube-prometheus-stack).
 */
export function buildOperatorMode(app: App, environment: Environment): { keyServer: KeyServerApp; monitoring: MonitoringStack } {
  const keyServer = new KeyServerApp(chart(app, 'key-server'), 'key-server', keyServerProps(environment));
  const monitoring = new MonitoringStack(chart(app, 'monitoring'), 'monitoring', { keyServer, mode: 'operator' });
  return { keyServer, monitoring };
}

/**
 * The charts of dist/standalone/: the key server with its own Prometheus, Alertmanager and Grafana, for a
 * cluster without prometheus-operator.
 */
export function buildStandalone(app: App, environment: Environment): { keyServer: KeyServerApp; monitoring: MonitoringStack } {
  const keyServer = new KeyServerApp(chart(app, 'key-server'), 'key-server', keyServerProps(environment));
  const monitoring = new MonitoringStack(chart(app, 'monitoring'), 'monitoring', { keyServer, mode: 'standalone' });
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
