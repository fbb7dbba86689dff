// KeyServerApp: the manifests it synthesizes, their validity against the Kubernetes schemas, and the invariants a
// cluster would otherwise reveal only after `kubectl apply`.
import { ApiObject, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { KeyServerApp, KeyServerAppProps } from '../../constructs';
import { maxOldSpaceMebibytes } from '../../constructs/key-server-resources';
import versions from '../../versions.json';
import { invariantViolations } from './helpers/invariants';
import { missingResourceViolations, podSecurityRestrictedViolations, podSpecOf } from './helpers/pod-security';
import { only, synthesize } from './helpers/synth';
import { expectStrictlyValid, strictValidationErrors } from './helpers/validate-strict';

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
  tls: { issuer: { name: 'internal-ca', kind: 'ClusterIssuer' }, duration: Duration.days(30), renewBefore: Duration.days(10) },
  autoscaling: { minReplicas: 3, maxReplicas: 12, cpuUtilization: 60, memoryUtilization: 80 },
  podDisruptionBudget: { maxUnavailable: kplus.PercentOrAbsolute.percent(25) },
  allowedClients: [{ namespaceLabels: { 'kubernetes.io/metadata.name': 'payments' }, podLabels: { app: 'checkout' } }],
  prometheusSelector: { namespaceLabels: { 'kubernetes.io/metadata.name': 'observability' }, podLabels: { app: 'prom' } },
  egress: 'dns',
  ingress: {
    host: 'keys.example.com', className: 'nginx', tlsSecretName: 'keys-example-com',
    annotations: { 'nginx.ingress.kubernetes.io/backend-protocol': 'HTTPS' },
  },
};

const configurations: [string, KeyServerAppProps][] = [
  ['default', {}],
  ['customised', customised],
  ['existing Secret, fixed replicas', { tls: { existingSecretName: 'my-tls' }, autoscaling: false, replicas: 4, podDisruptionBudget: false }],
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

  test('termination grace period exceeds the shutdown delay', () => {
    const { objects } = synth({ shutdownDelay: Duration.seconds(20) });
    expect(only(objects, 'Deployment').spec.template.spec.terminationGracePeriodSeconds).toBe(45);
  });

  test('probes use HTTPS on the named https port: startup and liveness /health, readiness /ready', () => {
    const container = only(synth().objects, 'Deployment').spec.template.spec.containers[0];
    expect(container.startupProbe.httpGet).toEqual({ path: '/health', port: 'https', scheme: 'HTTPS' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/ready', port: 'https', scheme: 'HTTPS' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/health', port: 'https', scheme: 'HTTPS' });
  });

  test('a busy pod is not restarted: liveness waits 5 s per probe and a minute of failures, under a 1-CPU limit', () => {
    const container = only(synth().objects, 'Deployment').spec.template.spec.containers[0];
    const window = (probe: any) => ({ timeout: probe.timeoutSeconds, failingFor: probe.periodSeconds * probe.failureThreshold });
    // Measured under 200 connections: a probe's new TLS handshake took up to 4.4 s at a 200m limit, 0.1 s at 1 CPU.
    expect(window(container.livenessProbe)).toEqual({ timeout: 5, failingFor: 60 });
    expect(window(container.readinessProbe)).toEqual({ timeout: 3, failingFor: 15 });
    expect(container.resources.limits.cpu).toBe('1');
  });

  test('rolling updates never take a pod away before its replacement is ready', () => {
    expect(only(synth().objects, 'Deployment').spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
  });

  test('the autoscaler owns the replica count: CPU 70 %, 2 to 10 pods, and the Deployment sets no replicas', () => {
    const { objects } = synth();
    const hpa = only(objects, 'HorizontalPodAutoscaler');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([2, 10]);
    expect(hpa.spec.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }]);
    expect(only(objects, 'Deployment').spec.replicas).toBeUndefined();
  });

  test('replicas becomes the autoscaler minimum, or the fixed count without autoscaling', () => {
    expect(only(synth({ replicas: 3 }).objects, 'HorizontalPodAutoscaler').spec.minReplicas).toBe(3);
    const fixed = synth({ replicas: 3, autoscaling: false }).objects;
    expect(only(fixed, 'Deployment').spec.replicas).toBe(3);
    expect(fixed.some((o) => o.kind === 'HorizontalPodAutoscaler')).toBe(false);
  });

  test('the disruption budget lets a drain evict one pod at a time however far the autoscaler scaled, and any unhealthy pod', () => {
    const budget = only(synth().objects, 'PodDisruptionBudget').spec;
    expect(budget).toEqual(expect.objectContaining({ maxUnavailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow' }));
    expect(budget.minAvailable).toBeUndefined();
    expect(only(synth(customised).objects, 'PodDisruptionBudget').spec.maxUnavailable).toBe('25%');
  });

  test('no disruption budget for a single pod, which one could only block or allow entirely', () => {
    expect(synth({ replicas: 1, autoscaling: false }).objects.some((o) => o.kind === 'PodDisruptionBudget')).toBe(false);
    expect(synth({ autoscaling: { minReplicas: 1, maxReplicas: 3 } }).objects.some((o) => o.kind === 'PodDisruptionBudget')).toBe(true);
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

  test('the heap ceiling follows the memory limit: NODE_OPTIONS holds half of it', () => {
    const env = (props: KeyServerAppProps) => only(synth(props).objects, 'Deployment').spec.template.spec.containers[0].env;
    expect(env({})).toEqual([{ name: 'NODE_OPTIONS', value: '--max-old-space-size=96' }]);
    const bigger = { cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.units(1) }, memory: { request: Size.mebibytes(256), limit: Size.gibibytes(1) } };
    expect(env({ resources: bigger })).toEqual([{ name: 'NODE_OPTIONS', value: '--max-old-space-size=512' }]);
    expect(maxOldSpaceMebibytes(Size.mebibytes(192))).toBe(96);
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

  test('pods are spread across nodes, and across zones when asked, without blocking scheduling', () => {
    const keys = (props: KeyServerAppProps) => only(synth(props).objects, 'Deployment').spec.template.spec.topologySpreadConstraints
      .map((c: any) => [c.topologyKey, c.whenUnsatisfiable]);
    expect(keys({})).toEqual([['kubernetes.io/hostname', 'ScheduleAnyway']]);
    const constraints = only(synth({ spreadAcrossZones: true }).objects, 'Deployment').spec.template.spec.topologySpreadConstraints;
    // Only the pods of one ReplicaSet count, so a rollout's leaving pods do not skew where the new ones go.
    expect(constraints.map((c: any) => c.matchLabelKeys)).toEqual([['pod-template-hash'], ['pod-template-hash']]);
    expect(keys({ spreadAcrossZones: true })).toEqual([
      ['kubernetes.io/hostname', 'ScheduleAnyway'], ['topology.kubernetes.io/zone', 'ScheduleAnyway'],
    ]);
  });

  test('the Service is ClusterIP with named ports and annotations for annotation-based Prometheus', () => {
    const { app, objects } = synth();
    const service = only(objects, 'Service');
    expect(service.spec.type).toBe('ClusterIP');
    expect(service.spec.ports.map((p: any) => [p.name, p.port])).toEqual([['https', app.httpsPort], ['metrics', app.metricsPort]]);
    expect(service.spec.selector).toEqual(app.selectorLabels);
    expect(service.metadata.annotations).toEqual({
      'prometheus.io/scrape': 'true', 'prometheus.io/port': '9464', 'prometheus.io/path': '/metrics', 'prometheus.io/scheme': 'https',
    });
  });

  test('the ServiceAccount mounts no token', () => {
    const { objects } = synth();
    expect(only(objects, 'ServiceAccount').automountServiceAccountToken).toBe(false);
    expect(only(objects, 'Deployment').spec.template.spec.automountServiceAccountToken).toBe(false);
  });

  test('an Ingress routes the external host to the https port when asked, and is absent otherwise', () => {
    expect(synth().objects.some((o) => o.kind === 'Ingress')).toBe(false);
    const ingress = only(synth(customised).objects, 'Ingress');
    expect(ingress.spec.ingressClassName).toBe('nginx');
    expect(ingress.spec.rules[0].host).toBe('keys.example.com');
    expect(ingress.spec.rules[0].http.paths[0].backend.service).toEqual({ name: 'vault-keys', port: { number: 8443 } });
    expect(ingress.spec.tls).toEqual([{ hosts: ['keys.example.com'], secretName: 'keys-example-com' }]);
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
