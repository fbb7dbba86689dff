// The library's one disruption policy: maxUnavailable (one pod by default) with unhealthy pods always evictable, no
// budget where at most one pod runs, and the shapes of earlier releases refused by name.
import * as kplus from 'cdk8s-plus-27';
import { DisruptionBudget, KeyServerApp, KeyServerAppProps, KeyServerScaling } from '../../constructs';
import { disruptionBudget } from '../../constructs/disruption-budget';
import { newChart, only, synthesize } from './helpers/synth';

/* eslint-disable @typescript-eslint/no-explicit-any */

function synth(props: KeyServerAppProps = {}): any[] {
  return synthesize((scope) => { new KeyServerApp(scope, 'keys', props); });
}

const metadata = { name: 'w', namespace: 'n', labels: { app: 'w' } };

describe('DisruptionBudget', () => {
  test('the disruption budget lets a drain evict one pod at a time however far the autoscaler scaled, and any unhealthy pod', () => {
    const budget = only(synth(), 'PodDisruptionBudget').spec;
    expect(budget).toEqual(expect.objectContaining({ maxUnavailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow' }));
    expect(budget.minAvailable).toBeUndefined();
    const percent = synth({ podDisruptionBudget: DisruptionBudget.maxUnavailable(kplus.PercentOrAbsolute.percent(25)) });
    expect(only(percent, 'PodDisruptionBudget').spec.maxUnavailable).toBe('25%');
  });

  test('no disruption budget for a single pod, which one could only block or allow entirely', () => {
    expect(synth({ scaling: KeyServerScaling.fixedReplicas(1) }).some((o) => o.kind === 'PodDisruptionBudget')).toBe(false);
    expect(synth({ scaling: KeyServerScaling.autoscale({ minReplicas: 1, maxReplicas: 3 }) }).some((o) => o.kind === 'PodDisruptionBudget')).toBe(true);
  });

  test('none() emits no budget however many pods run', () => {
    expect(synth({ podDisruptionBudget: DisruptionBudget.none() }).some((o) => o.kind === 'PodDisruptionBudget')).toBe(false);
  });

  test('selects the workload pods and carries its metadata', () => {
    const chart = newChart();
    const budget = disruptionBudget(chart, 'pdb', { metadata, selectorLabels: { app: 'w' }, mostPods: 2, prop: 'budget' })!;
    expect(budget.toJson()).toEqual(expect.objectContaining({
      metadata: metadata,
      spec: { maxUnavailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow', selector: { matchLabels: { app: 'w' } } },
    }));
  });

  test.each<[string, unknown, RegExp]>([
    ['a percentage above 100', DisruptionBudget.maxUnavailable(kplus.PercentOrAbsolute.percent(150)), /^budget.maxUnavailable must be PercentOrAbsolute/],
    ['a budget that blocks every drain', DisruptionBudget.maxUnavailable(kplus.PercentOrAbsolute.absolute(0)), /^budget.maxUnavailable must be .*\(0 blocks every node drain\); got 0$/],
    ['minAvailable, replaced by maxUnavailable', { minAvailable: 1 }, /^budget.minAvailable is no longer supported: use DisruptionBudget.maxUnavailable/],
    ['false, the "no budget" of earlier releases', false, /^budget must be DisruptionBudget.maxUnavailable\(\.\.\.\), DisruptionBudget.onePodAtATime\(\) or DisruptionBudget.none\(\); got false$/],
    ['a plain maxUnavailable object', { maxUnavailable: kplus.PercentOrAbsolute.absolute(1) }, /^budget must be DisruptionBudget/],
  ])('refuses %s, naming the prop, even for a single pod', (_, budget, message) => {
    expect(() => disruptionBudget(newChart(), 'pdb', { metadata, selectorLabels: { app: 'w' }, mostPods: 1, budget: budget as DisruptionBudget, prop: 'budget' })).toThrow(message);
  });
});
