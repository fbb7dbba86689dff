// Operator mode: a ServiceMonitor, a PrometheusRule and dashboard ConfigMaps for an installed kube-prometheus-stack.
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { PrometheusRule, PrometheusRuleSpecGroupsRulesExpr } from '../../imports/prometheusrules-monitoring.coreos.com';
import {
  ServiceMonitor, ServiceMonitorSpecEndpointsScheme, ServiceMonitorSpecEndpointsTlsConfig,
} from '../../imports/servicemonitors-monitoring.coreos.com';
import type { SecretKeyReference } from '../secrets';
import { requireDnsLabel, requireLabels } from '../validation';
import type { GrafanaDashboard } from './dashboards/key-server-dashboards';
import { followKeyServerNamespace, KeyServerMonitoringProps, monitoringLabels, planKeyServerMonitoring } from './key-server-monitoring';
import type { MonitoredKeyServer } from './monitored-key-server';
import { promDuration } from './prometheus-duration';
import type { MetricSource, OmittedAlert } from './rules/metric-sources';
import type { RuleGroup } from './rules/rule-types';

/**
 * The annotation naming a dashboard ConfigMap's Grafana folder. kube-prometheus-stack's sidecar reads it only when
 * its values set `grafana.sidecar.dashboards.folderAnnotation` to this name and
 * `grafana.sidecar.dashboards.provider.foldersFromFilesStructure: true` (the README's install does); with the chart's
 * defaults every dashboard lands in "General", and no annotation changes that.
 */
export const dashboardFolderAnnotation = 'grafana_folder';

/** Props of {@link OperatorMonitoring}. */
export interface OperatorMonitoringProps extends KeyServerMonitoringProps {
  /**
   * Labels the Prometheus resource selects ServiceMonitors and PrometheusRules by: kube-prometheus-stack's
   * `release: <Helm release name>`.
   * @default { release: 'prometheus-stack' }
   */
  readonly prometheusSelectorLabels?: Record<string, string>;
  /**
   * Labels the Grafana dashboard sidecar looks for on ConfigMaps.
   * @default { grafana_dashboard: '1' }
   */
  readonly dashboardLabels?: Record<string, string>;
  /**
   * Namespace of the dashboard ConfigMaps. kube-prometheus-stack's sidecar searches every namespace; a sidecar
   * limited to Grafana's own namespace needs that namespace here.
   * @default - the key server's namespace
   */
  readonly dashboardNamespace?: string;
  /**
   * Grafana folder of the dashboards, as the {@link dashboardFolderAnnotation} annotation (honoured once the sidecar's
   * `folderAnnotation` and `provider.foldersFromFilesStructure` are set, as the README's install does; otherwise the
   * dashboards land in "General").
   * @default 'Key Server'
   */
  readonly dashboardFolder?: string;
}

/** What kube-prometheus-stack scrapes besides the key server: kube-state-metrics, Prometheus and Alertmanager. */
const operatorSources: readonly MetricSource[] = ['keyServer', 'kubeStateMetrics', 'prometheus', 'alertmanager'];

/** The ServiceMonitor, PrometheusRule and dashboard ConfigMaps kube-prometheus-stack picks up by label. */
export class OperatorMonitoring extends Construct {
  /** How the key server's series are labelled, as rules and dashboards select them. */
  public readonly target: MonitoredKeyServer;
  /** The rule groups of the PrometheusRule. kube-prometheus-stack brings its own Watchdog and Prometheus and Alertmanager alerts. */
  public readonly ruleGroups: readonly RuleGroup[];
  /** Series sources kube-prometheus-stack's Prometheus scrapes. */
  public readonly availableSources: readonly MetricSource[] = operatorSources;
  /** Alerts left out for lack of a source: none, kube-prometheus-stack scrapes every source. */
  public readonly omittedAlerts: readonly OmittedAlert[];
  public readonly dashboards: readonly GrafanaDashboard[];
  public readonly serviceMonitor: ServiceMonitor;
  public readonly prometheusRule: PrometheusRule;
  public readonly dashboardConfigMaps: readonly kplus.ConfigMap[];

  constructor(scope: Construct, id: string, props: OperatorMonitoringProps) {
    super(scope, id);
    const { keyServer } = props;
    const plan = planKeyServerMonitoring(props, operatorSources);
    this.target = plan.target;
    this.ruleGroups = plan.ruleGroups;
    this.omittedAlerts = plan.omittedAlerts;
    this.dashboards = plan.dashboards;
    const selectorLabels = requireLabels('prometheusSelectorLabels', props.prometheusSelectorLabels ?? { release: 'prometheus-stack' });
    const labels = { ...monitoringLabels(keyServer, 'key-server-monitoring', keyServer.name, keyServer.version), ...selectorLabels };
    followKeyServerNamespace(this, keyServer);

    this.serviceMonitor = new ServiceMonitor(this, 'service-monitor', {
      metadata: { name: keyServer.name, namespace: keyServer.namespace, labels },
      spec: {
        selector: { matchLabels: { ...keyServer.selectorLabels } },
        namespaceSelector: { matchNames: [keyServer.namespace] },
        endpoints: [{
          port: keyServer.metricsPortName,
          path: keyServer.metricsPath,
          scheme: ServiceMonitorSpecEndpointsScheme.HTTPS,
          interval: promDuration(plan.scrape.interval),
          scrapeTimeout: promDuration(plan.scrape.timeout),
          tlsConfig: tlsConfig(plan.caSecret, plan.insecureSkipVerify, keyServer.tlsServerName),
        }],
      },
    });

    this.prometheusRule = new PrometheusRule(this, 'prometheus-rule', {
      metadata: { name: this.serviceMonitor.name, namespace: keyServer.namespace, labels },
      spec: {
        groups: this.ruleGroups.map((group) => ({
          name: group.name,
          ...(group.interval ? { interval: group.interval } : {}),
          rules: group.rules.map((rule) => ({ ...rule, expr: PrometheusRuleSpecGroupsRulesExpr.fromString(rule.expr) })),
        })),
      },
    });

    const dashboardLabels = requireLabels('dashboardLabels', props.dashboardLabels ?? { grafana_dashboard: '1' });
    const dashboardNamespace = requireDnsLabel('dashboardNamespace', props.dashboardNamespace ?? keyServer.namespace);
    const componentLabels = monitoringLabels(keyServer, 'key-server-monitoring', keyServer.name, keyServer.version);
    this.dashboardConfigMaps = this.dashboards.map((dashboard) => new kplus.ConfigMap(this, `dashboard-${dashboard.uid}`, {
      metadata: {
        name: `${dashboard.uid}-dashboard`,
        namespace: dashboardNamespace,
        labels: { ...componentLabels, ...dashboardLabels },
        annotations: { [dashboardFolderAnnotation]: props.dashboardFolder ?? 'Key Server' },
      },
      data: { [`${dashboard.uid}.json`]: JSON.stringify(dashboard, null, 2) },
    }));
  }
}

/** Verify against the CA from the Secret, or skip verification only when asked to. */
function tlsConfig(caSecret: SecretKeyReference | undefined, insecureSkipVerify: boolean, serverName: string): ServiceMonitorSpecEndpointsTlsConfig {
  if (insecureSkipVerify) {
    return { insecureSkipVerify: true };
  }
  if (caSecret === undefined) {
    throw new Error('caSecret is required unless insecureSkipVerify is true: the metrics port serves HTTPS with the key server certificate');
  }
  return { ca: { secret: { name: caSecret.name, key: caSecret.key } }, serverName };
}
