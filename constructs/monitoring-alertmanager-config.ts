// The standalone Alertmanager's alertmanager.yml as a plain object: a route tree by severity and receivers for the user to fill in.

/** Receivers the route tree sends to; each starts with no integration, so nothing is sent until the user adds one. */
export const alertmanagerReceivers = ['default', 'critical', 'warning'] as const;

/** alertmanager.yml: the fields this library writes. */
export interface AlertmanagerConfig {
  readonly route: Record<string, unknown>;
  readonly receivers: ReadonlyArray<{ readonly name: string }>;
  readonly inhibit_rules: ReadonlyArray<Record<string, unknown>>;
}

/**
 * Critical alerts (pages) and warnings (tickets) go to their own receivers, everything else to `default`.
 * A critical alert silences warnings of the same job (a fast burn makes the slow burn redundant).
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
        { receiver: 'critical', matchers: ['severity="critical"'], repeat_interval: '1h' },
        { receiver: 'warning', matchers: ['severity="warning"'] },
      ],
    },
    receivers: alertmanagerReceivers.map((name) => ({ name })),
    inhibit_rules: [
      { source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'], equal: ['namespace', 'job'] },
    ],
  };
}
