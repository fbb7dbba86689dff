// The Helm chart of `npm run synth:helm` with a real helm (v4, built from its Go module): lint --strict passes,
// `helm template` renders exactly the objects of dist/ but the Namespace (which `helm install -n` owns), and the
// README's install into a real kube-apiserver creates them all, after which `helm uninstall` leaves none behind.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { readObjects, type KubeObject } from '../../scripts/common/manifests';
import { requireProgram } from '../../scripts/toolchain/build-tools';
import { repoRoot, runNpmScript } from '../delivery/helpers/fake-kubectl';
import { startControlPlane, type ControlPlane } from './helpers/control-plane';

const releaseName = 'key-server';

function key(object: KubeObject): string {
  return `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}

/** `kind.group` as kubectl names a resource type unambiguously (`deployment.apps`, `servicemonitor.monitoring.coreos.com`). */
function resourceOf(object: KubeObject): string {
  return object.apiVersion.includes('/') ? `${object.kind}.${object.apiVersion.split('/')[0]}` : object.kind;
}

describe('the Helm chart with a real helm and kube-apiserver', () => {
  let controlPlane: ControlPlane;
  let helmPath: string;
  let scratch: string;
  let chart: string;
  const namespace = readObjects(path.join(repoRoot, 'dist')).find((object) => object.kind === 'Namespace') as KubeObject;
  const expected = readObjects(path.join(repoRoot, 'dist')).filter((object) => object.kind !== 'Namespace');

  const helm = (args: readonly string[]) => controlPlane.run(helmPath, [...args, '--kubeconfig', controlPlane.kubeconfig], {
    env: { HELM_CACHE_HOME: path.join(scratch, 'helm-cache'), HELM_CONFIG_HOME: path.join(scratch, 'helm-config'), HELM_DATA_HOME: path.join(scratch, 'helm-data') },
  });

  beforeAll(async () => {
    helmPath = requireProgram('helm');
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

  it('installs as the README says (labelled namespace, helm install -n), creating every object, and uninstalls leaving none', async () => {
    // The README's steps: the namespace with its Pod Security labels first, then the chart into it.
    const labels = Object.entries(namespace.metadata.labels ?? {}).filter(([key]) => key.startsWith('pod-security.kubernetes.io/'));
    expect((await controlPlane.kubectl(['create', 'namespace', namespace.metadata.name])).code).toBe(0);
    expect((await controlPlane.kubectl(['label', 'namespace', namespace.metadata.name, ...labels.map(([key, value]) => `${key}=${value}`)])).code).toBe(0);
    const install = await helm(['install', releaseName, chart, '-n', namespace.metadata.name, '--timeout', '60s']);
    expect({ code: install.code, stderr: install.stderr }).toEqual({ code: 0, stderr: '' });
    for (const object of expected) {
      const found = await controlPlane.kubectl(['get', '-n', object.metadata.namespace as string, resourceOf(object), object.metadata.name, '-o', 'name']);
      expect({ object: key(object), code: found.code }).toEqual({ object: key(object), code: 0 });
    }

    const uninstall = await helm(['uninstall', releaseName, '-n', namespace.metadata.name, '--wait', '--timeout', '90s']);
    expect(uninstall.code).toBe(0);
    const left: string[] = [];
    for (const object of expected) {
      const found = await controlPlane.kubectl(['get', '-n', object.metadata.namespace as string, resourceOf(object), object.metadata.name, '-o', 'name', '--ignore-not-found']);
      if (found.stdout.trim() !== '') left.push(key(object));
    }
    expect(left).toEqual([]);
    const releases = await helm(['list', '--all-namespaces', '--all', '-q']);
    expect(releases.stdout.trim()).toBe('');
  });
});
