// Wall time of `cdk8s synth` (the whole app: operator and standalone modes), written to a temp directory so the
// committed dist/ is never touched.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ROOT } from './processes';

/** Seconds one `cdk8s synth` takes, from spawning the CLI to its exit. */
export function measureSynthSeconds(): number {
  const output = mkdtempSync(join(tmpdir(), 'key-server-bench-synth-'));
  try {
    const startedAt = performance.now();
    execFileSync(join(ROOT, 'node_modules/.bin/cdk8s'), ['synth', '--no-check-upgrade', '--output', join(output, 'dist')], {
      cwd: ROOT,
      stdio: 'ignore',
    });
    return (performance.now() - startedAt) / 1000;
  } finally {
    rmSync(output, { recursive: true, force: true });
  }
}
