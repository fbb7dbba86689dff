// The key server's Grafana dashboards as plain JSON objects, for ConfigMaps and for tests that evaluate their queries.
import { MonitoredKeyServer, validateMonitoredKeyServer } from '../monitored-key-server';
import { buildDashboard, GrafanaDashboard } from './grafana-model';
import { httpOverviewDashboard } from './http-overview';
import { keyGenerationDashboard } from './key-generation';

export type { GrafanaDashboard, GrafanaPanel, PrometheusTarget } from './grafana-model';

/** Options of {@link keyServerDashboards}. */
export interface KeyServerDashboardOptions {
  /** The key server whose series the panels select. */
  readonly target: MonitoredKeyServer;
  /**
   * uid of the Prometheus datasource every panel queries. kube-prometheus-stack and the standalone Grafana
   * both provision theirs with uid `prometheus`.
   * @default 'prometheus'
   */
  readonly datasourceUid?: string;
}

/** Both dashboards, each with a stable uid; `${uid}.json` is the file name they are provisioned under. */
export function keyServerDashboards(options: KeyServerDashboardOptions): GrafanaDashboard[] {
  validateMonitoredKeyServer(options.target, 'target');
  const datasourceUid = options.datasourceUid ?? 'prometheus';
  if (!/^[a-zA-Z0-9_-]{1,40}$/.test(datasourceUid)) {
    throw new Error(`datasourceUid must be 1 to 40 letters, digits, '-' or '_', got ${JSON.stringify(datasourceUid)}`);
  }
  return [httpOverviewDashboard(options.target), keyGenerationDashboard(options.target)].map((spec) => buildDashboard(spec, datasourceUid));
}
