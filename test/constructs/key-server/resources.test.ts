// The container's CPU and memory, and what follows from them: V8's heap ceiling and the limits the alerts compare with.
import { Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { KeyServerApp, KeyServerAppProps } from '../../../constructs';
import { containerLimitsOf, cpuCores, defaultContainerLimits, maxOldSpaceMebibytes } from '../../../constructs/key-server/resources';
import { only, synthesize } from '../helpers/synth';

/* eslint-disable @typescript-eslint/no-explicit-any */

function synth(props: KeyServerAppProps = {}): { app: KeyServerApp; objects: any[] } {
  let app!: KeyServerApp;
  const objects = synthesize((scope) => { app = new KeyServerApp(scope, 'keys', props); });
  return { app, objects };
}

describe('KeyServerApp resources', () => {
  test('the heap ceiling follows the memory limit: NODE_OPTIONS holds half of it', () => {
    const env = (props: KeyServerAppProps) => only(synth(props).objects, 'Deployment').spec.template.spec.containers[0].env;
    expect(env({})).toEqual([{ name: 'NODE_OPTIONS', value: '--max-old-space-size=128' }]);
    const bigger = { cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.units(1) }, memory: { request: Size.mebibytes(256), limit: Size.gibibytes(1) } };
    expect(env({ resources: bigger })).toEqual([{ name: 'NODE_OPTIONS', value: '--max-old-space-size=512' }]);
    expect(maxOldSpaceMebibytes(Size.mebibytes(192))).toBe(96);
  });

  test('the limits the resource alerts compare with are the ones the container runs with', () => {
    const resources = { cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.millis(500) }, memory: { request: Size.mebibytes(128), limit: Size.mebibytes(256) } };
    const { app, objects } = synth({ resources });
    expect(app.containerLimits).toEqual({ cpuCores: 0.5, memoryBytes: 256 * 1048576 });
    expect(only(objects, 'Deployment').spec.template.spec.containers[0].resources.limits).toEqual({ cpu: '500m', memory: '256Mi' });
    expect(containerLimitsOf(resources)).toEqual(app.containerLimits);
    expect(defaultContainerLimits).toEqual({ cpuCores: 1, memoryBytes: 256 * 1048576 });
    expect([cpuCores(kplus.Cpu.millis(250)), cpuCores(kplus.Cpu.units(1.5))]).toEqual([0.25, 1.5]);
  });
});
