// What both monitoring constructs build for a key server from the same props: how its series are labelled, its
// rules and dashboards, the scrape timing and how its certificate is verified.
import { Chart, Duration } from 'cdk8s';
import type { Construct } from 'constructs';
import type { IKeyServer } from '../key-server/key-server';
import { recommendedLabels } from '../labels';
import type { SecretKeyReference } from '../secrets';
import { GrafanaDashboard, keyServerDashboards } from './dashboards/key-server-dashboards';
import { MonitoredKeyServer, monitoredKeyServer } from './monitored-key-server';
import { keyServerRuleGroups, omittedKeyServerAlerts } from './rules/key-server-rules';
import type { MetricSource, OmittedAlert } from './rules/metric-sources';
import type { RuleGroup } from './rules/rule-types';
import { ScrapeTiming, scrapeTiming } from './scrape-timing';

/** The props every monitoring construct of a key server takes. */
export interface KeyServerMonitoringProps {
  /** The key server to monitor: a KeyServerApp, or one imported with `KeyServerApp.fromAttributes`. */
  readonly keyServer: IKeyServer;
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
   * @default - the key server's `caSecret` (cert-manager writes `ca.crt` into its TLS Secret)
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
}

/** What both modes derive from {@link KeyServerMonitoringProps} for the sources their Prometheus scrapes. */
export interface KeyServerMonitoringPlan {
  /** How the key server's series are labelled, as rules and dashboards select them. */
  readonly target: MonitoredKeyServer;
  readonly scrape: ScrapeTiming;
  readonly insecureSkipVerify: boolean;
  /** The CA to verify against; undefined only when verification is skipped. */
  readonly caSecret?: SecretKeyReference;
  /** The key server's rule groups, with only the alerts whose sources are scraped. */
  readonly ruleGroups: readonly RuleGroup[];
  /** Alerts left out for lack of a source, each with what it lacks. */
  readonly omittedAlerts: readonly OmittedAlert[];
  readonly dashboards: readonly GrafanaDashboard[];
}

/** Checks the shared props and derives what both modes build from them. */
export function planKeyServerMonitoring(props: KeyServerMonitoringProps, availableSources: readonly MetricSource[]): KeyServerMonitoringPlan {
  const { keyServer } = props;
  const target = monitoredKeyServer(keyServer);
  const ruleOptions = {
    target,
    latencyThreshold: props.latencyThreshold,
    availabilityObjective: props.availabilityObjective,
    minimumRequests: props.minimumRequests,
    containerLimits: keyServer.containerLimits,
    availableSources,
    runbookBaseUrl: props.runbookBaseUrl,
  };
  const insecureSkipVerify = props.insecureSkipVerify ?? false;
  return {
    target,
    scrape: scrapeTiming(props.scrapeInterval, props.scrapeTimeout),
    insecureSkipVerify,
    caSecret: insecureSkipVerify ? undefined : props.caSecret ?? keyServer.caSecret,
    ruleGroups: keyServerRuleGroups(ruleOptions),
    omittedAlerts: omittedKeyServerAlerts(ruleOptions),
    dashboards: keyServerDashboards({ target }),
  };
}

/** The recommended labels of one monitoring component of `keyServer`. */
export function monitoringLabels(keyServer: IKeyServer, name: string, instance: string, version: string): Record<string, string> {
  return recommendedLabels({ name, instance, version, component: 'monitoring', partOf: keyServer.partOf });
}

/**
 * In the key server's chart, its Namespace must come before the monitoring objects created in it; in a chart of
 * their own, the file order does it.
 */
export function followKeyServerNamespace(monitoring: Construct, keyServer: IKeyServer): void {
  if (keyServer.namespaceResource !== undefined && Chart.of(monitoring) === Chart.of(keyServer)) {
    monitoring.node.addDependency(keyServer.namespaceResource);
  }
}
