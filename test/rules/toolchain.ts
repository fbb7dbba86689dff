// The real Prometheus tools the tests run: promtool, amtool and prometheus from the project's toolchain, built from
// Go modules at the versions versions.json pins for the images, so a test checks what the manifests deploy.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { isBuilt } from '../../scripts/toolchain/build-tools';
import { moduleOf, programPath } from '../../scripts/toolchain/tools';

/** The programs these tests run. */
export type PrometheusProgram = 'promtool' | 'amtool' | 'prometheus';

const root = path.resolve(__dirname, '..', '..');
const resolved = new Map<PrometheusProgram, string>();

/**
 * The path of `program` as the toolchain built it. When it is not built yet, builds it (waiting for a build another
 * worker holds the lock for) and, when that fails, throws naming the program, its version and the build's own
 * reason: a test that needs the real tool fails rather than being skipped.
 */
export function toolchainProgram(program: PrometheusProgram): string {
  const known = resolved.get(program);
  if (known !== undefined) return known;
  const tool = moduleOf(program);
  if (!isBuilt(tool)) {
    const build = spawnSync(process.execPath, [
      path.join(root, 'node_modules', 'ts-node', 'dist', 'bin.js'), '--transpile-only', path.join(root, 'scripts', 'toolchain', 'build-tools.ts'), program,
    ], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], timeout: 90 * 60_000 });
    if (build.status !== 0 || !isBuilt(tool)) {
      const reason = (build.stderr ?? '').split('\n').map((line) => line.replace(/^toolchain:\s*/, '').trim()).filter(Boolean).pop()
        ?? build.error?.message ?? `exit ${build.status ?? build.signal}`;
      throw new Error(`${program} ${tool.releaseVersion} (from ${tool.module}@${tool.moduleVersion}) is not available: ${reason}`);
    }
  }
  const file = programPath(program);
  resolved.set(program, file);
  return file;
}
