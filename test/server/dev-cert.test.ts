// Development certificates: made with openssl when missing, valid for localhost, reused when still good.
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSelfSignedCertificate, isUsableCertificate } from '../../server/dev-cert';
import { makeTempDirectory } from './helpers/tls';

describe('createSelfSignedCertificate', () => {
  const temp = makeTempDirectory();

  afterAll(() => temp.remove());

  it('writes a certificate for localhost and 127.0.0.1 with a key only its owner can read', () => {
    const files = createSelfSignedCertificate({ directory: join(temp.directory, 'new'), days: 3 });
    const certificate = new X509Certificate(readFileSync(files.certFile));
    expect(certificate.subject).toBe('CN=localhost');
    expect(certificate.checkHost('localhost')).toBe('localhost');
    expect(certificate.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(new Date(certificate.validTo).getTime() - Date.now()).toBeGreaterThan(2 * 24 * 3600 * 1000);
    expect(statSync(files.keyFile).mode & 0o077).toBe(0);
  });

  it('makes a different certificate on every call', () => {
    const first = createSelfSignedCertificate({ directory: temp.directory, name: 'a' });
    const second = createSelfSignedCertificate({ directory: temp.directory, name: 'b' });
    expect(new X509Certificate(readFileSync(first.certFile)).serialNumber).not.toBe(
      new X509Certificate(readFileSync(second.certFile)).serialNumber,
    );
  });

  it('rejects a common name that is not a host name', () => {
    expect(() => createSelfSignedCertificate({ directory: temp.directory, commonName: 'a/b' })).toThrow('commonName must be a host name');
  });
});

describe('isUsableCertificate', () => {
  const temp = makeTempDirectory();

  afterAll(() => temp.remove());

  it('accepts a pair valid for more than a day', () => {
    const files = createSelfSignedCertificate({ directory: temp.directory, days: 30 });
    expect(isUsableCertificate(files)).toBe(true);
  });

  it('refuses a pair that expires within a day, so npm start makes a new one', () => {
    const files = createSelfSignedCertificate({ directory: temp.directory, name: 'short', days: 30 });
    expect(isUsableCertificate(files, new Date(Date.now() + 29.5 * 24 * 3600 * 1000))).toBe(false);
  });

  it('refuses missing or unreadable files', () => {
    const garbage = join(temp.directory, 'garbage.crt');
    writeFileSync(garbage, 'not a certificate');
    expect(isUsableCertificate({ certFile: join(temp.directory, 'missing.crt'), keyFile: garbage })).toBe(false);
    expect(isUsableCertificate({ certFile: garbage, keyFile: garbage })).toBe(false);
  });
});
