// KeyServerApp's optional access control and rate limit: the token Secret is mounted, the flags reach the server.
import { KeyServerApp, KeyServerAppProps } from '../../../constructs';
import { parseConfig } from '../../../server/config';
import { invariantViolations } from '../helpers/invariants';
import { podSecurityRestrictedViolations } from '../helpers/pod-security';
import { only, synthesize } from '../helpers/synth';
import { expectStrictlyValid } from '../helpers/validate-strict';

function build(props: KeyServerAppProps): { app: KeyServerApp; objects: any[] } { // eslint-disable-line @typescript-eslint/no-explicit-any
  let app!: KeyServerApp;
  const objects = synthesize((scope) => { app = new KeyServerApp(scope, 'keys', props); });
  return { app, objects };
}

describe('KeyServerApp access control and rate limit', () => {
  test('are off by default: no token volume and no flags', () => {
    const { app, objects } = build({});
    const pod = only(objects, 'Deployment').spec.template.spec;
    expect(pod.volumes.map((volume: { name: string }) => volume.name)).toEqual(['tls']);
    expect(app.serverArgs.join(' ')).not.toMatch(/auth-token-file|rate-limit/);
    expect(app.tokenSecretName).toBeUndefined();
  });

  test('accessControl mounts only the token key of the Secret, read-only, as the file --auth-token-file names', () => {
    const { app, objects } = build({ accessControl: { tokenSecretName: 'key-server-tokens', tokenSecretKey: 'clients.txt' } });
    const pod = only(objects, 'Deployment').spec.template.spec;
    const volume = pod.volumes.find((candidate: { name: string }) => candidate.name === 'auth-tokens');
    expect(volume.secret).toEqual({ secretName: 'key-server-tokens', defaultMode: 0o440, items: [{ key: 'clients.txt', path: 'tokens' }] });
    const mount = pod.containers[0].volumeMounts.find((candidate: { name: string }) => candidate.name === 'auth-tokens');
    expect(mount).toEqual({ name: 'auth-tokens', mountPath: '/etc/key-server/auth', readOnly: true });
    expect(mount.subPath).toBeUndefined(); // a subPath mount would never see the Secret change
    expect(app.tokenSecretName).toBe('key-server-tokens');
    const parsed = parseConfig(app.serverArgs, {});
    expect(parsed).toMatchObject({ kind: 'config', config: { authTokenFile: '/etc/key-server/auth/tokens' } });
  });

  test('with both on, the manifests stay strictly valid, Pod Security restricted, and consistent', () => {
    const { objects } = build({ accessControl: { tokenSecretName: 'key-server-tokens' }, rateLimit: { requestsPerSecond: 10 } });
    expectStrictlyValid(objects);
    expect(podSecurityRestrictedViolations(only(objects, 'Deployment').spec.template.spec)).toEqual([]);
    // The token Secret is managed outside the manifests, like an existing TLS Secret.
    expect(invariantViolations(objects, { externalSecrets: ['key-server-tokens'] })).toEqual([]);
  });

  test('rateLimit reaches the real parser with its burst, defaulting the burst to the rate rounded up', () => {
    expect(parseConfig(build({ rateLimit: { requestsPerSecond: 20, burst: 40 } }).app.serverArgs, {})).toMatchObject({
      kind: 'config', config: { rateLimit: 20, rateLimitBurst: 40 },
    });
    expect(parseConfig(build({ rateLimit: { requestsPerSecond: 2.5 } }).app.serverArgs, {})).toMatchObject({
      kind: 'config', config: { rateLimit: 2.5, rateLimitBurst: 3 },
    });
  });

  test.each<[string, KeyServerAppProps, RegExp]>([
    ['non-DNS token Secret', { accessControl: { tokenSecretName: 'Tokens!' } }, /^accessControl.tokenSecretName must be a DNS subdomain/],
    ['token key with a slash', { accessControl: { tokenSecretName: 't', tokenSecretKey: 'a/b' } }, /^accessControl.tokenSecretKey must be a Secret key/],
    ['rate of 0', { rateLimit: { requestsPerSecond: 0 } }, /^rateLimit.requestsPerSecond must be above 0 requests per second, got "0" \(the server's --rate-limit\)$/],
    ['rate above the cap', { rateLimit: { requestsPerSecond: 1e6 } }, /^rateLimit.requestsPerSecond must be a number from 0 to 100000, got "1000000" \(the server's --rate-limit\)$/],
    ['a rate with more decimals than the server reads', { rateLimit: { requestsPerSecond: 0.0000000001 } }, /^rateLimit.requestsPerSecond must be a number from 0 to 100000, got "1e-10" \(the server's --rate-limit\)$/],
    ['fractional burst', { rateLimit: { requestsPerSecond: 1, burst: 1.5 } }, /^rateLimit.burst must be an integer from 1 to 100000, got "1.5" \(the server's --rate-limit-burst\)$/],
  ])('refuses %s, naming the prop', (_name, props, message) => {
    expect(() => build(props)).toThrow(message);
  });
});
