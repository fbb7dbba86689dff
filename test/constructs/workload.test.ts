// The hardened-workload building block: the four workloads of the library (key server, Prometheus, Alertmanager,
// Grafana) get the same security context, selection, named-port NetworkPolicy and disruption policy from it.
import { App, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { HardenedWorkload, sizeQuantity } from '../../constructs/workload';
import { buildStandalone } from '../../main';
import { newChart, only } from './helpers/synth';

/* eslint-disable @typescript-eslint/no-explicit-any */

const identity = { name: 'w', namespace: 'n', labels: { 'app.kubernetes.io/name': 'w', 'app.kubernetes.io/version': '1' }, selectorLabels: { 'app.kubernetes.io/name': 'w' }, user: 1000 };

/** Every object of dist/standalone/, which runs all four workloads. */
function standaloneObjects(): any[] {
  const app = new App();
  buildStandalone(app, 'production');
  return app.charts.flatMap((chart) => chart.toJson());
}

describe('HardenedWorkload', () => {
  const objects = standaloneObjects();
  const workloads = objects.filter((object) => object.kind === 'Deployment' || object.kind === 'StatefulSet');

  test('runs the four workloads of the library', () => {
    expect(workloads.map((workload) => `${workload.kind}/${workload.metadata.name}`).sort())
      .toEqual(['Deployment/grafana', 'Deployment/key-server', 'StatefulSet/alertmanager', 'StatefulSet/prometheus']);
  });

  test.each(['key-server', 'prometheus', 'alertmanager', 'grafana'])('%s: restricted pod and container security, with the patches cdk8s-plus cannot write', (name) => {
    const pod = workloads.find((workload) => workload.metadata.name === name).spec.template.spec;
    expect(pod.securityContext).toEqual(expect.objectContaining({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' }, fsGroupChangePolicy: 'OnRootMismatch' }));
    expect(pod.securityContext.fsGroup).toBe(pod.securityContext.runAsUser);
    for (const container of pod.containers) {
      expect(container.securityContext).toEqual({
        runAsNonRoot: true, runAsUser: pod.securityContext.runAsUser, runAsGroup: pod.securityContext.runAsUser,
        readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, privileged: false, capabilities: { drop: ['ALL'] },
      });
    }
  });

  test.each(['key-server', 'prometheus', 'alertmanager', 'grafana'])('%s: selected by readable labels, and every Service in front of it selects the same', (name) => {
    const workload = workloads.find((candidate) => candidate.metadata.name === name);
    const selector = workload.spec.selector.matchLabels;
    expect(JSON.stringify(workload)).not.toContain('cdk8s.io/metadata.addr');
    expect(workload.spec.template.metadata.labels).toEqual(expect.objectContaining(selector));
    const services = objects.filter((object) => object.kind === 'Service' && object.metadata.name.startsWith(name));
    expect(services.length).toBeGreaterThan(0);
    for (const service of services) expect(service.spec.selector).toEqual(selector);
  });

  test.each(['key-server', 'prometheus', 'alertmanager', 'grafana'])('%s: one NetworkPolicy of its own, admitting by port name only', (name) => {
    const workload = workloads.find((candidate) => candidate.metadata.name === name);
    const policies = objects.filter((object) => object.kind === 'NetworkPolicy'
      && JSON.stringify(object.spec.podSelector.matchLabels) === JSON.stringify(workload.spec.selector.matchLabels));
    expect(policies).toHaveLength(1);
    const ports = policies[0].spec.ingress.flatMap((rule: any) => rule.ports.map((port: any) => port.port));
    expect(ports.every((port: unknown) => typeof port === 'string')).toBe(true);
    const declared = workload.spec.template.spec.containers.flatMap((container: any) => container.ports.map((port: any) => port.name));
    expect(declared).toEqual(expect.arrayContaining(ports));
  });

  test('the one disruption policy: maxUnavailable with AlwaysAllow where more than one pod runs, no budget over a single pod', () => {
    const budgets = objects.filter((object) => object.kind === 'PodDisruptionBudget');
    expect(budgets.map((budget) => budget.metadata.name)).toEqual(['key-server']);
    expect(budgets[0].spec).toEqual(expect.objectContaining({ maxUnavailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow' }));
    expect(workloads.filter((workload) => workload.metadata.name !== 'key-server').map((workload) => workload.spec.replicas)).toEqual([1, 1, 1]);
  });

  test('names and labels every object alike, and copies the labels so no object shares another\'s map', () => {
    const workload = new HardenedWorkload(newChart(), identity);
    expect(workload.metadata()).toEqual({ name: 'w', namespace: 'n', labels: identity.labels });
    expect(workload.metadata('w-config').name).toBe('w-config');
    expect(workload.metadata().labels).not.toBe(workload.metadata().labels);
  });

  test('puts a checksum of the configuration files on the pod template, so a change of configuration rolls the pods', () => {
    const workload = new HardenedWorkload(newChart(), identity);
    const checksum = (files: string[]) => workload.podTemplateProps(files).podMetadata.annotations?.['checksum/config'];
    expect(checksum(['a'])).toMatch(/^[0-9a-f]{16}$/);
    expect(checksum(['a'])).toBe(checksum(['a']));
    expect(checksum(['a'])).not.toBe(checksum(['b']));
    expect(checksum(['a', 'b'])).not.toBe(checksum(['ab']));
    expect(workload.podTemplateProps().podMetadata.annotations).toBeUndefined();
  });

  test('governs a StatefulSet by a headless Service and adds its volume claim, which cdk8s-plus-27 has no option for', () => {
    const chart = newChart();
    const workload = new HardenedWorkload(chart, identity);
    const governing = workload.addGoverningService([{ name: 'web', port: 80 }]);
    const statefulSet = new kplus.StatefulSet(chart, 'statefulset', { ...workload.podTemplateProps(), service: governing, replicas: 1 });
    statefulSet.addContainer({ name: 'w', image: 'registry.example.com/w:1', securityContext: workload.containerSecurity, ports: [{ name: 'web', number: 80 }] });
    workload.addVolumeClaim(statefulSet, { name: 'data', mountPath: '/data', storage: '1Gi', storageClassName: 'fast' });
    workload.harden(statefulSet);
    const objects = chart.toJson();
    const service = only(objects, 'Service');
    expect(service.metadata.name).toBe('w-headless');
    expect(service.spec).toEqual(expect.objectContaining({ clusterIP: 'None', selector: identity.selectorLabels }));
    const spec = only(objects, 'StatefulSet').spec;
    expect(spec.serviceName).toBe('w-headless');
    expect(spec.volumeClaimTemplates).toEqual([{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'fast', resources: { requests: { storage: '1Gi' } } } }]);
    expect(spec.template.spec.containers[0].volumeMounts).toEqual([{ name: 'data', mountPath: '/data' }]);
  });

  test('writes sizes as whole GiB or MiB, and refuses what Kubernetes would round', () => {
    expect(sizeQuantity('size', Size.gibibytes(20))).toBe('20Gi');
    expect(sizeQuantity('size', Size.mebibytes(1536))).toBe('1536Mi');
    expect(() => sizeQuantity('size', Size.kibibytes(10))).toThrow(/^size must be a whole number of MiB, at least 1; got 0.009765625 MiB$/);
  });
});
