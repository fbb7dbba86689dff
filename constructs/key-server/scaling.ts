// How many key server pods run: a fixed count, or the range of a HorizontalPodAutoscaler driven by CPU.
import * as kplus from 'cdk8s-plus-27';
import type { Construct } from 'constructs';
import { requireInteger } from '../validation';
import type { WorkloadObjectMetadata } from '../workload';

/** Replica counts are 32-bit integers in Kubernetes' API: a larger one wraps around and the API server refuses it. */
const largestReplicaCount = 2_147_483_647;

/** Horizontal pod autoscaling (`autoscaling/v2`). */
export interface KeyServerAutoscalingProps {
  /**
   * Fewest pods.
   * @default 2
   */
  readonly minReplicas?: number;
  /**
   * Most pods.
   * @default - 10, or `minReplicas` when that is more
   */
  readonly maxReplicas?: number;
  /**
   * Target average CPU use, in percent of the CPU request.
   * @default 70
   */
  readonly cpuUtilization?: number;
  /**
   * Target average memory use, in percent of the memory request.
   * @default - memory does not drive scaling (key generation is CPU-bound)
   */
  readonly memoryUtilization?: number;
}

/**
 * How many key server pods run, in the manner of cdk8s-plus' `DeploymentStrategy.rollingUpdate()`: an autoscaler's
 * range, or a fixed count.
 */
export class KeyServerScaling {
  /** A HorizontalPodAutoscaler owns the replica count (the Deployment sets none), by default 2 to 10 pods at 70 % CPU. */
  public static autoscale(props: KeyServerAutoscalingProps = {}): KeyServerScaling {
    return new KeyServerScaling(props, undefined);
  }

  /** Exactly `replicas` pods and no autoscaler; 0 stops the key server. */
  public static fixedReplicas(replicas: number): KeyServerScaling {
    return new KeyServerScaling(undefined, replicas);
  }

  /** The autoscaler's settings; undefined for a fixed count. */
  public readonly autoscaling?: KeyServerAutoscalingProps;
  /** The fixed pod count; undefined when autoscaled. */
  public readonly replicas?: number;

  private constructor(autoscaling: KeyServerAutoscalingProps | undefined, replicas: number | undefined) {
    this.autoscaling = autoscaling;
    this.replicas = replicas;
  }
}

/** Scaling with its defaults applied and checked. */
export interface ResolvedScaling {
  /** The Deployment's `replicas`: undefined when the autoscaler owns the count. */
  readonly fixedReplicas?: number;
  /** The most pods that can run, which decides whether a disruption budget is emitted. */
  readonly mostPods: number;
  /** The autoscaler's range and metrics, when autoscaled. */
  readonly autoscaler?: { readonly minReplicas: number; readonly maxReplicas: number; readonly metrics: kplus.Metric[] };
}

/** Checks `scaling` (named `prop` in errors) and applies its defaults. */
export function resolveScaling(prop: string, scaling: unknown): ResolvedScaling {
  if (!(scaling instanceof KeyServerScaling)) {
    throw new Error(`${prop} must be KeyServerScaling.autoscale(...) or KeyServerScaling.fixedReplicas(n); got ${JSON.stringify(scaling)}`);
  }
  if (scaling.autoscaling === undefined) {
    const replicas = requireInteger(`${prop}.replicas`, scaling.replicas!, 0, largestReplicaCount);
    return { fixedReplicas: replicas, mostPods: replicas };
  }
  const autoscaling = scaling.autoscaling;
  const minReplicas = requireInteger(`${prop}.minReplicas`, autoscaling.minReplicas ?? 2, 1, largestReplicaCount);
  const maxReplicas = requireInteger(`${prop}.maxReplicas`, autoscaling.maxReplicas ?? Math.max(10, minReplicas), 1, largestReplicaCount);
  if (minReplicas > maxReplicas) {
    throw new Error(`${prop}.minReplicas (${minReplicas}) must not exceed ${prop}.maxReplicas (${maxReplicas})`);
  }
  const cpu = requireInteger(`${prop}.cpuUtilization`, autoscaling.cpuUtilization ?? 70, 1, 100);
  const metrics = [kplus.Metric.resourceCpu(kplus.MetricTarget.averageUtilization(cpu))];
  if (autoscaling.memoryUtilization !== undefined) {
    const memory = requireInteger(`${prop}.memoryUtilization`, autoscaling.memoryUtilization, 1, 100);
    metrics.push(kplus.Metric.resourceMemory(kplus.MetricTarget.averageUtilization(memory)));
  }
  return { mostPods: maxReplicas, autoscaler: { minReplicas, maxReplicas, metrics } };
}

/** The HorizontalPodAutoscaler of `deployment`, when `scaling` has one. */
export function addAutoscaler(
  scope: Construct, scaling: ResolvedScaling, deployment: kplus.Deployment, metadata: WorkloadObjectMetadata,
): kplus.HorizontalPodAutoscaler | undefined {
  if (scaling.autoscaler === undefined) return undefined;
  return new kplus.HorizontalPodAutoscaler(scope, 'autoscaler', { metadata, target: deployment, ...scaling.autoscaler });
}
