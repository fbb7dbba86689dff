// Standalone mode: Grafana with a provisioned Prometheus datasource (uid `prometheus`), the dashboards, and admin credentials from a Secret.
import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { stringify } from 'yaml';
import { defaultImage, formatImageReference, parseImageReference } from '../images';
import { HardenedWorkload } from '../workload';
import type { GrafanaDashboard } from './dashboards/key-server-dashboards';
import { monitoringProbeTimeout } from './probe-timing';

/** Props of {@link StandaloneGrafana}. */
export interface StandaloneGrafanaProps {
  readonly namespace: string;
  /** Labels on every object; the pods add `selectorLabels`. */
  readonly labels: Readonly<Record<string, string>>;
  /** Labels that select the Grafana pods. */
  readonly selectorLabels: Readonly<Record<string, string>>;
  /** Prometheus's URL inside the cluster. */
  readonly prometheusUrl: string;
  /** Prometheus's scrape interval, so `$__rate_interval` spans at least four scrapes. */
  readonly scrapeInterval: Duration;
  /** Dashboards to provision. */
  readonly dashboards: readonly GrafanaDashboard[];
  /**
   * uid of the provisioned datasource; the dashboards reference it.
   * @default 'prometheus'
   */
  readonly datasourceUid?: string;
  /**
   * An existing Secret with keys `admin-user` and `admin-password`. Referenced, never written by this library:
   * create it with `kubectl create secret generic`.
   * @default 'grafana-admin'
   */
  readonly adminSecretName?: string;
  /**
   * Image, with its registry and a tag or digest.
   * @default - versions.json `images.grafana` (docker.io/grafana/grafana:13.2.3)
   */
  readonly image?: string;
}

/** The image's user. */
const grafanaUser = 472;
export const grafanaPort = 3000;
const dashboardDirectory = '/var/lib/grafana-dashboards/key-server';
/** One replica: its database (users, preferences) lives in the pod, so a second would disagree with the first. */
const replicas = 1;

/** Grafana, its provisioning and dashboards. */
export class StandaloneGrafana extends Construct {
  public readonly deployment: kplus.Deployment;
  public readonly service: kplus.Service;
  /** Name of the admin credentials Secret the pod reads. */
  public readonly adminSecretName: string;

  constructor(scope: Construct, id: string, props: StandaloneGrafanaProps) {
    super(scope, id);
    const name = 'grafana';
    const workload = new HardenedWorkload(this, {
      name, namespace: props.namespace, labels: props.labels, selectorLabels: props.selectorLabels, user: grafanaUser,
    });
    this.adminSecretName = props.adminSecretName ?? 'grafana-admin';
    const datasourceUid = props.datasourceUid ?? 'prometheus';

    const datasources = stringify({
      apiVersion: 1,
      datasources: [{
        name: 'Prometheus',
        uid: datasourceUid,
        type: 'prometheus',
        access: 'proxy',
        url: props.prometheusUrl,
        isDefault: true,
        editable: false,
        // Grafana computes $__rate_interval from this: max(4 x timeInterval, $__interval + timeInterval).
        jsonData: { timeInterval: `${props.scrapeInterval.toSeconds()}s`, httpMethod: 'POST' },
      }],
    });
    const providers = stringify({
      apiVersion: 1,
      providers: [{
        name: 'key-server',
        orgId: 1,
        folder: 'Key Server',
        type: 'file',
        disableDeletion: true,
        allowUiUpdates: false,
        options: { path: dashboardDirectory },
      }],
    });
    const dashboardFiles = Object.fromEntries(props.dashboards.map((dashboard) => [`${dashboard.uid}.json`, JSON.stringify(dashboard, null, 2)]));
    const provisioning = new kplus.ConfigMap(this, 'provisioning', {
      metadata: workload.metadata('grafana-provisioning'),
      data: { 'datasources.yaml': datasources, 'dashboards.yaml': providers },
    });
    const dashboards = new kplus.ConfigMap(this, 'dashboards', { metadata: workload.metadata('grafana-dashboards'), data: dashboardFiles });

    this.service = workload.addService('service', { ports: [{ name: 'http', port: grafanaPort, targetPort: grafanaPort }] });

    this.deployment = new kplus.Deployment(this, 'deployment', {
      ...workload.podTemplateProps([datasources, providers, ...Object.values(dashboardFiles)]),
      replicas,
      automountServiceAccountToken: false,
    });
    const adminSecret = kplus.Secret.fromSecretName(this, 'admin-secret', this.adminSecretName);
    const container = this.deployment.addContainer({
      name,
      image: formatImageReference(props.image === undefined ? defaultImage('grafana') : parseImageReference('image', props.image)),
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      ports: [{ name: 'http', number: grafanaPort }],
      envVariables: {
        GF_SECURITY_ADMIN_USER: kplus.EnvValue.fromSecretValue({ secret: adminSecret, key: 'admin-user' }),
        GF_SECURITY_ADMIN_PASSWORD: kplus.EnvValue.fromSecretValue({ secret: adminSecret, key: 'admin-password' }),
        GF_PATHS_PROVISIONING: kplus.EnvValue.fromValue('/etc/grafana/provisioning'),
        // Logs go to stdout only: the file logger would write under /var/log on the read-only root filesystem.
        GF_LOG_MODE: kplus.EnvValue.fromValue('console'),
        GF_USERS_ALLOW_SIGN_UP: kplus.EnvValue.fromValue('false'),
        GF_AUTH_ANONYMOUS_ENABLED: kplus.EnvValue.fromValue('false'),
        GF_ANALYTICS_REPORTING_ENABLED: kplus.EnvValue.fromValue('false'),
        GF_ANALYTICS_CHECK_FOR_UPDATES: kplus.EnvValue.fromValue('false'),
        GF_PLUGINS_PLUGIN_ADMIN_ENABLED: kplus.EnvValue.fromValue('false'),
      },
      resources: {
        cpu: { request: kplus.Cpu.millis(50), limit: kplus.Cpu.millis(500) },
        memory: { request: Size.mebibytes(128), limit: Size.mebibytes(512) },
      },
      securityContext: workload.containerSecurity,
      readiness: kplus.Probe.fromHttpGet('/api/health', { port: grafanaPort, periodSeconds: Duration.seconds(10), timeoutSeconds: monitoringProbeTimeout }),
      liveness: kplus.Probe.fromHttpGet('/api/health', { port: grafanaPort, periodSeconds: Duration.seconds(30), failureThreshold: 5, timeoutSeconds: monitoringProbeTimeout }),
    });
    const provisioningVolume = kplus.Volume.fromConfigMap(this, 'provisioning-volume', provisioning, {
      name: 'provisioning',
      items: { 'datasources.yaml': { path: 'datasources/datasources.yaml' }, 'dashboards.yaml': { path: 'dashboards/dashboards.yaml' } },
    });
    container.mount('/etc/grafana/provisioning', provisioningVolume, { readOnly: true });
    container.mount(dashboardDirectory, kplus.Volume.fromConfigMap(this, 'dashboards-volume', dashboards, { name: 'dashboards' }), { readOnly: true });
    // The root filesystem is read-only: Grafana's database, plugins and sessions live here. Users and preferences do
    // not survive a restart; dashboards and the datasource are provisioned again at start.
    container.mount('/var/lib/grafana', kplus.Volume.fromEmptyDir(this, 'data-volume', 'data'));
    container.mount('/tmp', kplus.Volume.fromEmptyDir(this, 'tmp-volume', 'tmp', { sizeLimit: Size.mebibytes(64) }));
    workload.harden(this.deployment);

    workload.addDisruptionBudget('pdb', { mostPods: replicas, prop: 'grafana' });
    // Ingress to the UI from pods of this namespace only; `kubectl port-forward` is how people reach it.
    workload.addNetworkPolicy().allowFrom('http', { podLabels: {} });
  }
}
