// The test helpers must catch what they exist to catch: each check fails on a broken manifest.
import { invariantViolations, selectorMatches } from './helpers/invariants';
import { missingResourceViolations, podSecurityRestrictedViolations } from './helpers/pod-security';

/* eslint-disable @typescript-eslint/no-explicit-any */

const restrictedPod = (): any => ({
  securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
  containers: [{
    name: 'app',
    image: 'registry.example.com/team/app:1.0',
    ports: [{ name: 'https', containerPort: 8443 }],
    readinessProbe: { httpGet: { path: '/ready', port: 'https' } },
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    resources: { requests: { cpu: '1', memory: '1Mi' }, limits: { cpu: '1', memory: '1Mi' } },
  }],
  volumes: [{ name: 'tls', secret: { secretName: 'app-tls', defaultMode: 0o440 } }],
});

const objectsWith = (pod: any): any[] => [
  {
    kind: 'Deployment', apiVersion: 'apps/v1', metadata: { name: 'app', namespace: 'ns' },
    spec: { selector: { matchLabels: { app: 'a' } }, template: { metadata: { labels: { app: 'a' } }, spec: pod } },
  },
  { kind: 'Service', metadata: { name: 'app', namespace: 'ns', labels: { app: 'a' } }, spec: { selector: { app: 'a' }, ports: [{ name: 'https', port: 443, targetPort: 'https' }] } },
  { kind: 'Certificate', metadata: { name: 'app', namespace: 'ns' }, spec: { secretName: 'app-tls' } },
  { kind: 'HorizontalPodAutoscaler', metadata: { name: 'app', namespace: 'ns' }, spec: { maxReplicas: 3, scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'app' } } },
  { kind: 'PodDisruptionBudget', metadata: { name: 'app', namespace: 'ns' }, spec: { maxUnavailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow', selector: { matchLabels: { app: 'a' } } } },
  { kind: 'ServiceMonitor', metadata: { name: 'app', namespace: 'ns' }, spec: { selector: { matchLabels: { app: 'a' } }, endpoints: [{ port: 'https' }] } },
];

describe('Pod Security "restricted" check', () => {
  test('accepts a compliant pod', () => {
    expect(podSecurityRestrictedViolations(restrictedPod())).toEqual([]);
  });

  test.each<[string, (pod: any) => void, string]>([
    ['root allowed', (p) => { delete p.securityContext.runAsNonRoot; }, 'container app: runAsNonRoot must be true'],
    ['privilege escalation', (p) => { p.containers[0].securityContext.allowPrivilegeEscalation = true; }, 'container app: allowPrivilegeEscalation must be false'],
    ['capabilities kept', (p) => { p.containers[0].securityContext.capabilities = {}; }, 'container app: capabilities must drop ALL'],
    ['an added capability', (p) => { p.containers[0].securityContext.capabilities.add = ['NET_ADMIN']; }, 'container app: capability NET_ADMIN must not be added'],
    ['no seccomp profile', (p) => { delete p.securityContext.seccompProfile; }, 'container app: seccompProfile must be RuntimeDefault or Localhost'],
    ['a privileged container', (p) => { p.containers[0].securityContext.privileged = true; }, 'container app: privileged must not be true'],
    ['host networking', (p) => { p.hostNetwork = true; }, 'pod: hostNetwork must not be true'],
    ['a hostPath volume', (p) => { p.volumes.push({ name: 'host', hostPath: { path: '/' } }); }, 'volume host: type hostPath is not allowed'],
    ['a host port', (p) => { p.containers[0].ports[0].hostPort = 443; }, 'container app: hostPort 443 is not allowed'],
  ])('reports %s', (_, breakIt, expected) => {
    const pod = restrictedPod();
    breakIt(pod);
    expect(podSecurityRestrictedViolations(pod)).toContain(expected);
  });

  test('reports a missing limit', () => {
    const pod = restrictedPod();
    delete pod.containers[0].resources.limits.memory;
    expect(missingResourceViolations(pod)).toEqual(['container app: limits.memory is missing']);
  });
});

describe('cross-object invariants', () => {
  test('accept objects that line up', () => {
    expect(invariantViolations(objectsWith(restrictedPod()))).toEqual([]);
  });

  test('report a Service selecting no pods', () => {
    const objects = objectsWith(restrictedPod());
    objects[1].spec.selector = { app: 'b' };
    expect(invariantViolations(objects)).toContain('Service/ns/app: selector matches no pod template');
  });

  test('report a Service targetPort and a probe port that are not declared', () => {
    const pod = restrictedPod();
    pod.containers[0].ports[0].name = 'http';
    expect(invariantViolations(objectsWith(pod))).toEqual(expect.arrayContaining([
      'Service/ns/app: targetPort https of port https is not a declared container port',
      'Deployment/ns/app: app readinessProbe port https is not declared',
    ]));
  });

  test('report an autoscaler aimed at a missing Deployment and a budget selecting nothing', () => {
    const objects = objectsWith(restrictedPod());
    objects[3].spec.scaleTargetRef.name = 'other';
    objects[4].spec.selector.matchLabels = { app: 'b' };
    expect(invariantViolations(objects)).toEqual(expect.arrayContaining([
      'HorizontalPodAutoscaler/ns/app: scaleTargetRef Deployment/other does not exist',
      'PodDisruptionBudget/ns/app: selector matches no pod template',
    ]));
  });

  test('report a ServiceMonitor port that no selected Service has', () => {
    const objects = objectsWith(restrictedPod());
    objects[5].spec.endpoints[0].port = 'metrics';
    expect(invariantViolations(objects)).toContain('ServiceMonitor/ns/app: endpoint port metrics is not a port of a selected Service');
  });

  test('report a mounted Secret that nothing creates, unless it is declared external', () => {
    const objects = objectsWith(restrictedPod());
    objects[2].spec.secretName = 'other-tls';
    expect(invariantViolations(objects)).toContain('Deployment/ns/app: volume tls mounts Secret app-tls, which nothing creates');
    expect(invariantViolations(objects, { externalSecrets: ['app-tls'] })).toEqual([]);
  });

  test.each<[string, (image: string) => string, RegExp]>([
    ['a bare name', () => 'key-server:0.1.0', /image key-server:0\.1\.0 names no registry/],
    ['a Docker Hub path without registry', () => 'grafana/grafana:13.2.3', /image grafana\/grafana:13\.2\.3 names no registry/],
    ['no tag', () => 'registry.example.com/team/app', /has no tag or digest/],
    ['latest', () => 'registry.example.com/team/app:latest', /is tagged latest/],
    ['a short digest', () => 'registry.example.com/team/app@sha256:abc', /has a malformed digest/],
  ])('report an image that would not pull as written: %s', (_name, image, message) => {
    const pod = restrictedPod();
    pod.containers[0].image = image(pod.containers[0].image);
    expect(invariantViolations(objectsWith(pod))).toEqual([expect.stringMatching(message)]);
  });

  test('accept images by digest, with or without a tag, and registries with ports', () => {
    for (const image of [`registry.example.com/team/app@sha256:${'a'.repeat(64)}`, `localhost:5000/app:1.0@sha256:${'b'.repeat(64)}`]) {
      const pod = restrictedPod();
      pod.containers[0].image = image;
      expect(invariantViolations(objectsWith(pod))).toEqual([]);
    }
  });

  test('report a Secret template or volume claim template that claims GitOps ownership of what a controller creates', () => {
    const objects = objectsWith(restrictedPod());
    objects[2].spec.secretTemplate = { labels: { 'app.kubernetes.io/name': 'app', 'app.kubernetes.io/instance': 'app' } };
    objects.push({ kind: 'StatefulSet', metadata: { name: 'db', namespace: 'ns' }, spec: { volumeClaimTemplates: [{ metadata: { name: 'data', labels: { 'app.kubernetes.io/managed-by': 'cdk8s' } } }] } });
    expect(invariantViolations(objects)).toEqual(expect.arrayContaining([
      'Certificate/ns/app: secretTemplate gives the objects it creates app.kubernetes.io/instance, which claims GitOps ownership of objects not in Git',
      'StatefulSet/ns/db: volumeClaimTemplates[0] gives the objects it creates app.kubernetes.io/managed-by, which claims GitOps ownership of objects not in Git',
    ]));
  });

  test('report a Secret volume others can read', () => {
    const pod = restrictedPod();
    delete pod.volumes[0].secret.defaultMode;
    expect(invariantViolations(objectsWith(pod))).toEqual(['Deployment/ns/app: Secret volume tls is readable by others (mode 644)']);
  });

  test('report a minAvailable budget, one without AlwaysAllow, and one over a single pod', () => {
    const objects = objectsWith(restrictedPod());
    objects[4].spec = { minAvailable: 1, selector: objects[4].spec.selector };
    objects[3].spec.maxReplicas = 1;
    expect(invariantViolations(objects)).toEqual([
      'PodDisruptionBudget/ns/app: sets minAvailable instead of maxUnavailable',
      'PodDisruptionBudget/ns/app: unhealthy pods can block a drain (unhealthyPodEvictionPolicy is not AlwaysAllow)',
      'PodDisruptionBudget/ns/app: budgets Deployment/ns/app, which never runs more than one pod',
    ]);
  });

  test('report a StatefulSet governed by a ClusterIP Service, and a pod that re-chowns its volumes at every start', () => {
    const pod = restrictedPod();
    pod.securityContext.fsGroup = 65534;
    const objects: any[] = [
      { kind: 'StatefulSet', metadata: { name: 'db', namespace: 'ns' }, spec: { serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template: { metadata: { labels: { app: 'db' } }, spec: pod } } },
      { kind: 'Service', metadata: { name: 'db', namespace: 'ns' }, spec: { selector: { app: 'db' }, ports: [{ name: 'https', port: 443, targetPort: 'https' }] } },
    ];
    expect(invariantViolations(objects, { externalSecrets: ['app-tls'] })).toEqual([
      'StatefulSet/ns/db: serviceName db is not headless (clusterIP allocated)',
      'StatefulSet/ns/db: fsGroupChangePolicy Always (default) re-chowns its volumes at every start',
    ]);
  });

  test('selectors honour matchExpressions', () => {
    expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['web'] }] }, { tier: 'web' })).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['web'] }] }, { tier: 'web' })).toBe(false);
  });
});
