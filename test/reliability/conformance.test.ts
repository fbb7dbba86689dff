// HTTP/1.1 conformance over raw sockets: what a hostile or merely unusual client sends, how each is answered, and that
// every answer is counted exactly once, carries no-store and a request id, and no key is made for a refused request.
import * as tls from 'node:tls';
import { handlers, metricNames as names } from '../../server/metric-catalogue';
import { fetchText, parsePrometheusText, sampleValue, samplesOf, type Sample } from '../server/helpers/http';
import { rawExchange, statusCodes } from '../server/helpers/raw';
import { startTestServer, type RunningTestServer } from '../server/helpers/server';
import { createTestCertificate, makeTempDirectory } from '../server/helpers/tls';

const KEY_RUN = /[0-9a-f]{32}/;

/** Writes `request` on a TLS connection and reads until the server closes it (or 5 s pass). */
function tlsExchange(port: number, request: string): Promise<{ received: string; closedByServer: boolean }> {
  return new Promise((resolve) => {
    let received = '';
    const socket = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => socket.write(request));
    const timer = setTimeout(() => finish(false), 5000);
    const finish = (closedByServer: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ received, closedByServer });
    };
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
  });
}

function total(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  return samplesOf(samples, name, labels).reduce((sum, sample) => sum + sample.value, 0);
}

describe('HTTP/1.1 conformance and accounting', () => {
  let running: RunningTestServer;
  const answers: Array<{ what: string; received: string }> = [];

  async function scrape(): Promise<Sample[]> {
    return parsePrometheusText((await fetchText(`${running.addresses.metricsUrl as string}/metrics`)).body);
  }

  beforeAll(async () => {
    running = await startTestServer({ metricsPort: 0 }, { limits: { headersTimeoutMs: 1000, requestTimeoutMs: 2000, timeoutCheckIntervalMs: 100 } });
  });

  afterAll(() => running.stop());

  it.each<[string, number, string]>([
    ['an absolute-form target (RFC 9112 §3.2.2: servers MUST accept it)', 200, 'GET http://keys.example/key/16 HTTP/1.1\r\nHost: keys.example\r\nConnection: close\r\n\r\n'],
    ['a second Host header', 400, 'GET /key/16 HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'],
    ['no Host header in HTTP/1.1', 400, 'GET /key/16 HTTP/1.1\r\n\r\n'],
    ['an HTTP/0.9 request line', 400, 'GET /key/16 HTTP/0.9\r\nHost: x\r\n\r\n'],
    ['a request line with no version', 400, 'GET /key/16\r\n\r\n'],
    ['HTTP/2.0 written as text', 400, 'GET /key/16 HTTP/2.0\r\nHost: x\r\n\r\n'],
    ['an unknown minor version (Node\'s parser)', 400, 'GET /key/16 HTTP/1.2\r\nHost: x\r\n\r\n'],
    ['Transfer-Encoding: xchunked', 400, 'GET /key/16 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n'],
    ['Transfer-Encoding: gzip, chunked', 400, 'GET /key/16 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n'],
    ['a chunked body on GET', 413, 'GET /key/16 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'],
    ['Content-Length: 50 GB on GET', 413, 'GET /key/16 HTTP/1.1\r\nHost: x\r\nContent-Length: 50000000000\r\n\r\n'],
    ['Expect: 100-continue with a body over the limit', 413, 'GET /key/16 HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n'],
    ['an unknown expectation', 417, 'GET /key/16 HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\n\r\n'],
    ['CONNECT', 405, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'],
    ['a malformed request line (Node\'s parser)', 400, 'NOT A REQUEST\r\n\r\n'],
    ['a 64 KiB header (Node\'s parser)', 431, `GET /key/16 HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(65536)}\r\n\r\n`],
  ])('answers %s with %d, no-store, a request id, no key, and closes when refusing', async (what, status, request) => {
    const exchange = await rawExchange(running.addresses.port, request, 5000);
    answers.push({ what, received: exchange.received });
    expect(statusCodes(exchange.received)).toEqual([status]);
    expect(exchange.received).toMatch(/\r\nCache-Control: no-store\r\n/i);
    expect(exchange.received).toMatch(/\r\nX-Request-Id: [0-9a-f-]{36}\r\n/i);
    if (status === 200) {
      expect(exchange.received).toMatch(/\r\n\r\n[0-9a-f]{32}$/);
    } else {
      expect(exchange.received).not.toMatch(KEY_RUN);
      expect(exchange.closedByServer).toBe(true);
      // Refused at once, never after reading a body: 50 GB used to be read and decrypted for 30 s.
      expect(exchange.elapsedMs).toBeLessThan(1000);
    }
  });

  it('answers a request whose ignored body stops short of its Content-Length once, then closes: no 408 for it later', async () => {
    // The request timeout here is 2 s: the old behaviour answered 200, then 408 for the same request at the timeout.
    const exchange = await rawExchange(running.addresses.port, 'GET /key/16 HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc', 4000);
    answers.push({ what: 'a body that stops short', received: exchange.received });
    expect(statusCodes(exchange.received)).toEqual([200]);
    expect(exchange.received).toMatch(/\r\nConnection: close\r\n/i);
    expect(exchange.closedByServer).toBe(true);
    expect(exchange.elapsedMs).toBeLessThan(1000);
  });

  it('answers a client whose headers stop coming with 408 at the headers timeout, counted', async () => {
    const exchange = await rawExchange(running.addresses.port, 'GET /key/16 HTTP/1.1\r\nHost: x\r\nX-Slow:', 5000);
    answers.push({ what: 'slow headers', received: exchange.received });
    expect(statusCodes(exchange.received)).toEqual([408]);
    expect(exchange.received).toMatch(/\r\nCache-Control: no-store\r\n/i);
  });

  it('closes a connection that never sent a byte at the headers timeout without a 408, and does not count it as refused', async () => {
    const before = sampleValue(await scrape(), names.httpRequestsRejectedTotal, { code: '408' });
    const exchange = await rawExchange(running.addresses.port, '', 5000);
    expect(exchange.closedByServer).toBe(true);
    expect(exchange.received).toBe('');
    expect(sampleValue(await scrape(), names.httpRequestsRejectedTotal, { code: '408' })).toBe(before);
  });

  it('counts every answer above exactly once: routed ones in http_requests_total, refused ones in http_requests_rejected_total', async () => {
    const samples = await scrape();
    const byCode = new Map<number, number>();
    for (const { received } of answers) {
      for (const code of statusCodes(received)) byCode.set(code, (byCode.get(code) ?? 0) + 1);
    }
    const routed = total(samples, names.httpRequestsTotal) - total(samples, names.httpRequestsTotal, { handler: handlers.metrics });
    const refused = total(samples, names.httpRequestsRejectedTotal);
    console.log(`conformance: ${answers.length} raw exchanges, answers by code ${JSON.stringify(Object.fromEntries(byCode))}; counted ${routed} routed + ${refused} refused`);
    expect(routed).toBe(byCode.get(200));
    expect(refused).toBe(answers.length - (byCode.get(200) ?? 0));
    for (const code of [400, 405, 408, 413, 417, 431]) {
      expect([code, sampleValue(samples, names.httpRequestsRejectedTotal, { code: String(code) })]).toEqual([code, byCode.get(code) ?? 0]);
    }
    expect(total(samples, names.keyGenerationsTotal)).toBe(byCode.get(200));
  });
});

describe('HTTP/1.1 pipelining', () => {
  const temp = makeTempDirectory();
  let running: RunningTestServer;

  beforeAll(async () => {
    running = await startTestServer({ tls: createTestCertificate(temp.directory), metricsPort: 0 });
  });

  afterAll(async () => {
    await running.stop();
    temp.remove();
  });

  async function counts(): Promise<{ keys: number; answered: number; unanswered: number }> {
    const samples = parsePrometheusText((await fetchText(`${running.addresses.metricsUrl as string}/metrics`)).body);
    return {
      keys: total(samples, names.keyGenerationsTotal),
      answered: sampleValue(samples, names.httpRequestsTotal, { code: '200', handler: handlers.key, method: 'GET' }),
      unanswered: total(samples, names.httpRequestsUnansweredTotal, { reason: 'backlog_limit' }),
    };
  }

  it('answers 10 pipelined requests all, in order, over TLS', async () => {
    const requests = Array.from({ length: 10 }, (_, index) => `GET /key/${index + 1} HTTP/1.1\r\nHost: x\r\n\r\n`).join('');
    const { received } = await tlsExchange(running.addresses.port, `${requests}GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    const bodies = [...received.matchAll(/\r\n\r\n([0-9a-f]+)(?=HTTP\/1\.1)/g)].map((match) => match[1].length);
    expect(statusCodes(received)).toEqual(new Array(11).fill(200));
    expect(bodies).toEqual(Array.from({ length: 10 }, (_, index) => 2 * (index + 1)));
  });

  it('past 16 waiting, closes the connection and makes no key for any request it did not answer', async () => {
    const before = await counts();
    // 400 requests in one write: about 14 KiB, one TLS record, parsed before any answer can leave.
    const { received, closedByServer } = await tlsExchange(running.addresses.port, 'GET /key/32 HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(400));
    const after = await counts();
    const delivered = statusCodes(received).length;
    console.log(`400 pipelined requests: ${delivered} answered in order, then closed; ${after.keys - before.keys} keys generated, ${after.unanswered - before.unanswered} counted unanswered (backlog_limit)`);
    expect(closedByServer).toBe(true);
    expect(delivered).toBeGreaterThanOrEqual(1);
    expect(delivered).toBeLessThanOrEqual(17);
    expect(after.keys - before.keys).toBe(delivered);
    expect(after.answered - before.answered).toBe(delivered);
    expect(after.unanswered - before.unanswered).toBe(400 - delivered);
  });
});
