// How many key server pods run: the autoscaler by default, a fixed count when asked, each checked by name.
import { KeyServerApp, KeyServerAppProps, KeyServerScaling } from '../../../constructs';
import { only, synthesize } from '../helpers/synth';

/* eslint-disable @typescript-eslint/no-explicit-any */

function synth(props: KeyServerAppProps = {}): any[] {
  return synthesize((scope) => { new KeyServerApp(scope, 'keys', props); });
}

describe('KeyServerApp scaling', () => {
  test('the autoscaler owns the replica count: CPU 70 %, 2 to 10 pods, and the Deployment sets no replicas', () => {
    const objects = synth();
    const hpa = only(objects, 'HorizontalPodAutoscaler');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([2, 10]);
    expect(hpa.spec.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }]);
    expect(only(objects, 'Deployment').spec.replicas).toBeUndefined();
  });

  test('minReplicas is the autoscaler minimum, and a fixed count runs without autoscaler', () => {
    expect(only(synth({ scaling: KeyServerScaling.autoscale({ minReplicas: 3 }) }), 'HorizontalPodAutoscaler').spec.minReplicas).toBe(3);
    const fixed = synth({ scaling: KeyServerScaling.fixedReplicas(3) });
    expect(only(fixed, 'Deployment').spec.replicas).toBe(3);
    expect(fixed.some((o) => o.kind === 'HorizontalPodAutoscaler')).toBe(false);
  });

  test('a minimum above the default maximum raises the maximum with it, and memory drives scaling only when asked', () => {
    const hpa = only(synth({ scaling: KeyServerScaling.autoscale({ minReplicas: 12, memoryUtilization: 80 }) }), 'HorizontalPodAutoscaler');
    expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([12, 12]);
    expect(hpa.spec.metrics.map((metric: any) => metric.resource.name)).toEqual(['cpu', 'memory']);
  });

  test.each<[string, KeyServerAppProps, RegExp]>([
    ['negative replicas', { scaling: KeyServerScaling.fixedReplicas(-1) }, /^scaling.replicas must be an integer between 0 and 2147483647; got -1$/],
    ['fractional replicas', { scaling: KeyServerScaling.fixedReplicas(1.5) }, /^scaling.replicas must be an integer/],
    ['a minimum of zero pods with autoscaling', { scaling: KeyServerScaling.autoscale({ minReplicas: 0 }) }, /^scaling.minReplicas must be an integer between 1 and 2147483647; got 0$/],
    ['autoscaling min above max', { scaling: KeyServerScaling.autoscale({ minReplicas: 5, maxReplicas: 3 }) }, /^scaling.minReplicas \(5\) must not exceed scaling.maxReplicas \(3\)$/],
    ['CPU target above 100 %', { scaling: KeyServerScaling.autoscale({ cpuUtilization: 150 }) }, /^scaling.cpuUtilization must be an integer between 1 and 100/],
    ['memory target of 0', { scaling: KeyServerScaling.autoscale({ memoryUtilization: 0 }) }, /^scaling.memoryUtilization must be/],
    ['a plain object where a KeyServerScaling belongs', { scaling: { replicas: 2 } as never }, /^scaling must be KeyServerScaling.autoscale\(\.\.\.\) or KeyServerScaling.fixedReplicas\(n\); got \{"replicas":2\}$/],
    ['the replicas prop of earlier releases', { replicas: 3 } as never, /^replicas is no longer supported: use scaling: KeyServerScaling.fixedReplicas\(n\)/],
    ['the autoscaling prop of earlier releases, which took false', { autoscaling: false } as never, /^autoscaling is no longer supported: use scaling: KeyServerScaling.autoscale/],
  ])('refuses %s, naming the prop', (_, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });

  test('accepts the boundary values: no pod at all, and one autoscaled pod', () => {
    expect(() => synth({ scaling: KeyServerScaling.fixedReplicas(0) })).not.toThrow();
    expect(() => synth({ scaling: KeyServerScaling.autoscale({ minReplicas: 1, maxReplicas: 1 }) })).not.toThrow();
  });
});
