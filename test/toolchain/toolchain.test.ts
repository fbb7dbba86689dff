// The toolchain's plan (versions.json → modules, versions, paths) and its build lock, without building anything.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import versions from '../../versions.json';
import { isBuilt, replacementsFor, withLock } from '../../scripts/toolchain/build-tools';
import { moduleOf, programPath, prometheusModuleVersion, toolModule, toolModules, toolsCacheDirectory } from '../../scripts/toolchain/tools';

describe('prometheusModuleVersion', () => {
  it.each([
    ['v3.13.5', 'v0.313.5'],
    ['v3.5.0', 'v0.305.0'],
    ['3.10.2', 'v0.310.2'],
    ['v2.53.4', 'v0.53.4'],
  ])('maps Prometheus %s to its Go module version %s', (release, module) => {
    expect(prometheusModuleVersion(release)).toBe(module);
  });

  it.each(['v4.0.0', 'latest', 'v3.13'])('refuses %s, which has no known module version', (release) => {
    expect(() => prometheusModuleVersion(release)).toThrow(/Prometheus/);
  });
});

describe('the toolchain plan read from versions.json', () => {
  it('builds promtool, amtool and prometheus at exactly the releases the manifests\' images pin', () => {
    expect(moduleOf('promtool').releaseVersion).toBe(versions.images.prometheus.tag);
    expect(moduleOf('prometheus').moduleVersion).toBe(prometheusModuleVersion(versions.images.prometheus.tag));
    expect(moduleOf('amtool').releaseVersion).toBe(versions.images.alertmanager.tag);
  });

  it('knows every program the tests run', () => {
    const programs = toolModules.flatMap((tool) => Object.keys(tool.programs)).sort();
    expect(programs).toEqual(expect.arrayContaining(['amtool', 'etcd', 'helm', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok', 'prometheus', 'promtool']));
  });

  it('stamps Kubernetes programs with their release, as the API server derives its emulation version from it', () => {
    expect(moduleOf('kube-apiserver').versionFlags).toEqual(expect.arrayContaining([
      `k8s.io/component-base/version.gitVersion=${versions.tools.kubernetes.version}`,
      `k8s.io/component-base/version.gitMinor=${versions.tools.kubernetes.version.split('.')[1]}`,
    ]));
  });

  it('names an unknown program and lists the known ones', () => {
    expect(() => moduleOf('kubectl')).toThrow(/'kubectl' is not a toolchain program \(known: .*kube-apiserver/);
  });

  it('refuses a tool with neither version nor image', () => {
    expect(() => toolModule('broken', { module: 'example.com/broken' })).toThrow(/tools\.broken needs a version or an image/);
  });

  it('keeps the cache outside the clone, keyed by version, overridable by KEY_SERVER_TOOLS_CACHE', () => {
    expect(toolsCacheDirectory({ KEY_SERVER_TOOLS_CACHE: '/var/cache/kst' })).toBe('/var/cache/kst');
    expect(toolsCacheDirectory({ XDG_CACHE_HOME: '/x' })).toBe('/x/key-server-tools');
    expect(toolsCacheDirectory({})).toBe(path.join(os.homedir(), '.cache', 'key-server-tools'));
    expect(programPath('etcd', '/c')).toBe(`/c/etcd-${versions.tools.etcd.version}/bin/etcd`);
  });
});

describe('replacementsFor', () => {
  const kubernetes = moduleOf('kube-apiserver');

  it('points Kubernetes\' staging modules at their published v0.x release', () => {
    const goMod = 'module k8s.io/kubernetes\n\nreplace (\n\tk8s.io/api => ./staging/src/k8s.io/api\n\tk8s.io/client-go => ./staging/src/k8s.io/client-go\n)\n';
    const minorPatch = kubernetes.moduleVersion.replace(/^v1\./, '');
    expect(replacementsFor(goMod, kubernetes)).toEqual([`k8s.io/api => k8s.io/api v0.${minorPatch}`, `k8s.io/client-go => k8s.io/client-go v0.${minorPatch}`]);
  });

  it('keeps a dependency\'s versioned replacements and drops local ones it cannot reach', () => {
    const goMod = 'module x\nreplace github.com/a/b v1.0.0 => github.com/c/b v1.2.3 // fork\nreplace example.com/local => ../local\n';
    expect(replacementsFor(goMod, moduleOf('helm'))).toEqual(['github.com/a/b => github.com/c/b v1.2.3']);
  });
});

describe('the build lock', () => {
  let directory: string;
  beforeEach(() => { directory = fs.mkdtempSync(path.join(os.tmpdir(), 'key-server-lock-')); });
  afterEach(() => fs.rmSync(directory, { recursive: true, force: true }));

  it('lets one holder in at a time', async () => {
    const lock = path.join(directory, 'tool.lock');
    const events: string[] = [];
    let releaseFirst: () => void = () => undefined;
    const first = withLock(lock, 'test', async () => {
      events.push('first in');
      await new Promise<void>((resolve) => { releaseFirst = resolve; });
      events.push('first out');
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = withLock(lock, 'test', async () => { events.push('second in'); });
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(events).toEqual(['first in']);
    releaseFirst();
    await Promise.all([first, second]);
    expect(events).toEqual(['first in', 'first out', 'second in']);
    expect(fs.existsSync(lock)).toBe(false);
  });

  it('breaks the lock of a builder that died', async () => {
    const lock = path.join(directory, 'tool.lock');
    const child = spawn(process.execPath, ['-e', '0']);
    const deadPid = child.pid as number;
    await new Promise((resolve) => child.on('exit', resolve));
    fs.mkdirSync(lock);
    fs.writeFileSync(path.join(lock, 'pid'), String(deadPid));
    await expect(withLock(lock, 'test', async () => 'built')).resolves.toBe('built');
  });

  it('counts a tool as built only when its stamp matches the plan and every program exists', () => {
    const tool = moduleOf('helm');
    expect(isBuilt(tool, directory)).toBe(false);
    const folder = path.join(directory, `helm-${tool.moduleVersion}`);
    fs.mkdirSync(path.join(folder, 'bin'), { recursive: true });
    fs.writeFileSync(path.join(folder, 'bin', 'helm'), '');
    fs.writeFileSync(path.join(folder, 'build.json'), JSON.stringify({ inputs: { module: tool.module, version: 'v0.0.1' } }));
    expect(isBuilt(tool, directory)).toBe(false);
    fs.writeFileSync(path.join(folder, 'build.json'), JSON.stringify({ inputs: { module: tool.module, version: tool.moduleVersion, programs: tool.programs, versionFlags: tool.versionFlags } }));
    expect(isBuilt(tool, directory)).toBe(true);
  });
});
