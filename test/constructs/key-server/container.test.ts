// The key server's container: the args the Deployment runs, its ports, and the Secret files those args name.
import { Duration } from 'cdk8s';
import { KeyServerApp, KeyServerAppProps } from '../../../constructs';
import { only, synthesize } from '../helpers/synth';

/* eslint-disable @typescript-eslint/no-explicit-any */

function synth(props: KeyServerAppProps = {}): { app: KeyServerApp; objects: any[] } {
  let app!: KeyServerApp;
  const objects = synthesize((scope) => { app = new KeyServerApp(scope, 'keys', props); });
  return { app, objects };
}

const customised: KeyServerAppProps = {
  name: 'vault-keys', namespace: 'security', createNamespace: false, maxSize: 4096, minSize: 16, httpsPort: 8443, metricsPort: 9100,
  shutdownDelay: Duration.millis(2500), accessLog: true,
};

describe('KeyServerApp container', () => {
  test('the Deployment runs serverArgs exactly, and the args mount and name the TLS Secret files', () => {
    const { app, objects } = synth(customised);
    const deployment = only(objects, 'Deployment');
    const container = deployment.spec.template.spec.containers[0];
    expect(container.args).toEqual([...app.serverArgs]);
    expect(app.serverArgs).toEqual([
      '--host', '::', '--srv-port', '8443', '--metrics-port', '9100', '--max-size', '4096', '--min-size', '16',
      '--shutdown-delay', '2.5', '--tls-cert', '/etc/key-server/tls/tls.crt', '--tls-key', '/etc/key-server/tls/tls.key',
      '--access-log',
    ]);
    const mount = container.volumeMounts.find((m: any) => m.mountPath === '/etc/key-server/tls');
    const volume = deployment.spec.template.spec.volumes.find((v: any) => v.name === mount.name);
    expect(volume.secret.secretName).toBe(app.tlsSecretName);
    expect(mount.readOnly).toBe(true);
  });

  test('runs the image with its two named ports and the heap ceiling, and reads nothing but its Secrets', () => {
    const container = only(synth(customised).objects, 'Deployment').spec.template.spec.containers[0];
    expect(container.ports).toEqual([{ name: 'https', containerPort: 8443 }, { name: 'metrics', containerPort: 9100 }]);
    expect(container.env).toEqual([{ name: 'NODE_OPTIONS', value: '--max-old-space-size=128' }]);
    expect(container.volumeMounts).toEqual([{ name: 'tls', mountPath: '/etc/key-server/tls', readOnly: true }]);
  });
});
