// The standalone stack's alerts on itself under the pinned promtool: each fires on its failure and stays silent without it.
import { metaMonitoringAlertNames, metaMonitoringAlertSources, metaMonitoringRuleGroups } from '../../../../constructs/monitoring/rules/meta-monitoring-rules';
import { isAlertingRule } from '../../../../constructs/monitoring/rules/rule-types';
import { runbookBaseUrl } from '../../../../main';
import { metricNamesIn, sourceOfMetric } from '../../../rules/promql-names';
import { checkRules, RuleTest, testRules } from '../../../rules/promtool';

const groups = metaMonitoringRuleGroups({ prometheusJob: 'prometheus', alertmanagerJob: 'alertmanager', runbookBaseUrl });
const alerts = groups.flatMap((group) => group.rules).filter(isAlertingRule);
const prometheus = 'job="prometheus",instance="localhost:9090"';
const alertmanager = 'job="alertmanager",instance="alertmanager.key-server.svc:9093"';

function run(tests: RuleTest[]): void {
  const result = testRules(groups, tests);
  if (result.status !== 0) throw new Error(`promtool failed (exit ${result.status}):\n${result.output}`);
}

describe('meta-monitoring rules', () => {
  it('pass promtool check rules', () => {
    const result = checkRules(groups);
    if (result.status !== 0) throw new Error(result.output);
  });

  it('define the exported alert names in order, each with severity, for and its runbook anchor', () => {
    expect(alerts.map((rule) => rule.alert)).toEqual([...metaMonitoringAlertNames]);
    for (const rule of alerts) expect(rule.annotations.runbook_url).toBe(`${runbookBaseUrl}#${rule.alert.toLowerCase()}`);
  });

  it('declare exactly the sources of the metrics each alert reads', () => {
    for (const rule of alerts) {
      const read = [...new Set(metricNamesIn(rule.expr).map(sourceOfMetric))].sort();
      expect({ alert: rule.alert, read }).toEqual({ alert: rule.alert, read: [...metaMonitoringAlertSources[rule.alert as keyof typeof metaMonitoringAlertSources]].sort() });
    }
  });

  it('refuse to build without a runbook document or with a job name that would break the selector', () => {
    expect(() => metaMonitoringRuleGroups({ prometheusJob: 'prometheus', alertmanagerJob: 'alertmanager' } as never)).toThrow(/^runbookBaseUrl is required/);
    expect(() => metaMonitoringRuleGroups({ prometheusJob: 'p"x', alertmanagerJob: 'alertmanager', runbookBaseUrl })).toThrow(/^prometheusJob must be/);
  });

  it('fire the Watchdog from the first evaluation, with severity none', () => {
    run([{
      name: 'always', interval: '1m', inputSeries: [],
      alertRuleTests: [{ evalTime: '1m', alertname: 'Watchdog', expAlerts: [{ expLabels: { severity: 'none' } }] }],
    }]);
  });

  it('fire PrometheusErrorSendingAlerts when no alert reaches Alertmanager (Prometheus 3 counts only delivered ones as sent), not when all do', () => {
    const notifications = (errorsPerMinute: number, sentPerMinute: number) => [
      { series: `prometheus_notifications_errors_total{${prometheus},alertmanager="http://alertmanager:9093/api/v2/alerts"}`, values: `0+${errorsPerMinute}x30` },
      { series: `prometheus_notifications_sent_total{${prometheus},alertmanager="http://alertmanager:9093/api/v2/alerts"}`, values: `0+${sentPerMinute}x30` },
    ];
    const labels = { severity: 'critical', job: 'prometheus', instance: 'localhost:9090', alertmanager: 'http://alertmanager:9093/api/v2/alerts' };
    run([
      { name: 'Alertmanager down', interval: '1m', inputSeries: notifications(5, 0), alertRuleTests: [{ evalTime: '20m', alertname: 'PrometheusErrorSendingAlerts', expAlerts: [{ expLabels: labels }] }] },
      { name: 'all delivered', interval: '1m', inputSeries: notifications(0, 5), alertRuleTests: [{ evalTime: '30m', alertname: 'PrometheusErrorSendingAlerts', expAlerts: [] }] },
    ]);
  });

  it('fire PrometheusRuleEvaluationFailures after 15 minutes of failing evaluations', () => {
    const failures = (perMinute: number) => [{ series: `prometheus_rule_evaluation_failures_total{${prometheus},rule_group="/etc/prometheus/rules/key-server.yml;key-server.alerts"}`, values: `0+${perMinute}x30` }];
    const labels = { severity: 'critical', job: 'prometheus', instance: 'localhost:9090', rule_group: '/etc/prometheus/rules/key-server.yml;key-server.alerts' };
    run([
      { name: 'failing', interval: '1m', inputSeries: failures(2), alertRuleTests: [{ evalTime: '14m', alertname: 'PrometheusRuleEvaluationFailures', expAlerts: [] }, { evalTime: '17m', alertname: 'PrometheusRuleEvaluationFailures', expAlerts: [{ expLabels: labels }] }] },
      { name: 'healthy', interval: '1m', inputSeries: failures(0), alertRuleTests: [{ evalTime: '30m', alertname: 'PrometheusRuleEvaluationFailures', expAlerts: [] }] },
    ]);
  });

  it('fire PrometheusTsdbCompactionsFailing after four hours of failed compactions', () => {
    run([{
      name: 'disk full', interval: '10m', inputSeries: [{ series: `prometheus_tsdb_compactions_failed_total{${prometheus}}`, values: '0+1x40' }],
      alertRuleTests: [
        { evalTime: '3h', alertname: 'PrometheusTsdbCompactionsFailing', expAlerts: [] },
        { evalTime: '5h', alertname: 'PrometheusTsdbCompactionsFailing', expAlerts: [{ expLabels: { severity: 'warning', job: 'prometheus', instance: 'localhost:9090' } }] },
      ],
    }]);
  });

  it('fire AlertmanagerNotificationsFailing per integration when its notifications fail', () => {
    const webhook = (failedPerMinute: number) => [
      { series: `alertmanager_notifications_failed_total{${alertmanager},integration="webhook",reason="other"}`, values: `0+${failedPerMinute}x20` },
      { series: `alertmanager_notifications_total{${alertmanager},integration="webhook"}`, values: '0+4x20' },
    ];
    run([
      { name: 'webhook down', interval: '1m', inputSeries: webhook(4), alertRuleTests: [{ evalTime: '15m', alertname: 'AlertmanagerNotificationsFailing', expAlerts: [{ expLabels: { severity: 'warning', integration: 'webhook' } }] }] },
      { name: 'webhook fine', interval: '1m', inputSeries: webhook(0), alertRuleTests: [{ evalTime: '15m', alertname: 'AlertmanagerNotificationsFailing', expAlerts: [] }] },
    ]);
  });
});
