// How the key server's series are labelled: derived from an IKeyServer, and the matchers rules and panels select by.
import { KeyServerApp } from '../../../constructs';
import { monitoredKeyServer, podSelector, scrapeSelector, validateMonitoredKeyServer } from '../../../constructs/monitoring/monitored-key-server';
import { keyServerRuleGroups } from '../../../constructs/monitoring/rules/key-server-rules';
import { runbookBaseUrl } from '../../../main';
import { checkRules } from '../../rules/promtool';
import { newChart } from '../helpers/synth';

const target = { namespace: 'keys', job: 'key-server', deployment: 'key-server', container: 'key-server' };

describe('the monitored key server', () => {
  test('takes job from the Service, deployment and container from the key server, as the operator and the scrape config label them', () => {
    const app = new KeyServerApp(newChart(), 'keys', { name: 'vault-keys', namespace: 'security' });
    expect(monitoredKeyServer(app)).toEqual({ namespace: 'security', job: app.service.name, deployment: app.deployment.name, container: app.deployment.containers[0].name });
  });

  test('selects its own series by job and namespace, and its pods in other exporters\' series by name', () => {
    expect(scrapeSelector(target, 'code=~"5.."')).toBe('{job="key-server",namespace="keys",code=~"5.."}');
    expect(podSelector(target)).toBe('{namespace="keys",pod=~"key-server-[a-z0-9]+-[a-z0-9]+"}');
  });

  test('escapes a dot of a Deployment name once for the regex and once more for the PromQL string', () => {
    expect(podSelector({ ...target, deployment: 'key.server' })).toBe('{namespace="keys",pod=~"key\\\\.server-[a-z0-9]+-[a-z0-9]+"}');
    expect(checkRules(keyServerRuleGroups({ target: { ...target, deployment: 'key.server' }, runbookBaseUrl }))).toMatchObject({ status: 0 });
  });

  test('refuses a label value that would break a selector, naming the field', () => {
    expect(() => validateMonitoredKeyServer({ ...target, job: 'a"b' }, 'target')).toThrow(/^target.job must be a non-empty string without quotes/);
    expect(() => validateMonitoredKeyServer({ ...target, namespace: '' }, 'target')).toThrow(/^target.namespace must be/);
  });
});
