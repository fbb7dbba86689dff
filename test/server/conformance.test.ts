// Which requests are refused before routing, and the origin-form of a target: pure tables.
import { MAX_HEADER_BYTES, MAX_IGNORED_BODY_BYTES, originForm, refusalOf } from '../../server/conformance';
import type { RequestHead } from '../../server/request-head';

const GOOD: RequestHead = { protocol: 'HTTP/1.1', method: 'GET', target: '/key/16', hostCount: 1, remoteAddress: '127.0.0.1' };

describe('refusalOf', () => {
  it.each<[string, Partial<RequestHead>, number | undefined]>([
    ['a plain HTTP/1.1 GET', {}, undefined],
    ['HTTP/1.0 without Host', { protocol: 'HTTP/1.0', hostCount: 0 }, undefined],
    ['HTTP/2 with :authority', { protocol: 'HTTP/2' }, undefined],
    ['CONNECT', { method: 'CONNECT', target: 'example.com:443' }, 405],
    ['HTTP/0.9', { protocol: 'HTTP/0.9' }, 400],
    ['HTTP/2.0 written as text', { protocol: 'HTTP/2.0' }, 400],
    ['HTTP/3.0 written as text', { protocol: 'HTTP/3.0' }, 400],
    ['HTTP/1.1 without Host', { hostCount: 0 }, 400],
    ['two Host headers', { hostCount: 2 }, 400],
    ['two Host headers over HTTP/1.0', { protocol: 'HTTP/1.0', hostCount: 2 }, 400],
    ['Transfer-Encoding: xchunked', { transferEncoding: 'xchunked' }, 400],
    ['Transfer-Encoding: chunked, gzip (final coding not chunked)', { transferEncoding: 'chunked, gzip' }, 400],
    ['Transfer-Encoding: gzip, chunked (a coding no route could take: no 5xx for hostile input)', { transferEncoding: 'gzip, chunked' }, 400],
    ['Transfer-Encoding: "" and chunked (empty list elements ignored)', { transferEncoding: ', chunked' }, 413],
    ['Transfer-Encoding: an empty value alone', { transferEncoding: '' }, 400],
    ['Transfer-Encoding: chunked (a body of unknown length)', { transferEncoding: ' Chunked ' }, 413],
    ['Content-Length: 0', { contentLength: '0' }, undefined],
    [`Content-Length: ${MAX_IGNORED_BODY_BYTES}`, { contentLength: String(MAX_IGNORED_BODY_BYTES) }, undefined],
    [`Content-Length: ${MAX_IGNORED_BODY_BYTES + 1}`, { contentLength: String(MAX_IGNORED_BODY_BYTES + 1) }, 413],
    ['Content-Length: 50 GB', { contentLength: '50000000000' }, 413],
    ['Expect: 100-continue', { expect: '100-Continue' }, undefined],
    ['Expect: something else', { expect: 'foo' }, 417],
    [`an HTTP/2 header list of ${MAX_HEADER_BYTES} bytes`, { protocol: 'HTTP/2', headerListSize: MAX_HEADER_BYTES }, undefined],
    [`an HTTP/2 header list of ${MAX_HEADER_BYTES + 1} bytes`, { protocol: 'HTTP/2', headerListSize: MAX_HEADER_BYTES + 1 }, 431],
  ])('%s → %s', (_name, overrides, status) => {
    expect(refusalOf({ ...GOOD, ...overrides })?.status).toBe(status);
  });

  it('names what to change in every refusal message', () => {
    for (const overrides of [{ hostCount: 2 }, { protocol: 'HTTP/0.9' }, { transferEncoding: 'x' }, { expect: 'x' }, { contentLength: '99999' }]) {
      expect(refusalOf({ ...GOOD, ...overrides })?.message).toMatch(/^[A-Z].{10,}/);
    }
  });
});

describe('originForm', () => {
  it.each([
    ['/key/16?format=hex', '/key/16?format=hex'],
    ['https://keys.example.com/key/16', '/key/16'],
    ['HTTP://keys.example.com:8443/key/16?format=base64', '/key/16?format=base64'],
    ['https://keys.example.com', '/'],
    ['https://keys.example.com?x=1', '/?x=1'],
    ['ftp://keys.example.com/key/16', 'ftp://keys.example.com/key/16'],
    ['*', '*'],
    ['', ''],
  ])('%j → %j', (target, expected) => {
    expect(originForm(target)).toBe(expected);
  });
});
