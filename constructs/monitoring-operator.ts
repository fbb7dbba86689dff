// Operator mode: a ServiceMonitor, a PrometheusRule and dashboard ConfigMaps for an installed kube-prometheus-stack.
import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { PrometheusRule, PrometheusRuleSpecGroupsRulesExpr } from '../imports/prometheusrules-monitoring.coreos.com';
import {
  ServiceMonitor, ServiceMonitorSpecEndpointsScheme, ServiceMonitorSpecEndpointsTlsConfig,
} from '../imports/servicemonitors-monitoring.coreos.com';
import type { GrafanaDashboard } from './dashboards';
import { promDuration } from './monitoring-target';
import type { RuleGroup } from './rules/rule-types';

/**
 * The annotation naming a dashboard ConfigMap's Grafana folder. kube-prometheus-stack's sidecar reads it only when
 * its values set `grafana.sidecar.dashboards.folderAnnotation` to this name and
 * `grafana.sidecar.dashboards.provider.foldersFromFilesStructure: true` (the README's install does); with the chart's
 * defaults every dashboard lands in "General", and no annotation changes that.
 */
export const dashboardFolderAnnotation = 'grafana_folder';

/** A key in a Secret. */
export interface SecretKeyReference {
  /** Name of the Secret. */
  readonly name: string;
  /** Key inside it. */
  readonly key: string;
}

/** What OperatorMonitoring needs from the key server; MonitoringStack fills it from a KeyServerApp. */
export interface OperatorScrapeTarget {
  /** Base name of the key server's objects; the ServiceMonitor and PrometheusRule take it too. */
  readonly name: string;
  readonly namespace: string;
  /** Labels that select the key server's Service. */
  readonly serviceSelectorLabels: Readonly<Record<string, string>>;
  readonly metricsPortName: string;
  readonly metricsPath: string;
  /** Name the certificate is verified against. */
  readonly tlsServerName: string;
}

/** Props of {@link OperatorMonitoring}. */
export interface OperatorMonitoringProps {
  readonly target: OperatorScrapeTarget;
  /** The rule groups to put into the PrometheusRule. */
  readonly ruleGroups: readonly RuleGroup[];
  /** The dashboards, one ConfigMap each. */
  readonly dashboards: readonly GrafanaDashboard[];
  /** Labels on every object. */
  readonly labels: Readonly<Record<string, string>>;
  /**
   * Labels the Prometheus resource selects ServiceMonitors and PrometheusRules by. kube-prometheus-stack selects
   * `release: <its Helm release name>`.
   * @default { release: 'prometheus-stack' }
   */
  readonly prometheusSelectorLabels?: Readonly<Record<string, string>>;
  /**
   * Labels the Grafana dashboard sidecar looks for on ConfigMaps.
   * @default { grafana_dashboard: '1' }
   */
  readonly dashboardLabels?: Readonly<Record<string, string>>;
  /**
   * Namespace of the dashboard ConfigMaps. kube-prometheus-stack's sidecar searches every namespace; a sidecar
   * limited to Grafana's own namespace needs that namespace here.
   * @default - the key server's namespace
   */
  readonly dashboardNamespace?: string;
  /**
   * Grafana folder for the dashboards, as the {@link dashboardFolderAnnotation} annotation (honoured once the sidecar's
   * `folderAnnotation` and `provider.foldersFromFilesStructure` are set, as the README's install does).
   * @default 'Key Server'
   */
  readonly dashboardFolder?: string;
  /**
   * Time between scrapes.
   * @default Duration.seconds(15)
   */
  readonly scrapeInterval?: Duration;
  /**
   * Time a scrape may take; must be shorter than `scrapeInterval`.
   * @default Duration.seconds(10)
   */
  readonly scrapeTimeout?: Duration;
  /**
   * The CA that signed the key server's certificate, from a Secret in its namespace. Required unless `insecureSkipVerify`.
   */
  readonly caSecret?: SecretKeyReference;
  /**
   * Scrape without verifying the certificate. For development clusters only.
   * @default false
   */
  readonly insecureSkipVerify?: boolean;
}

/** The ServiceMonitor, PrometheusRule and dashboard ConfigMaps kube-prometheus-stack picks up by label. */
export class OperatorMonitoring extends Construct {
  public readonly serviceMonitor: ServiceMonitor;
  public readonly prometheusRule: PrometheusRule;
  public readonly dashboardConfigMaps: readonly kplus.ConfigMap[];

  constructor(scope: Construct, id: string, props: OperatorMonitoringProps) {
    super(scope, id);
    const { target } = props;
    const selectorLabels = props.prometheusSelectorLabels ?? { release: 'prometheus-stack' };
    const labels = { ...props.labels, ...selectorLabels };
    const interval = props.scrapeInterval ?? Duration.seconds(15);
    const timeout = props.scrapeTimeout ?? Duration.seconds(10);
    if (timeout.toMilliseconds() >= interval.toMilliseconds()) {
      throw new Error(`scrapeTimeout (${promDuration(timeout)}) must be shorter than scrapeInterval (${promDuration(interval)})`);
    }

    this.serviceMonitor = new ServiceMonitor(this, 'service-monitor', {
      metadata: { name: target.name, namespace: target.namespace, labels },
      spec: {
        selector: { matchLabels: { ...target.serviceSelectorLabels } },
        namespaceSelector: { matchNames: [target.namespace] },
        endpoints: [{
          port: target.metricsPortName,
          path: target.metricsPath,
          scheme: ServiceMonitorSpecEndpointsScheme.HTTPS,
          interval: promDuration(interval),
          scrapeTimeout: promDuration(timeout),
          tlsConfig: tlsConfig(props.caSecret, props.insecureSkipVerify ?? false, target.tlsServerName),
        }],
      },
    });

    this.prometheusRule = new PrometheusRule(this, 'prometheus-rule', {
      metadata: { name: this.serviceMonitor.name, namespace: target.namespace, labels },
      spec: {
        groups: props.ruleGroups.map((group) => ({
          name: group.name,
          ...(group.interval ? { interval: group.interval } : {}),
          rules: group.rules.map((rule) => ({ ...rule, expr: PrometheusRuleSpecGroupsRulesExpr.fromString(rule.expr) })),
        })),
      },
    });

    const dashboardLabels = props.dashboardLabels ?? { grafana_dashboard: '1' };
    this.dashboardConfigMaps = props.dashboards.map((dashboard) => new kplus.ConfigMap(this, `dashboard-${dashboard.uid}`, {
      metadata: {
        name: `${dashboard.uid}-dashboard`,
        namespace: props.dashboardNamespace ?? target.namespace,
        labels: { ...props.labels, ...dashboardLabels },
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
