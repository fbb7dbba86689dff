// What the server reads from a request before answering it, the same for HTTP/1.1 and HTTP/2: one pass over the headers.
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

/** The protocol a request came over, as logged (`HTTP/1.1`, `HTTP/1.0`, `HTTP/2`, or whatever version line a client sent). */
export type ProtocolName = string;

/** The parts of a request every route and check needs; header values as sent (several lines of one header joined by ", "). */
export interface RequestHead {
  readonly protocol: ProtocolName;
  readonly method: string;
  /** The request target as received: origin-form `/key/32?x`, absolute-form `https://host/key/32`, `*`, or empty. */
  readonly target: string;
  /** How many Host header lines came (HTTP/1.x); HTTP/2 carries :authority instead and counts 0 or 1. */
  readonly hostCount: number;
  readonly accept?: string;
  readonly authorization?: string;
  /** X-Request-Id as sent, unvalidated. */
  readonly requestId?: string;
  readonly contentLength?: string;
  readonly transferEncoding?: string;
  readonly expect?: string;
  /** The client's address as the socket reports it (an IPv4-mapped IPv6 address on a dual-stack listener). */
  readonly remoteAddress: string;
  /**
   * HTTP/2: the decoded header list size as SETTINGS_MAX_HEADER_LIST_SIZE counts it (name + value + 32 per field,
   * RFC 9113 §6.5.2). Node advertises the limit but does not enforce it on what it receives. HTTP/1.x: undefined
   * (Node's parser enforces `maxHeaderSize` itself).
   */
  readonly headerListSize?: number;
}

/**
 * Reads an HTTP/1.x request's head from `rawHeaders` in one pass. `request.headers` is built lazily by Node on first
 * access and holds every header; reading only the seven this server looks at saves that object on every request.
 */
export function readHttp1Head(request: IncomingMessage): RequestHead {
  const raw = request.rawHeaders;
  let hostCount = 0;
  let accept: string | undefined;
  let authorization: string | undefined;
  let requestId: string | undefined;
  let contentLength: string | undefined;
  let transferEncoding: string | undefined;
  let expect: string | undefined;
  for (let index = 0; index < raw.length; index += 2) {
    const name = raw[index];
    const value = raw[index + 1];
    // Lengths first: most headers are none of these, and a length test costs less than a lower-case copy.
    switch (name.length) {
      case 4:
        if (name.toLowerCase() === 'host') hostCount++;
        break;
      case 6:
        if (name.toLowerCase() === 'accept') accept = join(accept, value);
        else if (name.toLowerCase() === 'expect') expect = join(expect, value);
        break;
      case 12:
        if (name.toLowerCase() === 'x-request-id') requestId = join(requestId, value);
        break;
      case 13:
        if (name.toLowerCase() === 'authorization') authorization = join(authorization, value);
        break;
      case 14:
        if (name.toLowerCase() === 'content-length') contentLength ??= value;
        break;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') transferEncoding = join(transferEncoding, value);
        break;
    }
  }
  return {
    protocol: `HTTP/${request.httpVersion}`,
    method: request.method ?? '',
    target: request.url ?? '',
    hostCount,
    accept,
    authorization,
    requestId,
    contentLength,
    transferEncoding,
    expect,
    remoteAddress: request.socket.remoteAddress ?? '',
  };
}

/**
 * Reads an HTTP/2 stream's head from the header object Node decoded (names are lower case there), and the size of
 * the decoded list from `rawHeaders` (Node's flat `[name, value, ...]`), when given.
 */
export function readHttp2Head(headers: IncomingHttpHeaders, remoteAddress: string | undefined, rawHeaders?: readonly string[]): RequestHead {
  return {
    protocol: 'HTTP/2',
    method: single(headers[':method']) ?? '',
    target: single(headers[':path']) ?? '',
    hostCount: headers[':authority'] !== undefined || headers.host !== undefined ? 1 : 0,
    accept: single(headers.accept),
    // Node keeps only the first of several Authorization fields; joined instead, as HTTP/1.1 has them, so a request
    // carrying two credentials is refused the same way over both protocols (neither is a valid token then).
    authorization: headers.authorization === undefined || rawHeaders === undefined ? single(headers.authorization) : joinedField(rawHeaders, 'authorization'),
    requestId: single(headers['x-request-id']),
    contentLength: single(headers['content-length']),
    transferEncoding: single(headers['transfer-encoding']),
    expect: single(headers.expect),
    remoteAddress: remoteAddress ?? '',
    headerListSize: rawHeaders === undefined ? undefined : headerListSize(rawHeaders),
  };
}

/** Every value of field `name` (lower case, as HTTP/2 carries names) in a flat `[name, value, ...]` list, joined by ", ". */
function joinedField(rawHeaders: readonly string[], name: string): string | undefined {
  let joined: string | undefined;
  for (let index = 0; index < rawHeaders.length; index += 2) {
    if (rawHeaders[index] === name) joined = join(joined, rawHeaders[index + 1]);
  }
  return joined;
}

/** The HTTP/2 size of a header list: each field's name and value lengths plus 32 (RFC 9113 §6.5.2, RFC 7541 §4.1). */
export function headerListSize(rawHeaders: readonly string[]): number {
  let size = 0;
  for (let index = 0; index < rawHeaders.length; index += 2) {
    size += rawHeaders[index].length + (rawHeaders[index + 1]?.length ?? 0) + 32;
  }
  return size;
}

function join(previous: string | undefined, value: string): string {
  return previous === undefined ? value : `${previous}, ${value}`;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}
