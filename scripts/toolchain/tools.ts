// The test toolchain: which real tools the tests run, at which versions, built from which Go modules, and where
// they live once built. versions.json holds the versions; this module turns them into a build plan and paths.
import * as os from 'node:os';
import * as path from 'node:path';
import versions from '../../versions.json';

/** One Go module of the toolchain and the programs built from it. */
export interface ToolModule {
  /** The key in versions.json `tools`, also the folder name in the cache. */
  readonly name: string;
  /** The Go module path. */
  readonly module: string;
  /** The Go module version built (for prometheus and alertmanager, derived from the image the manifests pin). */
  readonly moduleVersion: string;
  /** The release the programs report (`--version`), e.g. Prometheus 3.13.5 for module v0.313.5. */
  readonly releaseVersion: string;
  /** Programs built: binary name → Go package path. */
  readonly programs: Readonly<Record<string, string>>;
  /** A library package whose `Main(os.Args)` becomes a program named after the tool (etcd's `etcdmain`). */
  readonly mainFrom?: string;
  /** `-ldflags -X` settings that give the programs their release version. */
  readonly versionFlags: readonly string[];
}

interface ToolEntry {
  readonly module: string;
  readonly version?: string;
  readonly image?: keyof typeof versions.images;
  readonly commands?: readonly string[];
  readonly mainFrom?: string;
}

/**
 * The Go module version of a Prometheus release: Prometheus tags its module `v0.<minor>.<patch>` for 2.x and
 * `v0.3<minor, two digits>.<patch>` for 3.x (Prometheus 3.13.5 is v0.313.5).
 */
export function prometheusModuleVersion(release: string): string {
  const match = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(release);
  if (match === null) throw new Error(`Prometheus release '${release}' is not vMAJOR.MINOR.PATCH`);
  const [major, minor, patch] = match.slice(1).map(Number);
  if (major === 2) return `v0.${minor}.${patch}`;
  if (major === 3) return `v0.3${String(minor).padStart(2, '0')}.${patch}`;
  throw new Error(`Prometheus ${release}: no known Go module version scheme for major version ${major}`);
}

/** The `-X` flags that stamp a release version into programs of the given module. */
function versionFlagsFor(module: string, release: string): string[] {
  if (module === 'k8s.io/kubernetes') {
    const [major, minor] = release.replace(/^v/, '').split('.');
    // What Kubernetes' own hack/lib/version.sh sets: the API server derives its emulation version from these.
    return ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'].flatMap((pkg) => [
      `${pkg}.gitVersion=${release}`, `${pkg}.gitMajor=${major}`, `${pkg}.gitMinor=${minor}`, `${pkg}.gitTreeState=clean`,
    ]);
  }
  if (module.startsWith('github.com/prometheus/')) return [`github.com/prometheus/common/version.Version=${release.replace(/^v/, '')}`];
  if (module === 'helm.sh/helm/v4') return [`helm.sh/helm/v4/internal/version.version=${release}`];
  if (module === 'sigs.k8s.io/kwok') return [`sigs.k8s.io/kwok/pkg/consts.Version=${release}`];
  return [];
}

/** Reads one versions.json `tools` entry into a build plan. */
export function toolModule(name: string, entry: ToolEntry): ToolModule {
  let moduleVersion: string;
  let releaseVersion: string;
  if (entry.image !== undefined) {
    releaseVersion = versions.images[entry.image].tag;
    moduleVersion = entry.module === 'github.com/prometheus/prometheus' ? prometheusModuleVersion(releaseVersion) : releaseVersion;
  } else if (entry.version !== undefined) {
    releaseVersion = entry.version;
    moduleVersion = entry.version;
  } else {
    throw new Error(`versions.json tools.${name} needs a version or an image`);
  }
  const programs: Record<string, string> = {};
  for (const command of entry.commands ?? []) programs[path.posix.basename(command)] = `${entry.module}/${command}`;
  if (entry.mainFrom !== undefined) programs[name] = `keyserver.invalid/toolchain/${name}/cmd/${name}`;
  return {
    name, module: entry.module, moduleVersion, releaseVersion, programs, mainFrom: entry.mainFrom,
    versionFlags: versionFlagsFor(entry.module, releaseVersion),
  };
}

/** Every module of the toolchain, in versions.json order. */
export const toolModules: readonly ToolModule[] = Object.entries(versions.tools as Record<string, ToolEntry>)
  .map(([name, entry]) => toolModule(name, entry));

/**
 * Where built tools are kept: outside the clone, so a fresh clone (as CI makes) finds them built.
 * @default $KEY_SERVER_TOOLS_CACHE, else $XDG_CACHE_HOME/key-server-tools, else ~/.cache/key-server-tools
 */
export function toolsCacheDirectory(environment: NodeJS.ProcessEnv = process.env): string {
  if (environment.KEY_SERVER_TOOLS_CACHE) return path.resolve(environment.KEY_SERVER_TOOLS_CACHE);
  const cacheHome = environment.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cacheHome, 'key-server-tools');
}

/** The folder of one module's build, keyed by its version so a version bump builds anew beside the old one. */
export function moduleDirectory(tool: ToolModule, cacheDirectory = toolsCacheDirectory()): string {
  return path.join(cacheDirectory, `${tool.name}-${tool.moduleVersion}`);
}

/** The module that builds `program` (e.g. `promtool` → prometheus). */
export function moduleOf(program: string): ToolModule {
  const tool = toolModules.find((candidate) => program in candidate.programs);
  if (tool === undefined) {
    const known = toolModules.flatMap((candidate) => Object.keys(candidate.programs)).join(', ');
    throw new Error(`'${program}' is not a toolchain program (known: ${known})`);
  }
  return tool;
}

/** The path `program` has once built (it may not exist yet). */
export function programPath(program: string, cacheDirectory = toolsCacheDirectory()): string {
  return path.join(moduleDirectory(moduleOf(program), cacheDirectory), 'bin', program);
}
