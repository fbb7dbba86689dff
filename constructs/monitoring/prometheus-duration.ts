// Prometheus duration literals (`15s`, `5m`, `1h`, `3d`) for cdk8s Durations: scrape timing, retention, rule windows.
import type { Duration } from 'cdk8s';

/** Throws unless `duration` is a positive whole number of seconds, naming `prop`; the seconds otherwise. */
export function requireWholeSeconds(prop: string, duration: Duration): number {
  const seconds = duration.toMilliseconds() / 1000;
  if (!Number.isInteger(seconds) || seconds <= 0) {
    throw new Error(`${prop} must be a positive whole number of seconds, got ${seconds} s`);
  }
  return seconds;
}

/** A Prometheus duration literal for a cdk8s Duration, in the largest exact unit. */
export function promDuration(duration: Duration, prop = 'a Prometheus duration'): string {
  const seconds = requireWholeSeconds(prop, duration);
  const units: Array<[string, number]> = [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]];
  const [unit, size] = units.find(([, unitSeconds]) => seconds % unitSeconds === 0)!;
  return `${seconds / size}${unit}`;
}
