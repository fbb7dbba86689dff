// Metric names, labels and cardinality, read back from /metrics over real sockets.
import { writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { handlers, metricNames as names } from '../../server/metric-catalogue';
import { createRandomPool } from '../../server/keys';
import { createServerMetrics, methodLabel, rejectionStatus } from '../../server/metrics';
import { createRequestListener } from '../../server/routes';
import { rawExchange } from './helpers/raw';
import { fetchText, mapConcurrently, parsePrometheusText, sampleValue, samplesOf, type Sample } from './helpers/http';
import { createCapturingLogger, startTestServer, testConfig, type RunningTestServer } from './helpers/server';
import { createTestCertificate, makeTempDirectory } from './helpers/tls';

async function scrape(url: string): Promise<Sample[]> {
  const response = await fetchText(`${url}/metrics`);
  expect(response.status).toBe(200);
  return parsePrometheusText(response.body);
}

/**
 * On one connection (plain TCP, or TLS when `secure`): sends GET /health, waits for its whole answer, then sends
 * `second`, and resolves with everything received until the server closes the connection.
 */
function keepAliveExchange(port: number, secure: boolean, second: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const onConnect = (): void => void socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n');
    const socket = secure
      ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, onConnect)
      : net.connect(port, '127.0.0.1', onConnect);
    let received = '';
    let sentSecond = false;
    socket.setTimeout(5_000, () => socket.destroy(new Error(`no answer within 5 s; received: ${received}`)));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      // The /health body is "ok\n": once it is in, the first response is complete and the connection idle.
      if (!sentSecond && received.endsWith('\r\n\r\nok\n')) {
        sentSecond = true;
        socket.write(second);
      }
    });
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
  });
}

describe('rejectionStatus', () => {
  it.each([
    ['HPE_HEADER_OVERFLOW', 431],
    ['ERR_HTTP_REQUEST_TIMEOUT', 408],
    ['HPE_INVALID_METHOD', 400],
    ['HPE_UNEXPECTED_CONTENT_LENGTH', 400],
    [undefined, 400],
    ['ECONNRESET', undefined],
    ['EPIPE', undefined],
    ['ERR_TLS_HANDSHAKE_TIMEOUT', undefined],
    ['HPE_PAUSED', undefined],
    ['HPE_CHUNK_EXTENSIONS_OVERFLOW', 413],
    ['ERR_SSL_WRONG_VERSION_NUMBER', undefined],
  ])('answers parser error %s with %s', (code, status) => {
    expect(rejectionStatus(code)).toBe(status);
  });
});

describe('metrics', () => {
  let running: RunningTestServer;

  beforeEach(async () => {
    running = await startTestServer();
  });

  afterEach(() => running.stop());

  it('counts requests by status code, route template and method, never the raw path', async () => {
    await fetchText(`${running.url}/key/16`);
    await fetchText(`${running.url}/key/17`);
    await fetchText(`${running.url}/key/abc`);
    await fetchText(`${running.url}/nowhere/${Date.now()}`);
    await fetchText(`${running.url}/health`, { method: 'POST' });
    const samples = await scrape(running.url);
    const key = handlers.key;
    expect(sampleValue(samples, names.httpRequestsTotal, { code: '200', handler: key, method: 'GET' })).toBe(2);
    expect(sampleValue(samples, names.httpRequestsTotal, { code: '400', handler: key, method: 'GET' })).toBe(1);
    expect(sampleValue(samples, names.httpRequestsTotal, { code: '404', handler: 'unmatched', method: 'GET' })).toBe(1);
    expect(sampleValue(samples, names.httpRequestsTotal, { code: '405', handler: '/health', method: 'POST' })).toBe(1);
    const handlerValues = new Set(samplesOf(samples, names.httpRequestsTotal).map((sample) => sample.labels.handler));
    for (const handler of handlerValues) {
      expect(Object.values(handlers)).toContain(handler);
    }
  });

  it('counts requests the HTTP parser refuses (431 oversized headers, 400 malformed) while answering them as Node does', async () => {
    const before = await scrape(running.url);
    for (const code of ['400', '408', '431']) {
      expect(sampleValue(before, names.httpRequestsRejectedTotal, { code })).toBe(0);
    }
    const oversized = await fetchText(`${running.url}/key/16`, { headers: { 'X-Padding': 'a'.repeat(10_000) } });
    expect(oversized.status).toBe(431);
    const malformed = await rawExchange(running.addresses.port, 'NOT A REQUEST\r\n\r\n');
    expect(malformed.closedByServer).toBe(true);
    expect(malformed.received).toMatch(/^HTTP\/1\.1 400 Bad Request\r\nCache-Control: no-store\r\nConnection: close\r\nContent-Length: 0\r\nX-Request-Id: [0-9a-f-]{36}\r\n\r\n$/);
    const after = await scrape(running.url);
    expect(sampleValue(after, names.httpRequestsRejectedTotal, { code: '431' })).toBe(1);
    expect(sampleValue(after, names.httpRequestsRejectedTotal, { code: '400' })).toBe(1);
    expect(sampleValue(after, names.httpRequestsRejectedTotal, { code: '408' })).toBe(0);
  });

  it.each([
    ['plain HTTP', false],
    ['TLS', true],
  ])('answers and counts a 431 on a %s keep-alive connection that already carried a response', async (_name, secure) => {
    const temp = makeTempDirectory();
    const certificate = createTestCertificate(temp.directory);
    const server = await startTestServer(secure ? { tls: { certFile: certificate.certFile, keyFile: certificate.keyFile } } : {});
    try {
      const oversized = `GET /key/16 HTTP/1.1\r\nHost: localhost\r\nX-Padding: ${'a'.repeat(10_000)}\r\n\r\n`;
      const received = await keepAliveExchange(server.addresses.port, secure, oversized);
      expect(received).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(received).toMatch(/\r\n\r\nok\nHTTP\/1\.1 431 Request Header Fields Too Large\r\nCache-Control: no-store\r\nConnection: close\r\nContent-Length: 0\r\nX-Request-Id: [0-9a-f-]{36}\r\n\r\n$/);
      const response = await fetchText(`${server.url}/metrics`);
      expect(sampleValue(parsePrometheusText(response.body), names.httpRequestsRejectedTotal, { code: '431' })).toBe(1);
    } finally {
      await server.stop();
      temp.remove();
    }
  });

  it('observes request durations as a histogram with the same labels', async () => {
    await fetchText(`${running.url}/key/16`);
    const samples = await scrape(running.url);
    const labels = { code: '200', handler: handlers.key, method: 'GET' };
    expect(sampleValue(samples, `${names.httpRequestDurationSeconds}_count`, labels)).toBe(1);
    expect(sampleValue(samples, `${names.httpRequestDurationSeconds}_bucket`, { ...labels, le: '+Inf' })).toBe(1);
  });

  it('exports key generation counts, durations and the length distribution', async () => {
    await fetchText(`${running.url}/key/100`);
    await fetchText(`${running.url}/key/1024`);
    const samples = await scrape(running.url);
    expect(sampleValue(samples, names.keyGenerationsTotal, { length: '128' })).toBe(1);
    expect(sampleValue(samples, names.keyGenerationsTotal, { length: '1024' })).toBe(1);
    expect(sampleValue(samples, `${names.keyGenerationDurationSeconds}_count`)).toBe(2);
    const buckets = samplesOf(samples, `${names.keyLengthDistribution}_bucket`);
    expect(buckets.map((sample) => sample.labels.le)).toEqual([
      '51.2', '102.4', '153.6', '204.8', '256', '307.2', '358.4', '409.6', '460.8', '512',
      '563.2', '614.4', '665.6', '716.8', '768', '819.2', '870.4', '921.6', '972.8', '1024', '+Inf',
    ]);
    expect(sampleValue(samples, `${names.keyLengthDistribution}_bucket`, { le: '102.4' })).toBe(1);
    expect(sampleValue(samples, `${names.keyLengthDistribution}_sum`)).toBe(1124);
  });

  it('keeps key_generations_total to 11 series when every length from 1 to 1024 is requested', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    try {
      const statuses = await mapConcurrently(1024, 8, async (index) => (await fetchText(`${running.url}/key/${index + 1}`, { agent })).status);
      expect(statuses.every((status) => status === 200)).toBe(true);
    } finally {
      agent.destroy();
    }
    const series = samplesOf(await scrape(running.url), names.keyGenerationsTotal);
    const lengths = series.map((sample) => Number(sample.labels.length)).sort((a, b) => a - b);
    expect(lengths).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]);
    expect(series.reduce((total, sample) => total + sample.value, 0)).toBe(1024);
  });

  it('reports requests in flight, counting the scrape itself', async () => {
    const samples = await scrape(running.url);
    expect(sampleValue(samples, names.httpRequestsInFlight)).toBe(1);
  });

  it('includes the process and Node.js default metrics', async () => {
    const samples = await scrape(running.url);
    expect(samplesOf(samples, 'process_cpu_seconds_total')).toHaveLength(1);
    expect(samplesOf(samples, 'process_resident_memory_bytes')).toHaveLength(1);
    expect(samplesOf(samples, 'nodejs_eventloop_lag_seconds')).toHaveLength(1);
  });

  it('exports no certificate expiry over plain HTTP and both reload results at zero', async () => {
    const text = (await fetchText(`${running.url}/metrics`)).body;
    expect(text).not.toContain(names.tlsCertificateExpiryTimestampSeconds);
    const samples = parsePrometheusText(text);
    expect(sampleValue(samples, names.tlsCertificateReloadsTotal, { result: 'success' })).toBe(0);
    expect(sampleValue(samples, names.tlsCertificateReloadsTotal, { result: 'failure' })).toBe(0);
  });

  it('folds unknown methods into OTHER so clients cannot create series', () => {
    expect(['GET', 'HEAD', 'POST', 'PROPFIND', 'constructor', undefined].map(methodLabel)).toEqual([
      'GET', 'HEAD', 'POST', 'OTHER', 'OTHER', 'OTHER',
    ]);
  });
});

describe('protocol edge metrics', () => {
  it('exports every new series at 0 from the start, with bounded label values', async () => {
    const temp = makeTempDirectory();
    const tokenFile = `${temp.directory}/tokens`;
    writeFileSync(tokenFile, 'a\nb\n');
    const running = await startTestServer({ tls: createTestCertificate(temp.directory), metricsPort: 0, authTokenFile: tokenFile, rateLimit: 10 });
    try {
      const samples = parsePrometheusText((await fetchText(`${running.addresses.metricsUrl as string}/metrics`)).body);
      const labelsOf = (name: string, label: string) => samplesOf(samples, name).map((sample) => sample.labels[label]).sort();
      expect(labelsOf(names.httpRequestsRejectedTotal, 'code')).toEqual(['400', '405', '408', '413', '417', '431']);
      expect(labelsOf(names.httpRequestsUnansweredTotal, 'reason')).toEqual(['backlog_limit', 'client_gone', 'drain_deadline']);
      expect(labelsOf(names.httpConnectionsClosedTotal, 'reason')).toEqual(['drain_deadline', 'h2_abuse', 'idle_evicted', 'max_connections', 'send_timeout']);
      expect(labelsOf(names.httpConnectionsTotal, 'protocol')).toEqual(['h2', 'http/1.1']);
      expect(labelsOf(names.rateLimitedRequestsTotal, 'client')).toEqual(['anonymous', 'authorised', 'unauthenticated']);
      expect(sampleValue(samples, names.authTokensLoaded)).toBe(2);
      // The scrape's own connection is open while the server renders it.
      expect(sampleValue(samples, names.httpOpenConnections)).toBe(1);
    } finally {
      await running.stop();
      temp.remove();
    }
  });
});

describe('in-flight gauge', () => {
  it('drops back to 0 when a request fails after its headers were sent and the connection is cut', async () => {
    const metrics = createServerMetrics({ maxSize: 1024, tls: false, accessControl: false });
    // A fault after writeHead: the only way to reach the handler's "headers already sent" branch.
    const failing = Object.assign(Object.create(metrics) as typeof metrics, {
      recordRequest() {
        throw new Error('injected failure after the headers were sent');
      },
    });
    const { logger, records } = createCapturingLogger();
    const listener = createRequestListener(
      { config: testConfig(), metrics: failing, pool: createRandomPool(65536), logger, isReady: () => true, isDraining: () => false },
      'all',
    );
    const server = http.createServer(listener);
    server.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    try {
      const { port } = server.address() as net.AddressInfo;
      for (let index = 0; index < 3; index++) {
        await fetchText(`http://127.0.0.1:${port}/health`).catch(() => undefined);
      }
      expect(records.filter((record) => record.msg === 'request failed')).toHaveLength(3);
      const inFlight = await metrics.registry.getSingleMetric(names.httpRequestsInFlight)?.get();
      expect(inFlight?.values[0]?.value).toBe(0);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('fault injection', () => {
  it('answers every /key request with 500 at ratio 1 and counts them as code 500', async () => {
    const running = await startTestServer({ faultErrorRatio: 1 });
    try {
      const responses = await Promise.all([1, 2, 3].map(() => fetchText(`${running.url}/key/16`)));
      expect(responses.map((response) => response.status)).toEqual([500, 500, 500]);
      expect(responses[0].body).not.toMatch(/[0-9a-f]{32}/);
      expect((await fetchText(`${running.url}/health`)).status).toBe(200);
      const samples = await scrape(running.url);
      expect(sampleValue(samples, names.httpRequestsTotal, { code: '500', handler: handlers.key, method: 'GET' })).toBe(3);
      expect(running.logs.some((record) => record.level === 'warn' && record.msg.includes('FAULT INJECTION'))).toBe(true);
    } finally {
      await running.stop();
    }
  });

  it('delays /key answers by the configured latency and records it', async () => {
    const running = await startTestServer({ faultLatency: 0.2 });
    try {
      const startedAt = Date.now();
      expect((await fetchText(`${running.url}/key/16`)).status).toBe(200);
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(190);
      const samples = await scrape(running.url);
      const labels = { code: '200', handler: handlers.key, method: 'GET' };
      expect(sampleValue(samples, `${names.httpRequestDurationSeconds}_sum`, labels)).toBeGreaterThanOrEqual(0.19);
    } finally {
      await running.stop();
    }
  });

  it('ignores any attempt to switch faults on through a request', async () => {
    const running = await startTestServer();
    try {
      const response = await fetchText(`${running.url}/key/16?fault-error-ratio=1&faultErrorRatio=1`, {
        headers: { 'X-Fault-Error-Ratio': '1' },
      });
      expect(response.status).toBe(200);
    } finally {
      await running.stop();
    }
  });
});
