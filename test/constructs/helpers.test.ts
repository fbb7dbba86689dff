// The test helpers must catch what they exist to catch: each check fails on a broken manifest.
import { invariantViolations, selectorMatches } from './helpers/invariants';
import { missingResourceViolations, podSecurityRestrictedViolations } from './helpers/pod-security';

/* eslint-disable @typescript-eslint/no-explicit-any */

const restrictedPod = (): any => ({
  securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
  containers: [{
    name: 'app',
    ports: [{ name: 'https', containerPort: 8443 }],
    readinessProbe: { httpGet: { path: '/ready', port: 'https' } },
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    resources: { requests: { cpu: '1', memory: '1Mi' }, limits: { cpu: '1', memory: '1Mi' } },
  }],
  volumes: [{ name: 'tls', secret: { secretName: 'app-tls' } }],
});

const objectsWith = (pod: any): any[] => [
  {
    kind: 'Deployment', apiVersion: 'apps/v1', metadata: { name: 'app', namespace: 'ns' },
    spec: { selector: { matchLabels: { app: 'a' } }, template: { metadata: { labels: { app: 'a' } }, spec: pod } },
  },
  { kind: 'Service', metadata: { name: 'app', namespace: 'ns', labels: { app: 'a' } }, spec: { selector: { app: 'a' }, ports: [{ name: 'https', port: 443, targetPort: 'https' }] } },
  { kind: 'Certificate', metadata: { name: 'app', namespace: 'ns' }, spec: { secretName: 'app-tls' } },
  { kind: 'HorizontalPodAutoscaler', metadata: { name: 'app', namespace: 'ns' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'app' } } },
  { kind: 'PodDisruptionBudget', metadata: { name: 'app', namespace: 'ns' }, spec: { selector: { matchLabels: { app: 'a' } } } },
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

  test('selectors honour matchExpressions', () => {
    expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['web'] }] }, { tier: 'web' })).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['web'] }] }, { tier: 'web' })).toBe(false);
  });
});
