import { metricNames as metric } from '../../../../server/metric-catalogue';
import { keyServerDashboards } from '../../../../constructs/monitoring/dashboards/key-server-dashboards';
import { checkRules } from '../../../rules/promtool';
import { isKnownMetricName, metricNamesIn } from '../../../rules/promql-names';

const target = { namespace: 'keys', job: 'key-server', deployment: 'key-server', container: 'key-server' };
const dashboards = keyServerDashboards({ target });
const panels = dashboards.flatMap((dashboard) => dashboard.panels.map((panel) => ({ dashboard: dashboard.title, panel })));
const queries = panels.flatMap(({ panel }) => panel.targets.map((query) => ({ panel: panel.title, expr: query.expr })));

describe('key server dashboards', () => {
  it('are the HTTP overview and key generation dashboards, with distinct stable uids', () => {
    expect(dashboards.map((dashboard) => [dashboard.uid, dashboard.title])).toEqual([
      ['key-server-http', 'Key Server HTTP Overview'],
      ['key-server-keys', 'Key Server Key Generation'],
    ]);
  });

  it('survive a JSON round trip unchanged (no undefined, functions or cycles)', () => {
    for (const dashboard of dashboards) {
      expect(JSON.parse(JSON.stringify(dashboard))).toEqual(dashboard);
    }
  });

  it('give every panel a unique id and at least one non-empty query', () => {
    for (const dashboard of dashboards) {
      const ids = dashboard.panels.map((panel) => panel.id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const panel of dashboard.panels) {
        expect(panel.targets.length).toBeGreaterThan(0);
        for (const query of panel.targets) {
          expect(query.expr.trim()).not.toBe('');
        }
      }
    }
  });

  it('reference the Prometheus datasource by uid in every panel and query', () => {
    for (const { panel } of panels) {
      expect(panel.datasource).toEqual({ type: 'prometheus', uid: 'prometheus' });
      for (const query of panel.targets) {
        expect(query.datasource).toEqual({ type: 'prometheus', uid: 'prometheus' });
      }
    }
  });

  it('use a configured datasource uid instead when given one', () => {
    const custom = keyServerDashboards({ target, datasourceUid: 'thanos' });
    expect(custom.flatMap((dashboard) => dashboard.panels).every((panel) => panel.datasource.uid === 'thanos')).toBe(true);
  });

  it('rate over $__rate_interval in every range selector, never $__interval', () => {
    const ranges = queries.flatMap(({ expr }) => [...expr.matchAll(/\[([^\]]+)\]/g)].map((match) => match[1]));
    expect(ranges.length).toBeGreaterThan(10);
    expect(new Set(ranges)).toEqual(new Set(['$__rate_interval']));
    for (const { expr } of queries) {
      expect(expr).not.toMatch(/\$__interval\b/);
      // Every rate-like function takes a range: a bare vector would not parse, but an instant gauge inside one would be meaningless.
      for (const call of expr.matchAll(/\b(rate|irate|increase)\(([^()]*)\)/g)) {
        expect(call[2]).toMatch(/\[\$__rate_interval\]$/);
      }
    }
  });

  it('query only metric names the key server exports or standard Kubernetes names', () => {
    const names = queries.flatMap(({ expr }) => metricNamesIn(expr));
    expect(names.filter((name) => !isKnownMetricName(name))).toEqual([]);
    // The dashboards cover every metric the server defines.
    for (const name of [metric.httpRequestsTotal, metric.httpRequestsInFlight, metric.httpRequestsRejectedTotal, metric.keyGenerationsTotal, metric.tlsCertificateExpiryTimestampSeconds, metric.tlsCertificateReloadsTotal]) {
      expect(names).toContain(name);
    }
    for (const histogram of [metric.httpRequestDurationSeconds, metric.keyGenerationDurationSeconds, metric.keyLengthDistribution]) {
      expect(names).toContain(`${histogram}_bucket`);
    }
  });

  it('select the key server by job and namespace in every query', () => {
    for (const { expr } of queries) {
      for (const selector of expr.matchAll(/[a-z_:]+\{([^}]*)\}/g)) {
        expect(selector[1]).toMatch(/^job="key-server",namespace="keys"/);
      }
    }
  });

  it('parse with the real PromQL parser (promtool check rules, $__rate_interval set to 1m)', () => {
    const rules = queries.map(({ expr }, index) => ({ record: `dashboard:query_${index}:check`, expr: expr.replaceAll('$__rate_interval', '1m') }));
    const result = checkRules([{ name: 'dashboard-queries', rules }]);
    if (result.status !== 0) {
      throw new Error(`promtool rejected a dashboard query:\n${result.output}`);
    }
  });

  it('show the panels the design asks for', () => {
    const titles = (uid: string) => dashboards.find((dashboard) => dashboard.uid === uid)!.panels.map((panel) => panel.title);
    expect(titles('key-server-http')).toEqual(expect.arrayContaining([
      'Request rate by code and handler', 'Error ratio', 'Latency percentiles', 'In-flight requests', 'Pods up',
    ]));
    expect(titles('key-server-keys')).toEqual(expect.arrayContaining([
      'Keys per second by length', 'Key generation latency', 'Requested key lengths', 'Certificate days left',
    ]));
    const latency = panels.find(({ panel }) => panel.title === 'Latency percentiles')!.panel;
    expect(latency.targets.map((query) => query.legendFormat)).toEqual(['p50', 'p95', 'p99']);
  });

  it('lay panels out on the 24-column grid without overlaps', () => {
    for (const dashboard of dashboards) {
      const cells = new Set<string>();
      for (const { gridPos } of dashboard.panels) {
        expect(gridPos.x + gridPos.w).toBeLessThanOrEqual(24);
        for (let x = gridPos.x; x < gridPos.x + gridPos.w; x++) {
          for (let y = gridPos.y; y < gridPos.y + gridPos.h; y++) {
            expect(cells.has(`${x},${y}`)).toBe(false);
            cells.add(`${x},${y}`);
          }
        }
      }
    }
  });

  it('reject a datasource uid Grafana would not accept, naming the option', () => {
    expect(() => keyServerDashboards({ target, datasourceUid: 'has spaces' })).toThrow(/datasourceUid must be/);
  });

  it('match the reviewed snapshot', () => {
    expect(dashboards).toMatchSnapshot();
  });
});
