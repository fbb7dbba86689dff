// The serving certificate: cert-manager Certificates for the Service's names under a namespace CA, or an existing Secret.
import { KeyServerApp, KeyServerAppProps } from '../../../constructs';
import { only, synthesize } from '../helpers/synth';
import { Duration } from 'cdk8s';
import { IssuerKind } from '../../../constructs';
import { serviceDnsNames, tlsServerName, toGoDuration } from '../../../constructs/key-server/tls';

/* eslint-disable @typescript-eslint/no-explicit-any */

function synth(props: KeyServerAppProps = {}): { app: KeyServerApp; objects: any[] } {
  let app!: KeyServerApp;
  const objects = synthesize((scope) => { app = new KeyServerApp(scope, 'keys', props); });
  return { app, objects };
}

const customised: KeyServerAppProps = {
  name: 'vault-keys', namespace: 'security', tls: { issuer: { name: 'internal-ca', kind: IssuerKind.CLUSTER_ISSUER }, duration: Duration.days(30), renewBefore: Duration.days(10) },
};

describe('KeyServerApp TLS', () => {
  test('the mounted Secret is the one the serving Certificate writes, for the Service DNS names', () => {
    const { app, objects } = synth(customised);
    const certificate = only(objects, 'Certificate');
    expect(certificate.spec.secretName).toBe(app.tlsSecretName);
    expect(certificate.spec.issuerRef).toEqual({ name: 'internal-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' });
    expect(certificate.spec.dnsNames).toEqual([
      'vault-keys', 'vault-keys.security', 'vault-keys.security.svc', 'vault-keys.security.svc.cluster.local',
    ]);
    expect(certificate.spec.dnsNames).toContain(`${app.service.name}.${app.namespace}.svc`);
  });

  test('by default a namespace-local CA issues the serving certificate, so ca.crt is a CA clients can pin', () => {
    const { app, objects } = synth();
    const certificates = objects.filter((o) => o.kind === 'Certificate');
    const ca = certificates.find((c) => c.spec.isCA === true);
    const serving = certificates.find((c) => c.spec.secretName === app.tlsSecretName);
    const caIssuer = objects.find((o) => o.kind === 'Issuer' && o.spec.ca !== undefined);
    expect(caIssuer.spec.ca.secretName).toBe(ca.spec.secretName);
    expect(serving.spec.issuerRef.name).toBe(caIssuer.metadata.name);
    expect(app.tlsCaSecretKey).toBe('ca.crt');
  });

  test('an existing Secret is mounted as named and no Certificate is emitted', () => {
    const { app, objects } = synth({ tls: { existingSecretName: 'my-tls' } });
    expect(app.tlsSecretName).toBe('my-tls');
    expect(objects.filter((o) => o.kind === 'Certificate' || o.kind === 'Issuer')).toEqual([]);
    expect(only(objects, 'Deployment').spec.template.spec.volumes).toEqual([{ name: 'tls', secret: { secretName: 'my-tls', defaultMode: 0o440 } }]);
  });

  test('the serving certificate Secret carries no label claiming GitOps ownership, and the CA keeps its key at renewal', () => {
    const certificates = synth().objects.filter((o) => o.kind === 'Certificate');
    const serving = certificates.find((c) => c.spec.secretTemplate !== undefined);
    expect(Object.keys(serving.spec.secretTemplate.labels).sort()).toEqual([
      'app.kubernetes.io/component', 'app.kubernetes.io/name', 'app.kubernetes.io/part-of', 'app.kubernetes.io/version',
    ]);
    expect(serving.spec.privateKey.rotationPolicy).toBe('Always');
    expect(certificates.find((c) => c.spec.isCA === true).spec.privateKey.rotationPolicy).toBe('Never');
  });

  test('scrapers verify the name <service>.<namespace>.svc, which is one of the certificate\'s names', () => {
    const { app } = synth(customised);
    expect(app.tlsServerName).toBe('vault-keys.security.svc');
    expect(serviceDnsNames('vault-keys', 'security', 'cluster.local')).toContain(tlsServerName('vault-keys', 'security'));
    expect(app.caSecret).toEqual({ name: 'vault-keys-tls', key: 'ca.crt' });
  });

  test('writes cert-manager durations in whole hours, and refuses what a Go duration parser would round', () => {
    expect(toGoDuration('tls.duration', Duration.days(90))).toBe('2160h');
    expect(() => toGoDuration('tls.duration', Duration.minutes(90))).toThrow(/^tls.duration must be a whole number of hours, at least 1; got 1 hour 30 minutes$/);
  });
});
