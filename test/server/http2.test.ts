// HTTP/2 beside HTTP/1.1 on one TLS port: both protocols get the same routes, headers, counting, access control and
// graceful shutdown (GOAWAY for HTTP/2).
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { promisify } from 'node:util';
import { handlers, metricNames as names } from '../../server/metric-catalogue';
import { closeH2, connectH2, h2Request } from './helpers/h2';
import { fetchText, parsePrometheusText, sampleValue } from './helpers/http';
import { startTestServer, type RunningTestServer } from './helpers/server';
import { createTestCertificate, makeTempDirectory, type TestCertificate } from './helpers/tls';

const run = promisify(execFile);

describe('HTTP/2 and HTTP/1.1 on one port', () => {
  const temp = makeTempDirectory();
  let certificate: TestCertificate;
  let running: RunningTestServer;

  async function scrape(): Promise<ReturnType<typeof parsePrometheusText>> {
    return parsePrometheusText((await fetchText(`${running.addresses.metricsUrl as string}/metrics`)).body);
  }

  beforeAll(async () => {
    certificate = createTestCertificate(temp.directory);
    running = await startTestServer({ tls: certificate, metricsPort: 0, accessLog: true });
  });

  afterAll(async () => {
    await running.stop();
    temp.remove();
  });

  it('gives curl --http2 a key over HTTP/2 and curl --http1.1 one over HTTP/1.1, on the same port', async () => {
    const versions: string[] = [];
    for (const flag of ['--http2', '--http1.1']) {
      const { stdout } = await run('curl', ['-s', '--cacert', certificate.certFile, '--resolve', `localhost:${running.addresses.port}:127.0.0.1`,
        flag, '-w', '\n%{http_version} %{http_code}', `https://localhost:${running.addresses.port}/key/32`]);
      const [body, outcome] = stdout.split('\n');
      expect(body).toMatch(/^[0-9a-f]{64}$/);
      versions.push(outcome);
    }
    expect(versions).toEqual(['2 200', '1.1 200']);
  });

  it('negotiates h2 with a client that offers only h2, and http/1.1 with one that offers none', async () => {
    const protocolOf = (ALPNProtocols?: string[]) => new Promise<string | false | null>((resolve, reject) => {
      const socket = tls.connect({ port: running.addresses.port, host: '127.0.0.1', servername: 'localhost', ca: certificate.certPem, ALPNProtocols }, () => {
        resolve(socket.alpnProtocol);
        socket.destroy();
      });
      socket.on('error', reject);
    });
    expect(await protocolOf(['h2'])).toBe('h2');
    expect(await protocolOf(['http/1.1', 'h2'])).toBe('h2');
    expect(await protocolOf(undefined)).toBe(false);
  });

  it('answers an HTTP/2 stream with the headers an HTTP/1.1 answer has', async () => {
    const session = await connectH2(running.url, { ca: certificate.certPem });
    try {
      const h2 = await h2Request(session, '/key/16');
      const h1 = await fetchText(`${running.url}/key/16`, { ca: certificate.certPem });
      expect(h2.status).toBe(200);
      expect(h2.body).toMatch(/^[0-9a-f]{32}$/);
      for (const header of ['cache-control', 'x-content-type-options', 'content-type', 'content-length', 'vary']) {
        expect([header, h2.headers[header]]).toEqual([header, h1.headers[header]]);
      }
      expect(h2.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      const head = await h2Request(session, '/key/16?format=base64', { ':method': 'HEAD' });
      expect([head.status, head.headers['content-length'], head.body]).toEqual([200, '24', '']);
      const refused = await h2Request(session, '/key/0', { accept: 'application/json' });
      expect([refused.status, JSON.parse(refused.body)]).toEqual([400, { error: expect.stringContaining('Invalid key length') }]);
    } finally {
      await closeH2(session);
    }
  });

  it('carries 100 key requests sent at once on one connection (32 streams at a time, as advertised), each a distinct key, each counted once', async () => {
    const before = sampleValue(await scrape(), names.httpRequestsTotal, { code: '200', handler: handlers.key, method: 'GET' });
    const session = await connectH2(running.url, { ca: certificate.certPem });
    try {
      const answers = await Promise.all(Array.from({ length: 100 }, () => h2Request(session, '/key/32')));
      expect(answers.map((answer) => answer.status)).toEqual(new Array(100).fill(200));
      expect(new Set(answers.map((answer) => answer.body)).size).toBe(100);
    } finally {
      await closeH2(session);
    }
    const samples = await scrape();
    expect(sampleValue(samples, names.httpRequestsTotal, { code: '200', handler: handlers.key, method: 'GET' }) - before).toBe(100);
    expect(sampleValue(samples, names.httpConnectionsTotal, { protocol: 'h2' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(samples, names.httpConnectionsTotal, { protocol: 'http/1.1' })).toBeGreaterThanOrEqual(1);
  });

  it('logs each stream with its protocol and request id, never the key', async () => {
    const session = await connectH2(running.url, { ca: certificate.certPem });
    try {
      const answer = await h2Request(session, '/key/24', { 'x-request-id': 'trace-h2-0001' });
      expect(answer.headers['x-request-id']).toBe('trace-h2-0001');
      const line = running.logs.find((record) => record.msg === 'request' && record.fields.requestId === 'trace-h2-0001');
      expect(line?.fields).toMatchObject({ protocol: 'HTTP/2', method: 'GET', path: '/key/24', code: 200 });
      expect(JSON.stringify(running.logs)).not.toContain(answer.body);
    } finally {
      await closeH2(session);
    }
  });

  it('refuses CONNECT over HTTP/2 with 405, counted as refused before routing', async () => {
    const before = sampleValue(await scrape(), names.httpRequestsRejectedTotal, { code: '405' });
    const session = await connectH2(running.url, { ca: certificate.certPem });
    try {
      const stream = session.request({ ':method': 'CONNECT', ':authority': 'example.com:443' });
      const status = await new Promise((resolve) => stream.on('response', (headers) => resolve(headers[':status'])));
      stream.close();
      expect(status).toBe(405);
    } finally {
      await closeH2(session);
    }
    expect(sampleValue(await scrape(), names.httpRequestsRejectedTotal, { code: '405' }) - before).toBe(1);
  });
});

describe('HTTP/2 access control and shutdown', () => {
  const temp = makeTempDirectory();
  afterAll(() => temp.remove());

  it('asks HTTP/2 clients for the same bearer token and applies the same rate limit', async () => {
    const certificate = createTestCertificate(temp.directory, { name: 'auth' });
    const tokenFile = join(temp.directory, 'tokens');
    writeFileSync(tokenFile, 'token-h2\n');
    const running = await startTestServer({ tls: certificate, authTokenFile: tokenFile, rateLimit: 1, rateLimitBurst: 2 });
    const session = await connectH2(running.url, { ca: certificate.certPem });
    try {
      const missing = await h2Request(session, '/key/16');
      expect([missing.status, missing.headers['www-authenticate']]).toEqual([401, 'Bearer realm="key-server"']);
      const statuses = [];
      for (let index = 0; index < 4; index++) {
        statuses.push((await h2Request(session, '/key/16', { authorization: 'Bearer token-h2' })).status);
      }
      expect(statuses).toEqual([200, 200, 429, 429]);
    } finally {
      await closeH2(session);
      await running.stop();
    }
  });

  it('sends GOAWAY to a session idle for the keep-alive timeout, as HTTP/1.1 closes an idle connection', async () => {
    const certificate = createTestCertificate(temp.directory, { name: 'idle' });
    const running = await startTestServer({ tls: certificate, keepAliveTimeout: 1 });
    const session = await connectH2(running.url, { ca: certificate.certPem });
    try {
      expect((await h2Request(session, '/key/8')).status).toBe(200);
      const idleSince = Date.now();
      const code = await new Promise<number>((resolve) => session.once('goaway', (received) => resolve(received)));
      const idleMs = Date.now() - idleSince;
      expect(code).toBe(http2.constants.NGHTTP2_NO_ERROR);
      // The timeout, plus at most one sweep (every second) and a busy machine's margin.
      expect(idleMs).toBeGreaterThanOrEqual(900);
      expect(idleMs).toBeLessThan(3500);
    } finally {
      session.destroy();
      await running.stop();
    }
  });

  it('sends GOAWAY on shutdown and lets the streams in flight finish', async () => {
    const certificate = createTestCertificate(temp.directory, { name: 'drain' });
    // Fault latency holds each /key stream for 300 ms, long enough to shut down under them.
    const running = await startTestServer({ tls: certificate, faultLatency: 0.3 });
    const session = await connectH2(running.url, { ca: certificate.certPem });
    const goaway = new Promise<number>((resolve) => session.once('goaway', (code) => resolve(code)));
    try {
      const inFlight = Array.from({ length: 5 }, () => h2Request(session, '/key/8'));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const stopped = running.stop();
      expect(await goaway).toBe(http2.constants.NGHTTP2_NO_ERROR);
      const answers = await Promise.all(inFlight);
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
      await stopped;
      expect(running.server.state).toBe('closed');
    } finally {
      session.destroy();
    }
  });
});
