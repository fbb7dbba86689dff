// `npm run dev-cert`: a self-signed certificate for the key server's in-cluster names, and the TLS Secret manifest
// that lets a development cluster run without cert-manager (`npm run deploy -- --dev-cert`).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { createSelfSignedCertificate } from '../server/dev-cert';
import { devCertDirectory, devSecretFile } from './dev-cert-secret';
import { logger, parseOptions, runScript, UsageError } from './common/cli';
import { keyServerTarget, readObjects, serviceHostName, type KeyServerTarget } from './common/manifests';
import { requireTool } from './common/prerequisites';

const usage = `usage: npm run dev-cert [-- [--dir dist/] [--out .dev-certs] [--days 30]]
  Writes <out>/<secret>.crt, <out>/<secret>.key and <out>/<secret>.secret.yaml (a kubernetes.io/tls Secret with ca.crt)
  for the key server described by the manifests in --dir. Development only: the key never leaves your machine
  except into the cluster you apply it to, and <out> is git-ignored.
`;

/** The Secret the key server mounts, holding a self-signed pair; `ca.crt` is the certificate itself (it is its own CA). */
export function tlsSecretManifest(target: KeyServerTarget, certificatePem: string, keyPem: string): Record<string, unknown> {
  const base64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: target.tlsSecretName,
      namespace: target.namespace,
      labels: { 'app.kubernetes.io/name': 'key-server', 'app.kubernetes.io/managed-by': 'key-server-dev-cert' },
    },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': base64(certificatePem), 'tls.key': base64(keyPem), 'ca.crt': base64(certificatePem) },
  };
}

function main(): void {
  const options = parseOptions(process.argv.slice(2), {
    dir: { type: 'string', default: 'dist/' },
    out: { type: 'string', default: devCertDirectory },
    days: { type: 'string', default: '30' },
  });
  if (options.help) {
    process.stdout.write(usage);
    return;
  }
  const days = Number(options.days);
  if (!Number.isInteger(days) || days < 1) throw new UsageError(`--days must be a positive integer, got '${options.days as string}'`);
  requireTool('openssl');
  const log = logger('dev-cert');
  const target = keyServerTarget(readObjects(options.dir as string));
  const directory = options.out as string;
  const files = createSelfSignedCertificate({
    directory,
    name: target.tlsSecretName,
    commonName: serviceHostName(target),
    days,
    // The in-cluster names for pods and probes, and localhost for port-forwarding and `npm start`.
    subjectAltNames: [...target.dnsNames.map((name) => `DNS:${name}`), 'DNS:localhost', 'IP:127.0.0.1'],
  });
  const secretFile = devSecretFile(directory, target.tlsSecretName);
  const manifest = tlsSecretManifest(target, fs.readFileSync(files.certFile, 'utf8'), fs.readFileSync(files.keyFile, 'utf8'));
  fs.writeFileSync(secretFile, `# Development only: a self-signed certificate and its private key. Never commit.\n${stringify(manifest)}`, { mode: 0o600 });
  fs.chmodSync(secretFile, 0o600);
  log(`wrote ${files.certFile}, ${files.keyFile} and ${path.normalize(secretFile)} (${target.namespace}/${target.tlsSecretName}, valid ${days} days)`);
  log('apply it with `npm run deploy -- --dev-cert`');
}

if (require.main === module) {
  runScript('dev-cert', usage, main);
}
