// End to end: the standalone stack's alerts on itself, as dist/standalone/ ships them, in the pinned Prometheus (3.13)
// scraping itself as the emitted prometheus.yml does: the Watchdog fires, an unreachable Alertmanager is reported, and
// every Prometheus series these alerts read exists in that release.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Testing } from 'cdk8s';
import { parse, stringify } from 'yaml';
import { buildStandalone } from '../../main';
import type { RuleGroup } from '../../constructs/monitoring/rules/rule-types';
import { metricNamesIn, sourceOfMetric } from '../rules/promql-names';
import { withTestTiming } from './manifests';
import { startPrometheus, type PromAlert, type RunningPrometheus } from './prometheus';
import { freePort, waitFor } from './processes';

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped JSON here, as a cluster sees them */

/** The standalone ConfigMaps as synthesized from main.ts: prometheus.yml and the rule file. */
function standaloneMonitoring(): { config: any; groups: RuleGroup[] } {
  const app = Testing.app();
  buildStandalone(app, 'production');
  const objects = app.charts.flatMap((chart) => Testing.synth(chart));
  const configMap = (name: string) => objects.find((object) => object.kind === 'ConfigMap' && object.metadata.name === name);
  return {
    config: parse(configMap('prometheus-config').data['prometheus.yml']),
    groups: parse(configMap('prometheus-rules').data['key-server.yml']).groups,
  };
}

describe('meta-monitoring end to end: the standalone alerts on Prometheus itself, in the pinned Prometheus', () => {
  const { config, groups } = standaloneMonitoring();
  const meta = groups.filter((group) => group.name === 'monitoring.alerts');
  const selfJob = config.scrape_configs.find((job: any) => job.job_name === 'prometheus');
  let directory: string;
  let prometheus: RunningPrometheus | undefined;

  const firingOrPending = async (): Promise<PromAlert[]> => prometheus!.alerts();
  const describeAlerts = (alerts: readonly PromAlert[]) => alerts.map((alert) => `${alert.labels.alertname}=${alert.state}`).join(', ') || 'none';

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'key-server-meta-'));
    const port = await freePort();
    // Nothing listens there: the Alertmanager the emitted config names is unreachable, as when it is down.
    const unreachableAlertmanager = `127.0.0.1:${await freePort()}`;
    prometheus = await startPrometheus({
      directory,
      port,
      config: stringify({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: ['rules.yml'],
        // The emitted alerting block and self-scrape job, with only their addresses moved to this machine.
        alerting: { alertmanagers: config.alerting.alertmanagers.map((entry: any) => ({ ...entry, static_configs: [{ targets: [unreachableAlertmanager] }] })) },
        scrape_configs: [{ ...selfJob, static_configs: [{ targets: [`127.0.0.1:${port}`] }] }],
      }),
      files: { 'rules.yml': stringify({ groups: withTestTiming(meta, '2s') }) },
      // Firing alerts are sent again every second instead of every minute, so failures add up within the test.
      args: ['--rules.alert.resend-delay=1s'],
    });
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  it('loads the emitted meta-monitoring group, and scrapes itself under the job name the alerts select', () => {
    expect(meta.map((group) => group.rules.map((rule) => ('alert' in rule ? rule.alert : rule.record)))).toEqual([[
      'Watchdog', 'PrometheusRuleEvaluationFailures', 'PrometheusErrorSendingAlerts', 'PrometheusTsdbCompactionsFailing', 'AlertmanagerNotificationsFailing',
    ]]);
    expect(selfJob.job_name).toBe('prometheus');
  });

  it('fires the Watchdog, which a dead man\'s switch outside the cluster expects', async () => {
    await waitFor('the Watchdog to fire', 20_000, async () => {
      const alerts = await firingOrPending();
      return alerts.some((alert) => alert.labels.alertname === 'Watchdog' && alert.state === 'firing') || describeAlerts(alerts);
    });
  }, 30_000);

  it('reports an Alertmanager it cannot reach: PrometheusErrorSendingAlerts goes pending, then fires', async () => {
    await waitFor('PrometheusErrorSendingAlerts to fire', 40_000, async () => {
      const alerts = await firingOrPending();
      return alerts.some((alert) => alert.labels.alertname === 'PrometheusErrorSendingAlerts' && alert.state === 'firing') || describeAlerts(alerts);
    });
    const pending = await prometheus!.query('max_over_time(ALERTS{alertname="PrometheusErrorSendingAlerts",alertstate="pending"}[5m])');
    expect(pending.length).toBe(1);
  }, 50_000);

  it('reads only Prometheus series this release exports, under the job the emitted config gives them', async () => {
    const names = [...new Set(meta.flatMap((group) => group.rules).flatMap((rule) => metricNamesIn(rule.expr)).filter((name) => sourceOfMetric(name) === 'prometheus'))];
    expect(names.length).toBeGreaterThanOrEqual(4);
    const missing: string[] = [];
    await waitFor('every Prometheus series of the meta alerts', 20_000, async () => {
      missing.length = 0;
      for (const name of names) {
        if ((await prometheus!.query(`count(${name}{job="prometheus"})`)).length === 0) missing.push(name);
      }
      return missing.length === 0 || `missing: ${missing.join(', ')}`;
    }).catch(() => undefined);
    expect(missing).toEqual([]);
  }, 30_000);
});
