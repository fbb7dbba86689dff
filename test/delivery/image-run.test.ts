// Runs the compiled server the way the image does (no container engine runs here): the Dockerfile's build output
// and production-only node_modules in a read-only copy, NODE_ENV=production, as uid/gid 65534, with the
// Deployment's own args, then fetches a key over HTTPS from it.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createSelfSignedCertificate } from '../../server/dev-cert';
import { metricNames } from '../../server/metric-catalogue';
import { readObjects } from '../../scripts/common/manifests';
import { waitForExit, waitForLogLine } from '../server/helpers/cli';
import { fetchText } from '../server/helpers/http';
import { entrypointNodeFlags, readDockerfile } from '../../scripts/common/dockerfile';
import { repoRoot } from './helpers/fake-kubectl';

/** The uid and gid of the Dockerfile's USER and the Deployment's securityContext. */
const NOBODY = 65534;

/** The Deployment's args with host, ports and certificate paths swapped for this machine's; everything else as is. */
export function localArgs(args: readonly string[], replacements: Readonly<Record<string, string>>): string[] {
  return args.map((arg, index) => (index > 0 && args[index - 1] in replacements ? replacements[args[index - 1]] : arg));
}

/** The lockfile's production packages (what `npm ci --omit=dev` installs), outermost first. */
function productionPackages(): string[] {
  const lock = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; devOptional?: boolean }> };
  const paths = Object.entries(lock.packages).filter(([location, entry]) => location !== '' && !entry.dev && !entry.devOptional).map(([location]) => location).sort();
  return paths.filter((location) => !paths.some((outer) => outer !== location && location.startsWith(`${outer}/`)));
}

/** Makes a tree read-only (dirs r-x, files r--) for everyone, like an image layer under readOnlyRootFilesystem. */
function makeReadOnly(directory: string): void {
  execFileSync('chmod', ['-R', 'a-w,a+rX', directory]);
}

/** Every path under `directory` with its size and modification time, to show nothing was written. */
function treeListing(directory: string): string {
  return execFileSync('find', [directory, '-printf', '%p %s %T@\\n']).toString();
}

describe('the compiled server run as the image runs it', () => {
  const runsAsNobody = process.getuid?.() === 0;
  let workspace: string;
  let app: string;
  let child: ChildProcess;
  let certificatePem: string;
  let urls: { url: string; metricsUrl: string };
  let listingBefore: string;
  let deploymentEnv: Record<string, string> = {};
  /** The Deployment's Secret volume mode, which the files get here too. */
  const secretMode = 0o440;

  beforeAll(async () => {
    workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'key-server-image-'));
    fs.chmodSync(workspace, 0o755);
    // Stage "build": the same tsc invocation as the Dockerfile (and `npm run build`).
    const build = path.join(workspace, 'build');
    execFileSync(process.execPath, [path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(repoRoot, 'tsconfig.json'), '--outDir', path.join(build, 'lib')], { cwd: repoRoot, stdio: 'pipe' });
    // Stage "runtime": only package.json, lib/server and the production node_modules.
    app = path.join(workspace, 'app');
    fs.mkdirSync(path.join(app, 'lib'), { recursive: true });
    fs.copyFileSync(path.join(repoRoot, 'package.json'), path.join(app, 'package.json'));
    fs.cpSync(path.join(build, 'lib', 'server'), path.join(app, 'lib', 'server'), { recursive: true });
    for (const location of productionPackages()) {
      fs.cpSync(path.join(repoRoot, location), path.join(app, location), { recursive: true, dereference: true });
    }
    makeReadOnly(app);
    listingBefore = treeListing(app);

    // The Secret as the kubelet mounts it: the volume's defaultMode (0440), owned by root and the pod's fsGroup, so the
    // server reads it through its group and nobody else can.
    const tls = path.join(workspace, 'tls');
    const files = createSelfSignedCertificate({ directory: tls, commonName: 'key-server.key-server.svc' });
    for (const file of [files.certFile, files.keyFile]) {
      fs.chmodSync(file, secretMode);
      if (runsAsNobody) fs.chownSync(file, 0, NOBODY);
    }
    fs.chmodSync(tls, 0o755);
    certificatePem = fs.readFileSync(files.certFile, 'utf8');

    const deployment = readObjects(path.join(repoRoot, 'dist')).find((object) => object.kind === 'Deployment' && object.metadata.name === 'key-server') as unknown as {
      spec: { template: { spec: { containers: Array<{ args: string[]; env?: Array<{ name: string; value: string }> }>; volumes: Array<{ name: string; secret?: { defaultMode: number } }> } } };
    };
    deploymentEnv = Object.fromEntries((deployment.spec.template.spec.containers[0].env ?? []).map((variable) => [variable.name, variable.value]));
    expect(deployment.spec.template.spec.volumes.find((volume) => volume.name === 'tls')?.secret?.defaultMode).toBe(secretMode);
    const args = localArgs(deployment.spec.template.spec.containers[0].args, {
      '--host': '127.0.0.1', '--srv-port': '0', '--metrics-port': '0', '--tls-cert': files.certFile, '--tls-key': files.keyFile,
    });
    const nodeFlags = entrypointNodeFlags(readDockerfile(path.join(repoRoot, 'Dockerfile')));
    child = spawn(process.execPath, [...nodeFlags, path.join(app, 'lib', 'server', 'cli.js'), ...args], {
      cwd: app,
      env: { NODE_ENV: 'production', ...deploymentEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(runsAsNobody ? { uid: NOBODY, gid: NOBODY } : {}),
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const listening = await waitForLogLine(child, 'listening').catch((error: Error) => {
      throw new Error(`${error.message}\nstderr: ${stderr}`);
    });
    urls = { url: listening.url as string, metricsUrl: listening.metricsUrl as string };
  }, 60_000);

  afterAll(() => {
    if (child !== undefined && child.exitCode === null) child.kill('SIGKILL');
    if (workspace !== undefined) {
      execFileSync('chmod', ['-R', 'u+w', workspace]);
      fs.rmSync(workspace, { recursive: true, force: true });
    }
  });

  test('the runtime copy holds no dev dependency (TypeScript, jest, cdk8s-cli)', () => {
    for (const devOnly of ['typescript', 'jest', 'cdk8s-cli', 'ts-node']) {
      expect(fs.existsSync(path.join(app, 'node_modules', devOnly))).toBe(false);
    }
  });

  test('runs as uid and gid 65534 (when this test runs as root, which can switch users)', () => {
    const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
    const expected = runsAsNobody ? NOBODY : process.getuid?.();
    expect(status).toMatch(new RegExp(`^Uid:\\s+${expected}\\s`, 'm'));
    expect(status).toMatch(new RegExp(`^Gid:\\s+${runsAsNobody ? NOBODY : process.getgid?.()}\\s`, 'm'));
  });

  test('runs with the Deployment\'s NODE_OPTIONS, which node accepts beside the image\'s flags: a heap ceiling of half the 256Mi limit', () => {
    expect(deploymentEnv.NODE_OPTIONS).toBe('--max-old-space-size=128');
    const nodeFlags = entrypointNodeFlags(readDockerfile(path.join(repoRoot, 'Dockerfile')));
    const limit = execFileSync(process.execPath, [...nodeFlags, '-e', 'process.stdout.write(String(require("v8").getHeapStatistics().heap_size_limit))'], {
      env: { NODE_OPTIONS: deploymentEnv.NODE_OPTIONS },
    }).toString();
    // Old space plus the young generation (3 x the ENTRYPOINT's 4 MiB semi-space).
    expect(Number(limit) / 1048576).toBe(128 + 3 * 4);
  });

  test('serves a fresh key over HTTPS with the mounted certificate', async () => {
    const answer = await fetchText(`${urls.url}/key/32`, { ca: certificatePem });
    expect(answer.status).toBe(200);
    expect(answer.body.trim()).toMatch(/^[0-9a-f]{64}$/);
  });

  test('exports its metrics on the metrics port', async () => {
    const answer = await fetchText(`${urls.metricsUrl}/metrics`, { ca: certificatePem });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatch(new RegExp(`^${metricNames.keyGenerationsTotal}\\{`, 'm'));
  });

  test('exits 0 on SIGTERM after the shutdown delay, having written nothing to its read-only copy', async () => {
    const exited = waitForExit(child, 30_000);
    child.kill('SIGTERM');
    const result = await exited;
    expect(result.code).toBe(0);
    expect(treeListing(app)).toEqual(listingBefore);
  }, 35_000);
});
