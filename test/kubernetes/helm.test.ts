// The Helm chart of `npm run synth:helm` with a real helm (v4, built from its Go module): lint --strict passes,
// `helm template` renders exactly the objects of dist/, and `helm install` into a real kube-apiserver creates them
// all, after which `helm uninstall` leaves none behind.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { readObjects, type KubeObject } from '../../scripts/common/manifests';
import { requireProgram } from '../../scripts/toolchain/build-tools';
import { repoRoot, runNpmScript } from '../delivery/helpers/fake-kubectl';
import { startControlPlane, type CommandResult, type ControlPlane } from './helpers/control-plane';

const releaseName = 'key-server';

function key(object: KubeObject): string {
  return `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}

function show(result: CommandResult): string {
  return `exit ${result.code}\n${result.stdout}\n${result.stderr}`;
}

describe('the Helm chart with a real helm and kube-apiserver', () => {
  let controlPlane: ControlPlane;
  let helmPath: string;
  let scratch: string;
  let chart: string;
  const expected = readObjects(path.join(repoRoot, 'dist'));

  const helm = (args: readonly string[]) => controlPlane.run(helmPath, [...args, '--kubeconfig', controlPlane.kubeconfig], {
    env: { HELM_CACHE_HOME: path.join(scratch, 'helm-cache'), HELM_CONFIG_HOME: path.join(scratch, 'helm-config'), HELM_DATA_HOME: path.join(scratch, 'helm-data') },
  });

  beforeAll(async () => {
    helmPath = await requireProgram('helm');
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'key-server-helm-real-'));
    chart = path.join(scratch, 'key-server');
    const synth = await runNpmScript('synth:helm', ['--out', chart], { ...process.env, KEY_SERVER_ENV: '' }, 120_000);
    if (synth.code !== 0) throw new Error(`synth:helm failed: ${synth.stderr}`);
    // The controller manager deletes what uninstall leaves to it: a Namespace's contents and its finalizer.
    controlPlane = await startControlPlane({ controllerManager: true });
  }, 600_000);

  afterAll(async () => {
    await controlPlane?.stop();
    if (scratch !== undefined) fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('passes helm lint --strict', async () => {
    const lint = await helm(['lint', '--strict', chart]);
    expect({ code: lint.code, errors: lint.stdout.split('\n').filter((line) => /\[(ERROR|WARNING)\]/.test(line)) }).toEqual({ code: 0, errors: [] });
  });

  it('renders with helm template to exactly the objects of dist/, field for field', async () => {
    const rendered = await helm(['template', releaseName, chart]);
    expect(rendered.code).toBe(0);
    const objects = parseAllDocuments(rendered.stdout).map((document) => document.toJSON() as KubeObject | null).filter((object): object is KubeObject => object !== null);
    const byKey = new Map(objects.map((object) => [key(object), object]));
    expect([...byKey.keys()].sort()).toEqual(expected.map(key).sort());
    for (const object of expected) expect(byKey.get(key(object))).toEqual(object);
  });

  it('installs into the API server, creating every object, and uninstalls leaving none behind', async () => {
    const install = await helm(['install', releaseName, chart, '--namespace', 'default', '--timeout', '60s']);
    expect({ code: install.code, stderr: install.stderr }).toEqual({ code: 0, stderr: '' });
    const present = await controlPlane.kubectl(['get', '-f', path.join(repoRoot, 'dist'), '-o', 'name']);
    expect(present.code).toBe(0);
    expect(present.stdout.trim().split('\n')).toHaveLength(expected.length);

    const uninstall = await helm(['uninstall', releaseName, '--namespace', 'default', '--wait', '--timeout', '90s']);
    expect(uninstall.code).toBe(0);
    const deadline = Date.now() + 90_000;
    let remaining: CommandResult;
    do {
      remaining = await controlPlane.kubectl(['get', '-f', path.join(repoRoot, 'dist'), '-o', 'name', '--ignore-not-found']);
      if (remaining.stdout.trim() === '') break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    } while (Date.now() < deadline);
    expect({ remaining: remaining.stdout.trim(), code: remaining.code }).toEqual({ remaining: '', code: 0 });
    const releases = await helm(['list', '--all-namespaces', '--all', '-q']);
    expect(releases.stdout.trim()).toBe('');
    if (remaining.code !== 0) throw new Error(show(remaining));
  });
});
