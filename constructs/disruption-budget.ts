// The library's one disruption policy, for every workload it runs: at most `maxUnavailable` pods evicted at once
// (kube-prometheus' `maxUnavailable: 1`, components/alertmanager.libsonnet), none emitted for a single pod.
import * as kplus from 'cdk8s-plus-27';
import type { Construct } from 'constructs';
import type { WorkloadObjectMetadata } from './workload';

/**
 * How many of a workload's pods a voluntary disruption (a node drain, a cluster upgrade) may take at once, as
 * cdk8s-plus' `DeploymentStrategy.rollingUpdate()` describes a rollout. Whatever it says, no PodDisruptionBudget is
 * emitted for a workload that never runs more than one pod: a budget cannot keep a single pod up without blocking
 * every node drain, and `maxUnavailable: 1` over one pod would allow everything anyway.
 */
export class DisruptionBudget {
  /**
   * At most `maxUnavailable` pods evicted at once, however many the autoscaler runs: `PercentOrAbsolute.absolute(1)`
   * (the default policy) or a percentage such as `PercentOrAbsolute.percent(25)`. Unhealthy pods can always be
   * evicted (`unhealthyPodEvictionPolicy: AlwaysAllow`).
   */
  public static maxUnavailable(maxUnavailable: kplus.PercentOrAbsolute): DisruptionBudget {
    return new DisruptionBudget(maxUnavailable);
  }

  /** The library's policy: one pod at a time (`maxUnavailable: 1`). */
  public static onePodAtATime(): DisruptionBudget {
    return new DisruptionBudget(kplus.PercentOrAbsolute.absolute(1));
  }

  /** No PodDisruptionBudget: a drain may evict every pod at once. */
  public static none(): DisruptionBudget {
    return new DisruptionBudget(undefined);
  }

  /** Pods a drain may evict at once; undefined for no budget. */
  public readonly maxUnavailablePods?: kplus.PercentOrAbsolute;

  private constructor(maxUnavailablePods: kplus.PercentOrAbsolute | undefined) {
    this.maxUnavailablePods = maxUnavailablePods;
  }
}

/** What {@link disruptionBudget} needs to know about the workload. */
export interface DisruptionBudgetOptions {
  readonly metadata: WorkloadObjectMetadata;
  /** Labels that select the workload's pods. */
  readonly selectorLabels: Readonly<Record<string, string>>;
  /** The most pods the workload can run (an autoscaler's maximum, or its fixed replicas). */
  readonly mostPods: number;
  /**
   * The budget asked for.
   * @default DisruptionBudget.onePodAtATime()
   */
  readonly budget?: DisruptionBudget;
  /** The prop name errors should name. */
  readonly prop: string;
}

/**
 * A PodDisruptionBudget (`policy/v1`; cdk8s-plus-27 has no L2 for it), or none when the workload never runs more
 * than one pod or the budget is {@link DisruptionBudget.none}.
 *
 * `maxUnavailable` rather than `minAvailable`: it stays one pod at a time whatever the autoscaler has scaled to
 * (`minAvailable: 1` with 10 pods lets a drain take nine at once). `unhealthyPodEvictionPolicy: AlwaysAllow`: a pod
 * that is not ready (crash-looping, stuck starting) serves nothing, so evicting it costs nothing, and the default
 * (`IfHealthyBudget`) would let it block a drain indefinitely (Kubernetes' recommendation, GA in 1.31).
 */
export function disruptionBudget(scope: Construct, id: string, options: DisruptionBudgetOptions): kplus.k8s.KubePodDisruptionBudget | undefined {
  const budget = validatedBudget(options.prop, options.budget ?? DisruptionBudget.onePodAtATime());
  if (budget.maxUnavailablePods === undefined) return undefined;
  const maxUnavailable = validatedMaxUnavailable(`${options.prop}.maxUnavailable`, budget.maxUnavailablePods);
  if (options.mostPods <= 1) return undefined;
  return new kplus.k8s.KubePodDisruptionBudget(scope, id, {
    metadata: { ...options.metadata, labels: { ...options.metadata.labels } },
    spec: {
      maxUnavailable,
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
      selector: { matchLabels: { ...options.selectorLabels } },
    },
  });
}

/** A DisruptionBudget; the shapes of earlier releases (`{ maxUnavailable }`, `{ minAvailable }`, `false`) are refused by name for JavaScript callers. */
function validatedBudget(prop: string, budget: unknown): DisruptionBudget {
  if (budget instanceof DisruptionBudget) return budget;
  if (typeof budget === 'object' && budget !== null && 'minAvailable' in budget) {
    throw new Error(`${prop}.minAvailable is no longer supported: use DisruptionBudget.maxUnavailable(...) (pods a drain may evict at once; minAvailable 1 let a drain take all but one of ten)`);
  }
  throw new Error(`${prop} must be DisruptionBudget.maxUnavailable(...), DisruptionBudget.onePodAtATime() or DisruptionBudget.none(); got ${JSON.stringify(budget)}`);
}

/** A count of at least 1 or a percentage from 1 % to 100 %: 0 would block every drain. */
function validatedMaxUnavailable(prop: string, value: kplus.PercentOrAbsolute): kplus.k8s.IntOrString {
  const raw: unknown = value.value;
  if (typeof raw === 'number' && Number.isInteger(raw) && raw >= 1) return kplus.k8s.IntOrString.fromNumber(raw);
  const percent = typeof raw === 'string' ? /^(\d{1,3})%$/.exec(raw) : null;
  if (percent !== null && Number(percent[1]) >= 1 && Number(percent[1]) <= 100) return kplus.k8s.IntOrString.fromString(raw as string);
  throw new Error(`${prop} must be PercentOrAbsolute.absolute(n) with n >= 1 or PercentOrAbsolute.percent(p) with p from 1 to 100 (0 blocks every node drain); got ${JSON.stringify(raw)}`);
}
