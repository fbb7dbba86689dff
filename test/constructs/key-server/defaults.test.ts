// The names KeyServerApp builds with and fromAttributes assumes: one table, so the two cannot drift apart.
import { KeyServerApp } from '../../../constructs';
import { keyServerDefaults, keyServerLabels, keyServerSelectorLabels } from '../../../constructs/key-server/defaults';
import { newChart } from '../helpers/synth';

describe('key server defaults', () => {
  test('are what KeyServerApp builds with when given no props', () => {
    const app = new KeyServerApp(newChart(), 'keys');
    expect([app.name, app.namespace, app.partOf, app.containerName]).toEqual([keyServerDefaults.name, keyServerDefaults.namespace, keyServerDefaults.partOf, keyServerDefaults.containerName]);
    expect([app.httpsPortName, app.httpsPort, app.metricsPortName, app.metricsPort, app.metricsPath])
      .toEqual([keyServerDefaults.httpsPortName, keyServerDefaults.httpsPort, keyServerDefaults.metricsPortName, keyServerDefaults.metricsPort, keyServerDefaults.metricsPath]);
    expect(app.labels).toEqual(keyServerLabels(app.name, app.version, app.partOf));
    expect(app.selectorLabels).toEqual(keyServerSelectorLabels(app.name));
  });

  test('label every key server as the server component of key-server, selected by instance', () => {
    expect(keyServerSelectorLabels('vault-keys')).toEqual({
      'app.kubernetes.io/name': 'key-server', 'app.kubernetes.io/instance': 'vault-keys', 'app.kubernetes.io/component': 'server',
    });
    expect(keyServerLabels('vault-keys', '1.0', 'payments')).toEqual(expect.objectContaining({ ...keyServerSelectorLabels('vault-keys'), 'app.kubernetes.io/version': '1.0', 'app.kubernetes.io/part-of': 'payments' }));
  });
});
