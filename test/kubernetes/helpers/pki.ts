// The certificates a test control plane needs, made with openssl in its temp directory: a CA, the API server's
// serving certificate, client certificates (admin, controllers) and the service-account signing key pair.
import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A certificate and its key on disk. */
export interface CertificateFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

/** Everything the API server and its clients are started with. */
export interface ControlPlanePki {
  readonly caFile: string;
  readonly apiServer: CertificateFiles;
  /** `system:masters`: what kubectl and helm use, and what `--as` impersonates from. */
  readonly admin: CertificateFiles;
  readonly serviceAccountKeyFile: string;
  readonly serviceAccountPublicKeyFile: string;
  /** Issues a client certificate for `user` in `groups` (for the controllers, which authenticate as themselves). */
  readonly issueClient: (user: string, groups: readonly string[]) => CertificateFiles;
  /** Issues a serving certificate for 127.0.0.1 named `name` (a fake kubelet's, which the API server verifies). */
  readonly issueLoopbackServer: (name: string) => CertificateFiles;
}

const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(args: readonly string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Subject components must not carry `/` or `=`, which openssl's -subj syntax would misread. */
function subjectPart(value: string): string {
  if (!/^[A-Za-z0-9:._-]+$/.test(value)) throw new Error(`certificate subject part '${value}' has characters openssl -subj would misread`);
  return value;
}

/** Signs a new EC key's certificate with the CA in `directory`. */
function issue(directory: string, name: string, subject: string, extensions: readonly string[]): CertificateFiles {
  const file = (suffix: string) => join(directory, `${name}.${suffix}`);
  openssl(['req', ...ecKey, '-keyout', file('key'), '-out', file('csr'), '-subj', subject]);
  writeFileSync(file('ext'), extensions.join('\n'));
  openssl([
    'x509', '-req', '-in', file('csr'), '-CA', join(directory, 'ca.crt'), '-CAkey', join(directory, 'ca.key'),
    '-CAcreateserial', '-out', file('crt'), '-days', '2', '-extfile', file('ext'),
  ]);
  chmodSync(file('key'), 0o600);
  return { certFile: file('crt'), keyFile: file('key') };
}

/** A fresh CA and every certificate a test control plane uses, in `directory`. */
export function createControlPlanePki(directory: string): ControlPlanePki {
  openssl([
    'req', '-x509', ...ecKey, '-keyout', join(directory, 'ca.key'), '-out', join(directory, 'ca.crt'), '-days', '2',
    '-subj', '/CN=key-server test cluster CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  const apiServer = issue(directory, 'apiserver', '/CN=kube-apiserver', [
    // 127.0.0.1 is the only address anything connects to; the in-cluster names make the certificate a real one.
    'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc',
    'basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth',
  ]);
  const issueClient = (user: string, groups: readonly string[]): CertificateFiles => issue(
    directory,
    `client-${user.replace(/[^A-Za-z0-9-]/g, '-')}`,
    `/${groups.map((group) => `O=${subjectPart(group)}/`).join('')}CN=${subjectPart(user)}`,
    ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=clientAuth'],
  );
  const issueLoopbackServer = (name: string): CertificateFiles => issue(directory, `server-${name.replace(/[^A-Za-z0-9-]/g, '-')}`, `/CN=${subjectPart(name)}`, [
    'subjectAltName=IP:127.0.0.1', 'basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth',
  ]);
  const serviceAccountKeyFile = join(directory, 'service-account.key');
  const serviceAccountPublicKeyFile = join(directory, 'service-account.pub');
  openssl(['ecparam', '-genkey', '-name', 'prime256v1', '-noout', '-out', serviceAccountKeyFile]);
  openssl(['ec', '-in', serviceAccountKeyFile, '-pubout', '-out', serviceAccountPublicKeyFile]);
  return {
    caFile: join(directory, 'ca.crt'),
    apiServer,
    admin: issueClient('key-server-test-admin', ['system:masters']),
    serviceAccountKeyFile,
    serviceAccountPublicKeyFile,
    issueClient,
    issueLoopbackServer,
  };
}
