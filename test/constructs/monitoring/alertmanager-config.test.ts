// The standalone alertmanager.yml: amtool accepts it, routes each severity as intended, and inhibits only named pairs.
import { stringify } from 'yaml';
import { alertmanagerConfig, alertmanagerReceivers } from '../../../constructs/monitoring/alertmanager-config';
import { keyServerRuleGroups } from '../../../constructs/monitoring/rules/key-server-rules';
import { runbookBaseUrl } from '../../../main';
import { runInTempDir } from '../../rules/promtool';

const target = { namespace: 'keys', job: 'key-server', deployment: 'key-server', container: 'key-server' };

/**
 * Whether alertmanager.yml's inhibit rules let a firing `source` silence `target`, as Alertmanager decides it:
 * some rule's source matchers match the source, its target matchers the target, and the `equal` labels agree.
 * Only `name="value"` matchers are understood; anything else fails the test rather than being misread.
 */
function inhibits(source: Record<string, string>, target: Record<string, string>): boolean {
  const matches = (matchers: readonly string[], alert: Record<string, string>) => matchers.every((matcher) => {
    const parsed = /^([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"$/.exec(matcher);
    if (!parsed) throw new Error(`inhibits() understands only name="value" matchers, got ${matcher}`);
    return alert[parsed[1]] === parsed[2];
  });
  return alertmanagerConfig().inhibit_rules.some((rule) =>
    matches(rule.source_matchers as string[], source)
    && matches(rule.target_matchers as string[], target)
    && (rule.equal as string[]).every((label) => source[label] === target[label]));
}

describe('alertmanager.yml', () => {
  it('passes amtool check-config', () => {
    const result = runInTempDir('amtool', ['check-config', 'alertmanager.yml'], { 'alertmanager.yml': stringify(alertmanagerConfig()) });
    if (result.status !== 0) throw new Error(`amtool check-config failed:\n${result.output}`);
    expect(result.output).toMatch(/SUCCESS/);
  });

  it.each([
    [['alertname=Watchdog', 'severity=none'], 'watchdog'],
    [['alertname=KeyServerDown', 'severity=critical', 'namespace=keys', 'job=key-server'], 'critical'],
    [['alertname=KeyServerHighLatency', 'severity=warning'], 'warning'],
    [['alertname=SomethingElse', 'severity=info'], 'default'],
  ])('routes %j to receiver %s, as the real amtool reads the tree', (labels, receiver) => {
    const result = runInTempDir('amtool', ['config', 'routes', 'test', '--config.file=alertmanager.yml', ...labels], { 'alertmanager.yml': stringify(alertmanagerConfig()) });
    if (result.status !== 0) throw new Error(`amtool config routes test failed:\n${result.output}`);
    expect(result.output.trim()).toBe(receiver);
  });

  it('repeats the Watchdog every 5 minutes, the heartbeat a dead man\'s switch expects', () => {
    const routes = alertmanagerConfig().route.routes as Array<Record<string, unknown>>;
    expect(routes[0]).toEqual(expect.objectContaining({ receiver: 'watchdog', matchers: ['alertname="Watchdog"'], repeat_interval: '5m' }));
  });

  it('routes critical and warning alerts to receivers that have no integration yet', () => {
    const config = alertmanagerConfig();
    expect(config.receivers).toEqual(alertmanagerReceivers.map((name) => ({ name })));
    expect(JSON.stringify(config)).not.toMatch(/webhook|slack|email|pagerduty|opsgenie|password|token/i);
  });

  describe('inhibition', () => {
    const labels = { namespace: 'keys', job: 'key-server' };
    const alerts = keyServerRuleGroups({ target, runbookBaseUrl }).flatMap((group) => group.rules)
      .flatMap((rule) => ('alert' in rule ? [{ alertname: rule.alert, severity: rule.labels.severity, ...labels }] : []));
    const named = (alertname: string, extra: Record<string, string> = {}) => ({ ...alerts.find((alert) => alert.alertname === alertname)!, ...extra });

    it('silences the slow burn while the fast burn fires for the same namespace and job', () => {
      expect(inhibits(named('KeyServerErrorBudgetBurnFast'), named('KeyServerErrorBudgetBurnSlow'))).toBe(true);
      expect(inhibits(named('KeyServerErrorBudgetBurnFast'), named('KeyServerErrorBudgetBurnSlow', { job: 'other' }))).toBe(false);
    });

    it('never lets a critical alert hide a warning about something else, e.g. KeyServerDown hiding an expiring certificate', () => {
      const critical = alerts.filter((alert) => alert.severity === 'critical');
      const warnings = alerts.filter((alert) => alert.severity === 'warning' && alert.alertname !== 'KeyServerErrorBudgetBurnSlow');
      expect(critical.length).toBeGreaterThan(1);
      expect(warnings.map((alert) => alert.alertname)).toContain('KeyServerCertificateExpiringSoon');
      const hidden = critical.flatMap((source) => warnings.filter((warning) => inhibits(source, warning)).map((warning) => `${source.alertname} → ${warning.alertname}`));
      expect(hidden).toEqual([]);
    });
  });

  it('is rejected by amtool when a route names a missing receiver (negative control)', () => {
    const config = alertmanagerConfig();
    const broken = { ...config, receivers: config.receivers.filter((receiver) => receiver.name !== 'critical') };
    const result = runInTempDir('amtool', ['check-config', 'alertmanager.yml'], { 'alertmanager.yml': stringify(broken) });
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/critical/);
  });
});
