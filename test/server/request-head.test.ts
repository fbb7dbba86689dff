// Reading a request's head: the headers every route and check needs, from HTTP/1.x raw headers or HTTP/2 header objects.
import type { IncomingMessage } from 'node:http';
import { readHttp1Head, readHttp2Head } from '../../server/request-head';

function http1Request(rawHeaders: string[], overrides: Partial<{ httpVersion: string; method: string; url: string }> = {}): IncomingMessage {
  return { rawHeaders, httpVersion: '1.1', method: 'GET', url: '/key/16', socket: { remoteAddress: '::ffff:10.0.0.1' }, ...overrides } as unknown as IncomingMessage;
}

describe('readHttp1Head', () => {
  it('finds every header it reads in any letter case and joins repeated lines as Node does', () => {
    const head = readHttp1Head(http1Request([
      'HOST', 'x', 'ACCEPT', 'text/plain', 'accept', 'application/json', 'X-Request-ID', 'abc', 'authorization', 'Bearer t',
      'Content-Length', '0', 'Transfer-Encoding', 'gzip', 'transfer-encoding', 'chunked', 'Expect', '100-continue',
    ]));
    expect(head).toEqual({
      protocol: 'HTTP/1.1', method: 'GET', target: '/key/16', hostCount: 1, accept: 'text/plain, application/json', authorization: 'Bearer t',
      requestId: 'abc', contentLength: '0', transferEncoding: 'gzip, chunked', expect: '100-continue', remoteAddress: '::ffff:10.0.0.1',
    });
  });

  it('counts Host lines, so a duplicate can be refused', () => {
    expect(readHttp1Head(http1Request(['Host', 'a', 'host', 'b'])).hostCount).toBe(2);
    expect(readHttp1Head(http1Request([])).hostCount).toBe(0);
  });

  it('leaves out what was not sent and names the version the client sent', () => {
    const head = readHttp1Head(http1Request(['Host', 'x', 'Accept-Encoding', 'gzip'], { httpVersion: '0.9' }));
    expect(head.accept).toBeUndefined();
    expect(head.requestId).toBeUndefined();
    expect(head.protocol).toBe('HTTP/0.9');
  });
});

describe('readHttp2Head', () => {
  it('reads pseudo-headers and counts :authority as the one Host', () => {
    const head = readHttp2Head({ ':method': 'HEAD', ':path': '/key/8?format=hex', ':authority': 'keys', accept: 'application/json', 'x-request-id': 'r1' }, '::1');
    expect(head).toEqual({
      protocol: 'HTTP/2', method: 'HEAD', target: '/key/8?format=hex', hostCount: 1, accept: 'application/json', authorization: undefined,
      requestId: 'r1', contentLength: undefined, transferEncoding: undefined, expect: undefined, remoteAddress: '::1',
    });
  });

  it('joins several Authorization fields, which Node reduces to the first, as HTTP/1.1 joins them', () => {
    const raw = [':method', 'GET', ':path', '/key/8', 'authorization', 'Bearer good', 'authorization', 'Bearer other'];
    expect(readHttp2Head({ ':method': 'GET', ':path': '/key/8', authorization: 'Bearer good' }, '::1', raw).authorization).toBe('Bearer good, Bearer other');
    expect(readHttp2Head({ ':method': 'GET', ':path': '/key/8', authorization: 'Bearer good' }, '::1', raw.slice(0, 6)).authorization).toBe('Bearer good');
  });

  it('has an empty target for CONNECT, which carries no :path', () => {
    expect(readHttp2Head({ ':method': 'CONNECT', ':authority': 'example:443' }, undefined)).toMatchObject({ method: 'CONNECT', target: '', remoteAddress: '' });
  });
});
