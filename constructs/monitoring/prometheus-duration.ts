// Prometheus duration literals (`15s`, `5m`, `1h`, `3d`) for cdk8s Durations: scrape timing, retention, rule windows.
import type { Duration } from 'cdk8s';

/** A Prometheus duration literal for a cdk8s Duration, in the largest exact unit. */
export function promDuration(duration: Duration): string {
  const seconds = duration.toSeconds();
  if (!Number.isInteger(seconds) || seconds <= 0) {
    throw new Error(`a Prometheus duration must be a positive whole number of seconds, got ${seconds}`);
  }
  const units: Array<[string, number]> = [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]];
  const [unit, size] = units.find(([, unitSeconds]) => seconds % unitSeconds === 0)!;
  return `${seconds / size}${unit}`;
}
