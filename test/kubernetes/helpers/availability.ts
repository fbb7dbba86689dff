// Watches a workload's pods through a disruption (rollout, drain) and remembers the fewest available at any moment
// the API server reported, so "never below N" is checked on every intermediate state, not on samples.
import type { ControlPlane } from './control-plane';
import { watchCollection, type Snapshot } from './collections';
import { availableCount, type Pod } from './key-server-workload';

/** What the pods went through while recorded. */
export interface AvailabilityRecord {
  /** Fewest available (ready, not terminating) pods at any event. */
  readonly minimumAvailable: number;
  /** Most pods that existed and were not terminating at once (surge). */
  readonly maximumPods: number;
  /** Pod names seen at any time. */
  readonly podsSeen: ReadonlySet<string>;
  /** Every change of the available count, `+seconds available=n pods=m`, for failure messages and the log. */
  readonly timeline: readonly string[];
}

/** A running recording. */
export interface AvailabilityRecorder {
  readonly current: () => Snapshot<Pod>;
  /** Stops watching and returns the record; rejects if the watch failed meanwhile. */
  readonly stop: () => Promise<AvailabilityRecord>;
}

/** Starts recording the pods at `podsPath` (the listed state counts as the first moment). */
export async function recordAvailability(controlPlane: ControlPlane, podsPath: string): Promise<AvailabilityRecorder> {
  const started = Date.now();
  let minimumAvailable = Number.POSITIVE_INFINITY;
  let maximumPods = 0;
  let lastAvailable = -1;
  let latest: Snapshot<Pod> = new Map();
  const podsSeen = new Set<string>();
  const timeline: string[] = [];
  let watchError: Error | undefined;
  const watch = await watchCollection<Pod>(controlPlane, podsPath, (pods) => {
    latest = pods;
    const available = availableCount(pods);
    const live = [...pods.values()].filter((pod) => pod.metadata.deletionTimestamp === undefined).length;
    for (const name of pods.keys()) podsSeen.add(name);
    minimumAvailable = Math.min(minimumAvailable, available);
    maximumPods = Math.max(maximumPods, live);
    if (available !== lastAvailable) {
      timeline.push(`+${((Date.now() - started) / 1000).toFixed(1)}s available=${available} pods=${live}`);
      lastAvailable = available;
    }
  });
  watch.failed.catch((error: Error) => { watchError = error; });
  return {
    current: () => latest,
    stop: async () => {
      watch.stop();
      if (watchError !== undefined) throw watchError;
      return { minimumAvailable, maximumPods, podsSeen, timeline };
    },
  };
}
