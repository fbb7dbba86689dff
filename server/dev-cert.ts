// Self-signed development certificates made with openssl, so `npm start` serves HTTPS on a fresh machine.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What to put in a self-signed certificate. */
export interface SelfSignedCertificateOptions {
  /** Directory for the files; created if missing. */
  readonly directory: string;
  /** Subject common name; also a DNS subjectAltName (clients check the SAN, not the CN). @default 'localhost' */
  readonly commonName?: string;
  /** Days of validity. @default 30 */
  readonly days?: number;
  /** Base name of the files: `<name>.crt` and `<name>.key`. @default 'tls' */
  readonly name?: string;
  /** Extra subjectAltName entries, e.g. `IP:127.0.0.1`. @default ['DNS:localhost', 'IP:127.0.0.1', 'IP:::1'] */
  readonly subjectAltNames?: readonly string[];
}

/** Paths of a written certificate and key. */
export interface CertificateFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

/**
 * Writes a new self-signed certificate and key (ECDSA P-256: small, fast handshakes, accepted by curl and browsers).
 * Always a new key and a random serial, so two calls give two different certificates (the reload tests rely on it).
 */
export function createSelfSignedCertificate(options: SelfSignedCertificateOptions): CertificateFiles {
  const commonName = options.commonName ?? 'localhost';
  const days = options.days ?? 30;
  if (!/^[A-Za-z0-9.*-]{1,64}$/.test(commonName)) {
    throw new Error(`commonName must be a host name, got "${commonName}"`);
  }
  if (!Number.isInteger(days) || days < 1) {
    throw new Error(`days must be a positive integer, got ${days}`);
  }
  const subjectAltNames = options.subjectAltNames ?? ['DNS:localhost', 'IP:127.0.0.1', 'IP:::1'];
  const names = [...new Set([`DNS:${commonName}`, ...subjectAltNames])];
  mkdirSync(options.directory, { recursive: true });
  const name = options.name ?? 'tls';
  const certFile = join(options.directory, `${name}.crt`);
  const keyFile = join(options.directory, `${name}.key`);
  execFileSync(
    'openssl',
    [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyFile, '-out', certFile, '-days', String(days), '-subj', `/CN=${commonName}`,
      '-addext', `subjectAltName=${names.join(',')}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  chmodSync(keyFile, 0o600);
  return { certFile, keyFile };
}

/** True when both files exist and the certificate is valid for at least another day. */
export function isUsableCertificate(files: CertificateFiles, now: Date = new Date()): boolean {
  if (!existsSync(files.certFile) || !existsSync(files.keyFile)) {
    return false;
  }
  try {
    const notAfter = new Date(new X509Certificate(readFileSync(files.certFile)).validTo);
    return notAfter.getTime() - now.getTime() > 24 * 3600 * 1000;
  } catch {
    return false;
  }
}

/** `node lib/server/dev-cert.js [directory]`: create .dev-certs/tls.{crt,key} unless a usable pair is there. */
function main(): void {
  const argument = process.argv[2];
  // Without this, `--help` (or any mistyped flag) would be taken as a folder name and get a certificate written into it.
  if (argument === '--help' || argument === '-h') {
    process.stdout.write('usage: node lib/server/dev-cert.js [directory]\n  writes <directory>/tls.crt and tls.key (default .dev-certs) unless a usable pair is there\n');
    return;
  }
  if (argument !== undefined && argument.startsWith('-')) {
    process.stderr.write(`dev-cert: unknown option ${argument}; usage: node lib/server/dev-cert.js [directory]\n`);
    process.exitCode = 2;
    return;
  }
  const directory = argument ?? '.dev-certs';
  const files = { certFile: join(directory, 'tls.crt'), keyFile: join(directory, 'tls.key') };
  if (isUsableCertificate(files)) {
    return;
  }
  try {
    createSelfSignedCertificate({ directory, commonName: 'localhost', days: 365 });
  } catch (error) {
    process.stderr.write(`dev-cert: could not create a development certificate with openssl: ${(error as Error).message}\n`);
    process.exit(1);
  }
  process.stdout.write(
    `${JSON.stringify({ time: new Date().toISOString(), level: 'info', msg: 'created a self-signed development certificate', certFile: files.certFile })}\n`,
  );
}

if (require.main === module) {
  main();
}
