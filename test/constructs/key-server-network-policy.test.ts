// The NetworkPolicy of KeyServerApp: who may reach the https and metrics ports, and where the pods may go.
import { KeyServerApp, KeyServerAppProps, networkPolicySpec } from '../../constructs';
import { admits, peerIn } from './helpers/network-policy';
import { only, synthesize } from './helpers/synth';

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
    expect(() => networkPolicySpec({
      selectorLabels: { app: 'keys' }, httpsPortName: 'https', metricsPortName: 'metrics', allowedClients: [],
      prometheusSelector: { namespaceLabels: {}, podLabels: {} }, egress: 'none',
    })).toThrow(/^allowedClients must not be empty/);
  });

  test('follows a custom Prometheus selector', () => {
    const { policy, app } = policyAndApp({ prometheusSelector: { namespaceLabels: { team: 'obs' }, podLabels: { app: 'prom' } } });
    expect(admits(policy, { namespace: 'o', namespaceLabels: { team: 'obs' }, podLabels: { app: 'prom' } }, app.metricsPortName)).toBe(true);
    expect(admits(policy, prometheus, app.metricsPortName)).toBe(false);
  });

  test('denies all egress by default, and allows only DNS when asked', () => {
    expect(policyAndApp().policy.spec).toEqual(expect.objectContaining({ policyTypes: ['Ingress', 'Egress'] }));
    expect(policyAndApp().policy.spec).not.toHaveProperty('egress'); // no rule denies all; `[]` would drift (see networkPolicySpec)
    const dns = policyAndApp({ egress: 'dns' }).policy.spec.egress;
    expect(dns).toHaveLength(1);
    expect(dns[0].ports).toEqual([{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }]);
    expect(dns[0].to).toEqual([{ namespaceSelector: {}, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }]);
  });
});
