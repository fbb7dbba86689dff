// Standalone mode: a Prometheus, Alertmanager and Grafana of their own for a cluster without prometheus-operator,
// with the same rules and dashboards as operator mode plus alerts on the monitoring itself.
import type { Duration, Size } from 'cdk8s';
import { Construct } from 'constructs';
import { defaultImage, formatImageReference, ImageName, ImageReference, imageVersionLabel, parseImageReference } from '../images';
import { DiscoveryScope, RbacBundle, validatedScope } from '../rbac-bundle';
import type { PeerSelector } from '../network-policy';
import { requireDnsLabel, requireDnsSubdomain } from '../validation';
import { StandaloneAlertmanager } from './alertmanager';
import type { GrafanaDashboard } from './dashboards/key-server-dashboards';
import { StandaloneGrafana } from './grafana';
import { followKeyServerNamespace, KeyServerMonitoringProps, monitoringLabels, planKeyServerMonitoring } from './key-server-monitoring';
import type { MonitoredKeyServer } from './monitored-key-server';
import { StandalonePrometheus } from './prometheus';
import { PrometheusConfig, RemoteWriteTarget, standaloneJobs, standalonePrometheusConfig } from './prometheus-config';
import { metaMonitoringRuleGroups } from './rules/meta-monitoring-rules';
import type { MetricSource, OmittedAlert } from './rules/metric-sources';
import type { RuleGroup } from './rules/rule-types';

/** Images of the standalone stack, each with its registry and a tag, a digest (`@sha256:…`) or both. */
export interface StandaloneImages {
  /** @default - versions.json `images.prometheus` (quay.io/prometheus/prometheus:v3.13.5) */
  readonly prometheus?: string;
  /** @default - versions.json `images.alertmanager` (quay.io/prometheus/alertmanager:v0.35.0) */
  readonly alertmanager?: string;
  /** @default - versions.json `images.grafana` (docker.io/grafana/grafana:13.2.3) */
  readonly grafana?: string;
}

/** Props of {@link StandaloneMonitoring}. */
export interface StandaloneMonitoringProps extends KeyServerMonitoringProps {
  /**
   * Namespace of Prometheus, Alertmanager and Grafana. It must hold the key server's CA (see `caSecret`), so it
   * defaults to the key server's own.
   * @default - the key server's namespace
   */
  readonly namespace?: string;
  /**
   * What Prometheus may discover: pods, Services and EndpointSlices in chosen namespaces, or the whole cluster, where
   * it also scrapes the kubelets' cAdvisor metrics (for your own dashboards: the key server's CPU and memory alerts
   * read its own process metrics). Namespaces given are added to the monitoring and key server namespaces, which
   * Prometheus always discovers: add the one running kube-state-metrics when you have one.
   * @default - DiscoveryScope.namespaces([the monitoring namespace, the key server's namespace])
   */
  readonly discovery?: DiscoveryScope;
  /**
   * Whether a kube-state-metrics runs where this Prometheus discovers it (annotated `prometheus.io/scrape: "true"` in
   * a discovered namespace). KeyServerNoPodsAvailable, KeyServerPodsNotReady and KeyServerReplicasMismatch read only its series, so without it
   * they are left out (`omittedAlerts` lists them) rather than shipped silent.
   * @default false
   */
  readonly kubeStateMetrics?: boolean;
  /**
   * How long Prometheus keeps samples.
   * @default Duration.days(15)
   */
  readonly retention?: Duration;
  /**
   * Size of Prometheus's volume; retention by size stops at 80 % of it.
   * @default Size.gibibytes(20)
   */
  readonly storageSize?: Size;
  /**
   * StorageClass of the Prometheus and Alertmanager volumes.
   * @default - the cluster's default StorageClass
   */
  readonly storageClassName?: string;
  /**
   * Labels on every series leaving this Prometheus, e.g. `{ cluster: 'eu-1' }`, so a global view (Thanos, Mimir) tells clusters apart.
   * @default {}
   */
  readonly externalLabels?: Record<string, string>;
  /**
   * Remote-write destinations (Thanos Receive, Mimir, Cortex) for long-term storage and a global view.
   * @default []
   */
  readonly remoteWrite?: RemoteWriteTarget[];
  /**
   * Existing Secret with keys `admin-user` and `admin-password` for Grafana; referenced, never generated.
   * @default 'grafana-admin'
   */
  readonly grafanaAdminSecretName?: string;
  /**
   * Existing Secret holding `alertmanager.yml` with real receivers. Alertmanager reads it at start (nothing sends it a reload): after
   * changing it, `kubectl rollout restart statefulset/alertmanager`, or name a new Secret here (the pods roll).
   * @default - a generated Secret with the route tree and receivers that send nothing yet
   */
  readonly alertmanagerConfigSecretName?: string;
  /**
   * Images, e.g. a mirror's `registry.example.com/prometheus/prometheus:v3.13.5@sha256:…`.
   * @default - the images of versions.json
   */
  readonly images?: StandaloneImages;
}

/**
 * Prometheus (RBAC from {@link RbacBundle}), Alertmanager and Grafana for one key server, with its rules and
 * dashboards and the rules on the monitoring itself. The key server admits this Prometheus to its metrics port
 * (`allowMetricsFrom`): no policy here selects its pods.
 */
export class StandaloneMonitoring extends Construct {
  /** How the key server's series are labelled, as rules and dashboards select them. */
  public readonly target: MonitoredKeyServer;
  /** The key server's rule groups, then those on the monitoring itself. */
  public readonly ruleGroups: readonly RuleGroup[];
  /** Series sources this Prometheus scrapes. */
  public readonly availableSources: readonly MetricSource[];
  /** Alerts left out because this Prometheus has no source for their series, each with what it lacks. */
  public readonly omittedAlerts: readonly OmittedAlert[];
  public readonly dashboards: readonly GrafanaDashboard[];
  /** Prometheus's read-only discovery identity. */
  public readonly rbac: RbacBundle;
  public readonly prometheus: StandalonePrometheus;
  /** prometheus.yml as a plain object. */
  public readonly prometheusConfig: PrometheusConfig;
  public readonly alertmanager: StandaloneAlertmanager;
  public readonly grafana: StandaloneGrafana;

  constructor(scope: Construct, id: string, props: StandaloneMonitoringProps) {
    super(scope, id);
    const { keyServer } = props;
    // The standalone stack scrapes itself and its Alertmanager, and kube-state-metrics only where the user runs one.
    this.availableSources = ['keyServer', 'prometheus', 'alertmanager', ...(props.kubeStateMetrics === true ? ['kubeStateMetrics' as const] : [])];
    const plan = planKeyServerMonitoring(props, this.availableSources);
    this.target = plan.target;
    this.omittedAlerts = plan.omittedAlerts;
    this.ruleGroups = [
      ...plan.ruleGroups,
      ...metaMonitoringRuleGroups({ prometheusJob: standaloneJobs.prometheus, alertmanagerJob: standaloneJobs.alertmanager, runbookBaseUrl: props.runbookBaseUrl }),
    ];
    this.dashboards = plan.dashboards;
    followKeyServerNamespace(this, keyServer);

    const namespace = requireDnsLabel('namespace', props.namespace ?? keyServer.namespace);
    if (namespace !== keyServer.namespace && plan.caSecret !== undefined && props.caSecret === undefined) {
      throw new Error(`caSecret is required when namespace ('${namespace}') differs from the key server's ('${keyServer.namespace}'): Prometheus can only mount a Secret of its own namespace`);
    }
    const image = (name: Exclude<ImageName, 'keyServer'>): ImageReference => {
      const given = props.images?.[name];
      return given === undefined ? defaultImage(name) : parseImageReference(`images.${name}`, given);
    };
    const images = { prometheus: image('prometheus'), alertmanager: image('alertmanager'), grafana: image('grafana') };
    // Each component's instance label is `<key server>-<component>`, a label value of at most 63 characters.
    const longestComponent = Math.max(...Object.keys(images).map((name) => name.length));
    if (keyServer.name.length + 1 + longestComponent > 63) {
      throw new Error(`keyServer.name ('${keyServer.name}') must be at most ${62 - longestComponent} characters for standalone monitoring: its components are labelled '<name>-alertmanager'`);
    }
    const component = (name: keyof typeof images) => ({
      labels: monitoringLabels(keyServer, name, `${keyServer.name}-${name}`, imageVersionLabel(images[name])),
      selectorLabels: standaloneSelectorLabels(keyServer.name, name),
    });
    const storageClassName = props.storageClassName === undefined ? undefined : requireDnsSubdomain('storageClassName', props.storageClassName);
    const grafanaAdminSecretName = props.grafanaAdminSecretName === undefined ? undefined : requireDnsSubdomain('grafanaAdminSecretName', props.grafanaAdminSecretName);
    const prometheusLabels = component('prometheus');
    const alertmanagerLabels = component('alertmanager');
    const grafanaLabels = component('grafana');

    this.rbac = new RbacBundle(this, 'rbac', {
      namespace,
      name: 'prometheus',
      scope: discoveryScope(props.discovery, [namespace, keyServer.namespace]),
      labels: prometheusLabels.labels,
    });
    this.alertmanager = new StandaloneAlertmanager(this, 'alertmanager', {
      namespace,
      ...alertmanagerLabels,
      alertSenderLabels: prometheusLabels.selectorLabels,
      existingConfigSecretName: props.alertmanagerConfigSecretName,
      image: formatImageReference(images.alertmanager),
      storageClassName,
    });
    this.prometheusConfig = standalonePrometheusConfig({
      target: this.target,
      metricsPortName: keyServer.metricsPortName,
      metricsPath: keyServer.metricsPath,
      tlsServerName: keyServer.tlsServerName,
      insecureSkipVerify: plan.insecureSkipVerify,
      namespaces: this.rbac.watchedNamespaces,
      scrapeKubelet: this.rbac.scope.clusterWide,
      scrapeInterval: plan.scrape.interval,
      scrapeTimeout: plan.scrape.timeout,
      alertmanagers: [this.alertmanager.address],
      scrapeAlertmanager: true,
      externalLabels: props.externalLabels,
      remoteWrite: props.remoteWrite,
    });
    this.prometheus = new StandalonePrometheus(this, 'prometheus', {
      namespace,
      ...prometheusLabels,
      config: this.prometheusConfig,
      ruleGroups: this.ruleGroups,
      serviceAccount: this.rbac.serviceAccount,
      keyServerCa: plan.caSecret,
      remoteWrite: props.remoteWrite ?? [],
      queryClientLabels: grafanaLabels.selectorLabels,
      image: formatImageReference(images.prometheus),
      retention: props.retention,
      storageSize: props.storageSize,
      storageClassName,
    });
    this.grafana = new StandaloneGrafana(this, 'grafana', {
      namespace,
      ...grafanaLabels,
      prometheusUrl: this.prometheus.url,
      scrapeInterval: plan.scrape.interval,
      dashboards: this.dashboards,
      adminSecretName: grafanaAdminSecretName,
      image: formatImageReference(images.grafana),
    });

    keyServer.allowMetricsFrom(standalonePrometheusPeer(keyServer.name, namespace));
  }
}

/**
 * The standalone Prometheus's pods as a NetworkPolicy peer: those of the stack monitoring key server `keyServerName`
 * from namespace `namespace`. StandaloneMonitoring admits them to the key server's metrics port; a KeyServerApp built
 * for standalone monitoring alone can name them as its `prometheusSelector`, so it admits nothing else.
 */
export function standalonePrometheusPeer(keyServerName: string, namespace: string): Required<PeerSelector> {
  return {
    namespaceLabels: { 'kubernetes.io/metadata.name': namespace },
    podLabels: standaloneSelectorLabels(keyServerName, 'prometheus'),
  };
}

/** The selector labels of one standalone component's pods. */
function standaloneSelectorLabels(keyServerName: string, component: 'prometheus' | 'alertmanager' | 'grafana'): Record<string, string> {
  return { 'app.kubernetes.io/name': component, 'app.kubernetes.io/instance': `${keyServerName}-${component}` };
}

/**
 * What Prometheus discovers: the whole cluster, or the namespaces of `discovery` added to `ownNamespaces` (its own and
 * the key server's), without which it would find neither the key server nor itself.
 */
function discoveryScope(discovery: DiscoveryScope | undefined, ownNamespaces: readonly string[]): DiscoveryScope {
  if (discovery === undefined) return DiscoveryScope.namespaces([...new Set(ownNamespaces)]);
  const added = validatedScope('discovery', discovery);
  return added === undefined ? discovery : DiscoveryScope.namespaces([...new Set([...ownNamespaces, ...added])]);
}
