// The prop checks every construct shares: each names the prop and what is allowed.
import {
  refuseReplacedProps, requireDnsLabel, requireDnsSubdomain, requireInteger, requireLabels, requireLabelValue, requireOneOf, requirePort,
} from '../../constructs/validation';

describe('prop checks', () => {
  test.each<[string, () => unknown, RegExp]>([
    ['a DNS label with a dot', () => requireDnsLabel('namespace', 'a.b'), /^namespace must be a DNS label .*got 'a\.b'$/],
    ['a DNS label of 64 characters', () => requireDnsLabel('name', 'a'.repeat(64)), /^name must be a DNS label/],
    ['a DNS subdomain with an underscore', () => requireDnsSubdomain('host', 'a_b.example'), /^host must be a DNS subdomain/],
    ['a label value with a space', () => requireLabelValue('partOf', 'a b'), /^partOf must be usable as a label value/],
    ['a fraction where an integer belongs', () => requireInteger('replicas', 1.5, 0), /^replicas must be an integer >= 0; got 1.5$/],
    ['an integer out of range', () => requireInteger('cpu', 101, 1, 100), /^cpu must be an integer between 1 and 100; got 101$/],
    ['port 0', () => requirePort('metricsPort', 0), /^metricsPort must be an integer between 1 and 65535; got 0$/],
    ['an unknown choice', () => requireOneOf('egress', 'all', ['none', 'dns']), /^egress must be one of 'none', 'dns'; got 'all'$/],
    ['a label key with a space', () => requireLabels('podLabels', { 'a b': 'c' }), /^podLabels has an invalid label key 'a b' \(/],
    ['a label key prefix that is no DNS subdomain', () => requireLabels('podLabels', { 'Example.com/a': 'c' }), /^podLabels key prefix must be a DNS subdomain/],
    ['a prop an earlier release took', () => refuseReplacedProps({ replicas: 2 }, { replicas: 'use scaling' }), /^replicas is no longer supported: use scaling$/],
  ])('refuse %s, naming the prop', (_, check, message) => {
    expect(check).toThrow(message);
  });

  test('accept what Kubernetes accepts, and a replaced prop left unset', () => {
    expect(requireDnsLabel('n', 'key-server')).toBe('key-server');
    expect(requireDnsSubdomain('n', 'keys.example.com')).toBe('keys.example.com');
    expect(requireLabels('l', { 'app.kubernetes.io/name': 'key-server', empty: '' })).toEqual({ 'app.kubernetes.io/name': 'key-server', empty: '' });
    expect(() => refuseReplacedProps({ replicas: undefined }, { replicas: 'use scaling' })).not.toThrow();
  });
});
