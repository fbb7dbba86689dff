// TLS: old protocol versions, weak TLS 1.2 suites, client renegotiation and plaintext HTTP are refused by the server;
// the certificate on the wire is the file's.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as tls from 'node:tls';
import { startTestServer, type RunningTestServer } from '../server/helpers/server';
import { createRsaTestCertificate, createTestCertificate, makeTempDirectory, type TestCertificate } from '../server/helpers/tls';
import { rawExchange, statusCodes } from '../server/helpers/raw';
import { TLS12_CIPHERS } from '../../server/tls';

/** Outcome of one handshake attempt: the negotiated protocol, or the error code. */
function handshake(port: number, options: tls.ConnectionOptions): Promise<{ protocol?: string | null; error?: string; peer?: tls.DetailedPeerCertificate }> {
  return new Promise((resolve) => {
    const socket = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', rejectUnauthorized: false, ...options }, () => {
      resolve({ protocol: socket.getProtocol(), peer: socket.getPeerCertificate(true) });
      socket.destroy();
    });
    socket.setTimeout(5000, () => socket.destroy(new Error('handshake timed out')));
    socket.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
  });
}

// SECLEVEL=0 lets this client offer TLS 1.0/1.1 at all (OpenSSL 3 refuses them on the client side by default),
// so a refusal can only come from the server.
const legacyClient = { ciphers: 'DEFAULT@SECLEVEL=0' };

describe('TLS hardening', () => {
  let running: RunningTestServer;
  let rsaServer: RunningTestServer;
  let certificate: TestCertificate;
  let remove: () => void;
  beforeAll(async () => {
    const temp = makeTempDirectory();
    remove = temp.remove;
    certificate = createTestCertificate(temp.directory);
    running = await startTestServer({ tls: certificate });
    rsaServer = await startTestServer({ tls: createRsaTestCertificate(temp.directory) });
  });
  afterAll(async () => {
    await running.stop();
    await rsaServer.stop();
    remove();
  });

  it.each(['TLSv1', 'TLSv1.1'] as const)('refuses a %s handshake with a protocol_version alert from the server', async (version) => {
    const result = await handshake(running.addresses.port, { ...legacyClient, minVersion: version, maxVersion: version });
    console.log(`${version}: refused with ${result.error}`);
    expect(result.protocol).toBeUndefined();
    expect(result.error).toBe('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');
  });

  it('accepts the same permissive client at TLS 1.2 and 1.3, so the refusals above are the server version floor', async () => {
    const tls12 = await handshake(running.addresses.port, { ...legacyClient, minVersion: 'TLSv1', maxVersion: 'TLSv1.2' });
    const tls13 = await handshake(running.addresses.port, { minVersion: 'TLSv1.3' });
    expect([tls12.protocol, tls13.protocol]).toEqual(['TLSv1.2', 'TLSv1.3']);
  });

  // Each offered alone, at TLS 1.2, by a client that would take it (SECLEVEL=0 lifts OpenSSL's client-side floor), to a
  // server whose certificate suits the suite (an RSA one for RSA suites): a refusal can only be the server's policy.
  it.each([
    ['AES256-GCM-SHA384', 'rsa', 'static RSA key exchange: no forward secrecy'],
    ['AES128-GCM-SHA256', 'rsa', 'static RSA key exchange: no forward secrecy'],
    ['AES128-SHA', 'rsa', 'static RSA, CBC with SHA-1'],
    ['AES256-SHA256', 'rsa', 'static RSA, CBC with SHA-256'],
    ['ECDHE-RSA-AES128-SHA', 'rsa', 'CBC with SHA-1'],
    ['ECDHE-RSA-AES256-SHA384', 'rsa', 'CBC with SHA-384'],
    ['DHE-RSA-AES128-GCM-SHA256', 'rsa', 'finite-field DHE'],
    ['DHE-RSA-CHACHA20-POLY1305', 'rsa', 'finite-field DHE'],
    ['ECDHE-ECDSA-AES128-SHA', 'ecdsa', 'CBC with SHA-1'],
    ['ECDHE-ECDSA-AES256-SHA384', 'ecdsa', 'CBC with SHA-384'],
  ] as const)('refuses TLS 1.2 with %s (%s certificate; %s) at the handshake', async (cipher, kind, _why) => {
    const port = kind === 'rsa' ? rsaServer.addresses.port : running.addresses.port;
    const result = await handshake(port, { ciphers: `${cipher}@SECLEVEL=0`, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
    expect([cipher, result.protocol]).toEqual([cipher, undefined]);
    expect(result.error).toBe('ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE');
  });

  it.each(TLS12_CIPHERS)('accepts TLS 1.2 with %s, so the refusals above are the cipher policy', async (cipher) => {
    const port = cipher.includes('ECDSA') ? running.addresses.port : rsaServer.addresses.port;
    const result = await handshake(port, { ciphers: cipher, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
    expect(result.error).toBeUndefined();
    expect(result.protocol).toBe('TLSv1.2');
  });

  it('prefers TLS 1.3 when the client offers it', async () => {
    expect((await handshake(running.addresses.port, {})).protocol).toBe('TLSv1.3');
  });

  it('refuses a renegotiation the client starts on a TLS 1.2 connection, and the connection serves no more', async () => {
    const outcome = await new Promise<{ renegotiation: string; key: string }>((resolve) => {
      const socket = tls.connect({ port: running.addresses.port, host: '127.0.0.1', servername: 'localhost', rejectUnauthorized: false, maxVersion: 'TLSv1.2' }, () => {
        socket.renegotiate({ rejectUnauthorized: false }, (error) => {
          const renegotiation = error === null ? 'renegotiated' : ((error as NodeJS.ErrnoException).code ?? error.message);
          let key = '';
          socket.on('data', (chunk: Buffer) => (key += chunk.toString('latin1')));
          socket.on('close', () => resolve({ renegotiation, key }));
          socket.on('error', () => undefined);
          if (!socket.destroyed) socket.write('GET /key/16 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
          else resolve({ renegotiation, key });
        });
      });
      socket.setTimeout(5000, () => socket.destroy());
      socket.on('error', (error: NodeJS.ErrnoException) => resolve({ renegotiation: error.code ?? error.message, key: '' }));
    });
    console.log(`client-initiated renegotiation at TLS 1.2: ${outcome.renegotiation}`);
    expect(outcome.renegotiation).toBe('ERR_SSL_NO_RENEGOTIATION');
    expect(outcome.key).not.toMatch(/[0-9a-f]{32}/);
  });

  it('refuses plaintext HTTP on the HTTPS port: the connection closes and no key is sent', async () => {
    const exchange = await rawExchange(running.addresses.port, 'GET /key/16 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 5000);
    console.log(`plaintext HTTP to the HTTPS port: closed after ${exchange.elapsedMs} ms, answer ${JSON.stringify(exchange.received.split('\r\n')[0])}`);
    expect(exchange.closedByServer).toBe(true);
    expect(statusCodes(exchange.received).filter((code) => code < 400)).toEqual([]);
    expect(exchange.received).not.toMatch(/[0-9a-f]{32}/);
  });

  it('presents exactly the certificate in the files, whose key is the key file', async () => {
    const result = await handshake(running.addresses.port, { ca: certificate.certPem, rejectUnauthorized: true });
    const fromFile = new X509Certificate(readFileSync(certificate.certFile));
    expect(result.error).toBeUndefined();
    expect(result.peer?.raw.equals(fromFile.raw)).toBe(true);
    expect(result.peer?.fingerprint256).toBe(fromFile.fingerprint256);
    expect(fromFile.checkPrivateKey(createPrivateKey(readFileSync(certificate.keyFile)))).toBe(true);
    console.log(`certificate on the wire: SHA-256 ${fromFile.fingerprint256} = the file's`);
  });
});
