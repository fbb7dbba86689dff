// MonitoringStack: monitoring for one KeyServerApp, either as objects for an installed Prometheus Operator or as a standalone stack.
import { Chart, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { GrafanaDashboard, keyServerDashboards } from './dashboards';
import type { KeyServerApp } from './key-server-app';
import { defaultImage, formatImageReference, ImageName, ImageReference, imageVersionLabel, parseImageReference } from './images';
import { recommendedLabels } from './labels';
import { StandaloneAlertmanager } from './monitoring-alertmanager';
import { StandaloneGrafana } from './monitoring-grafana';
import { OperatorMonitoring, SecretKeyReference } from './monitoring-operator';
import { StandalonePrometheus } from './monitoring-prometheus';
import { PrometheusConfig, RemoteWriteTarget, standaloneJobs, standalonePrometheusConfig } from './monitoring-prometheus-config';
import { MonitoredKeyServer } from './monitoring-target';
import { RbacBundle, RbacMode } from './rbac-bundle';
import { keyServerRuleGroups, omittedKeyServerAlerts } from './rules/key-server-rules';
import { metaMonitoringRuleGroups } from './rules/meta-monitoring-rules';
import { MetricSource, OmittedAlert } from './rules/metric-sources';
import type { RuleGroup } from './rules/rule-types';
import { requireDnsLabel, requireLabels, requireOneOf } from './validation';

/** `operator`: a Prometheus Operator (kube-prometheus-stack) is installed. `standalone`: bring Prometheus, Alertmanager and Grafana. */
export type MonitoringMode = 'operator' | 'standalone';
const monitoringModes: readonly MonitoringMode[] = ['operator', 'standalone'];

/** Options only operator mode reads. */
export interface OperatorModeProps {
  /**
   * Labels the Prometheus resource selects ServiceMonitors and PrometheusRules by: kube-prometheus-stack's
   * `release: <Helm release name>`.
   * @default { release: 'prometheus-stack' }
   */
  readonly prometheusSelectorLabels?: Record<string, string>;
  /**
   * Labels the Grafana dashboard sidecar looks for.
   * @default { grafana_dashboard: '1' }
   */
  readonly dashboardLabels?: Record<string, string>;
  /**
   * Namespace of the dashboard ConfigMaps; kube-prometheus-stack's sidecar searches every namespace by default.
   * @default - the key server's namespace
   */
  readonly dashboardNamespace?: string;
  /**
   * Grafana folder of the dashboards, as the `grafana_folder` annotation. kube-prometheus-stack's sidecar honours it
   * only with `grafana.sidecar.dashboards.folderAnnotation: grafana_folder` and
   * `grafana.sidecar.dashboards.provider.foldersFromFilesStructure: true` (the README's install sets both);
   * otherwise the dashboards land in "General".
   * @default 'Key Server'
   */
  readonly dashboardFolder?: string;
}

/** Options only standalone mode reads. */
export interface StandaloneModeProps {
  /**
   * Namespace of Prometheus, Alertmanager and Grafana. It must hold the key server's CA (see `caSecret`), so it
   * defaults to the key server's own.
   * @default - the key server's namespace
   */
  readonly namespace?: string;
  /**
   * What Prometheus may discover: `namespaced` reads pods, Services and EndpointSlices in `watchedNamespaces`;
   * `cluster` reads every namespace and also scrapes the kubelets' cAdvisor metrics (for your own dashboards: the
   * key server's CPU and memory alerts read its own process metrics).
   * @default 'namespaced'
   */
  readonly rbacMode?: RbacMode;
  /**
   * Whether a kube-state-metrics runs where this Prometheus discovers it (annotated `prometheus.io/scrape: "true"` in
   * a watched namespace). KeyServerPodsNotReady and KeyServerReplicasMismatch read only its series, so without it
   * they are left out (`MonitoringStack.omittedAlerts` lists them) rather than shipped silent.
   * @default false
   */
  readonly kubeStateMetrics?: boolean;
  /**
   * Namespaces Prometheus discovers targets in with `rbacMode: 'namespaced'`; add the one running kube-state-metrics.
   * @default - the monitoring and key server namespaces
   */
  readonly watchedNamespaces?: string[];
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
   * Images, each with its registry and a tag, a digest (`@sha256:…`) or both, e.g. a mirror's
   * `registry.example.com/prometheus/prometheus:v3.13.5@sha256:…`.
   * @default - the images of versions.json: quay.io/prometheus/prometheus:v3.13.5, quay.io/prometheus/alertmanager:v0.35.0, docker.io/grafana/grafana:13.2.3
   */
  readonly images?: { readonly prometheus?: string; readonly alertmanager?: string; readonly grafana?: string };
}

/** Props of {@link MonitoringStack}. */
export interface MonitoringStackProps {
  /** The key server to monitor. */
  readonly keyServer: KeyServerApp;
  /** Which kind of Prometheus to target. */
  readonly mode: MonitoringMode;
  /**
   * Time between scrapes of the key server.
   * @default Duration.seconds(15)
   */
  readonly scrapeInterval?: Duration;
  /**
   * Time one scrape may take; must be shorter than `scrapeInterval`.
   * @default Duration.seconds(10)
   */
  readonly scrapeTimeout?: Duration;
  /**
   * The CA that signed the key server's certificate, in a Secret of the namespace Prometheus reads it from.
   * @default - key `keyServer.tlsCaSecretKey` of Secret `keyServer.tlsSecretName` (cert-manager writes `ca.crt` there)
   */
  readonly caSecret?: SecretKeyReference;
  /**
   * Scrape the metrics port without verifying its certificate. For development clusters only.
   * @default false
   */
  readonly insecureSkipVerify?: boolean;
  /**
   * p95 latency of served requests above which KeyServerHighLatency fires.
   * @default Duration.millis(500)
   */
  readonly latencyThreshold?: Duration;
  /**
   * Availability objective of the burn-rate alerts.
   * @default 0.999
   */
  readonly availabilityObjective?: number;
  /**
   * Fewest served requests a window must hold before the error-ratio, client-error and latency alerts judge it, so
   * an idle service does not page on one failure or a scanner's few 404s.
   * @default 100
   */
  readonly minimumRequests?: number;
  /**
   * Runbook document every alert links to (`#<alertname in lower case>` is appended): the URL of docs/runbooks.md
   * where your copy of this repository is published. Required: the synth fails without it rather than ship links
   * to a page that does not exist.
   */
  readonly runbookBaseUrl: string;
  /**
   * Operator-mode options; refused in standalone mode.
   * @default {}
   */
  readonly operator?: OperatorModeProps;
  /**
   * Standalone-mode options; refused in operator mode.
   * @default {}
   */
  readonly standalone?: StandaloneModeProps;
}

/**
 * Alert and recording rules, dashboards and scraping for a {@link KeyServerApp}. In `operator` mode: a
 * ServiceMonitor, a PrometheusRule and dashboard ConfigMaps for kube-prometheus-stack. In `standalone` mode:
 * Prometheus (RBAC from {@link RbacBundle}), Alertmanager and Grafana, with the same rules and dashboards.
 */
export class MonitoringStack extends Construct {
  public readonly mode: MonitoringMode;
  /** How the key server's series are labelled, as rules and dashboards select them. */
  public readonly target: MonitoredKeyServer;
  /** The rule groups this mode loads: the key server's, and in standalone mode those on the monitoring itself. */
  public readonly ruleGroups: readonly RuleGroup[];
  /** Series sources this mode's Prometheus scrapes. */
  public readonly availableSources: readonly MetricSource[];
  /** Alerts left out because this mode has no source for their series, each with what it lacks. */
  public readonly omittedAlerts: readonly OmittedAlert[];
  /** The dashboards every mode provisions. */
  public readonly dashboards: readonly GrafanaDashboard[];
  /** Operator mode's objects. */
  public readonly operator?: OperatorMonitoring;
  /** Standalone mode's scrape identity. */
  public readonly rbac?: RbacBundle;
  public readonly prometheus?: StandalonePrometheus;
  /** Standalone prometheus.yml as a plain object. */
  public readonly prometheusConfig?: PrometheusConfig;
  public readonly alertmanager?: StandaloneAlertmanager;
  public readonly grafana?: StandaloneGrafana;

  constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    super(scope, id);
    const { keyServer } = props;
    this.mode = requireOneOf('mode', props.mode, monitoringModes);
    if (this.mode === 'operator' && props.standalone !== undefined) {
      throw new Error("standalone is only allowed with mode 'standalone'");
    }
    if (this.mode === 'standalone' && props.operator !== undefined) {
      throw new Error("operator is only allowed with mode 'operator'");
    }
    this.target = {
      namespace: keyServer.namespace,
      // The Prometheus Operator sets `job` to the Service name; the standalone scrape config relabels to match.
      job: keyServer.service.name,
      deployment: keyServer.deployment.name,
      container: keyServer.deployment.containers[0].name,
    };
    const standalone = props.standalone ?? {};
    // kube-prometheus-stack scrapes kube-state-metrics, Prometheus and Alertmanager; the standalone stack scrapes
    // itself and its Alertmanager, and kube-state-metrics only where the user runs one.
    this.availableSources = this.mode === 'operator'
      ? ['keyServer', 'kubeStateMetrics', 'prometheus', 'alertmanager']
      : ['keyServer', 'prometheus', 'alertmanager', ...(standalone.kubeStateMetrics === true ? ['kubeStateMetrics' as const] : [])];
    const ruleOptions = {
      target: this.target,
      latencyThreshold: props.latencyThreshold,
      availabilityObjective: props.availabilityObjective,
      minimumRequests: props.minimumRequests,
      containerLimits: keyServer.containerLimits,
      availableSources: this.availableSources,
      runbookBaseUrl: props.runbookBaseUrl,
    };
    this.omittedAlerts = omittedKeyServerAlerts(ruleOptions);
    this.ruleGroups = [
      ...keyServerRuleGroups(ruleOptions),
      // kube-prometheus-stack brings its own Watchdog and Prometheus and Alertmanager alerts.
      ...(this.mode === 'standalone'
        ? metaMonitoringRuleGroups({ prometheusJob: standaloneJobs.prometheus, alertmanagerJob: standaloneJobs.alertmanager, runbookBaseUrl: props.runbookBaseUrl })
        : []),
    ];
    this.dashboards = keyServerDashboards({ target: this.target });
    const insecureSkipVerify = props.insecureSkipVerify ?? false;
    const caSecret = insecureSkipVerify ? undefined : props.caSecret ?? { name: keyServer.tlsSecretName, key: keyServer.tlsCaSecretKey };
    // The certificate's DNS names include <service>.<namespace>.svc; scrapes go to pod IPs, so name it explicitly.
    const tlsServerName = `${keyServer.service.name}.${keyServer.namespace}.svc`;
    const scrapeInterval = props.scrapeInterval ?? Duration.seconds(15);
    const scrapeTimeout = props.scrapeTimeout ?? Duration.seconds(10);
    // In the key server's chart, its Namespace must come first; in a chart of their own, the file order does it.
    if (keyServer.namespaceResource !== undefined && Chart.of(this) === Chart.of(keyServer)) {
      this.node.addDependency(keyServer.namespaceResource);
    }

    if (this.mode === 'operator') {
      const operator = props.operator ?? {};
      this.operator = new OperatorMonitoring(this, 'operator', {
        target: {
          name: keyServer.name,
          namespace: keyServer.namespace,
          serviceSelectorLabels: keyServer.selectorLabels,
          metricsPortName: keyServer.metricsPortName,
          metricsPath: keyServer.metricsPath,
          tlsServerName,
        },
        ruleGroups: this.ruleGroups,
        dashboards: this.dashboards,
        labels: monitoringLabels(keyServer, 'key-server-monitoring', keyServer.name, keyServer.labels['app.kubernetes.io/version']),
        prometheusSelectorLabels: operator.prometheusSelectorLabels && requireLabels('operator.prometheusSelectorLabels', operator.prometheusSelectorLabels),
        dashboardLabels: operator.dashboardLabels && requireLabels('operator.dashboardLabels', operator.dashboardLabels),
        dashboardNamespace: operator.dashboardNamespace && requireDnsLabel('operator.dashboardNamespace', operator.dashboardNamespace),
        dashboardFolder: operator.dashboardFolder,
        scrapeInterval,
        scrapeTimeout,
        caSecret,
        insecureSkipVerify,
      });
      return;
    }

    const namespace = requireDnsLabel('standalone.namespace', standalone.namespace ?? keyServer.namespace);
    if (namespace !== keyServer.namespace && caSecret !== undefined && props.caSecret === undefined) {
      throw new Error(`caSecret is required when standalone.namespace ('${namespace}') differs from the key server's ('${keyServer.namespace}'): Prometheus can only mount a Secret of its own namespace`);
    }
    const rbacMode = requireOneOf('standalone.rbacMode', standalone.rbacMode ?? 'namespaced', ['namespaced', 'cluster'] as const);
    const watchedNamespaces = rbacMode === 'namespaced'
      ? standalone.watchedNamespaces ?? [...new Set([namespace, keyServer.namespace])]
      : undefined;
    const image = (name: Exclude<ImageName, 'keyServer'>): ImageReference => {
      const given = standalone.images?.[name];
      return given === undefined ? defaultImage(name) : parseImageReference(`standalone.images.${name}`, given);
    };
    const images = { prometheus: image('prometheus'), alertmanager: image('alertmanager'), grafana: image('grafana') };
    const component = (name: keyof typeof images) => ({
      labels: monitoringLabels(keyServer, name, `${keyServer.name}-${name}`, imageVersionLabel(images[name])),
      selectorLabels: { 'app.kubernetes.io/name': name, 'app.kubernetes.io/instance': `${keyServer.name}-${name}` },
    });
    const prometheusLabels = component('prometheus');
    const alertmanagerLabels = component('alertmanager');
    const grafanaLabels = component('grafana');

    this.rbac = new RbacBundle(this, 'rbac', {
      namespace, name: 'prometheus', mode: rbacMode, watchedNamespaces, labels: prometheusLabels.labels,
    });
    this.alertmanager = new StandaloneAlertmanager(this, 'alertmanager', {
      namespace,
      ...alertmanagerLabels,
      alertSenderLabels: prometheusLabels.selectorLabels,
      existingConfigSecretName: standalone.alertmanagerConfigSecretName,
      image: formatImageReference(images.alertmanager),
      storageClassName: standalone.storageClassName,
    });
    this.prometheusConfig = standalonePrometheusConfig({
      target: this.target,
      metricsPortName: keyServer.metricsPortName,
      metricsPath: keyServer.metricsPath,
      tlsServerName,
      insecureSkipVerify,
      namespaces: watchedNamespaces,
      scrapeKubelet: rbacMode === 'cluster',
      scrapeInterval,
      scrapeTimeout,
      alertmanagers: [this.alertmanager.address],
      scrapeAlertmanager: true,
      externalLabels: standalone.externalLabels,
      remoteWrite: standalone.remoteWrite,
    });
    this.prometheus = new StandalonePrometheus(this, 'prometheus', {
      namespace,
      ...prometheusLabels,
      config: this.prometheusConfig,
      ruleGroups: this.ruleGroups,
      serviceAccount: this.rbac.serviceAccount,
      keyServerCa: caSecret,
      remoteWrite: standalone.remoteWrite ?? [],
      queryClientLabels: grafanaLabels.selectorLabels,
      image: formatImageReference(images.prometheus),
      retention: standalone.retention,
      storageSize: standalone.storageSize,
      storageClassName: standalone.storageClassName,
    });
    this.grafana = new StandaloneGrafana(this, 'grafana', {
      namespace,
      ...grafanaLabels,
      prometheusUrl: this.prometheus.url,
      scrapeInterval,
      dashboards: this.dashboards,
      adminSecretName: standalone.grafanaAdminSecretName,
      image: formatImageReference(images.grafana),
    });

    // L1 for the named metrics port. NetworkPolicies add up: this one admits our Prometheus to the key server's metrics port next to whatever
    // Prometheus the KeyServerApp's own policy admits.
    new kplus.k8s.KubeNetworkPolicy(this, 'allow-scrape', {
      metadata: { name: `${keyServer.name}-allow-standalone-prometheus`, namespace: keyServer.namespace, labels: prometheusLabels.labels },
      spec: {
        podSelector: { matchLabels: { ...keyServer.selectorLabels } },
        policyTypes: ['Ingress'],
        ingress: [{
          ports: [{ protocol: 'TCP', port: kplus.k8s.IntOrString.fromString(keyServer.metricsPortName) }],
          from: [{
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
            podSelector: { matchLabels: { ...prometheusLabels.selectorLabels } },
          }],
        }],
      },
    });
  }
}

/** The recommended labels of one monitoring component. */
function monitoringLabels(keyServer: KeyServerApp, name: string, instance: string, version: string): Record<string, string> {
  return recommendedLabels({ name, instance, version, component: 'monitoring', partOf: keyServer.labels['app.kubernetes.io/part-of'] });
}
