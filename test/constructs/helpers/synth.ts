// Synthesizes constructs in a fresh chart for tests, the way `cdk8s synth` would.
import { Chart, Testing } from 'cdk8s';
import { Construct } from 'constructs';

/* eslint-disable @typescript-eslint/no-explicit-any */

/** A chart in a fresh test app, with the same options main.ts uses. */
export function newChart(): Chart {
  return new Chart(Testing.app(), 'test', { disableResourceNameHashes: true });
}

/** The objects `build` adds to a fresh chart, as plain JSON. */
export function synthesize(build: (scope: Construct) => void): any[] {
  const chart = newChart();
  build(chart);
  return Testing.synth(chart);
}

/** The single object of `kind` (and `name`, when given); fails when there is not exactly one. */
export function only(objects: readonly any[], kind: string, name?: string): any {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` named ${name}` : ''}, found ${found.length}`);
  return found[0];
}
