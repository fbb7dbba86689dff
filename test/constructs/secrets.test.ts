// How Secrets are mounted: read-only files the pod's group may read, and nobody else.
import * as kplus from 'cdk8s-plus-27';
import { secretFileMode, secretVolume } from '../../constructs/secrets';
import { only, synthesize } from './helpers/synth';

describe('Secret volumes', () => {
  test('give their files mode 0440, and pick keys when asked', () => {
    const objects = synthesize((scope) => {
      const deployment = new kplus.Deployment(scope, 'deployment', { containers: [{ image: 'registry.example.com/app:1' }] });
      const secret = kplus.Secret.fromSecretName(scope, 'secret', 'tokens');
      deployment.addVolume(secretVolume(scope, 'volume', secret, { name: 'tokens', items: { list: { path: 'tokens' } } }));
    });
    expect(secretFileMode).toBe(0o440);
    expect(only(objects, 'Deployment').spec.template.spec.volumes).toEqual([
      { name: 'tokens', secret: { secretName: 'tokens', defaultMode: 0o440, items: [{ key: 'list', path: 'tokens' }] } },
    ]);
  });
});
