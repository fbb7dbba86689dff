// The container args KeyServerApp writes are ones the real server's parser accepts, with the values the props meant.
import { Duration } from 'cdk8s';
import { KeyServerApp, KeyServerAppProps } from '../../../constructs';
import { parseConfig } from '../../../server/config';
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
    };
    expect(serverConfigFor(props)).toEqual({
      kind: 'config',
      config: expect.objectContaining({ host: '::', srvPort: 8443, metricsPort: 9100, minSize: 16, maxSize: 65536, shutdownDelay: 2.5, accessLog: true }),
    });
  });
});
