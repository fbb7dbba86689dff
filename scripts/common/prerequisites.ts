// Checks the tools and cluster access a delivery script needs before it does anything, and says what is missing.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { apiGroupOf } from './manifests';

/** A missing tool, context or API: the script stops with this message and exit code 1, having changed nothing. */
export class MissingPrerequisite extends Error {}

/** The first executable file named `name` on `searchPath` (a PATH value), or undefined. */
export function findExecutable(name: string, searchPath: string = process.env.PATH ?? ''): string | undefined {
  for (const directory of searchPath.split(path.delimiter)) {
    if (directory === '') continue;
    const candidate = path.join(directory, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here: keep looking
    }
  }
  return undefined;
}

/** Install hints for the tools the scripts call, shown when one is missing. */
const toolHints: Readonly<Record<string, string>> = {
  kubectl: 'install it (https://kubernetes.io/docs/tasks/tools/) and put it on PATH',
  openssl: 'install it (Debian/Ubuntu: apt-get install openssl; macOS: brew install openssl)',
};

/** The path of `tool`, or a {@link MissingPrerequisite} naming it and how to get it. */
export function requireTool(tool: string, searchPath?: string): string {
  const found = findExecutable(tool, searchPath);
  if (found === undefined) {
    throw new MissingPrerequisite(`${tool} not found on PATH: ${toolHints[tool] ?? 'install it'}`);
  }
  return found;
}

/** The message for a kubectl without a current context (its own error says only "current-context is not set"). */
export function noContextMessage(detail: string): string {
  return 'no Kubernetes context selected: create a local cluster (see README, "Delivery") or pick one with '
    + '`kubectl config use-context <name>` (`kubectl config get-contexts` lists them)'
    + (detail === '' ? '' : ` [kubectl said: ${detail}]`);
}

/** Install hints for the API groups the manifests may need beyond core Kubernetes. */
const apiGroupHints: Readonly<Record<string, string>> = {
  'cert-manager.io': 'install cert-manager (kubectl apply -f https://github.com/cert-manager/cert-manager/releases/download/v1.21.1/cert-manager.yaml), '
    + 'or run `npm run dev-cert` and deploy with `npm run deploy -- --dev-cert`',
  'monitoring.coreos.com': 'install prometheus-operator (e.g. the kube-prometheus-stack Helm chart), or deploy dist/standalone/ instead',
};

/** The apiVersions in `required` that the cluster does not serve (`available` is `kubectl api-versions`). */
export function missingApiVersions(required: readonly string[], available: readonly string[]): string[] {
  const served = new Set(available);
  return required.filter((apiVersion) => !served.has(apiVersion));
}

/** One line per missing apiVersion, with what to install. */
export function missingApiMessage(missing: readonly string[]): string {
  const lines = missing.map((apiVersion) => `  ${apiVersion}: ${apiGroupHints[apiGroupOf(apiVersion)] ?? 'install the controller that serves it'}`);
  return `the cluster does not serve API versions the manifests use:\n${lines.join('\n')}`;
}
