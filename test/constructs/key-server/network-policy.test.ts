// The NetworkPolicy of KeyServerApp: who may reach the https and metrics ports, and where the pods may go.
import { EgressPolicy, KeyServerApp, KeyServerAppProps } from '../../../constructs';
import { keyServerNetworkPolicy } from '../../../constructs/key-server/network-policy';
import { HardenedWorkload } from '../../../constructs/workload';
import { admits, peerIn } from '../helpers/network-policy';
import { newChart, only, synthesize } from '../helpers/synth';

/* eslint-disable @typescript-eslint/no-explicit-any */

function policyAndApp(props: KeyServerAppProps = {}): { policy: any; app: KeyServerApp } {
  let app!: KeyServerApp;
  const objects = synthesize((scope) => { app = new KeyServerApp(scope, 'keys', props); });
  return { policy: only(objects, 'NetworkPolicy'), app };
}

const prometheus = peerIn('monitoring', { 'app.kubernetes.io/name': 'prometheus' });

describe('KeyServerApp NetworkPolicy', () => {
  test('selects exactly the key server pods', () => {
    const { policy, app } = policyAndApp();
    expect(policy.spec.podSelector).toEqual({ matchLabels: app.selectorLabels });
  });

  test('admits the Prometheus selector to the metrics port', () => {
    const { policy, app } = policyAndApp();
    expect(admits(policy, prometheus, app.metricsPortName)).toBe(true);
  });

  test.each([
    ['a pod in the same namespace', peerIn('key-server', { app: 'other' })],
    ['another pod in the monitoring namespace', peerIn('monitoring', { 'app.kubernetes.io/name': 'grafana' })],
    ['a pod labelled prometheus in another namespace', peerIn('default', { 'app.kubernetes.io/name': 'prometheus' })],
  ])('refuses %s on the metrics port', (_, peer) => {
    const { policy, app } = policyAndApp();
    expect(admits(policy, peer, app.metricsPortName)).toBe(false);
  });

  test('admits any client to the https port by default', () => {
    const { policy, app } = policyAndApp();
    expect(admits(policy, peerIn('anywhere', { app: 'client' }), app.httpsPortName)).toBe(true);
  });

  test('admits only the allowed clients to the https port when they are listed', () => {
    const { policy, app } = policyAndApp({ allowedClients: [{ namespaceLabels: { 'kubernetes.io/metadata.name': 'payments' }, podLabels: { app: 'checkout' } }] });
    expect(admits(policy, peerIn('payments', { app: 'checkout' }), app.httpsPortName)).toBe(true);
    expect(admits(policy, peerIn('payments', { app: 'other' }), app.httpsPortName)).toBe(false);
    expect(admits(policy, peerIn('default', { app: 'checkout' }), app.httpsPortName)).toBe(false);
  });

  test('never writes an https rule with an empty from, which would admit every source', () => {
    const workload = new HardenedWorkload(newChart(), { name: 'keys', namespace: 'keys', labels: {}, selectorLabels: { app: 'keys' }, user: 65534 });
    expect(() => keyServerNetworkPolicy(workload, {
      httpsPortName: 'https', metricsPortName: 'metrics', allowedClients: [],
      prometheusSelector: { namespaceLabels: {}, podLabels: {} }, egress: EgressPolicy.NONE,
    })).toThrow(/^allowedClients must not be empty/);
  });

  test('follows a custom Prometheus selector', () => {
    const { policy, app } = policyAndApp({ prometheusSelector: { namespaceLabels: { team: 'obs' }, podLabels: { app: 'prom' } } });
    expect(admits(policy, { namespace: 'o', namespaceLabels: { team: 'obs' }, podLabels: { app: 'prom' } }, app.metricsPortName)).toBe(true);
    expect(admits(policy, prometheus, app.metricsPortName)).toBe(false);
  });

  test('denies all egress by default, and allows only DNS when asked', () => {
    expect(policyAndApp().policy.spec).toEqual(expect.objectContaining({ policyTypes: ['Ingress', 'Egress'] }));
    expect(policyAndApp().policy.spec).not.toHaveProperty('egress'); // no rule denies all; `[]` would drift (see NamedPortNetworkPolicy)
    const dns = policyAndApp({ egress: EgressPolicy.DNS }).policy.spec.egress;
    expect(dns).toHaveLength(1);
    expect(dns[0].ports).toEqual([{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }]);
    expect(dns[0].to).toEqual([{ namespaceSelector: {}, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }]);
  });

  test('allowMetricsFrom admits a peer to the metrics port alone, in the key server\'s own and only policy', () => {
    let app!: KeyServerApp;
    const standalonePrometheus = peerIn('keys', { 'app.kubernetes.io/name': 'prometheus', 'app.kubernetes.io/instance': 'keys-prometheus' });
    const objects = synthesize((scope) => {
      app = new KeyServerApp(scope, 'keys', { namespace: 'keys', allowedClients: [{ podLabels: { app: 'checkout' } }] });
      app.allowMetricsFrom({ namespaceLabels: { 'kubernetes.io/metadata.name': 'keys' }, podLabels: { 'app.kubernetes.io/name': 'prometheus', 'app.kubernetes.io/instance': 'keys-prometheus' } });
    });
    const policy = only(objects, 'NetworkPolicy');
    expect(admits(policy, standalonePrometheus, app.metricsPortName)).toBe(true);
    expect(admits(policy, standalonePrometheus, app.httpsPortName)).toBe(false);
    expect(admits(policy, prometheus, app.metricsPortName)).toBe(true);
    expect(admits(policy, peerIn('keys', { app: 'other' }), app.metricsPortName)).toBe(false);
    expect(policy.spec.ingress.map((rule: any) => rule.ports.map((port: any) => port.port))).toEqual([['https'], ['metrics']]);
  });

  test('allowMetricsFrom refuses a peer with an invalid label, naming it', () => {
    synthesize((scope) => {
      const app = new KeyServerApp(scope, 'keys');
      expect(() => app.allowMetricsFrom({ podLabels: { app: 'not valid' } })).toThrow(/^allowMetricsFrom peer.podLabels\['app'\] must be usable as a label value/);
    });
  });
});
