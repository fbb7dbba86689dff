// Request → answer for HTTP/1.1 and HTTP/2 alike: the conformance checks, one small function per route, and one `send`
// that every answer goes through (metrics, logs, X-Request-Id).
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { IncomingHttpHeaders, ServerHttp2Session, ServerHttp2Stream } from 'node:http2';
import { performance } from 'node:perf_hooks';
import { AUTH_REALM, type Authenticator } from './auth';
import type { Config } from './config';
import { originForm, refusalOf, type Refusal, type RefusalStatus } from './conformance';
import {
  connectionStateOf,
  Http1Exchange,
  Http2Exchange,
  MAX_PIPELINED_REQUESTS,
  type ConnectionState,
  type DeliveryReport,
  type Exchange,
} from './exchange';
import { encodedLength, invalidLengthMessage, parseKeyFormat, parseLength, type KeyFormat, type RandomPool } from './keys';
import type { Logger } from './logger';
import { handlers, type Handler } from './metric-catalogue';
import type { RateLimitedClient, ServerMetrics, UnansweredReason } from './metrics';
import { clientKey, type RateLimiter } from './rate-limit';
import { readHttp1Head, readHttp2Head } from './request-head';
import { requestIdFor } from './request-id';

/** What the routes need from the server around them. */
export interface RouteDependencies {
  readonly config: Config;
  readonly metrics: ServerMetrics;
  readonly pool: RandomPool;
  readonly logger: Logger;
  /** True while /ready should answer 200: listening and not shutting down. */
  readonly isReady: () => boolean;
  /** True from the first moment of shutdown: answers then ask clients to close the connection. */
  readonly isDraining: () => boolean;
  /** Bearer-token check for /key. @default undefined (no access control) */
  readonly authenticator?: Authenticator;
  /** Per-client limit for /key. @default undefined (no limit) */
  readonly rateLimiter?: RateLimiter;
}

/** Which routes a listener serves: everything, or (for the separate metrics port) only /metrics and /health. */
export type RouteSet = 'all' | 'metrics-only';

/** A node:http request listener. */
export type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;

/** Answers requests of one listener, over either protocol. */
export interface RequestHandler {
  /** Answers one request (or counts it unanswered when its connection goes first). */
  handle(exchange: Exchange): void;
  /** The listener for Node's HTTP/1.x machinery. */
  readonly http1: RequestListener;
  /** The listener for HTTP/2 streams. */
  readonly http2: (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number, rawHeaders: string[]) => void;
  /** Requests waiting for their connection or for a slow answer (fault latency, a /metrics render). */
  readonly pending: ReadonlySet<Exchange>;
  /** Counts and logs every pending request as cut at the drain deadline (the server then closes the connections). */
  cutPending(): void;
}

const KEY_PREFIX = '/key/';
const ALLOW = 'GET, HEAD';
const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json';
const FORMAT_ERROR = `Invalid format: must be one of hex, base64, base64url`;

/** Headers on every answer: no answer of this server may be cached, keys least of all. Lower case, as HTTP/2 needs. */
const BASE_HEADERS: Readonly<OutgoingHttpHeaders> = Object.freeze({
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
});

/**
 * Whether the client prefers JSON to text, by the Accept header's q-values. A type named explicitly beats a
 * wildcard at equal q (so "application/json" beside "any type" gets JSON); with no Accept header, text.
 */
export function prefersJson(accept: string | undefined): boolean {
  if (accept === undefined) {
    return false;
  }
  const lowerCase = accept.toLowerCase();
  if (!lowerCase.includes('json')) {
    return false;
  }
  let jsonQuality = -1;
  let textQuality = -1;
  let textExplicit = false;
  let jsonExplicit = false;
  for (const range of lowerCase.split(',')) {
    const [rawType, ...parameters] = range.split(';');
    const type = rawType.trim();
    const quality = qualityOf(parameters);
    if (type === 'application/json') {
      jsonQuality = quality;
      jsonExplicit = true;
    } else if (type === 'text/plain') {
      textQuality = quality;
      textExplicit = true;
    } else if (type === '*/*' || type === 'application/*' || type === 'text/*') {
      if (!jsonExplicit && type !== 'text/*') jsonQuality = Math.max(jsonQuality, quality);
      if (!textExplicit && type !== 'application/*') textQuality = Math.max(textQuality, quality);
    }
  }
  return jsonExplicit && jsonQuality > 0 && (jsonQuality > textQuality || (jsonQuality === textQuality && !textExplicit));
}

function qualityOf(parameters: string[]): number {
  for (const parameter of parameters) {
    const [name, value] = parameter.split('=');
    if (name.trim() === 'q') {
      const quality = Number(value);
      return Number.isFinite(quality) ? quality : 0;
    }
  }
  return 1;
}

/** Creates the handler for one port; everything per-server is bound here once, nothing per request. */
export function createRequestHandler(dependencies: RouteDependencies, routes: RouteSet): RequestHandler {
  const { config, metrics, pool, logger } = dependencies;
  const limits = { minSize: config.minSize, maxSize: config.maxSize };
  const lengthError = invalidLengthMessage(limits);
  const faultLatencyMs = config.faultLatency * 1000;
  const faultErrorRatio = config.faultErrorRatio;
  const { authenticator, rateLimiter } = dependencies;
  // Decided once: with both off, /key pays one boolean test and nothing else.
  const keyGuarded = authenticator !== undefined || rateLimiter !== undefined;
  // /metrics on the main port only when there is no metrics port: scraping renders every series (the CPU of about
  // 27 keys), and the metrics port is the one a NetworkPolicy keeps to Prometheus.
  const metricsOnMainPort = config.metricsPort === undefined;
  // Text hex answers differ only in Content-Length; build each length's header object once, on first use.
  const hexTextHeaders: Array<OutgoingHttpHeaders | undefined> = [];
  const pending = new Set<Exchange>();

  /** Marks the request done: off the in-flight gauge and the pending set, exactly once. */
  function settle(exchange: Exchange): void {
    exchange.settle();
    pending.delete(exchange);
    metrics.requestFinished();
  }

  /**
   * Counts each answer once it is known to have reached the client's connection (at once over HTTP/1.1, when the
   * stream closes over HTTP/2), and an answer whose stream was reset first as unanswered. One object per handler,
   * so no closure is made per request.
   */
  const report: DeliveryReport = {
    delivered(exchange, route, code) {
      const seconds = (exchange.answeredAt - exchange.startedAt) / 1000;
      if (route === 'refused') {
        metrics.recordRejectedRequest(code as RefusalStatus);
      } else {
        metrics.recordRequest(route, exchange.head.method, code, seconds);
      }
      if (config.accessLog) {
        logRequest(exchange, route, code, seconds);
      }
    },
    lost(exchange) {
      metrics.recordUnanswered('client_gone');
      if (exchange.abandonedByClient()) metrics.recordConnectionCut('h2_abuse');
      if (config.accessLog) {
        logger.info('request unanswered', { requestId: exchange.requestId, protocol: exchange.head.protocol, reason: 'client_gone' });
      }
    },
  };

  /** Every routed answer ends here, exactly once per request. */
  function send(exchange: Exchange, handler: Handler, code: number, headers: OutgoingHttpHeaders, body: string): void {
    // Settled before writing: if anything below throws, the handler's catch knows the answer has begun.
    settle(exchange);
    exchange.write(code, headers, body, dependencies.isDraining(), handler, report);
  }

  function logRequest(exchange: Exchange, handler: Handler | 'refused', code: number, seconds: number): void {
    const { head } = exchange;
    logger.info('request', {
      requestId: exchange.requestId,
      protocol: head.protocol,
      method: head.method,
      path: head.target,
      handler,
      code,
      durationMs: seconds * 1000,
    });
  }

  /** Counts a request nobody can be answered for; no key is generated for it. */
  function giveUp(exchange: Exchange, reason: UnansweredReason): void {
    if (exchange.settled) {
      return;
    }
    settle(exchange);
    metrics.recordUnanswered(reason);
    if (reason === 'client_gone' && exchange.abandonedByClient()) metrics.recordConnectionCut('h2_abuse');
    if (reason === 'drain_deadline') {
      const { head } = exchange;
      logger.warn('request cut at the drain deadline', { requestId: exchange.requestId, protocol: head.protocol, method: head.method, path: head.target });
    } else if (config.accessLog) {
      logger.info('request unanswered', { requestId: exchange.requestId, protocol: exchange.head.protocol, reason });
    }
  }

  /**
   * Runs `answer` once the exchange may be written (see `Readiness` in exchange.ts), or counts the request as
   * unanswered if its connection goes first. Used only when an answer could not go out at once, so the closure it
   * takes is never made on the fast path.
   */
  function park(exchange: Exchange, answer: () => void): void {
    if (exchange.readiness() === 'gone') {
      giveUp(exchange, exchange.goneReason());
      return;
    }
    if (!exchange.mayWait()) {
      giveUp(exchange, 'backlog_limit');
      exchange.decline();
      return;
    }
    pending.add(exchange);
    exchange.whenReady((writable) => {
      if (exchange.settled) return;
      if (writable) {
        guarded(exchange, answer);
      } else {
        giveUp(exchange, exchange.goneReason());
      }
    });
  }

  function sendMessage(exchange: Exchange, handler: Handler, code: number, message: string, extraHeaders?: OutgoingHttpHeaders): void {
    if (exchange.readiness() !== 'now') {
      park(exchange, () => sendMessage(exchange, handler, code, message, extraHeaders));
      return;
    }
    const json = prefersJson(exchange.head.accept);
    const body = json ? JSON.stringify(code < 400 ? { status: message } : { error: message }) : `${message}\n`;
    const headers = {
      ...BASE_HEADERS,
      ...extraHeaders,
      'content-type': json ? JSON_TYPE : TEXT,
      'content-length': Buffer.byteLength(body),
    };
    send(exchange, handler, code, headers, body);
  }

  /** A refusal before routing: counted in http_requests_rejected_total, and the connection closes after it. */
  function refuse(exchange: Exchange, refusal: Refusal): void {
    if (exchange.readiness() !== 'now') {
      park(exchange, () => refuse(exchange, refusal));
      return;
    }
    const json = prefersJson(exchange.head.accept);
    const body = json ? JSON.stringify({ error: refusal.message }) : `${refusal.message}\n`;
    const headers = {
      ...BASE_HEADERS,
      ...(refusal.status === 405 ? { allow: ALLOW } : undefined),
      'content-type': json ? JSON_TYPE : TEXT,
      'content-length': Buffer.byteLength(body),
    };
    settle(exchange);
    // HTTP/2 frames each stream on its own; over HTTP/1.x nothing after a badly framed request can be trusted.
    exchange.write(refusal.status, headers, body, exchange.head.protocol !== 'HTTP/2' || dependencies.isDraining(), 'refused', report);
  }

  /** Generates the key only now, when its answer can go straight out: no key is made for an answer nobody gets. */
  function sendKey(exchange: Exchange, length: number, format: KeyFormat, json: boolean): void {
    if (exchange.readiness() !== 'now') {
      park(exchange, () => sendKey(exchange, length, format, json));
      return;
    }
    if (faultErrorRatio > 0 && Math.random() < faultErrorRatio) {
      sendMessage(exchange, handlers.key, 500, 'Internal server error (injected fault)');
      return;
    }
    if (exchange.head.method === 'HEAD') {
      sendKeyHead(exchange, length, format, json);
      return;
    }
    const generationStartedAt = performance.now();
    const key = pool.takeEncoded(length, format);
    metrics.recordKey(length, (performance.now() - generationStartedAt) / 1000);
    if (json) {
      const body = `{"key":"${key}","length":${length},"format":"${format}"}`;
      const headers = { ...BASE_HEADERS, vary: 'Accept', 'content-type': JSON_TYPE, 'content-length': body.length };
      send(exchange, handlers.key, 200, headers, body);
      return;
    }
    let headers = format === 'hex' ? hexTextHeaders[length] : undefined;
    if (headers === undefined) {
      headers = Object.freeze({ ...BASE_HEADERS, vary: 'Accept', 'content-type': TEXT, 'content-length': key.length });
      if (format === 'hex') {
        hexTextHeaders[length] = headers;
      }
    }
    send(exchange, handlers.key, 200, headers, key);
  }

  /** HEAD: the headers a GET would get, Content-Length included, and no key taken from the pool. */
  function sendKeyHead(exchange: Exchange, length: number, format: KeyFormat, json: boolean): void {
    const keyCharacters = encodedLength(length, format);
    const contentLength = json ? `{"key":"","length":${length},"format":"${format}"}`.length + keyCharacters : keyCharacters;
    const headers = { ...BASE_HEADERS, vary: 'Accept', 'content-type': json ? JSON_TYPE : TEXT, 'content-length': contentLength };
    send(exchange, handlers.key, 200, headers, '');
  }

  function handleKey(exchange: Exchange, path: string, query: string | undefined): void {
    const parsed = parseLength(path.slice(KEY_PREFIX.length), limits);
    if (!parsed.ok) {
      sendMessage(exchange, handlers.key, 400, lengthError);
      return;
    }
    let format: KeyFormat = 'hex';
    if (query !== undefined) {
      const requested = new URLSearchParams(query).get('format');
      if (requested !== null) {
        const known = parseKeyFormat(requested);
        if (known === undefined) {
          sendMessage(exchange, handlers.key, 400, FORMAT_ERROR);
          return;
        }
        format = known;
      }
    }
    const json = prefersJson(exchange.head.accept);
    if (faultLatencyMs > 0) {
      waitFor(exchange, faultLatencyMs, () => sendKey(exchange, parsed.length, format, json));
      return;
    }
    sendKey(exchange, parsed.length, format, json);
  }

  /** Holds a request for `ms` (fault injection), counting it unanswered if its client leaves meanwhile. */
  function waitFor(exchange: Exchange, ms: number, then: () => void): void {
    pending.add(exchange);
    exchange.onGone(() => giveUp(exchange, exchange.goneReason()));
    // Unref'd: a delayed answer must not keep a stopped server's process alive (the listener does while serving).
    setTimeout(() => {
      pending.delete(exchange);
      if (!exchange.settled) guarded(exchange, then);
    }, ms).unref();
  }

  /**
   * The token first (a hash and a constant-time compare), then the rate limit with that verdict: valid tokens draw
   * from their client's `authorised` bucket, missing and wrong ones from a separate `unauthenticated` bucket, so a
   * token guesser is slowed like anyone else but never uses up the requests of an authorised client at the same
   * address. Answers and returns false when the request may not proceed; 401 and 429 bodies never echo the token.
   */
  function admit(exchange: Exchange, handler: Handler): boolean {
    const verdict = authenticator?.check(exchange.head.authorization);
    if (rateLimiter !== undefined) {
      const client: RateLimitedClient = verdict === undefined ? 'anonymous' : verdict === 'ok' ? 'authorised' : 'unauthenticated';
      const retryAfter = rateLimiter.take(`${client}:${clientKey(exchange.head.remoteAddress)}`, performance.now());
      if (retryAfter > 0) {
        metrics.recordRateLimited(client);
        sendMessage(exchange, handler, 429, 'Too many requests', { 'retry-after': String(retryAfter) });
        return false;
      }
    }
    if (verdict !== undefined && verdict !== 'ok') {
      // RFC 6750: no error code when no credentials were sent, invalid_token when they were wrong.
      const challenge = verdict === 'missing' ? `Bearer realm="${AUTH_REALM}"` : `Bearer realm="${AUTH_REALM}", error="invalid_token"`;
      sendMessage(exchange, handler, 401, 'Unauthorized: send Authorization: Bearer <token>', { 'www-authenticate': challenge });
      return false;
    }
    return true;
  }

  function handleMetrics(exchange: Exchange): void {
    pending.add(exchange);
    exchange.onGone(() => giveUp(exchange, exchange.goneReason()));
    metrics.registry.metrics().then(
      (body) => {
        pending.delete(exchange);
        if (exchange.settled) return;
        guarded(exchange, () => sendMetrics(exchange, body));
      },
      (error: unknown) => {
        pending.delete(exchange);
        if (exchange.settled) return;
        logger.error('collecting metrics failed', { error, requestId: exchange.requestId });
        sendMessage(exchange, handlers.metrics, 500, 'Internal server error');
      },
    );
  }

  function sendMetrics(exchange: Exchange, body: string): void {
    if (exchange.readiness() !== 'now') {
      park(exchange, () => sendMetrics(exchange, body));
      return;
    }
    const headers = { ...BASE_HEADERS, 'content-type': metrics.registry.contentType, 'content-length': Buffer.byteLength(body) };
    send(exchange, handlers.metrics, 200, headers, body);
  }

  /** The route template for a path, `unmatched` when this listener does not serve it. */
  function routeOf(path: string): Handler {
    if (path.startsWith(KEY_PREFIX)) {
      return routes === 'all' ? handlers.key : handlers.unmatched;
    }
    switch (path) {
      case handlers.health:
        return handlers.health;
      case handlers.metrics:
        return routes === 'metrics-only' || metricsOnMainPort ? handlers.metrics : handlers.unmatched;
      case handlers.ready:
        return routes === 'all' ? handlers.ready : handlers.unmatched;
      default:
        return handlers.unmatched;
    }
  }

  function dispatch(exchange: Exchange): void {
    const refusal = refusalOf(exchange.head);
    if (refusal !== undefined) {
      refuse(exchange, refusal);
      return;
    }
    const target = originForm(exchange.head.target);
    const queryStart = target.indexOf('?');
    const path = queryStart === -1 ? target : target.slice(0, queryStart);
    const handler = routeOf(path);
    if (handler === handlers.unmatched) {
      sendMessage(exchange, handler, 404, 'Not found');
      return;
    }
    const method = exchange.head.method;
    if (method !== 'GET' && method !== 'HEAD') {
      sendMessage(exchange, handler, 405, 'Method not allowed', { allow: ALLOW });
      return;
    }
    switch (handler) {
      case handlers.key:
        if (keyGuarded && !admit(exchange, handler)) {
          return;
        }
        handleKey(exchange, path, queryStart === -1 ? undefined : target.slice(queryStart + 1));
        return;
      case handlers.health:
        sendMessage(exchange, handler, 200, 'ok');
        return;
      case handlers.ready:
        if (dependencies.isReady()) {
          sendMessage(exchange, handler, 200, 'ready');
        } else {
          sendMessage(exchange, handler, 503, 'not ready');
        }
        return;
      case handlers.metrics:
        // On the main port (no metrics port configured) /metrics is behind the same guard as /key.
        if (routes === 'all' && keyGuarded && !admit(exchange, handler)) {
          return;
        }
        handleMetrics(exchange);
        return;
    }
  }

  /** Runs `task` for the exchange; a throw is our fault, not the client's: logged with context, answered 500. */
  function guarded(exchange: Exchange, task: () => void): void {
    try {
      task();
    } catch (error) {
      logger.error('request failed', { error, requestId: exchange.requestId, path: exchange.head.target });
      if (!exchange.settled) {
        sendMessage(exchange, handlers.unmatched, 500, 'Internal server error');
      } else {
        // The answer had begun (send() settles before writing): nothing sane can follow on this exchange.
        exchange.destroy();
      }
    }
  }

  /** HTTP/2 streams that arrived in this event-loop turn, answered together once the turn's reads are done. */
  let arrivedStreams: Exchange[] = [];
  function answerArrivedStreams(): void {
    const batch = arrivedStreams;
    arrivedStreams = [];
    for (const exchange of batch) {
      handle(exchange);
    }
  }

  function handle(exchange: Exchange): void {
    metrics.requestStarted();
    // The same as guarded(), written out: no closure per request on the hot path.
    try {
      dispatch(exchange);
    } catch (error) {
      logger.error('request failed', { error, requestId: exchange.requestId, path: exchange.head.target });
      if (!exchange.settled) {
        sendMessage(exchange, handlers.unmatched, 500, 'Internal server error');
      } else {
        exchange.destroy();
      }
    }
  }

  return {
    handle,
    http1(request, response) {
      const startedAt = performance.now();
      const connection = connectionStateOf(request.socket);
      if (connection.refusing !== undefined || connection.waiting >= MAX_PIPELINED_REQUESTS) {
        refusePipelineOn(request, connection, metrics);
        return;
      }
      const head = readHttp1Head(request);
      handle(new Http1Exchange(request, response, head, requestIdFor(head.requestId), startedAt));
    },
    http2(stream, headers, _flags, rawHeaders) {
      const startedAt = performance.now();
      // A client that resets a stream with an error code makes Node emit 'error' on it; nothing here needs it.
      stream.on('error', ignore);
      const session = stream.session as ServerHttp2Session;
      const head = readHttp2Head(headers, connectionStateOf(session).remoteAddress, rawHeaders);
      const exchange = new Http2Exchange(stream, session, head, requestIdFor(head.requestId), startedAt);
      // Answered once everything that arrived with the request has been read: Node hands a stream over while it is
      // still parsing the bytes that carried it, so a RST_STREAM sent right behind the HEADERS (rapid reset,
      // CVE-2023-44487) is seen only later in the same read. Then the stream is gone and no key is made for it.
      // One setImmediate per event-loop turn for every stream that arrived in it.
      arrivedStreams.push(exchange);
      if (arrivedStreams.length === 1) {
        setImmediate(answerArrivedStreams);
      }
    },
    pending,
    cutPending() {
      for (const exchange of [...pending]) {
        giveUp(exchange, 'drain_deadline');
      }
    },
  };
}

function ignore(): void {}

/**
 * A client pipelining more requests than it reads answers: the server stops answering and closes the connection at
 * once. The requests still waiting (and this one) get no key and no answer and are counted unanswered as
 * `backlog_limit`; answers already handed to the kernel stay counted. The client sees the connection close after
 * its last answer and retries the rest on a new connection (RFC 9112 §9.3.2). At once rather than after a flush: the
 * rest of one read (a 16 KiB TLS record holds about 470 minimal requests) becomes Node request and response objects
 * that live until the connection closes, and a client that does not read would make a flush last until the send
 * timeout, with hundreds of connections doing the same.
 */
function refusePipelineOn(request: IncomingMessage, connection: ConnectionState, metrics: ServerMetrics): void {
  metrics.recordUnanswered('backlog_limit');
  if (connection.refusing === undefined) {
    connection.refusing = 'backlog_limit';
    request.socket.destroy();
  }
}

/** A node:http listener for one port (plain HTTP, or HTTP/1.1 beside HTTP/2): see {@link createRequestHandler}. */
export function createRequestListener(dependencies: RouteDependencies, routes: RouteSet): RequestListener {
  return createRequestHandler(dependencies, routes).http1;
}
