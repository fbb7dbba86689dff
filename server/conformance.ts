// Which requests the server refuses before routing (RFC 9110/9112 framing and version rules), and the origin-form of a target.
import type { RequestHead } from './request-head';

/**
 * The largest body a request may declare and still be answered: no route takes a body, and a client that sends one
 * anyway (some send `Content-Length: 0` or a few bytes with GET) gets its answer, with `Connection: close`, and the
 * bytes are never read (exchange.ts: one answer per request, however the body ends). Past
 * this, reading the body would cost CPU for nothing (a `Content-Length: 50 GB` GET was read and decrypted for 30 s),
 * so the answer is 413 and the connection closes unread.
 */
export const MAX_IGNORED_BODY_BYTES = 1024;

/** The statuses of a refusal before routing. */
export type RefusalStatus = 400 | 405 | 413 | 417 | 431;

/**
 * The largest header block a request may carry, in bytes: over HTTP/1.1 Node's parser enforces it as `maxHeaderSize`,
 * over HTTP/2 {@link refusalOf} does, on the decoded list (after HPACK), so references to a few indexed bytes cannot
 * expand into more. Keys need a few hundred bytes of headers.
 */
export const MAX_HEADER_BYTES = 8192;

/** Why a request is refused before routing: the status, and a message that tells the client what to change. */
export interface Refusal {
  readonly status: RefusalStatus;
  readonly message: string;
}

const CONNECT_REFUSED: Refusal = Object.freeze({ status: 405, message: 'CONNECT is not supported: this is not a proxy' });
const VERSION_REFUSED: Refusal = Object.freeze({ status: 400, message: 'Unsupported HTTP version: use HTTP/1.1, HTTP/1.0 or HTTP/2' });
const HOST_MISSING: Refusal = Object.freeze({ status: 400, message: 'Bad request: HTTP/1.1 needs exactly one Host header' });
const HOST_REPEATED: Refusal = Object.freeze({ status: 400, message: 'Bad request: more than one Host header' });
const FRAMING_REFUSED: Refusal = Object.freeze({ status: 400, message: 'Bad request: Transfer-Encoding must end in chunked' });
const CODING_REFUSED: Refusal = Object.freeze({ status: 400, message: 'Bad request: no transfer coding but chunked is accepted' });
const BODY_REFUSED: Refusal = Object.freeze({ status: 413, message: 'Content too large: requests to this server carry no body' });
const HEADERS_REFUSED: Refusal = Object.freeze({ status: 431, message: `Request header fields too large: at most ${MAX_HEADER_BYTES} bytes` });
const EXPECTATION_REFUSED: Refusal = Object.freeze({ status: 417, message: 'Expectation failed: only 100-continue is understood' });

/**
 * The refusal for a request the server must not route, or undefined when it may. Pure: every rule has a table test.
 *
 * - HTTP/0.9, HTTP/2.0 written as text, and unknown major versions: 400. RFC 9112 allows 505 for an unsupported
 *   major version, but a request line this server cannot frame is malformed, and hostile input never gets a 5xx.
 * - More than one Host, or none in HTTP/1.1: 400 (RFC 9112 §3.2 "MUST").
 * - Transfer-Encoding whose final coding is not chunked: 400 (RFC 9112 §6.3: the length cannot be determined); other
 *   codings before chunked: 400 too, where §6.1 suggests 501: no route takes a body, so a coded one is a malformed
 *   request here, and hostile input never gets a 5xx (which dashboards read as the server failing); chunked alone: a
 *   body of unknown length where none belongs, 413. Empty list elements are ignored (RFC 9110 §5.6.1).
 * - A declared body over {@link MAX_IGNORED_BODY_BYTES}: 413.
 * - An Expect other than 100-continue: 417 (RFC 9110 §10.1.1).
 * - An HTTP/2 header list over {@link MAX_HEADER_BYTES} once decoded: 431 (HTTP/1.1's parser refuses it first).
 *
 * Every refusal closes the connection: after a request framed wrongly, where the next one starts is unknown.
 */
export function refusalOf(head: RequestHead): Refusal | undefined {
  if (head.method === 'CONNECT') {
    return CONNECT_REFUSED;
  }
  if (head.headerListSize !== undefined && head.headerListSize > MAX_HEADER_BYTES) {
    return HEADERS_REFUSED;
  }
  const protocol = head.protocol;
  if (protocol !== 'HTTP/1.1' && protocol !== 'HTTP/2' && protocol !== 'HTTP/1.0') {
    return VERSION_REFUSED;
  }
  if (head.hostCount > 1) {
    return HOST_REPEATED;
  }
  if (protocol === 'HTTP/1.1' && head.hostCount === 0) {
    return HOST_MISSING;
  }
  if (head.transferEncoding !== undefined) {
    return transferCodingRefusal(head.transferEncoding);
  }
  if (head.contentLength !== undefined && !(Number(head.contentLength) <= MAX_IGNORED_BODY_BYTES)) {
    return BODY_REFUSED;
  }
  if (head.expect !== undefined && head.expect.trim().toLowerCase() !== '100-continue') {
    return EXPECTATION_REFUSED;
  }
  return undefined;
}

function transferCodingRefusal(transferEncoding: string): Refusal {
  const codings = transferEncoding.split(',').map((coding) => coding.trim().toLowerCase()).filter((coding) => coding !== '');
  if (codings[codings.length - 1] !== 'chunked') {
    return FRAMING_REFUSED;
  }
  return codings.length > 1 ? CODING_REFUSED : BODY_REFUSED;
}

/**
 * The origin-form (`/path?query`) of a request target. An absolute-form target (`https://host:port/key/32`, which
 * RFC 9112 §3.2.2 says servers MUST accept, and which proxies send) loses its scheme and authority; origin-form and
 * anything else is returned unchanged, so the router answers what it does not know with 404.
 */
export function originForm(target: string): string {
  if (target.charCodeAt(0) === 47 /* '/' */) {
    return target;
  }
  const match = /^https?:\/\/[^/?#]*/i.exec(target);
  if (match === null) {
    return target;
  }
  const rest = target.slice(match[0].length);
  return rest === '' || rest.startsWith('?') ? `/${rest}` : rest;
}
