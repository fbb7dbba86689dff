// The standalone Alertmanager's alertmanager.yml as a plain object: a route tree by severity and receivers for the user to fill in.
import type { KeyServerAlertName } from './rules/key-server-rules';
import type { MetaMonitoringAlertName } from './rules/meta-monitoring-rules';

/**
 * Receivers the route tree sends to; each starts with no integration, so nothing is sent until the user adds one.
 * `watchdog` is for a dead man's switch (healthchecks.io, PagerDuty or Opsgenie heartbeats, …) that pages when the
 * Watchdog stops arriving: then Prometheus, Alertmanager or the way out of the cluster is down.
 */
export const alertmanagerReceivers = ['default', 'critical', 'warning', 'watchdog'] as const;

/** The always-firing alert the `watchdog` route carries. */
const watchdogAlert: MetaMonitoringAlertName = 'Watchdog';

/** alertmanager.yml: the fields this library writes. */
export interface AlertmanagerConfig {
  readonly route: Record<string, unknown>;
  readonly receivers: ReadonlyArray<{ readonly name: string }>;
  readonly inhibit_rules: ReadonlyArray<Record<string, unknown>>;
}

/**
 * Alerts made redundant by another of the same namespace and job: the slow burn says less than the fast burn, and a
 * 5xx ratio high enough for KeyServerHighErrorRate burns the budget fast too, so one incident pages once.
 */
const inhibitions: ReadonlyArray<{ readonly source: KeyServerAlertName; readonly target: KeyServerAlertName }> = [
  { source: 'KeyServerErrorBudgetBurnFast', target: 'KeyServerErrorBudgetBurnSlow' },
  { source: 'KeyServerErrorBudgetBurnFast', target: 'KeyServerHighErrorRate' },
];

/**
 * Critical alerts (pages) and warnings (tickets) go to their own receivers, everything else to `default`.
 * Only the named pairs inhibit: a critical alert about one thing (a pod down) must not hide a warning about
 * another (a certificate about to expire) just because both come from the same job.
 */
export function alertmanagerConfig(): AlertmanagerConfig {
  return {
    route: {
      receiver: 'default',
      group_by: ['alertname', 'namespace', 'job'],
      group_wait: '30s',
      group_interval: '5m',
      repeat_interval: '4h',
      routes: [
        // First, and repeated every 5 minutes: a dead man's switch expects a heartbeat, not one notice per 4 hours.
        { receiver: 'watchdog', matchers: [`alertname="${watchdogAlert}"`], group_wait: '0s', group_interval: '1m', repeat_interval: '5m' },
        { receiver: 'critical', matchers: ['severity="critical"'], repeat_interval: '1h' },
        { receiver: 'warning', matchers: ['severity="warning"'] },
      ],
    },
    receivers: alertmanagerReceivers.map((name) => ({ name })),
    inhibit_rules: inhibitions.map(({ source, target }) => ({
      source_matchers: [`alertname="${source}"`], target_matchers: [`alertname="${target}"`], equal: ['namespace', 'job'],
    })),
  };
}
