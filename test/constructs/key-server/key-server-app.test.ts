// KeyServerApp: the manifests it synthesizes, their validity against the Kubernetes schemas, and the invariants a
// cluster would otherwise reveal only after `kubectl apply`.
import { ApiObject, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { DisruptionBudget, EgressPolicy, IssuerKind, KeyServerApp, KeyServerAppProps, KeyServerScaling } from '../../../constructs';
import versions from '../../../versions.json';
import { invariantViolations } from '../helpers/invariants';
import { missingResourceViolations, podSecurityRestrictedViolations, podSpecOf } from '../helpers/pod-security';
import { only, synthesize } from '../helpers/synth';
import { expectStrictlyValid, strictValidationErrors } from '../helpers/validate-strict';

/* eslint-disable @typescript-eslint/no-explicit-any */

const customised: KeyServerAppProps = {
  name: 'vault-keys',
  namespace: 'security',
  createNamespace: false,
  image: 'ghcr.io/example/key-server',
  imageTag: '1.4.2',
  maxSize: 4096,
  minSize: 16,
  httpsPort: 8443,
  metricsPort: 9100,
  shutdownDelay: Duration.millis(2500),
  accessLog: true,
  resources: {
    cpu: { request: kplus.Cpu.millis(250), limit: kplus.Cpu.millis(500) },
    memory: { request: Size.mebibytes(96), limit: Size.mebibytes(192) },
  },
  spreadAcrossZones: true,
  tls: { issuer: { name: 'internal-ca', kind: IssuerKind.CLUSTER_ISSUER }, duration: Duration.days(30), renewBefore: Duration.days(10) },
  scaling: KeyServerScaling.autoscale({ minReplicas: 3, maxReplicas: 12, cpuUtilization: 60, memoryUtilization: 80 }),
  podDisruptionBudget: DisruptionBudget.maxUnavailable(kplus.PercentOrAbsolute.percent(25)),
  allowedClients: [{ namespaceLabels: { 'kubernetes.io/metadata.name': 'payments' }, podLabels: { app: 'checkout' } }],
  prometheusSelector: { namespaceLabels: { 'kubernetes.io/metadata.name': 'observability' }, podLabels: { app: 'prom' } },
  egress: EgressPolicy.DNS,
  ingress: {
    host: 'keys.example.com', className: 'nginx', tlsSecretName: 'keys-example-com',
    annotations: { 'nginx.ingress.kubernetes.io/backend-protocol': 'HTTPS' },
  },
};

const configurations: [string, KeyServerAppProps][] = [
  ['default', {}],
  ['customised', customised],
  ['existing Secret, fixed replicas', { tls: { existingSecretName: 'my-tls' }, scaling: KeyServerScaling.fixedReplicas(4), podDisruptionBudget: DisruptionBudget.none() }],
];

function synth(props: KeyServerAppProps = {}): { app: KeyServerApp; objects: any[] } {
  let app!: KeyServerApp;
  const objects = synthesize((scope) => { app = new KeyServerApp(scope, 'keys', props); });
  return { app, objects };
}

describe('KeyServerApp manifests', () => {
  test('default configuration matches the reviewed snapshot', () => {
    expect(synth().objects).toMatchSnapshot();
  });

  test('customised configuration matches the reviewed snapshot', () => {
    expect(synth(customised).objects).toMatchSnapshot();
  });

  test.each(configurations)('%s: every object validates strictly against the Kubernetes and CRD schemas', (_, props) => {
    expectStrictlyValid(synth(props).objects);
  });

  test.each(configurations)('%s: selectors, ports, autoscaler, budget and mounted Secret line up', (_, props) => {
    const { objects } = synth(props);
    expect(invariantViolations(objects, { externalSecrets: props.tls?.existingSecretName ? [props.tls.existingSecretName] : [] })).toEqual([]);
  });

  test.each(configurations)('%s: every container meets Pod Security "restricted" and has requests and limits', (_, props) => {
    const pod = podSpecOf(only(synth(props).objects, 'Deployment'));
    expect(podSecurityRestrictedViolations(pod)).toEqual([]);
    expect(missingResourceViolations(pod)).toEqual([]);
  });

  test('a misspelt field in an untyped ApiObject next to the app fails strict validation', () => {
    // Typed L1 objects drop unknown fields when they serialize; a raw ApiObject keeps them, so it needs this check.
    const objects = synthesize((scope) => {
      const app = new KeyServerApp(scope, 'keys');
      new ApiObject(scope, 'raw', {
        apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'raw', namespace: app.namespace }, dataa: { a: 'b' },
      } as never);
    });
    expect(strictValidationErrors(objects)).toEqual(['ConfigMap/key-server/raw: /: unknown field "dataa"']);
  });

  test('every object carries the six recommended labels, and names have no hash suffix', () => {
    const { app, objects } = synth();
    for (const object of objects) {
      expect(object.metadata.labels).toEqual(expect.objectContaining(app.labels));
      expect(object.metadata.name).toMatch(/^key-server(-(tls|ca|selfsigned))?$/);
    }
    expect(Object.keys(app.labels).sort()).toEqual([
      'app.kubernetes.io/component', 'app.kubernetes.io/instance', 'app.kubernetes.io/managed-by',
      'app.kubernetes.io/name', 'app.kubernetes.io/part-of', 'app.kubernetes.io/version',
    ]);
  });

  test('the Namespace comes first so kubectl can create everything else in it', () => {
    const { objects } = synth();
    expect(objects[0].kind).toBe('Namespace');
    expect(objects[0].metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });

  test('termination grace period exceeds the shutdown delay', () => {
    const { objects } = synth({ shutdownDelay: Duration.seconds(20) });
    expect(only(objects, 'Deployment').spec.template.spec.terminationGracePeriodSeconds).toBe(45);
  });

  test('rolling updates never take a pod away before its replacement is ready', () => {
    expect(only(synth().objects, 'Deployment').spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
  });

  test('the image names its registry, from versions.json by default, and takes a digest', () => {
    const { app, objects } = synth();
    expect(only(objects, 'Deployment').spec.template.spec.containers[0].image).toBe(`${versions.images.keyServer.repository}:${versions.images.keyServer.tag}`);
    expect(app.image).toMatch(/^[a-z0-9.-]+\.[a-z]+(:\d+)?\//);
    const digest = `sha256:${'d'.repeat(64)}`;
    const pinned = synth({ image: 'registry.example.com:5000/team/key-server', imageTag: '1.4.2', imageDigest: digest });
    expect(only(pinned.objects, 'Deployment').spec.template.spec.containers[0].image).toBe(`registry.example.com:5000/team/key-server:1.4.2@${digest}`);
    expect(pinned.app.labels['app.kubernetes.io/version']).toBe('1.4.2');
  });

  test('the ServiceAccount mounts no token', () => {
    const { objects } = synth();
    expect(only(objects, 'ServiceAccount').automountServiceAccountToken).toBe(false);
    expect(only(objects, 'Deployment').spec.template.spec.automountServiceAccountToken).toBe(false);
  });

  test('public members give other constructs what they wire to', () => {
    const { app } = synth();
    expect(app.namespace).toBe('key-server');
    expect(app.service.name).toBe('key-server');
    expect(app.deployment.name).toBe('key-server');
    expect([app.httpsPortName, app.httpsPort, app.metricsPortName, app.metricsPort, app.metricsPath]).toEqual(['https', 1123, 'metrics', 9464, '/metrics']);
    expect(app.selectorLabels).toEqual({
      'app.kubernetes.io/name': 'key-server', 'app.kubernetes.io/instance': 'key-server', 'app.kubernetes.io/component': 'server',
    });
    expect(app.shutdownDelay.toSeconds()).toBe(5);
    expect(app.prometheusSelector).toEqual({
      namespaceLabels: { 'kubernetes.io/metadata.name': 'monitoring' }, podLabels: { 'app.kubernetes.io/name': 'prometheus' },
    });
  });
});
