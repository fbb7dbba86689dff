// `npm run deploy`: applies dist/ to the current kubectl context with server-side apply and waits for the rollout.
import * as fs from 'node:fs';
import { devCertDirectory, devSecretFile } from './dev-cert-secret';
import { runScript, logger, parseOptions } from './common/cli';
import { connectKubectl, type Kubectl } from './common/kubectl';
import { apiGroupOf, apiVersionsOf, externalSecretsOf, keyServerTarget, readObjects, toYamlStream, type KubeObject } from './common/manifests';
import { MissingPrerequisite, missingApiMessage, missingApiVersions } from './common/prerequisites';

const usage = `usage: npm run deploy [-- [--dir dist/] [--dev-cert [--dev-cert-dir .dev-certs]] [--timeout 180s]]
  --dir       manifests to apply (default dist/; dist/standalone/ for clusters without prometheus-operator or cert-manager,
              whose pods mount a TLS Secret you provide: --dev-cert, or your PKI's before deploying)
  --dev-cert  serve the certificate from \`npm run dev-cert\` instead of cert-manager's (cert-manager objects are left out)
  --dev-cert-dir  where \`npm run dev-cert\` wrote the Secret manifest (default .dev-certs)
  --timeout   how long to wait for the rollout, and for the autoscaler to reach its minimum (default 180s)
`;

/** The objects to apply: all of them, or without cert-manager's when the dev certificate replaces it. */
export function objectsToApply(objects: readonly KubeObject[], devCert: boolean): KubeObject[] {
  return devCert ? objects.filter((object) => apiGroupOf(object.apiVersion) !== 'cert-manager.io') : [...objects];
}

/**
 * A new Deployment starts with one replica: the manifests leave `replicas` to the autoscaler, which raises it to its
 * minimum at its next sync (up to 15 s later), so the rollout wait alone returns with fewer pods than promised and a
 * PodDisruptionBudget that blocks every eviction. Waits until the autoscaler has set its floor, and says whether it
 * waited (the new pods' rollout is then still to be awaited). Leaves alone a Deployment at or above the floor
 * (already scaled) or at 0 (autoscaling paused by its owner).
 */
export function waitForAutoscalerFloor(kubectl: Kubectl, namespace: string, deployment: string, floor: number, timeout: string, log: (line: string) => void): boolean {
  const replicas = Number.parseInt(kubectl.read(['-n', namespace, 'get', `deployment/${deployment}`, '-o', 'jsonpath={.spec.replicas}']).trim(), 10);
  if (!(replicas > 0 && replicas < floor)) return false;
  log(`waiting for the autoscaler to raise ${deployment} from ${replicas} to its minimum of ${floor} replicas`);
  kubectl.run(['-n', namespace, 'wait', `deployment/${deployment}`, `--for=jsonpath={.spec.replicas}=${floor}`, `--timeout=${timeout}`]);
  return true;
}

function main(): void {
  const options = parseOptions(process.argv.slice(2), {
    dir: { type: 'string', default: 'dist/' },
    'dev-cert': { type: 'boolean', default: false },
    'dev-cert-dir': { type: 'string', default: devCertDirectory },
    timeout: { type: 'string', default: '180s' },
  });
  if (options.help) {
    process.stdout.write(usage);
    return;
  }
  const log = logger('deploy');
  const directory = options.dir as string;
  const devCert = options['dev-cert'] as boolean;
  const kubectl = connectKubectl(log);
  const objects = readObjects(directory);
  const target = keyServerTarget(objects);
  const selected = objectsToApply(objects, devCert);
  const secretFile = devSecretFile(options['dev-cert-dir'] as string, target.tlsSecretName);
  if (devCert && !fs.existsSync(secretFile)) {
    throw new MissingPrerequisite(`${secretFile} not found: run \`npm run dev-cert\` first`);
  }
  const missing = missingApiVersions(apiVersionsOf(selected), kubectl.read(['api-versions']).split('\n').map((line) => line.trim()));
  if (missing.length > 0) {
    throw new MissingPrerequisite(missingApiMessage(missing));
  }

  // A Secret the pods mount and the manifests do not hold (dist/standalone/'s TLS Secret) must exist, or the rollout
  // below would wait for pods that cannot start; --dev-cert brings it.
  for (const secret of devCert ? [] : externalSecretsOf(selected)) {
    try {
      kubectl.read(['-n', secret.namespace, 'get', 'secret', secret.name, '-o', 'name']);
    } catch {
      throw new MissingPrerequisite(`Secret ${secret.namespace}/${secret.name}, which the pods mount, is not in the cluster and not in ${directory}: `
        + 'run `npm run dev-cert` and deploy with --dev-cert (development), or create it from your PKI as a kubernetes.io/tls Secret with ca.crt '
        + `(kubectl create namespace ${secret.namespace}; kubectl -n ${secret.namespace} create secret generic ${secret.name} --type=kubernetes.io/tls --from-file=tls.crt --from-file=tls.key --from-file=ca.crt)`);
    }
  }

  if (devCert) {
    // Namespace first (it is in the manifests), then the Secret the pods mount in place of cert-manager's.
    kubectl.run(['apply', '--server-side', '-f', '-'], toYamlStream(selected));
    kubectl.run(['apply', '--server-side', '-f', secretFile]);
  } else {
    kubectl.run(['apply', '--server-side', '-f', directory]);
  }
  const rolloutStatus = ['-n', target.namespace, 'rollout', 'status', `deployment/${target.deploymentName}`, `--timeout=${options.timeout as string}`];
  kubectl.run(rolloutStatus);
  if (target.autoscalerMinReplicas !== undefined
    && waitForAutoscalerFloor(kubectl, target.namespace, target.deploymentName, target.autoscalerMinReplicas, options.timeout as string, log)) {
    kubectl.run(rolloutStatus);
  }
  log(`deployed to ${kubectl.context}; check it with \`npm run verify\``);
}

if (require.main === module) {
  runScript('deploy', usage, main);
}
