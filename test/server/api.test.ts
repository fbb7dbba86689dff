// The HTTP API over real sockets on 127.0.0.1: statuses, bad lengths, negotiation, headers, limits.
import * as http from 'node:http';
import { connect } from 'node:net';
import { metricNames as names } from '../../server/metric-catalogue';
import { fetchText, mapConcurrently, parsePrometheusText, samplesOf } from './helpers/http';
import { startTestServer, type RunningTestServer } from './helpers/server';

const LENGTH_ERROR = 'Invalid key length: must be a whole number of bytes from 1 to 1024';

describe('key server API', () => {
  let running: RunningTestServer;
  let url: string;

  async function keysGenerated(): Promise<number> {
    const samples = parsePrometheusText((await fetchText(`${running.addresses.metricsUrl as string}/metrics`)).body);
    return samplesOf(samples, names.keyGenerationsTotal).reduce((total, sample) => total + sample.value, 0);
  }

  beforeAll(async () => {
    running = await startTestServer({ metricsPort: 0 });
    url = running.url;
  });

  afterAll(() => running.stop());

  describe('GET /key/{length}', () => {
    it.each([1, 16, 32, 1024])('answers %d random bytes as lowercase hex with no newline', async (length) => {
      const response = await fetchText(`${url}/key/${length}`);
      expect(response.status).toBe(200);
      expect(response.body).toMatch(new RegExp(`^[0-9a-f]{${2 * length}}$`));
    });

    it('sends text/plain, no-store, nosniff and an exact Content-Length', async () => {
      const response = await fetchText(`${url}/key/32`);
      expect(response.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['content-length']).toBe('64');
    });

    it('answers a different key every time', async () => {
      const [first, second] = await Promise.all([fetchText(`${url}/key/32`), fetchText(`${url}/key/32`)]);
      expect(first.body).not.toBe(second.body);
    });

    it.each(['0', '-1', 'abc', '1e3', '0x10', '16.5', '%2016', '1025', '9'.repeat(400), '', '16/extra', '+16'])(
      'rejects the length %j with 400 naming the allowed range',
      async (segment) => {
        const response = await fetchText(`${url}/key/${segment}`);
        expect(response.status).toBe(400);
        expect(response.body).toBe(`${LENGTH_ERROR}\n`);
        expect(response.headers['cache-control']).toBe('no-store');
      },
    );

    it('rejects a raw space before the digits with 400, not 500', async () => {
      // Node's client refuses to send a space in a path, so write the request line by hand; the HTTP parser rejects it.
      const reply = await rawRequest(running.addresses.port, 'GET /key/ 16 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    });

    it('answers JSON when the client accepts application/json', async () => {
      const response = await fetchText(`${url}/key/16`, { headers: { Accept: 'application/json' } });
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toBe('application/json');
      const body = JSON.parse(response.body) as { key: string; length: number; format: string };
      expect(body).toEqual({ key: expect.stringMatching(/^[0-9a-f]{32}$/), length: 16, format: 'hex' });
    });

    it('answers errors as JSON when the client accepts application/json', async () => {
      const response = await fetchText(`${url}/key/0`, { headers: { Accept: 'application/json' } });
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toBe('application/json');
      expect(JSON.parse(response.body)).toEqual({ error: LENGTH_ERROR });
    });

    it('prefers text when the client ranks text/plain above JSON', async () => {
      const response = await fetchText(`${url}/key/4`, { headers: { Accept: 'application/json;q=0.5, text/plain' } });
      expect(response.headers['content-type']).toBe('text/plain; charset=utf-8');
    });

    it.each([
      ['base64', /^[A-Za-z0-9+/]{43}=$/],
      ['base64url', /^[A-Za-z0-9_-]{43}$/],
      ['hex', /^[0-9a-f]{64}$/],
    ])('encodes the key as %s with ?format=', async (format, pattern) => {
      const response = await fetchText(`${url}/key/32?format=${format}`);
      expect(response.status).toBe(200);
      expect(response.body).toMatch(pattern);
      expect(response.headers['content-length']).toBe(String(response.body.length));
    });

    it('names the format in JSON answers', async () => {
      const response = await fetchText(`${url}/key/32?format=base64url`, { headers: { Accept: 'application/json' } });
      const body = JSON.parse(response.body) as { key: string; format: string };
      expect(body.format).toBe('base64url');
      expect(Buffer.from(body.key, 'base64url')).toHaveLength(32);
    });

    it('rejects an unknown format with 400', async () => {
      const response = await fetchText(`${url}/key/32?format=binary`);
      expect(response.status).toBe(400);
      expect(response.body).toBe('Invalid format: must be one of hex, base64, base64url\n');
    });

    it('answers HEAD with the headers and no body', async () => {
      const response = await fetchText(`${url}/key/32`, { method: 'HEAD' });
      expect(response.status).toBe(200);
      expect(response.headers['content-length']).toBe('64');
      expect(response.body).toBe('');
    });

    it.each([
      ['/key/31', {}],
      ['/key/31?format=base64', {}],
      ['/key/31?format=base64url', {}],
      ['/key/5?format=base64url', { Accept: 'application/json' }],
    ])('answers HEAD %s %j with the Content-Length of the GET and takes no key from the pool', async (path, headers) => {
      const keysBefore = await keysGenerated();
      const head = await fetchText(`${url}${path}`, { method: 'HEAD', headers });
      expect(await keysGenerated()).toBe(keysBefore);
      const get = await fetchText(`${url}${path}`, { headers });
      expect(head.headers['content-length']).toBe(String(Buffer.byteLength(get.body)));
      expect(head.headers['content-type']).toBe(get.headers['content-type']);
    });
  });

  describe('other routes', () => {
    it('answers /health with 200', async () => {
      const response = await fetchText(`${url}/health`);
      expect(response.status).toBe(200);
      expect(response.body).toBe('ok\n');
    });

    it('answers /ready with 200 while serving', async () => {
      const response = await fetchText(`${url}/ready`);
      expect(response.status).toBe(200);
    });

    it('answers /metrics in the Prometheus text format on the metrics port, and not on the main port beside it', async () => {
      const response = await fetchText(`${running.addresses.metricsUrl as string}/metrics`);
      expect((await fetchText(`${url}/metrics`)).status).toBe(404);
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(response.body).toContain('# TYPE http_requests_total counter');
    });

    it.each(['/', '/key', '/keys/16', '/health/', '/metrics/x', '/favicon.ico'])('answers %s with 404', async (path) => {
      const response = await fetchText(`${url}${path}`);
      expect(response.status).toBe(404);
      expect(response.body).toBe('Not found\n');
    });

    it.each(['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'])('answers %s with 405 and Allow', async (method) => {
      const response = await fetchText(`${url}/key/16`, { method });
      expect(response.status).toBe(405);
      expect(response.headers.allow).toBe('GET, HEAD');
    });

    it('answers 405 as JSON when asked', async () => {
      const response = await fetchText(`${url}/health`, { method: 'DELETE', headers: { Accept: 'application/json' } });
      expect(JSON.parse(response.body)).toEqual({ error: 'Method not allowed' });
    });
  });

  describe('metrics port', () => {
    it('serves /metrics and /health', async () => {
      const metricsUrl = running.addresses.metricsUrl as string;
      expect((await fetchText(`${metricsUrl}/metrics`)).body).toContain('key_generations_total');
      expect((await fetchText(`${metricsUrl}/health`)).status).toBe(200);
    });

    it('does not serve keys or readiness', async () => {
      const metricsUrl = running.addresses.metricsUrl as string;
      expect((await fetchText(`${metricsUrl}/key/16`)).status).toBe(404);
      expect((await fetchText(`${metricsUrl}/ready`)).status).toBe(404);
    });

    it('listens on a port of its own', () => {
      expect(running.addresses.metricsPort).toEqual(expect.any(Number));
      expect(running.addresses.metricsPort).not.toBe(running.addresses.port);
    });
  });

  describe('limits', () => {
    it('answers 431 to a header block above the maximum', async () => {
      const response = await fetchText(`${url}/key/16`, { headers: { 'X-Padding': 'a'.repeat(10_000) } });
      expect(response.status).toBe(431);
    });

    it('never reveals internals in error bodies', async () => {
      const bodies = await Promise.all(
        ['/key/abc', '/nope', '/key/99999'].map(async (path) => (await fetchText(`${url}${path}`)).body),
      );
      for (const body of bodies) {
        expect(body).not.toMatch(/at .*\.(ts|js)|\/work\/|Error:/);
      }
    });
  });

  it('serves 10,000 keys over keep-alive connections with no duplicate', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    try {
      const keys = await mapConcurrently(10_000, 8, async () => (await fetchText(`${url}/key/16`, { agent })).body);
      expect(keys.every((key) => /^[0-9a-f]{32}$/.test(key))).toBe(true);
      expect(new Set(keys).size).toBe(10_000);
    } finally {
      agent.destroy();
    }
  });
});

describe('slow clients', () => {
  it('cuts off a client that never finishes its headers', async () => {
    const running = await startTestServer({}, { limits: { headersTimeoutMs: 300, timeoutCheckIntervalMs: 100 } });
    try {
      const startedAt = Date.now();
      const reply = await rawRequest(running.addresses.port, 'GET /key/16 HTTP/1.1\r\nHost: x\r\n');
      expect(reply).toMatch(/^HTTP\/1\.1 408 /);
      expect(Date.now() - startedAt).toBeLessThan(3000);
    } finally {
      await running.stop();
    }
  });
});

/** Writes `text` to a fresh connection and resolves with everything the server sends until it closes. */
function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    const chunks: Buffer[] = [];
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer within 5 s')));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}
