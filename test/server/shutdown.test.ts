// Graceful shutdown: /ready turns 503 at once, in-flight requests complete, idle connections close, close() ends.
import * as http from 'node:http';
import * as net from 'node:net';
import { metricNames as names } from '../../server/metric-catalogue';
import { fetchText, freePort, parsePrometheusText, sampleValue, type TestResponse } from './helpers/http';
import { createKeyServer } from '../../server/server';
import { startTestServer, testConfig } from './helpers/server';
import { createTestCertificate, makeTempDirectory } from './helpers/tls';

/** Resolves with `promise`'s settling, or with 'timed out' after `ms` (so a hang fails the test with a clear value). */
function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timed out'> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timed out'>((resolve) => {
    timer = setTimeout(resolve, ms, 'timed out');
  });
  return Promise.race([promise, timedOut]).finally(() => clearTimeout(timer));
}

/** Waits, in bounded 20 ms steps, until the server reports `count` requests in flight. */
async function waitForInFlight(registry: import('prom-client').Registry, count: number): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const metric = await registry.getSingleMetric(names.httpRequestsInFlight)?.get();
    if ((metric?.values[0]?.value ?? 0) >= count) {
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(`never saw ${count} requests in flight`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('graceful shutdown', () => {
  it('answers /ready with 503 during the shutdown delay while still serving keys, and completes every in-flight request', async () => {
    // Fault latency holds each /key request in flight for 300 ms, long enough to close the server under them.
    const running = await startTestServer({ shutdownDelay: 0.5, faultLatency: 0.3 });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 5 });
    try {
      const inFlight: Array<Promise<TestResponse>> = [];
      for (let index = 0; index < 20; index++) {
        inFlight.push(fetchText(`${running.url}/key/16`, index % 2 === 0 ? { agent } : {}));
      }
      await waitForInFlight(running.server.registry, 10);

      const closed = running.stop();
      expect(running.server.state).toBe('draining');
      const ready = await fetchText(`${running.url}/ready`);
      expect(ready.status).toBe(503);
      const duringDelay = await fetchText(`${running.url}/key/8`);
      expect(duringDelay.status).toBe(200);
      expect(duringDelay.headers.connection).toBe('close');

      const responses = await Promise.all(inFlight);
      expect(responses.map((response) => response.status)).toEqual(new Array(20).fill(200));
      await closed;
      expect(running.server.state).toBe('closed');
      await expect(fetchText(`${running.url}/health`)).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      agent.destroy();
    }
  });

  it('closes idle keep-alive connections at once instead of waiting for their timeout', async () => {
    const running = await startTestServer({ shutdownDelay: 0, keepAliveTimeout: 60 });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
    try {
      await Promise.all([fetchText(`${running.url}/key/8`, { agent }), fetchText(`${running.url}/key/8`, { agent })]);
      const startedAt = Date.now();
      await running.stop();
      expect(Date.now() - startedAt).toBeLessThan(1000);
    } finally {
      agent.destroy();
    }
  });

  it('cuts requests still running at the drain deadline so shutdown always ends', async () => {
    const running = await startTestServer({ faultLatency: 30 }, { drainTimeout: 0.3 });
    const stuck = fetchText(`${running.url}/key/8`).then(
      () => 'answered',
      () => 'cut',
    );
    await waitForInFlight(running.server.registry, 1);
    const startedAt = Date.now();
    await running.stop();
    expect(Date.now() - startedAt).toBeLessThan(2000);
    expect(await stuck).toBe('cut');
  });

  it('logs and counts every request cut at the drain deadline, by request id, and the connections cut with them', async () => {
    const running = await startTestServer({ faultLatency: 30 }, { drainTimeout: 0.3 });
    const stuck = ['cut-1', 'cut-2'].map((id) => fetchText(`${running.url}/key/8`, { headers: { 'X-Request-Id': id } }).catch(() => 'cut'));
    await waitForInFlight(running.server.registry, 2);
    await running.stop();
    expect(await Promise.all(stuck)).toEqual(['cut', 'cut']);
    const cutLines = running.logs.filter((record) => record.msg === 'request cut at the drain deadline');
    expect(cutLines.map((record) => record.fields.requestId).sort()).toEqual(['cut-1', 'cut-2']);
    expect(cutLines.every((record) => record.level === 'warn' && record.fields.path === '/key/8')).toBe(true);
    const samples = parsePrometheusText(await running.server.registry.metrics());
    expect(sampleValue(samples, names.httpRequestsUnansweredTotal, { reason: 'drain_deadline' })).toBe(2);
    expect(sampleValue(samples, names.httpConnectionsClosedTotal, { reason: 'drain_deadline' })).toBe(2);
    expect(sampleValue(samples, names.httpRequestsInFlight)).toBe(0);
    expect(running.logs.find((record) => record.msg === 'drain deadline reached: cut what was still running')?.fields).toMatchObject({ requests: 2, connections: 2 });
  });

  it('cuts a TCP connection that never finished its TLS handshake at the drain deadline', async () => {
    const temp = makeTempDirectory();
    const certificate = createTestCertificate(temp.directory);
    const running = await startTestServer(
      { tls: { certFile: certificate.certFile, keyFile: certificate.keyFile } },
      { drainTimeout: 0.3 },
    );
    const scanner = net.connect(running.addresses.port, '127.0.0.1');
    try {
      const scannerClosed = new Promise<void>((resolve) => scanner.on('close', () => resolve()));
      scanner.on('error', () => undefined);
      await new Promise<void>((resolve) => scanner.once('connect', () => resolve()));
      // A full request on a second connection: the server has accepted the first by the time this is answered.
      expect((await fetchText(`${running.url}/health`)).status).toBe(200);

      const startedAt = Date.now();
      expect(await within(running.stop().then(() => 'closed'), 5000)).toBe('closed');
      expect(Date.now() - startedAt).toBeLessThan(300 + 1000);
      expect(await within(scannerClosed.then(() => 'cut'), 1000)).toBe('cut');
    } finally {
      scanner.destroy();
      temp.remove();
    }
  });

  it('closes a TCP connection that does not start its TLS handshake within the headers timeout', async () => {
    const temp = makeTempDirectory();
    const certificate = createTestCertificate(temp.directory);
    const running = await startTestServer(
      { tls: { certFile: certificate.certFile, keyFile: certificate.keyFile } },
      { limits: { headersTimeoutMs: 300 } },
    );
    const scanner = net.connect(running.addresses.port, '127.0.0.1');
    try {
      scanner.on('error', () => undefined);
      const startedAt = Date.now();
      const closedByServer = new Promise<string>((resolve) => scanner.on('close', () => resolve('closed')));
      expect(await within(closedByServer, 5000)).toBe('closed');
      expect(Date.now() - startedAt).toBeLessThan(300 + 1000);
    } finally {
      scanner.destroy();
      await running.stop();
      temp.remove();
    }
  });

  it('rejects listen() when the port is taken and releases the listener that did start', async () => {
    const occupant = await startTestServer();
    try {
      const server = createKeyServer(testConfig({ srvPort: occupant.addresses.port, metricsPort: 0 }));
      await expect(server.listen()).rejects.toThrow(/EADDRINUSE/);
      expect(server.state).toBe('closed');
    } finally {
      await occupant.stop();
    }
  });

  it('ends closed with nothing listening when close() comes while listen() is still binding its ports', async () => {
    const port = await freePort();
    const server = createKeyServer(testConfig({ srvPort: port }));
    const listening = server.listen();
    const closed = server.close();
    await expect(listening).rejects.toThrow(/closed before it started listening/);
    await closed;
    expect(server.state).toBe('closed');
    await expect(fetchText(`http://127.0.0.1:${port}/health`)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('moves from starting to serving to closed, and close() may be called twice', async () => {
    const server = createKeyServer(testConfig());
    expect(server.state).toBe('starting');
    await server.listen();
    expect(server.state).toBe('serving');
    await Promise.all([server.close(), server.close()]);
    expect(server.state).toBe('closed');
  });
});
