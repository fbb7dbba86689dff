// The container args KeyServerApp writes are ones the real server's parser accepts, with the values the props meant:
// formatArgs writes them from the server's own contract, and what the parser refuses is named by prop.
import { Duration } from 'cdk8s';
import { KeyServerApp, KeyServerAppProps } from '../../../constructs';
import { keyServerArgs, serverConfig } from '../../../constructs/key-server/args';
import { defaultConfig, parseConfig } from '../../../server/config';
import { synthesize } from '../helpers/synth';

function serverConfigFor(props: KeyServerAppProps) {
  let app!: KeyServerApp;
  synthesize((scope) => { app = new KeyServerApp(scope, 'keys', props); });
  return parseConfig(app.serverArgs, {});
}

describe('KeyServerApp container args', () => {
  test('the defaults parse to the server configuration the construct documents', () => {
    expect(serverConfigFor({})).toEqual({
      kind: 'config',
      config: expect.objectContaining({
        host: '::', srvPort: 1123, metricsPort: 9464, minSize: 1, maxSize: 1024, shutdownDelay: 5, accessLog: false,
        tls: { certFile: '/etc/key-server/tls/tls.crt', keyFile: '/etc/key-server/tls/tls.key' },
      }),
    });
  });

  test('every mapped prop reaches the server, fractional shutdown delay included', () => {
    const props: KeyServerAppProps = {
      host: '::', httpsPort: 8443, metricsPort: 9100, minSize: 16, maxSize: 65536, shutdownDelay: Duration.millis(2500), accessLog: true,
      maxConnections: 512,
    };
    expect(serverConfigFor(props)).toEqual({
      kind: 'config',
      config: expect.objectContaining({ host: '::', srvPort: 8443, metricsPort: 9100, minSize: 16, maxSize: 65536, shutdownDelay: 2.5, accessLog: true, maxConnections: 512 }),
    });
  });

  test('state the address, ports, sizes and shutdown delay even at the server\'s defaults, and leave the rest to them', () => {
    let app!: KeyServerApp;
    synthesize((scope) => { app = new KeyServerApp(scope, 'keys'); });
    expect(app.serverArgs).toEqual([
      '--host', '::', '--srv-port', '1123', '--metrics-port', '9464', '--max-size', '1024', '--min-size', '1', '--shutdown-delay', '5',
      '--tls-cert', '/etc/key-server/tls/tls.crt', '--tls-key', '/etc/key-server/tls/tls.key',
    ]);
    const config = serverConfigFor({});
    expect(config).toEqual({ kind: 'config', config: expect.objectContaining({ maxConnections: defaultConfig().maxConnections, keepAliveTimeout: defaultConfig().keepAliveTimeout }) });
  });

  test('report what the server\'s parser refuses under the prop behind the flag', () => {
    expect(() => keyServerArgs(serverConfig({ minSize: 64, maxSize: 32 }))).toThrow('minSize (64) must not be greater than maxSize (32) (the server\'s --min-size and --max-size)');
    expect(() => keyServerArgs(serverConfig({ host: '--' }))).not.toThrow();
    expect(() => keyServerArgs(serverConfig({ host: ' ' }))).toThrow('host must not be empty (the server\'s --host)');
  });
});
