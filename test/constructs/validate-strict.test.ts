// The strict validator itself: it must accept what the API server accepts and reject unknown or misspelt fields.
import { expectStrictlyValid, strictValidationErrors } from './helpers/validate-strict';

const deployment = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
  spec: {
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { containers: [{ name: 'web', image: 'nginx:1.27', resources: { limits: { cpu: '100m' } } }] },
    },
  },
});

describe('strict schema validation', () => {
  test('accepts a valid Deployment with maps such as labels and resource limits', () => {
    expectStrictlyValid([deployment()]);
  });

  test('rejects an unknown metadata field', () => {
    const object = deployment();
    (object.metadata as Record<string, unknown>).bogus = 'x';
    expect(strictValidationErrors([object])).toEqual(['Deployment/default/web: /metadata: unknown field "bogus"']);
  });

  test('rejects a misspelt container field', () => {
    const object = deployment();
    const container = object.spec.template.spec.containers[0] as Record<string, unknown>;
    container.imagePullPolicyy = 'Always';
    expect(strictValidationErrors([object])).toEqual([
      'Deployment/default/web: /spec/template/spec/containers/0: unknown field "imagePullPolicyy"',
    ]);
  });

  test('rejects a wrong type the schema declares', () => {
    const object = deployment();
    (object.spec as Record<string, unknown>).replicas = 'three';
    expect(strictValidationErrors([object]).join('\n')).toMatch(/replicas/);
  });

  test('rejects a kind it has no schema for, instead of passing it unchecked', () => {
    expect(strictValidationErrors([{ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }]))
      .toEqual(['Widget/w: no schema for apiVersion example.com/v1']);
  });

  test('rejects a misspelt field in a prometheus-operator object', () => {
    const serviceMonitor = {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: { name: 'web', namespace: 'default' },
      spec: { selector: { matchLabels: { app: 'web' } }, endpoints: [{ port: 'metrics', intervall: '30s' }] },
    };
    expect(strictValidationErrors([serviceMonitor])).toEqual([
      'ServiceMonitor/default/web: /spec/endpoints/0: unknown field "intervall"',
    ]);
  });

  test('rejects a misspelt field in a cert-manager object', () => {
    const certificate = {
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: { name: 'web', namespace: 'default' },
      spec: { secretName: 'web-tls', dnsName: ['web'], issuerRef: { name: 'ca' } },
    };
    expect(strictValidationErrors([certificate])).toEqual([
      'Certificate/default/web: /spec: unknown field "dnsName"',
    ]);
  });
});
