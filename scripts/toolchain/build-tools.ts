// Builds the real tools the tests run (kube-apiserver, etcd, helm, prometheus, promtool, amtool, kwok, ...) from
// Go modules at the versions in versions.json, into a cache outside the clone. Idempotent, and safe when several
// test workers ask at once: one builds under a lock, the others wait for it.
//
//   npx ts-node --transpile-only scripts/toolchain/build-tools.ts [module-or-program ...]   (default: everything)
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ToolModule, moduleDirectory, moduleOf, programPath, toolModules, toolsCacheDirectory } from './tools';

/** What a finished build leaves in its folder; a folder without it (or with other inputs) is built again. */
const stampFile = 'build.json';
/** How often a long step says it is still running. */
const heartbeatMs = 60_000;
/** A lock whose holder is alive is waited for at most this long (a cold Kubernetes build takes ~15 min on 2 cores). */
const lockWaitLimitMs = 90 * 60_000;

/** A build that failed, with the one line a user reads. */
export class ToolBuildError extends Error {}

function log(message: string): void {
  process.stderr.write(`toolchain: ${message}\n`);
}

function formatSeconds(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
}

/** The inputs a build depends on; a stamp with other inputs means the build is stale. */
function buildInputs(tool: ToolModule): object {
  return { module: tool.module, version: tool.moduleVersion, programs: tool.programs, versionFlags: tool.versionFlags };
}

/** Whether every program of `tool` is built from the current inputs. */
export function isBuilt(tool: ToolModule, cacheDirectory = toolsCacheDirectory()): boolean {
  const directory = moduleDirectory(tool, cacheDirectory);
  try {
    const stamp = JSON.parse(fs.readFileSync(path.join(directory, stampFile), 'utf8')) as { inputs: unknown };
    if (JSON.stringify(stamp.inputs) !== JSON.stringify(buildInputs(tool))) return false;
    return Object.keys(tool.programs).every((program) => fs.existsSync(path.join(directory, 'bin', program)));
  } catch {
    return false;
  }
}

/** The Go version on PATH, or a one-line error saying Go is needed and why. */
function requireGo(): string {
  const result = spawnSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' });
  if (result.error !== undefined || result.status !== 0) {
    throw new ToolBuildError(
      'Go not found on PATH: the tests run kube-apiserver, etcd, helm, promtool and amtool built from Go modules; install Go 1.26 or newer',
    );
  }
  return result.stdout.trim();
}

/** Runs go with the toolchain's environment, printing a heartbeat; resolves with its output, rejects with its last error line. */
function runGo(args: readonly string[], cwd: string, logFile: string, what: string): Promise<string> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('go', args, {
      cwd,
      // Static binaries, no C toolchain needed; modules from the proxy even when a dependency has its own go.work.
      env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod', GOWORK: 'off' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    const heartbeat = setInterval(() => log(`  … ${what}: ${formatSeconds(Date.now() - started)} so far`), heartbeatMs);
    child.on('error', (error) => { clearInterval(heartbeat); reject(new ToolBuildError(`go ${args[0]} could not start: ${error.message}`)); });
    child.on('close', (code) => {
      clearInterval(heartbeat);
      fs.appendFileSync(logFile, `$ go ${args.join(' ')}\n${output}\n`);
      if (code === 0) {
        resolve(output);
        return;
      }
      const lines = output.split('\n').map((line) => line.trim()).filter((line) => line !== '');
      const reason = lines.filter((line) => !line.startsWith('go: downloading')).pop() ?? `exit code ${code}`;
      reject(new ToolBuildError(`${what} failed: ${reason} (full log: ${logFile})`));
    });
  });
}

/**
 * The `replace` lines a module needs when built as a dependency: Go ignores a dependency's own replaces, so its
 * non-local ones are copied, and Kubernetes' local `./staging/src/k8s.io/X` become `k8s.io/X v0.<minor>.<patch>`,
 * the staging modules' published release for that Kubernetes release.
 */
export function replacementsFor(moduleGoMod: string, tool: ToolModule): string[] {
  const replacements: string[] = [];
  const stagingVersion = tool.moduleVersion.replace(/^v1\./, 'v0.');
  for (const rawLine of moduleGoMod.split('\n')) {
    const line = rawLine.replace(/^replace\s+/, '').replace(/\/\/.*$/, '').trim();
    const match = /^(\S+)(?:\s+\S+)?\s+=>\s+(\S+)(?:\s+(\S+))?$/.exec(line);
    if (match === null) continue;
    const [, from, target, targetVersion] = match;
    if (target.startsWith('./staging/src/')) {
      replacements.push(`${from} => ${target.slice('./staging/src/'.length)} ${stagingVersion}`);
    } else if (!target.startsWith('.') && !target.startsWith('/') && targetVersion !== undefined) {
      replacements.push(`${from} => ${target} ${targetVersion}`);
    }
  }
  return replacements;
}

/** Writes the throwaway Go module that requires `tool` and names its programs, so `go mod tidy` resolves them. */
async function writeWorkModule(tool: ToolModule, sourceDirectory: string, logFile: string): Promise<void> {
  fs.rmSync(sourceDirectory, { recursive: true, force: true });
  fs.mkdirSync(sourceDirectory, { recursive: true });
  const modulePath = `keyserver.invalid/toolchain/${tool.name}`;
  fs.writeFileSync(path.join(sourceDirectory, 'go.mod'), `module ${modulePath}\n\ngo 1.26\n\nrequire ${tool.module} ${tool.moduleVersion}\n`);
  const download = await runGo(['mod', 'download', '-json', `${tool.module}@${tool.moduleVersion}`], sourceDirectory, logFile, `download ${tool.module}@${tool.moduleVersion}`);
  const goModPath = (JSON.parse(download) as { GoMod: string }).GoMod;
  const replacements = replacementsFor(fs.readFileSync(goModPath, 'utf8'), tool);
  if (replacements.length > 0) {
    fs.appendFileSync(path.join(sourceDirectory, 'go.mod'), `\nreplace (\n${replacements.map((line) => `\t${line}`).join('\n')}\n)\n`);
  }
  const imported = Object.values(tool.programs).filter((pkg) => !pkg.startsWith(modulePath));
  // The tools.go pattern: blank imports of the programs keep their dependencies in go.mod; never compiled.
  fs.writeFileSync(
    path.join(sourceDirectory, 'tools.go'),
    `//go:build tools\n\npackage tools\n\nimport (\n${imported.map((pkg) => `\t_ "${pkg}"`).join('\n')}\n)\n`,
  );
  if (tool.mainFrom !== undefined) {
    const mainDirectory = path.join(sourceDirectory, 'cmd', tool.name);
    fs.mkdirSync(mainDirectory, { recursive: true });
    fs.writeFileSync(
      path.join(mainDirectory, 'main.go'),
      `// ${tool.name}, built from its library's Main: go install of the root module refuses its replace lines.\npackage main\n\n`
        + `import (\n\t"os"\n\n\t"${tool.module}/${tool.mainFrom}"\n)\n\nfunc main() { ${path.posix.basename(tool.mainFrom)}.Main(os.Args) }\n`,
    );
  }
}

/** Builds every program of `tool` into its cache folder (replacing a stale build), holding no lock. */
async function buildModule(tool: ToolModule, cacheDirectory: string): Promise<void> {
  const directory = moduleDirectory(tool, cacheDirectory);
  const sourceDirectory = path.join(directory, 'src');
  const logFile = path.join(directory, 'build.log');
  const programs = Object.keys(tool.programs);
  const started = Date.now();
  fs.mkdirSync(directory, { recursive: true });
  fs.writeFileSync(logFile, '');
  log(`building ${programs.join(', ')} from ${tool.module}@${tool.moduleVersion} into ${directory}`);
  await writeWorkModule(tool, sourceDirectory, logFile);
  log(`  resolving dependencies (go mod tidy)`);
  await runGo(['mod', 'tidy'], sourceDirectory, logFile, `go mod tidy for ${tool.name}`);
  const stagingBin = path.join(directory, 'bin.partial');
  fs.rmSync(stagingBin, { recursive: true, force: true });
  fs.mkdirSync(stagingBin);
  for (const [program, pkg] of Object.entries(tool.programs)) {
    const programStarted = Date.now();
    log(`  compiling ${program}`);
    const ldflags = ['-s', '-w', ...tool.versionFlags.map((flag) => `-X ${flag}`)].join(' ');
    await runGo(['build', '-trimpath', '-ldflags', ldflags, '-o', path.join(stagingBin, program), pkg], sourceDirectory, logFile, `build of ${program}`);
    log(`  compiled ${program} in ${formatSeconds(Date.now() - programStarted)}`);
  }
  fs.rmSync(path.join(directory, 'bin'), { recursive: true, force: true });
  fs.renameSync(stagingBin, path.join(directory, 'bin'));
  const seconds = Math.round((Date.now() - started) / 1000);
  fs.writeFileSync(path.join(directory, stampFile), `${JSON.stringify({ inputs: buildInputs(tool), seconds, builtAt: new Date().toISOString() }, null, 2)}\n`);
  log(`built ${tool.name} ${tool.releaseVersion} in ${formatSeconds(seconds * 1000)}`);
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the module's lock (a directory holding the owner's pid), waiting for a live owner and breaking a dead one's. */
export async function withLock<T>(lockDirectory: string, what: string, action: () => Promise<T>): Promise<T> {
  const started = Date.now();
  let lastNotice = 0;
  for (;;) {
    try {
      fs.mkdirSync(lockDirectory);
      fs.writeFileSync(path.join(lockDirectory, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number(fs.readFileSync(path.join(lockDirectory, 'pid'), { encoding: 'utf8', flag: 'a+' }) || NaN);
    const ageMs = Date.now() - fs.statSync(lockDirectory).mtimeMs;
    if ((Number.isInteger(owner) && !processIsAlive(owner)) || (Number.isNaN(owner) && ageMs > 10_000)) {
      fs.rmSync(lockDirectory, { recursive: true, force: true }); // its owner died mid-build
      continue;
    }
    if (Date.now() - started > lockWaitLimitMs) throw new ToolBuildError(`${what}: gave up waiting for the build in process ${owner}`);
    if (Date.now() - lastNotice > heartbeatMs) {
      log(`${what}: waiting for the build in process ${owner}`);
      lastNotice = Date.now();
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  try {
    return await action();
  } finally {
    fs.rmSync(lockDirectory, { recursive: true, force: true });
  }
}

/** Builds `tool` unless it is built already; concurrent callers build it once. */
export async function ensureBuilt(tool: ToolModule, cacheDirectory = toolsCacheDirectory()): Promise<void> {
  if (isBuilt(tool, cacheDirectory)) return;
  fs.mkdirSync(cacheDirectory, { recursive: true });
  await withLock(`${moduleDirectory(tool, cacheDirectory)}.lock`, tool.name, async () => {
    if (!isBuilt(tool, cacheDirectory)) await buildModule(tool, cacheDirectory);
  });
}

/**
 * The path of a toolchain program, built first when it is not yet (tests call this, so a missing tool is built,
 * never skipped: the build runs as its own process, waiting for a build another worker holds the lock for). A
 * failure throws naming the program, its release and module, and the build's own last line.
 */
export function requireProgram(program: string, cacheDirectory = toolsCacheDirectory()): string {
  const tool = moduleOf(program);
  if (!isBuilt(tool, cacheDirectory)) {
    const build = spawnSync(process.execPath, [require.resolve('ts-node/dist/bin.js'), '--transpile-only', __filename, program], {
      encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], timeout: lockWaitLimitMs,
      env: { ...process.env, KEY_SERVER_TOOLS_CACHE: cacheDirectory },
    });
    if (build.status !== 0 || !isBuilt(tool, cacheDirectory)) {
      const reason = (build.stderr ?? '').split('\n').map((line) => line.replace(/^toolchain:\s*/, '').trim()).filter(Boolean).pop()
        ?? build.error?.message ?? `exit ${build.status ?? build.signal}`;
      throw new ToolBuildError(`${program} ${tool.releaseVersion} (from ${tool.module}@${tool.moduleVersion}) is not available: ${reason}`);
    }
  }
  return programPath(program, cacheDirectory);
}

/** The modules named on the command line (module or program names), or all of them. */
function selectedModules(names: readonly string[]): ToolModule[] {
  if (names.length === 0) return [...toolModules];
  return [...new Set(names.map((name) => toolModules.find((tool) => tool.name === name) ?? moduleOf(name)))];
}

async function main(argv: readonly string[]): Promise<number> {
  const started = Date.now();
  try {
    const tools = selectedModules(argv);
    const missing = tools.filter((tool) => !isBuilt(tool));
    if (missing.length === 0) return 0;
    const goVersion = requireGo();
    log(`${missing.length} of ${tools.length} tool modules to build with ${goVersion} (cache: ${toolsCacheDirectory()}; the first build takes about 20 min on 2 cores)`);
    for (const tool of missing) await ensureBuilt(tool);
    log(`toolchain ready in ${formatSeconds(Date.now() - started)}`);
    return 0;
  } catch (error) {
    process.stderr.write(`toolchain: ${error instanceof ToolBuildError ? error.message : (error as Error).stack}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, () => { process.exitCode = 1; });
}
