// What a consumer of the construct library installs beside the packed tarball, and the npm cache priming that lets
// the consumer test install it offline. Run by `npm test`'s pretest step: `ts-node scripts/package/consumer-install.ts`.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');

interface PackageManifest {
  readonly dependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
}

function manifest(): PackageManifest {
  return JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as PackageManifest;
}

/**
 * The peer dependencies at the lowest version their ranges allow (`^2.70.106` → `2.70.106`): the versions the
 * README promises to work with, so the consumer test proves the promise at its weakest point.
 */
export function lowestPeerSpecs(peers: Readonly<Record<string, string>>): string[] {
  return Object.entries(peers).map(([name, range]) => {
    const match = /^[\^~]?(\d+\.\d+\.\d+)$/.exec(range);
    if (match === null) throw new Error(`peerDependencies.${name} '${range}' is not ^x.y.z, ~x.y.z or x.y.z`);
    return `${name}@${match[1]}`;
  });
}

/** Everything `npm install` resolves for a consumer: the peers, plus the library's own dependency ranges. */
export function consumerSpecs(packageManifest: PackageManifest = manifest()): string[] {
  return [
    ...lowestPeerSpecs(packageManifest.peerDependencies ?? {}),
    ...Object.entries(packageManifest.dependencies ?? {}).map(([name, range]) => `${name}@${range}`),
  ];
}

/** `npm install` flags that never run install scripts or touch the network. */
export const offlineInstallFlags = ['--offline', '--no-audit', '--no-fund', '--ignore-scripts'];

function npmInstall(directory: string, flags: readonly string[], specs: readonly string[]): { ok: boolean; output: string } {
  const result = spawnSync('npm', ['install', ...flags, ...specs], { cwd: directory, encoding: 'utf8' });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

/**
 * Makes sure npm's cache can resolve the consumer's install offline: `npm ci` caches tarballs but not the
 * registry metadata a fresh `npm install` needs, so one online install into a throwaway folder fills it. A no-op
 * when an offline dry run already succeeds.
 */
function primeCache(): number {
  const specs = consumerSpecs();
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'key-server-npm-prime-'));
  try {
    fs.writeFileSync(path.join(scratch, 'package.json'), '{ "name": "consumer-cache-check", "private": true }\n');
    if (npmInstall(scratch, [...offlineInstallFlags, '--dry-run'], specs).ok) return 0;
    process.stderr.write(`consumer-install: caching ${specs.join(' ')} for the offline consumer test\n`);
    const online = npmInstall(scratch, ['--prefer-online', '--no-audit', '--no-fund', '--ignore-scripts', '--no-save'], specs);
    if (!online.ok) {
      process.stderr.write(`consumer-install: npm could not fetch ${specs.join(' ')}: ${online.output.trim().split('\n').pop()}\n`);
      return 1;
    }
    return 0;
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

if (require.main === module) {
  process.exitCode = primeCache();
}
