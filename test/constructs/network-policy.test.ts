// The named-port NetworkPolicy every workload gets: one rule per port, peers that join later, egress open or closed.
import * as kplus from 'cdk8s-plus-27';
import { NamedPortNetworkPolicy, networkPolicyPeer } from '../../constructs/network-policy';
import { admits, peerIn } from './helpers/network-policy';
import { newChart } from './helpers/synth';

/* eslint-disable @typescript-eslint/no-explicit-any */

const metadata = { name: 'w', namespace: 'n', labels: { app: 'w' } };

function render(build: (policy: NamedPortNetworkPolicy) => void, egress?: kplus.k8s.NetworkPolicyEgressRule[]): any {
  const policy = new NamedPortNetworkPolicy(newChart(), 'policy', { metadata, selectorLabels: { app: 'w' }, egress });
  build(policy);
  return policy.resource.toJson();
}

describe('NamedPortNetworkPolicy', () => {
  test('admits nobody until a port is opened, and protects the selected pods', () => {
    const policy = render(() => undefined);
    expect(policy.spec.podSelector).toEqual({ matchLabels: { app: 'w' } });
    expect(admits(policy, peerIn('n', { app: 'any' }), 'web')).toBe(false);
  });

  test('keeps one rule per port: a peer added later joins the rule of its port', () => {
    const policy = render((p) => {
      p.allowFrom('web', { podLabels: { app: 'a' } });
      p.allowFrom('metrics', { namespaceLabels: { team: 'o' } });
      p.allowFrom('web', { podLabels: { app: 'b' } });
    });
    expect(policy.spec.ingress).toEqual([
      { ports: [{ port: 'web', protocol: 'TCP' }], from: [{ podSelector: { matchLabels: { app: 'a' } } }, { podSelector: { matchLabels: { app: 'b' } } }] },
      { ports: [{ port: 'metrics', protocol: 'TCP' }], from: [{ namespaceSelector: { matchLabels: { team: 'o' } }, podSelector: {} }] },
    ]);
    expect(admits(policy, peerIn('n', { app: 'b' }), 'web')).toBe(true);
    expect(admits(policy, peerIn('n', { app: 'b' }), 'metrics')).toBe(false);
  });

  test('a port open to every source stays open when a peer is added, and is written without `from`', () => {
    const policy = render((p) => {
      p.allowFromAnySource('https');
      p.allowFrom('https', { podLabels: { app: 'a' } });
    });
    expect(policy.spec.ingress).toEqual([{ ports: [{ port: 'https', protocol: 'TCP' }] }]);
    expect(admits(policy, peerIn('elsewhere', { app: 'z' }), 'https')).toBe(true);
  });

  test('leaves egress open unless told, and then denies it with no rule rather than an empty list (which would drift)', () => {
    expect(render(() => undefined).spec.policyTypes).toEqual(['Ingress']);
    const closed = render(() => undefined, []);
    expect(closed.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(closed.spec).not.toHaveProperty('egress');
    const dns = [{ ports: [{ protocol: 'UDP', port: kplus.k8s.IntOrString.fromNumber(53) }] }];
    expect(render(() => undefined, dns).spec.egress).toEqual([{ ports: [{ protocol: 'UDP', port: 53 }] }]);
  });

  test('writes a peer without labels as "every pod" and without namespace labels as "this namespace"', () => {
    expect(networkPolicyPeer({})).toEqual({ namespaceSelector: undefined, podSelector: {} });
    expect(networkPolicyPeer({ namespaceLabels: {} })).toEqual({ namespaceSelector: {}, podSelector: {} });
    expect(networkPolicyPeer({ namespaceLabels: { a: 'b' }, podLabels: { c: 'd' } })).toEqual({
      namespaceSelector: { matchLabels: { a: 'b' } }, podSelector: { matchLabels: { c: 'd' } },
    });
  });
});
