// `kubectl apply --server-side -f dist/` (and dist/standalone/) against a real kube-apiserver: every object is
// admitted with strict field validation and no warning, and applying again changes nothing (no GitOps drift).
import { join, resolve } from 'node:path';
import { readObjects, type KubeObject } from '../../scripts/common/manifests';
import { serverSideApplyArgs, startControlPlane, type CommandResult, type ControlPlane } from './helpers/control-plane';

const repositoryRoot = resolve(__dirname, '..', '..');

/** The object sets users apply, each onto a fresh API server (standalone is an alternative, not an addition). */
const manifestSets = [
  { name: 'dist/', directory: join(repositoryRoot, 'dist') },
  { name: 'dist/standalone/', directory: join(repositoryRoot, 'dist', 'standalone') },
];

/** `kind/namespace/name`, how a failure names an object. */
function objectId(object: KubeObject): string {
  return `${object.kind}/${object.metadata.namespace ?? '-'}/${object.metadata.name}`;
}

function describeResult(result: CommandResult): string {
  return `exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
}

/** The resourceVersion of every object of `objects` as the API server holds it. */
async function resourceVersions(controlPlane: ControlPlane, directory: string): Promise<Record<string, string>> {
  const result = await controlPlane.kubectl(['get', '-f', directory, '-o', 'json']);
  if (result.code !== 0) throw new Error(`kubectl get -f ${directory}: ${describeResult(result)}`);
  const list = JSON.parse(result.stdout) as { items: KubeObject[] };
  return Object.fromEntries(list.items.map((item) => [objectId(item), (item.metadata as unknown as { resourceVersion: string }).resourceVersion]));
}

describe.each(manifestSets)('kubectl apply --server-side -f $name on a real kube-apiserver', ({ directory }) => {
  let controlPlane: ControlPlane;
  let firstApply: CommandResult;
  const objects = readObjects(directory);

  beforeAll(async () => {
    controlPlane = await startControlPlane();
    firstApply = await controlPlane.kubectl(serverSideApplyArgs(directory));
  }, 600_000);

  afterAll(async () => {
    await controlPlane?.stop();
  });

  it('creates every object, with zero errors and zero warnings', async () => {
    expect({ code: firstApply.code, stderr: firstApply.stderr }).toEqual({ code: 0, stderr: '' });
    const held = await resourceVersions(controlPlane, directory);
    expect(Object.keys(held).sort()).toEqual(objects.map(objectId).sort());
    console.log(`${directory}: ${objects.length} objects admitted by kube-apiserver, no warning`);
  });

  it('changes nothing when applied again: same resourceVersions, and kubectl diff is empty', async () => {
    const before = await resourceVersions(controlPlane, directory);
    const secondApply = await controlPlane.kubectl(serverSideApplyArgs(directory));
    expect({ code: secondApply.code, stderr: secondApply.stderr }).toEqual({ code: 0, stderr: '' });
    expect(await resourceVersions(controlPlane, directory)).toEqual(before);
    const diff = await controlPlane.kubectl(['diff', '--server-side', '--field-manager=key-server', '-f', directory]);
    expect({ code: diff.code, stdout: diff.stdout, stderr: diff.stderr }).toEqual({ code: 0, stdout: '', stderr: '' });
  });
});
