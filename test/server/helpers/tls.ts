// Throwaway certificates for tests: made with openssl in a temp directory, never committed, different every call.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSelfSignedCertificate } from '../../../server/dev-cert';

/** A certificate written to disk, with what a test needs to recognise it on the wire. */
export interface TestCertificate {
  readonly certFile: string;
  readonly keyFile: string;
  /** The certificate PEM: pass it as `ca` to trust exactly this certificate. */
  readonly certPem: string;
  /** Upper-case hex, as `X509Certificate.serialNumber` and `getPeerCertificate().serialNumber` report it. */
  readonly serialNumber: string;
  readonly notAfter: Date;
}

/** Options for {@link createTestCertificate}. */
export interface TestCertificateOptions {
  /** Subject CN (also a DNS SAN); 127.0.0.1 and localhost are always SANs. @default 'localhost' */
  readonly commonName?: string;
  /** Days of validity. @default 1 */
  readonly days?: number;
  /** Base name of the files (`<name>.crt`, `<name>.key`), to keep several pairs in one directory. @default 'tls' */
  readonly name?: string;
}

/** Creates a fresh self-signed certificate and key in `directory` (a new key and serial on every call). */
export function createTestCertificate(directory: string, options: TestCertificateOptions = {}): TestCertificate {
  const files = createSelfSignedCertificate({
    directory,
    commonName: options.commonName ?? 'localhost',
    days: options.days ?? 1,
    name: options.name ?? 'tls',
  });
  const certPem = readFileSync(files.certFile, 'utf8');
  const parsed = new X509Certificate(certPem);
  return { ...files, certPem, serialNumber: parsed.serialNumber, notAfter: new Date(parsed.validTo) };
}

/**
 * A self-signed RSA 2048 certificate for localhost and 127.0.0.1: TLS 1.2 suites with RSA key exchange or RSA
 * signatures can only be negotiated with one, so tests of which of them the server refuses need it (the development
 * certificate is ECDSA).
 */
export function createRsaTestCertificate(directory: string, name = 'rsa'): TestCertificate {
  const certFile = join(directory, `${name}.crt`);
  const keyFile = join(directory, `${name}.key`);
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ], { stdio: 'ignore' });
  const certPem = readFileSync(certFile, 'utf8');
  const parsed = new X509Certificate(certPem);
  return { certFile, keyFile, certPem, serialNumber: parsed.serialNumber, notAfter: new Date(parsed.validTo) };
}

/**
 * Puts `source`'s certificate and key at `target`'s paths the way cert-manager and editors do: write a temp file,
 * then rename over the old one, so a reader never sees half a file.
 */
export function installCertificate(source: { certFile: string; keyFile: string }, target: { certFile: string; keyFile: string }): void {
  replaceFile(target.certFile, readFileSync(source.certFile));
  replaceFile(target.keyFile, readFileSync(source.keyFile));
}

/** Atomically replaces `file` with `contents`. */
export function replaceFile(file: string, contents: Buffer | string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, contents, { mode: 0o600 });
  renameSync(temporary, file);
}

/** A new temp directory and a function that removes it (for afterAll). */
export function makeTempDirectory(prefix = 'key-server-test-'): { directory: string; remove: () => void } {
  const directory = mkdtempSync(join(tmpdir(), prefix));
  return { directory, remove: () => rmSync(directory, { recursive: true, force: true }) };
}
