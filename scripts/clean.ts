// `npm run clean`: deletes what `npm run deploy` applied from the current kubectl context (cert-manager and CRDs stay).
import { logger, parseOptions, runScript } from './common/cli';
import { connectKubectl } from './common/kubectl';
import { apiGroupOf, readObjects, toYamlStream, type KubeObject } from './common/manifests';

const usage = `usage: npm run clean [-- [--dir dist/]]
  Deletes the objects of the manifests in --dir (default dist/) from the current context and waits until they are gone.
`;

/** Objects whose API the cluster serves: the others cannot exist there, and kubectl would fail on their kinds. */
export function deletableObjects(objects: readonly KubeObject[], availableApiVersions: readonly string[]): KubeObject[] {
  const served = new Set(availableApiVersions);
  return objects.filter((object) => apiGroupOf(object.apiVersion) === '' || served.has(object.apiVersion));
}

function main(): void {
  const options = parseOptions(process.argv.slice(2), { dir: { type: 'string', default: 'dist/' } });
  if (options.help) {
    process.stdout.write(usage);
    return;
  }
  const log = logger('clean');
  const directory = options.dir as string;
  const kubectl = connectKubectl(log);
  const objects = readObjects(directory);
  const deletable = deletableObjects(objects, kubectl.read(['api-versions']).split('\n').map((line) => line.trim()));
  if (deletable.length === objects.length) {
    kubectl.run(['delete', '--ignore-not-found', '--wait=true', '-f', directory]);
  } else {
    // Deployed with --dev-cert on a cluster without cert-manager: leave out the kinds it never had.
    kubectl.run(['delete', '--ignore-not-found', '--wait=true', '-f', '-'], toYamlStream(deletable));
  }
  log(`removed the key server from ${kubectl.context}`);
}

if (require.main === module) {
  runScript('clean', usage, main);
}
