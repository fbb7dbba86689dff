// MonitoringStack: the one-construct way to monitor a key server, in either mode; a thin facade over
// OperatorMonitoring and StandaloneMonitoring that keeps the props of earlier releases working.
import type { Duration, Size } from 'cdk8s';
import { Construct } from 'constructs';
import { DiscoveryScope, RbacBundle } from '../rbac-bundle';
import { requireOneOf } from '../validation';
import type { StandaloneAlertmanager } from './alertmanager';
import type { GrafanaDashboard } from './dashboards/key-server-dashboards';
import type { StandaloneGrafana } from './grafana';
import type { KeyServerMonitoringProps } from './key-server-monitoring';
import type { MonitoredKeyServer } from './monitored-key-server';
import { OperatorMonitoring } from './operator-monitoring';
import type { StandalonePrometheus } from './prometheus';
import type { PrometheusConfig, RemoteWriteTarget } from './prometheus-config';
import type { MetricSource, OmittedAlert } from './rules/metric-sources';
import type { RuleGroup } from './rules/rule-types';
import { StandaloneImages, StandaloneMonitoring } from './standalone-monitoring';

/**
 * `operator`: a Prometheus Operator (kube-prometheus-stack) is installed. `standalone`: bring Prometheus, Alertmanager
 * and Grafana. A string union, kept for the users of MonitoringStack; OperatorMonitoring and StandaloneMonitoring are
 * the two constructs behind it, with props any cdk8s language can express.
 */
export type MonitoringMode = 'operator' | 'standalone';
const monitoringModes: readonly MonitoringMode[] = ['operator', 'standalone'];

/** `namespaced`: Roles in the watched namespaces. `cluster`: one ClusterRole over every namespace, plus node metrics. */
export type RbacMode = 'namespaced' | 'cluster';

/** Options only operator mode reads; see {@link OperatorMonitoringProps}. */
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

/** Options only standalone mode reads; see {@link StandaloneMonitoringProps}. */
export interface StandaloneModeProps {
  /**
   * Namespace of Prometheus, Alertmanager and Grafana. It must hold the key server's CA (see `caSecret`), so it
   * defaults to the key server's own.
   * @default - the key server's namespace
   */
  readonly namespace?: string;
  /**
   * What Prometheus may discover: `namespaced` reads pods, Services and EndpointSlices in `watchedNamespaces`;
   * `cluster` reads every namespace and also scrapes the kubelets' cAdvisor metrics.
   * @default 'namespaced'
   */
  readonly rbacMode?: RbacMode;
  /**
   * Whether a kube-state-metrics runs where this Prometheus discovers it (annotated `prometheus.io/scrape: "true"` in
   * a watched namespace). KeyServerNoPodsAvailable, KeyServerPodsNotReady and KeyServerReplicasMismatch read only its series, so without it
   * they are left out (`MonitoringStack.omittedAlerts` lists them) rather than shipped silent.
   * @default false
   */
  readonly kubeStateMetrics?: boolean;
  /**
   * Namespaces Prometheus discovers targets in with `rbacMode: 'namespaced'`, besides the monitoring and key server
   * namespaces, which it always discovers: e.g. the one running kube-state-metrics.
   * @default - only the monitoring and key server namespaces
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
   * Labels on every series leaving this Prometheus, e.g. `{ cluster: 'eu-1' }`.
   * @default {}
   */
  readonly externalLabels?: Record<string, string>;
  /**
   * Remote-write destinations (Thanos Receive, Mimir, Cortex).
   * @default []
   */
  readonly remoteWrite?: RemoteWriteTarget[];
  /**
   * Existing Secret with keys `admin-user` and `admin-password` for Grafana.
   * @default 'grafana-admin'
   */
  readonly grafanaAdminSecretName?: string;
  /**
   * Existing Secret holding `alertmanager.yml` with real receivers.
   * @default - a generated Secret with the route tree and receivers that send nothing yet
   */
  readonly alertmanagerConfigSecretName?: string;
  /**
   * Images, each with its registry and a tag, a digest (`@sha256:…`) or both.
   * @default - the images of versions.json
   */
  readonly images?: StandaloneImages;
}

/** Props of {@link MonitoringStack}. */
export interface MonitoringStackProps extends KeyServerMonitoringProps {
  /** Which kind of Prometheus to target. */
  readonly mode: MonitoringMode;
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
 * Alert and recording rules, dashboards and scraping for a key server: {@link OperatorMonitoring} in `operator` mode
 * (a ServiceMonitor, a PrometheusRule and dashboard ConfigMaps for kube-prometheus-stack), {@link StandaloneMonitoring}
 * in `standalone` mode (Prometheus, Alertmanager and Grafana, with the same rules and dashboards).
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
  /** Operator mode's construct. */
  public readonly operator?: OperatorMonitoring;
  /** Standalone mode's construct. */
  public readonly standalone?: StandaloneMonitoring;
  /** Standalone mode's scrape identity. */
  public readonly rbac?: RbacBundle;
  public readonly prometheus?: StandalonePrometheus;
  /** Standalone prometheus.yml as a plain object. */
  public readonly prometheusConfig?: PrometheusConfig;
  public readonly alertmanager?: StandaloneAlertmanager;
  public readonly grafana?: StandaloneGrafana;

  constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    super(scope, id);
    this.mode = requireOneOf('mode', props.mode, monitoringModes);
    if (this.mode === 'operator' && props.standalone !== undefined) {
      throw new Error("standalone is only allowed with mode 'standalone'");
    }
    if (this.mode === 'standalone' && props.operator !== undefined) {
      throw new Error("operator is only allowed with mode 'operator'");
    }
    const { mode: _mode, operator: operatorProps, standalone: standaloneProps, ...common } = props;
    const monitoring = this.mode === 'operator'
      ? this.operator = new OperatorMonitoring(this, 'operator', { ...common, ...operatorProps })
      : this.standalone = new StandaloneMonitoring(this, 'standalone', { ...common, ...standaloneSettings(standaloneProps ?? {}) });
    this.target = monitoring.target;
    this.ruleGroups = monitoring.ruleGroups;
    this.availableSources = monitoring.availableSources;
    this.omittedAlerts = monitoring.omittedAlerts;
    this.dashboards = monitoring.dashboards;
    this.rbac = this.standalone?.rbac;
    this.prometheus = this.standalone?.prometheus;
    this.prometheusConfig = this.standalone?.prometheusConfig;
    this.alertmanager = this.standalone?.alertmanager;
    this.grafana = this.standalone?.grafana;
  }
}

/**
 * The standalone options as StandaloneMonitoring takes them: `rbacMode` and `watchedNamespaces` become its
 * DiscoveryScope (`watchedNamespaces` applies to `namespaced` only, as documented).
 */
function standaloneSettings(options: StandaloneModeProps) {
  const { rbacMode, watchedNamespaces, ...rest } = options;
  if (requireOneOf('standalone.rbacMode', rbacMode ?? 'namespaced', ['namespaced', 'cluster'] as const) === 'cluster') {
    return { ...rest, discovery: DiscoveryScope.cluster() };
  }
  return { ...rest, discovery: watchedNamespaces === undefined ? undefined : DiscoveryScope.namespaces(watchedNamespaces) };
}
