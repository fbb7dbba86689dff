// A throwaway CA and a serving certificate it signs, made with openssl in a temp directory, so the scrape verifies TLS for real.
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The files of a CA-signed serving certificate. */
export interface CaSignedCertificate {
  /** The CA certificate: what the ServiceMonitor reads from `ca.crt` of the TLS Secret. */
  readonly caFile: string;
  readonly caPem: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/** Options of {@link createCaSignedCertificate}. */
export interface CaSignedCertificateOptions {
  /** Directory for the files (a temp directory the caller removes). */
  readonly directory: string;
  /** DNS subjectAltNames of the serving certificate, e.g. the Certificate's `dnsNames`; the first is also the CN. */
  readonly dnsNames: readonly string[];
  /**
   * Days of validity. Above the 14-day KeyServerCertificateExpiringSoon threshold, so a healthy run stays silent.
   * @default 30
   */
  readonly days?: number;
}

function openssl(args: readonly string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * A new CA (ECDSA P-256) and a serving certificate for `dnsNames` signed by it. The serving certificate is not
 * self-signed on purpose: a client trusting only the CA proves the chain is checked, as in the cluster where
 * cert-manager's CA issuer signs the key server's certificate.
 */
export function createCaSignedCertificate(options: CaSignedCertificateOptions): CaSignedCertificate {
  const { directory, dnsNames } = options;
  const days = String(options.days ?? 30);
  if (dnsNames.length === 0 || dnsNames.some((name) => !/^[A-Za-z0-9.-]{1,253}$/.test(name))) {
    throw new Error(`dnsNames must list host names, got ${JSON.stringify(dnsNames)}`);
  }
  const file = (name: string) => join(directory, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl([
    'req', '-x509', ...ec, '-keyout', file('ca.key'), '-out', file('ca.crt'), '-days', days, '-subj', '/CN=key-server e2e test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  openssl(['req', ...ec, '-keyout', file('tls.key'), '-out', file('tls.csr'), '-subj', `/CN=${dnsNames[0]}`]);
  writeFileSync(file('tls.ext'), [
    `subjectAltName=${dnsNames.map((name) => `DNS:${name}`).join(',')}`,
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=serverAuth',
  ].join('\n'));
  openssl([
    'x509', '-req', '-in', file('tls.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial',
    '-out', file('tls.crt'), '-days', days, '-extfile', file('tls.ext'),
  ]);
  chmodSync(file('tls.key'), 0o600);
  chmodSync(file('ca.key'), 0o600);
  return { caFile: file('ca.crt'), caPem: readFileSync(file('ca.crt'), 'utf8'), certFile: file('tls.crt'), keyFile: file('tls.key') };
}
