// What both monitoring modes derive from the same props: the CA to verify against, rules for the sources scraped, and
// the key server's Namespace first when both share a chart.
import { Chart, Testing } from 'cdk8s';
import { KeyServerApp, MonitoringStack } from '../../../constructs';
import { planKeyServerMonitoring } from '../../../constructs/monitoring/key-server-monitoring';
import { runbookBaseUrl } from '../../../main';
import { newChart } from '../helpers/synth';

describe('planKeyServerMonitoring', () => {
  const keyServer = new KeyServerApp(newChart(), 'keys');

  test('verifies against the key server\'s CA unless given another, and against none only when skipping verification', () => {
    expect(planKeyServerMonitoring({ keyServer, runbookBaseUrl }, ['keyServer']).caSecret).toEqual({ name: 'key-server-tls', key: 'ca.crt' });
    expect(planKeyServerMonitoring({ keyServer, runbookBaseUrl, caSecret: { name: 'ca', key: 'root.pem' } }, ['keyServer']).caSecret).toEqual({ name: 'ca', key: 'root.pem' });
    expect(planKeyServerMonitoring({ keyServer, runbookBaseUrl, insecureSkipVerify: true }, ['keyServer']).caSecret).toBeUndefined();
  });

  test('ships the alerts whose sources are scraped, names the others, and compares usage with the key server\'s limits', () => {
    const plan = planKeyServerMonitoring({ keyServer, runbookBaseUrl }, ['keyServer']);
    expect(plan.omittedAlerts.map((omitted) => omitted.alert)).toEqual(['KeyServerNoPodsAvailable', 'KeyServerPodsNotReady', 'KeyServerReplicasMismatch']);
    expect(JSON.stringify(plan.ruleGroups)).toContain(`process_resident_memory_bytes{job=\\"key-server\\",namespace=\\"key-server\\"} / ${256 * 1048576}`);
  });

  test('puts the key server\'s Namespace first when monitoring shares its chart, and leaves charts of their own to the file order', () => {
    const shared = newChart();
    const app = new KeyServerApp(shared, 'keys');
    new MonitoringStack(shared, 'monitoring', { keyServer: app, mode: 'operator', runbookBaseUrl });
    expect(Testing.synth(shared)[0].kind).toBe('Namespace');
    const testApp = Testing.app();
    const own = new KeyServerApp(new Chart(testApp, 'keys'), 'keys');
    const monitoringChart = new Chart(testApp, 'monitoring');
    const stack = new MonitoringStack(monitoringChart, 'monitoring', { keyServer: own, mode: 'operator', runbookBaseUrl });
    expect(stack.node.dependencies).toEqual([]);
    expect(stack.operator!.node.dependencies).toEqual([]);
  });
});
