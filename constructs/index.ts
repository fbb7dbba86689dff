// The public API of the construct library, `import { ... } from 'key-server'`: the constructs, their props and the
// pure functions behind the monitoring. Everything else under constructs/ is internal.

// The key server
export { KeyServerApp, type KeyServerAppProps } from './key-server/key-server-app';
export type { IKeyServer } from './key-server/key-server';
export type { KeyServerAttributes } from './key-server/imported-key-server';
export { KeyServerScaling, type KeyServerAutoscalingProps } from './key-server/scaling';
export { EgressPolicy, type PrometheusSelector } from './key-server/network-policy';
export type { KeyServerAccessControlProps, KeyServerRateLimitProps } from './key-server/access-control';
export type { KeyServerIngressProps } from './key-server/ingress';
export { IssuerKind, KeyServerTls, type IssuerReference, type KeyServerTlsProps } from './key-server/tls';
export { defaultKeyServerResources, type ContainerLimits } from './key-server/resources';

// What every workload shares
export { DisruptionBudget } from './disruption-budget';
export type { PeerSelector } from './network-policy';
export type { SecretKeyReference } from './secrets';
export {
  controllerCreatedLabels, managedBy, ownershipLabelKeys, recommendedLabels, selectorLabelsOf, type RecommendedLabelsInput,
} from './labels';

// Scraper identity
export { DiscoveryScope, RbacBundle, type RbacBundleProps } from './rbac-bundle';

// Monitoring
export {
  MonitoringStack, type MonitoringMode, type MonitoringStackProps, type OperatorModeProps, type RbacMode, type StandaloneModeProps,
} from './monitoring/monitoring-stack';
export type { KeyServerMonitoringProps } from './monitoring/key-server-monitoring';
export { dashboardFolderAnnotation, OperatorMonitoring, type OperatorMonitoringProps } from './monitoring/operator-monitoring';
export { StandaloneMonitoring, standalonePrometheusPeer, type StandaloneImages, type StandaloneMonitoringProps } from './monitoring/standalone-monitoring';
export { alertmanagerPort, StandaloneAlertmanager, type StandaloneAlertmanagerProps } from './monitoring/alertmanager';
export { grafanaPort, StandaloneGrafana, type StandaloneGrafanaProps } from './monitoring/grafana';
export { prometheusPort, StandalonePrometheus, type StandalonePrometheusProps } from './monitoring/prometheus';
export {
  keyServerRelabeling, prometheusPaths, remoteWriteCredentialsFile, standaloneJobs, standalonePrometheusConfig,
  type PrometheusConfig, type RelabelConfig, type RemoteWriteTarget, type StandalonePrometheusConfigOptions,
} from './monitoring/prometheus-config';
export { alertmanagerConfig, alertmanagerReceivers, type AlertmanagerConfig } from './monitoring/alertmanager-config';
export { podSelector, scrapeSelector, type MonitoredKeyServer } from './monitoring/monitored-key-server';
export { promDuration } from './monitoring/prometheus-duration';
export {
  keyServerAlertNames, keyServerAlertSources, keyServerRuleGroups, omittedKeyServerAlerts, recordedSeries, servedTrafficMatcher,
  type KeyServerAlertName, type KeyServerRuleOptions,
} from './monitoring/rules/key-server-rules';
export {
  metaMonitoringAlertNames, metaMonitoringRuleGroups, type MetaMonitoringAlertName, type MetaMonitoringRuleOptions,
} from './monitoring/rules/meta-monitoring-rules';
export type { MetricSource, OmittedAlert } from './monitoring/rules/metric-sources';
export { isAlertingRule, type AlertingRule, type RecordingRule, type Rule, type RuleGroup, type Severity } from './monitoring/rules/rule-types';
export {
  keyServerDashboards, type GrafanaDashboard, type GrafanaPanel, type KeyServerDashboardOptions, type PrometheusTarget,
} from './monitoring/dashboards/key-server-dashboards';
