// The optional Ingress from an external host name to the https port.
import { KeyServerApp, KeyServerAppProps } from '../../../constructs';
import { only, synthesize } from '../helpers/synth';

/* eslint-disable @typescript-eslint/no-explicit-any */

function synth(props: KeyServerAppProps = {}): { app: KeyServerApp; objects: any[] } {
  let app!: KeyServerApp;
  const objects = synthesize((scope) => { app = new KeyServerApp(scope, 'keys', props); });
  return { app, objects };
}

const withIngress: KeyServerAppProps = {
  name: 'vault-keys', httpsPort: 8443,
  ingress: { host: 'keys.example.com', className: 'nginx', tlsSecretName: 'keys-example-com', annotations: { 'nginx.ingress.kubernetes.io/backend-protocol': 'HTTPS' } },
};

describe('KeyServerApp ingress', () => {
  test('an Ingress routes the external host to the https port when asked, and is absent otherwise', () => {
    expect(synth().objects.some((o) => o.kind === 'Ingress')).toBe(false);
    const ingress = only(synth(withIngress).objects, 'Ingress');
    expect(ingress.spec.ingressClassName).toBe('nginx');
    expect(ingress.spec.rules[0].host).toBe('keys.example.com');
    expect(ingress.spec.rules[0].http.paths[0].backend.service).toEqual({ name: 'vault-keys', port: { number: 8443 } });
    expect(ingress.spec.tls).toEqual([{ hosts: ['keys.example.com'], secretName: 'keys-example-com' }]);
  });
});
