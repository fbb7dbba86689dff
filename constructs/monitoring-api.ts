// The public API of monitoring: MonitoringStack, its parts, and the pure functions that build its rules, dashboards and configs.
export * from './monitoring-stack';
export * from './monitoring-operator';
export * from './monitoring-prometheus';
export * from './monitoring-alertmanager';
export * from './monitoring-grafana';
export * from './monitoring-prometheus-config';
export * from './monitoring-alertmanager-config';
export * from './monitoring-target';
export * from './rules/key-server-rules';
export * from './rules/rule-types';
export * from './dashboards';
