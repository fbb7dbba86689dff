// X-Request-Id: accepted when a safe token, generated otherwise, echoed on every answer over both protocols, logged.
import { handlers } from '../../server/metric-catalogue';
import { isValidRequestId, MAX_REQUEST_ID_LENGTH, requestIdFor } from '../../server/request-id';
import { closeH2, connectH2, h2Request } from './helpers/h2';
import { fetchText } from './helpers/http';
import { rawExchange } from './helpers/raw';
import { startTestServer, type RunningTestServer } from './helpers/server';
import { createTestCertificate, makeTempDirectory } from './helpers/tls';

describe('isValidRequestId', () => {
  it.each([
    ['abc-123', true],
    ['0f8fad5b-d9cb-469f-a165-70867728950e', true],
    ['Root=1-67891233-abcdef012345678912345678', true],
    ['x'.repeat(MAX_REQUEST_ID_LENGTH), true],
    ['', false],
    ['x'.repeat(MAX_REQUEST_ID_LENGTH + 1), false],
    ['with space', false],
    ['tab\there', false],
    ['new\nline', false],
    ['ünïcode', false],
    ['\u0000', false],
  ])('%j → %s', (value, valid) => {
    expect(isValidRequestId(value)).toBe(valid);
  });
});

describe('requestIdFor', () => {
  it('keeps a valid id and generates one for a missing or invalid id', () => {
    const generate = () => 'generated';
    expect(requestIdFor('client-7', generate)).toBe('client-7');
    expect(requestIdFor(undefined, generate)).toBe('generated');
    expect(requestIdFor('bad id', generate)).toBe('generated');
  });

  it('generates random UUIDs by default', () => {
    const first = requestIdFor(undefined);
    expect(first).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(requestIdFor(undefined)).not.toBe(first);
  });
});

describe('X-Request-Id on the wire', () => {
  const temp = makeTempDirectory();
  let running: RunningTestServer;

  beforeAll(async () => {
    const certificate = createTestCertificate(temp.directory);
    running = await startTestServer({ tls: certificate, accessLog: true });
  });

  afterAll(async () => {
    await running.stop();
    temp.remove();
  });

  it.each(['/key/16', '/key/0', '/nowhere', '/health'])('echoes a valid id over HTTP/1.1 on %s and logs it with the request', async (path) => {
    const id = `h1-${path.replace(/\W/g, '')}-0001`;
    const response = await fetchText(`${running.url}${path}`, { headers: { 'X-Request-Id': id } });
    expect(response.headers['x-request-id']).toBe(id);
    const line = running.logs.find((record) => record.msg === 'request' && record.fields.requestId === id);
    expect(line?.fields).toMatchObject({ protocol: 'HTTP/1.1', path, code: response.status });
  });

  it('replaces an invalid id with a generated one instead of echoing it', async () => {
    const response = await fetchText(`${running.url}/key/16`, { headers: { 'X-Request-Id': 'x'.repeat(200) } });
    expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('echoes the id over HTTP/2 too', async () => {
    const session = await connectH2(running.url);
    try {
      expect((await h2Request(session, '/key/0', { 'x-request-id': 'h2-trace-9' })).headers['x-request-id']).toBe('h2-trace-9');
    } finally {
      await closeH2(session);
    }
  });

  it('puts an id on refusals before routing and on the answers Node\'s parser refuses', async () => {
    const refused = await fetchText(`${running.url}/key/16`, { headers: { 'X-Request-Id': 'refused-1', Expect: 'teapot' } });
    expect([refused.status, refused.headers['x-request-id']]).toEqual([417, 'refused-1']);
    const plain = await startTestServer();
    try {
      const malformed = await rawExchange(plain.addresses.port, 'NOT A REQUEST\r\n\r\n');
      expect(malformed.received).toMatch(/^HTTP\/1\.1 400 .*\r\nX-Request-Id: [0-9a-f-]{36}\r\n/s);
    } finally {
      await plain.stop();
    }
  });

  it('logs the id with an error and never logs a key', async () => {
    const id = 'error-trace-1';
    const failing = await startTestServer({ accessLog: true });
    const metrics = failing.server.registry;
    try {
      // A registry that fails to render: an error the server causes, logged with the request's id.
      jest.spyOn(metrics, 'metrics').mockRejectedValueOnce(new Error('render failed'));
      const response = await fetchText(`${failing.url}${handlers.metrics}`, { headers: { 'X-Request-Id': id } });
      expect([response.status, response.headers['x-request-id']]).toEqual([500, id]);
      expect(failing.logs.find((record) => record.level === 'error')?.fields).toMatchObject({ requestId: id });
      const key = (await fetchText(`${failing.url}/key/32`)).body;
      expect(JSON.stringify(failing.logs)).not.toContain(key);
    } finally {
      jest.restoreAllMocks();
      await failing.stop();
    }
  });
});
