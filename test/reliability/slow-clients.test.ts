// Slow and idle clients: a slowloris is cut off within the headers timeout, and 500 idle connections do not stop
// other clients from getting keys.
import * as net from 'node:net';
import * as tls from 'node:tls';
import { fetchText, mapConcurrently } from '../server/helpers/http';
import { startTestServer } from '../server/helpers/server';
import { createTestCertificate, makeTempDirectory } from '../server/helpers/tls';

describe('slow clients', () => {
  it('cuts off a client sending its headers one byte a second within the headers timeout', async () => {
    // A 2 s headers timeout (checked every 250 ms) instead of the default 10 s keeps the test short; same mechanism.
    const headersTimeoutMs = 2000;
    const running = await startTestServer({}, { limits: { headersTimeoutMs, timeoutCheckIntervalMs: 250 } });
    const socket = net.connect(running.addresses.port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    const request = 'GET /key/16 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ' + 'a'.repeat(100);
    let sentBytes = 0;
    await new Promise((resolve) => socket.once('connect', resolve));
    // The clock starts at the first byte: that is when Node starts timing the request's headers.
    const startedAt = Date.now();
    socket.write(request[sentBytes++]);
    // Bounded: one byte a second for at most 10 s, stopping when the server closes.
    const ticker = setInterval(() => {
      if (sentBytes < request.length && !socket.destroyed) socket.write(request[sentBytes++]);
    }, 1000);
    try {
      const closedAfterMs = await new Promise<number>((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error('the slow client was never cut off')), 10_000);
        socket.on('close', () => {
          clearTimeout(deadline);
          resolve(Date.now() - startedAt);
        });
        socket.on('error', () => undefined);
      });
      console.log(`slowloris: ${sentBytes} bytes at 1 byte/s, cut off after ${closedAfterMs} ms (headers timeout ${headersTimeoutMs} ms)`);
      // The timeout plus one check interval, and margin for a busy machine.
      expect(closedAfterMs).toBeLessThanOrEqual(headersTimeoutMs + 250 + 500);
      expect(closedAfterMs).toBeGreaterThanOrEqual(headersTimeoutMs - 100);
      expect(received === '' || received.startsWith('HTTP/1.1 408')).toBe(true);
      expect(received).not.toMatch(/HTTP\/1\.1 200/);
    } finally {
      clearInterval(ticker);
      socket.destroy();
      await running.stop();
    }
  });

  it('serves keys to other clients while 500 idle connections (250 raw TCP, 250 finished TLS handshakes) stay open', async () => {
    const { directory, remove } = makeTempDirectory();
    const certificate = createTestCertificate(directory);
    // A cap above the 500 held open: this is about idle connections below the cap not slowing anyone down
    // (connection-flood.test.ts covers thousands of them against the default cap of 64).
    const running = await startTestServer({ tls: certificate, maxConnections: 600 });
    const idle: net.Socket[] = [];
    try {
      const port = running.addresses.port;
      for (let index = 0; index < 250; index++) {
        const socket = net.connect(port, '127.0.0.1');
        socket.on('error', () => undefined);
        idle.push(socket);
      }
      await mapConcurrently(250, 25, () => new Promise<void>((resolve, reject) => {
        const socket = tls.connect({ port, host: '127.0.0.1', ca: certificate.certPem, servername: 'localhost' }, () => resolve());
        socket.on('error', reject);
        idle.push(socket);
      }));
      const startedAt = Date.now();
      const durations: number[] = [];
      const responses = await mapConcurrently(200, 10, async () => {
        const requestStartedAt = Date.now();
        const response = await fetchText(`${running.url.replace('localhost', '127.0.0.1')}/key/16`, { ca: certificate.certPem, timeoutMs: 5000 });
        durations.push(Date.now() - requestStartedAt);
        return response;
      });
      const stillOpen = idle.filter((socket) => !socket.destroyed).length;
      durations.sort((a, b) => a - b);
      const p99 = durations[Math.floor(durations.length * 0.99) - 1];
      console.log(`idle flood: ${stillOpen} idle connections open, 200 keys over new TLS connections in ${Date.now() - startedAt} ms, 0 errors, p99 ${p99} ms`);
      expect(responses.map((response) => response.status)).toEqual(new Array(200).fill(200));
      expect(stillOpen).toBe(500);
      expect(p99).toBeLessThan(1000);
    } finally {
      for (const socket of idle) socket.destroy();
      await running.stop();
      remove();
    }
  });
});
