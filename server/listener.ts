// One listening port: Node's TLS server speaking HTTP/2 and HTTP/1.1 by ALPN (or plain HTTP/1.1 without a
// certificate), its timeouts and limits, and the answers to what Node refuses before any route sees it.
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import type { Server as NetServer, Socket } from 'node:net';
import { MAX_HEADER_BYTES, refusalOf } from './conformance';
import { trackConnections, type ConnectionTracker } from './connections';
import { connectionStateOf } from './exchange';
import { http2SessionOptions } from './http2-limits';
import type { Logger } from './logger';
import { rejectionStatus, type RejectionStatus, type ServerMetrics } from './metrics';
import { readHttp1Head } from './request-head';
import { requestIdFor } from './request-id';
import { createRequestHandler, type RequestHandler, type RouteDependencies, type RouteSet } from './routes';
import { secureContextOptions, type CertificatePair } from './tls';

/** Limits that cut off slow, idle and oversized clients. */
export interface ServerLimits {
  /** Milliseconds a client has to finish its TLS handshake, and to send all request headers (slowloris). @default 10000 */
  readonly headersTimeoutMs: number;
  /** Milliseconds a client has to send the whole request. @default 30000 */
  readonly requestTimeoutMs: number;
  /** How often Node checks the two timeouts above, in milliseconds. @default 1000 */
  readonly timeoutCheckIntervalMs: number;
  /** Largest request header block in bytes; past it the answer is 431. Keys need a few hundred bytes. @default 8192 */
  readonly maxHeaderSize: number;
  /**
   * Milliseconds a connection may hold unsent answer bytes without any leaving (the client stopped reading) before
   * it is closed and its memory freed. @default 10000
   */
  readonly sendTimeoutMs: number;
  /** Milliseconds a connection must have been idle before the connection cap may close it for a newcomer. @default 1000 */
  readonly evictableAfterIdleMs: number;
}

/** Defaults for {@link ServerLimits}. */
export const DEFAULT_LIMITS: ServerLimits = Object.freeze({
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  timeoutCheckIntervalMs: 1_000,
  maxHeaderSize: MAX_HEADER_BYTES,
  sendTimeoutMs: 10_000,
  evictableAfterIdleMs: 1_000,
});

/**
 * The timeouts of the HTTP/1.1 machinery, ordered: headers (from a request's first byte) within `requestTimeout`, the
 * whole request within `requestTimeout`, and idle keep-alive connections closed after `keepAliveTimeout`. Node 18+
 * times headers from the first byte of each request, not from the end of the previous one, so a keep-alive timeout
 * longer than the headers timeout is safe (Node up to 12 needed the reverse). Throws when the order is broken.
 */
export function http1Timeouts(limits: ServerLimits, keepAliveTimeoutMs: number): { headersTimeout: number; requestTimeout: number; keepAliveTimeout: number } {
  if (!(limits.headersTimeoutMs <= limits.requestTimeoutMs)) {
    throw new RangeError(`headers timeout (${limits.headersTimeoutMs} ms) must not exceed the request timeout (${limits.requestTimeoutMs} ms)`);
  }
  return { headersTimeout: limits.headersTimeoutMs, requestTimeout: limits.requestTimeoutMs, keepAliveTimeout: keepAliveTimeoutMs };
}

/** The answer to a request Node's parser refused, as Node words it, plus what every answer of this server carries. */
export function rejectionAnswer(status: RejectionStatus, requestId: string, extraHeaders = ''): string {
  return (
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nCache-Control: no-store\r\nConnection: close\r\n` +
    `Content-Length: 0\r\n${extraHeaders}X-Request-Id: ${requestId}\r\n\r\n`
  );
}

/** One port's server with what shuts it down. */
export interface Listener {
  readonly server: NetServer;
  readonly handler: RequestHandler;
  readonly tracker: ConnectionTracker;
}

/** What {@link createListener} needs. */
export interface ListenerOptions {
  readonly routes: RouteSet;
  /** The certificate to serve; undefined for plain HTTP. */
  readonly certificate: CertificatePair | undefined;
  readonly limits: ServerLimits;
  readonly keepAliveTimeoutMs: number;
  readonly maxConnections: number;
  readonly routeDependencies: RouteDependencies;
  readonly metrics: ServerMetrics;
  readonly logger: Logger;
  /** Whether the server is serving or draining (listener errors are logged only then). */
  readonly isRunning: () => boolean;
}

/**
 * Creates one port's server. With a certificate: `http2.createSecureServer` with `allowHTTP1`, so one port speaks
 * HTTP/2 to clients that offer `h2` and hands HTTP/1.1 (or no ALPN) to Node's own HTTP/1.1 machinery; both reach the
 * same routes. Without one: a plain `http` server (HTTP/1.1 only; HTTP/2 without TLS is not offered).
 */
export function createListener(options: ListenerOptions): Listener {
  const { limits, metrics, certificate } = options;
  const handler = createRequestHandler(options.routeDependencies, options.routes);
  const timeouts = http1Timeouts(limits, options.keepAliveTimeoutMs);
  let server: http.Server | http2.Http2SecureServer;
  if (certificate === undefined) {
    server = http.createServer({
      ...timeouts,
      maxHeaderSize: limits.maxHeaderSize,
      connectionsCheckingInterval: limits.timeoutCheckIntervalMs,
      // The routes answer a missing Host themselves, counted and with the headers every answer has.
      requireHostHeader: false,
    });
    server.on('request', handler.http1);
  } else {
    const secure = http2.createSecureServer({
      ...secureContextOptions(certificate),
      ...http2SessionOptions(limits.headersTimeoutMs),
      allowHTTP1: true,
      // node:https sets these for HTTP/1.1; a TLS server does not by default. Without noDelay, Nagle's algorithm holds
      // a small answer back for up to 40 ms while the previous one is unacknowledged.
      noDelay: true,
      // A client that has not finished its TLS handshake gets as long as one that has not finished its headers, not
      // Node's 120 s: port scans and load-balancer TCP checks must not hold sockets open for minutes.
      handshakeTimeout: limits.headersTimeoutMs,
    });
    // The HTTP/1.1 side reads these from the server object (Node sets its own defaults on it).
    Object.assign(secure, { ...timeouts, maxHeaderSize: limits.maxHeaderSize, connectionsCheckingInterval: limits.timeoutCheckIntervalMs });
    // Node turns on its HTTP/2 compatibility layer (request/response objects per stream) as soon as a 'request'
    // listener is added. HTTP/1.1 requests arrive as 'request' too, so the hook that does it goes first: HTTP/2 streams
    // are answered through the stream API, about a third less CPU per request.
    secure.removeAllListeners('newListener');
    secure.on('request', handler.http1);
    secure.on('stream', handler.http2);
    secure.on('session', (session: http2.ServerHttp2Session) => {
      connectionStateOf(session).remoteAddress = session.socket?.remoteAddress;
      // HTTP/1.1's keep-alive timeout does not reach HTTP/2 sessions: connections.ts sends an idle one GOAWAY after as long.
      session.on('error', (error: NodeJS.ErrnoException) => {
        // nghttp2 closes a session that floods (SETTINGS/PING acknowledgements never read, resets past its rate).
        if (error.code === 'ERR_HTTP2_ERROR' || error.code === 'ERR_HTTP2_SESSION_ERROR') {
          metrics.recordConnectionCut('h2_abuse');
        }
      });
    });
    server = secure;
  }
  // A request with `Expect: 100-continue` gets its interim answer only when it will be routed; any other expectation
  // reaches the routes, which refuse it with 417, counted like every other answer.
  server.on('checkContinue', (request: http.IncomingMessage, response: http.ServerResponse) => {
    if (refusalOf(readHttp1Head(request)) === undefined) {
      response.writeContinue();
    }
    handler.http1(request, response);
  });
  server.on('checkExpectation', handler.http1);
  server.on('connect', (request: http.IncomingMessage, socket: Socket) => {
    // CONNECT leaves Node's HTTP machinery (no response object): answered here, the same way a route would.
    metrics.recordRejectedRequest(405);
    socket.on('error', () => undefined);
    socket.end(rejectionAnswer(405, requestIdFor(readHttp1Head(request).requestId), 'Allow: GET, HEAD\r\n'));
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => answerClientError(error, socket, metrics));
  // An accept() failure (EMFILE under a connection flood) must be logged, not crash a serving process.
  server.on('error', (error) => {
    if (options.isRunning()) {
      options.logger.error('listener error', { error, routes: options.routes });
    }
  });
  const tracker = trackConnections(server, {
    maxConnections: options.maxConnections,
    secure: certificate !== undefined,
    sendTimeoutMs: limits.sendTimeoutMs,
    idleSessionTimeoutMs: options.keepAliveTimeoutMs,
    evictableAfterIdleMs: limits.evictableAfterIdleMs,
    metrics,
  });
  return { server, handler, tracker };
}

/**
 * Node answers what its parser refuses (431, 408, 400) by itself and no route sees it; answering here, the same way
 * but with no-store and a request id, is what lets a flood of oversized or malformed requests show in the metrics.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket, metrics: ServerMetrics): void {
  if (error.code === 'HPE_PAUSED') {
    // Node 20 paused the parser because the client does not read its pipelined answers, then TLS handed it more
    // bytes anyway: the request framing is lost from here. Stop answering and close, as for too deep a pipeline.
    connectionStateOf(socket).refusing ??= 'backlog_limit';
    socket.destroy();
    return;
  }
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT' && socket.bytesRead === 0) {
    // A connection that never sent a byte (a preconnect, a load balancer's spare): idle, not a refused request.
    socket.destroy();
    return;
  }
  const status = rejectionStatus(error.code);
  if (status !== undefined && socket.writable && !responseUnderway(socket as SocketWithResponse)) {
    metrics.recordRejectedRequest(status);
    socket.end(rejectionAnswer(status, randomUUID()));
  } else {
    socket.destroy();
  }
}

/**
 * Node's private link from a socket to the response being written on it (`_httpMessage`, set by the HTTP server).
 * Node's own clientError handler reads it for the same question; there is no public equivalent.
 */
interface SocketWithResponse extends Socket {
  readonly _httpMessage?: { readonly _headerSent?: boolean } | null;
}

/**
 * Whether a response has started on `socket`, so a status line now would corrupt it. Not `bytesWritten`: on a
 * keep-alive connection that counts earlier, finished responses (and over TLS, the handshake).
 */
function responseUnderway(socket: SocketWithResponse): boolean {
  return socket._httpMessage?._headerSent === true;
}
