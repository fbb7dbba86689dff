// Hostile input over real sockets: fuzzed requests, oversized headers and request smuggling never get a 5xx,
// a hang, a crash or a leaked internal.
import * as fc from 'fast-check';
import { metricNames as names } from '../../server/metric-catalogue';
import { fetchText, parsePrometheusText, samplesOf } from '../server/helpers/http';
import { startTestServer, type RunningTestServer } from '../server/helpers/server';
import { rawExchange, statusCodes } from '../server/helpers/raw';

/** Text that would show an internal: a stack frame, a source path, an error class name. */
const LEAK = /\bat [\w.<>]+ \(|node:internal|\/work\/|\/home\/|\/usr\/|\.[jt]s:\d+|\b(Type|Range|Reference|Syntax)Error\b/;

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'CONNECT', 'PROPFIND', 'get', 'G ET', ''];
const PERCENT = ['%00', '%2e%2e', '%2F', '%ff', '%', '%z', '%c0%af', '%25', '%0d%0a', '%u2215', '%3f', '%23'];

// Printable characters a request line may carry (no space), including every one that needs percent-encoding.
const printable = fc.string({ unit: fc.constantFrom(...'abcXYZ019-._~!$&\'()*+,;=:@/?#[]{}|\\^`"<>'.split('')), maxLength: 40 });
const anyText = fc.string({ unit: 'binary', maxLength: 40 });
const lengthText = fc.oneof(
  fc.integer({ min: -5, max: 70_000 }).map(String),
  fc.constantFrom('', '0', '00016', '16.0', '1e3', '0x10', ' 16', '+16', '99999999999999999999999', '１６', '16/', '16/../16'),
  anyText,
);
const percentNoise = fc.array(fc.oneof(fc.constantFrom(...PERCENT), printable), { maxLength: 5 }).map((parts) => parts.join(''));
// Mostly requests the router gets to see; raw binary, which the HTTP parser refuses with 400, is the rarer case.
const path = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(lengthText, fc.option(fc.oneof(fc.constant('format=hex'), fc.constant('format=base64url'), percentNoise, printable))).map(
    ([length, query]) => `/key/${length}${query === null ? '' : `?${query}`}`,
  ) },
  { weight: 2, arbitrary: fc.constantFrom('/health', '/ready', '/metrics', '/', '*', '/key', '/key/', '//key/16', '/KEY/16', 'http://127.0.0.1/key/16', '/../../etc/passwd') },
  { weight: 2, arbitrary: percentNoise.map((noise) => `/key/${noise}`) },
  { weight: 1, arbitrary: printable.map((text) => `/${text}`) },
  { weight: 1, arbitrary: anyText },
);
const headerName = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('Accept', 'Authorization', 'Content-Length', 'Transfer-Encoding', 'Expect', 'Upgrade', 'Host', 'Connection', 'X-Forwarded-For') },
  { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom(...'abcdefXYZ-_0'.split('')), minLength: 1, maxLength: 20 }) },
  { weight: 1, arbitrary: anyText },
);
const headerValue = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('application/json', 'application/json;q=0', '*/*;q=abc', 'Bearer x', 'chunked', '100-continue', 'h2c', 'close', '-1', '5') },
  { weight: 3, arbitrary: printable },
  { weight: 1, arbitrary: anyText },
);
const request = fc.record({
  method: fc.oneof(
    { weight: 6, arbitrary: fc.constant('GET') },
    { weight: 3, arbitrary: fc.constantFrom(...METHODS) },
    { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...'ABCXYZ'.split('')), maxLength: 12 }) },
  ),
  path,
  version: fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/9', 'http/1.1'),
  headers: fc.array(fc.tuple(headerName, headerValue), { maxLength: 6 }),
});
type FuzzRequest = { method: string; path: string; version: string; headers: Array<[string, string]> };

function serialise(fuzz: FuzzRequest): string {
  const headers = fuzz.headers.map(([name, value]) => `${name}: ${value}\r\n`).join('');
  return `${fuzz.method} ${fuzz.path} ${fuzz.version}\r\nHost: 127.0.0.1\r\n${headers}Connection: close\r\n\r\n`;
}

describe('hostile input', () => {
  let running: RunningTestServer;
  let port: number;
  beforeAll(async () => {
    running = await startTestServer({}, { limits: { headersTimeoutMs: 3000, requestTimeoutMs: 3000 } });
    port = running.addresses.port;
  });
  afterAll(() => running.stop());

  it('answers thousands of fuzzed requests with 2xx or 4xx only, never hangs, never leaks an internal, and stays up', async () => {
    const statuses = new Map<number | 'closed without answer', number>();
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 20, maxLength: 20 }), async (batch) => {
        const exchanges = await Promise.all(batch.map((fuzz) => rawExchange(port, Buffer.from(serialise(fuzz), 'latin1'), 5000)));
        sent += batch.length;
        exchanges.forEach((exchange, index) => {
          const codes = statusCodes(exchange.received);
          const context = JSON.stringify(serialise(batch[index]));
          if (!exchange.closedByServer) throw new Error(`no answer and no close within 5 s for ${context}`);
          for (const code of codes.length === 0 ? ['closed without answer' as const] : codes) statuses.set(code, (statuses.get(code) ?? 0) + 1);
          // `Expect: 100-continue` may earn an interim 100 before the answer; every final answer is 2xx or 4xx.
          const finals = codes.filter((code) => code !== 100);
          if (finals.some((code) => code < 200 || code >= 500) || finals.length > 1) throw new Error(`status ${codes} for ${context}`);
          if (LEAK.test(exchange.received)) throw new Error(`internal leaked for ${context}: ${exchange.received}`);
        });
      }),
      { numRuns: 150 },
    );
    const health = await fetchText(`${running.url}/health`);
    expect(health.status).toBe(200);
    expect(running.logs.filter((record) => record.level === 'error')).toEqual([]);
    const samples = parsePrometheusText((await fetchText(`${running.url}/metrics`)).body);
    const serverErrors = samplesOf(samples, names.httpRequestsTotal).filter((sample) => sample.labels.code.startsWith('5'));
    expect(serverErrors).toEqual([]);
    const summary = [...statuses].sort(([a], [b]) => String(a).localeCompare(String(b))).map(([code, count]) => `${code}×${count}`).join(' ');
    const routed = samplesOf(samples, names.httpRequestsTotal).reduce((total, sample) => total + sample.value, 0);
    console.log(`fuzz: ${sent} requests sent, ${routed} reached the router, 0 5xx, 0 hangs, 0 leaks; statuses ${summary}`);
    expect(sent).toBe(3000);
  });

  it('answers a 64 KiB header with 431 and keeps serving', async () => {
    const exchange = await rawExchange(port, `GET /key/16 HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(65536)}\r\nConnection: close\r\n\r\n`);
    expect(statusCodes(exchange.received)).toEqual([431]);
    expect((await fetchText(`${running.url}/key/16`)).status).toBe(200);
    console.log(`64 KiB header: 431 in ${exchange.elapsedMs} ms`);
  });

  it('refuses Content-Length beside Transfer-Encoding with 400 and never answers the smuggled request', async () => {
    const smuggled = 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n';
    const exchange = await rawExchange(
      port,
      `GET /key/16 HTTP/1.1\r\nHost: x\r\nContent-Length: ${5 + smuggled.length}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
    );
    expect(statusCodes(exchange.received)).toEqual([400]);
    expect(exchange.closedByServer).toBe(true);
  });

  it('refuses two different Content-Length headers with 400', async () => {
    const exchange = await rawExchange(port, 'GET /key/16 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 40\r\n\r\n');
    expect(statusCodes(exchange.received)).toEqual([400]);
  });

  it('treats a body on GET as body, not as a second request hidden in it', async () => {
    const hidden = 'GET /key/32 HTTP/1.1\r\nHost: x\r\n\r\n';
    const exchange = await rawExchange(
      port,
      `GET /key/16 HTTP/1.1\r\nHost: x\r\nContent-Length: ${hidden.length}\r\n\r\n${hidden}GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    );
    // One key (16 bytes, 32 hex digits), then the connection closes: a request with a body is answered with
    // Connection: close, its body never read. The 32-byte key asked for in the body never comes; neither does the
    // health answer pipelined behind it, which a client retries on a new connection.
    expect(statusCodes(exchange.received)).toEqual([200]);
    expect(exchange.received).toMatch(/\r\nConnection: close\r\n/i);
    expect(exchange.received).toMatch(/\r\n\r\n[0-9a-f]{32}$/);
    expect(exchange.received).not.toMatch(/[0-9a-f]{64}/);
    expect(exchange.closedByServer).toBe(true);
  });
});
