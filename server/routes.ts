// Request → response: one small function per route, and one `send` that every answer goes through (metrics, logs).
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { AUTH_REALM, type Authenticator } from './auth';
import type { Config } from './config';
import { invalidLengthMessage, parseKeyFormat, parseLength, type KeyFormat, type RandomPool } from './keys';
import type { Logger } from './logger';
import { handlers, type Handler } from './metric-names';
import type { ServerMetrics } from './metrics';
import type { RateLimiter } from './rate-limit';

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
  /** Per-client-address limit for /key. @default undefined (no limit) */
  readonly rateLimiter?: RateLimiter;
}

/** A node:http request listener. */
export type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;

/** Which routes a listener serves: everything, or (for the separate metrics port) only /metrics and /health. */
export type RouteSet = 'all' | 'metrics-only';

const KEY_PREFIX = '/key/';
const ALLOW = 'GET, HEAD';
const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json';
const FORMAT_ERROR = `Invalid format: must be one of hex, base64, base64url`;

/** Headers on every answer: no answer of this server may be cached, keys least of all. */
const BASE_HEADERS: Readonly<OutgoingHttpHeaders> = Object.freeze({
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
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

/**
 * The Accept header, read from rawHeaders: `request.headers` is built lazily on first access, and the key route
 * needs no other header, so skipping it saves an object per request. Several Accept lines are joined, as Node does.
 */
export function acceptHeader(rawHeaders: readonly string[]): string | undefined {
  let value: string | undefined;
  for (let index = 0; index < rawHeaders.length; index += 2) {
    const name = rawHeaders[index];
    if (name.length === 6 && name.toLowerCase() === 'accept') {
      value = value === undefined ? rawHeaders[index + 1] : `${value}, ${rawHeaders[index + 1]}`;
    }
  }
  return value;
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

/** Creates the listener for one port; everything per-server is bound here once, nothing per request. */
export function createRequestListener(dependencies: RouteDependencies, routes: RouteSet): RequestListener {
  const { config, metrics, pool, logger } = dependencies;
  const limits = { minSize: config.minSize, maxSize: config.maxSize };
  const lengthError = invalidLengthMessage(limits);
  const faultLatencyMs = config.faultLatency * 1000;
  const faultErrorRatio = config.faultErrorRatio;
  const { authenticator, rateLimiter } = dependencies;
  // Decided once: with both off, /key pays one boolean test and nothing else.
  const keyGuarded = authenticator !== undefined || rateLimiter !== undefined;
  // Text hex answers differ only in Content-Length; build each length's header object once, on first use.
  const hexTextHeaders: Array<OutgoingHttpHeaders | undefined> = [];

  /** Every answer ends here, exactly once per request. */
  function send(
    request: IncomingMessage,
    response: ServerResponse,
    startedAt: number,
    handler: Handler,
    code: number,
    headers: OutgoingHttpHeaders,
    body: string,
  ): void {
    if (dependencies.isDraining()) {
      response.setHeader('Connection', 'close');
    }
    response.writeHead(code, headers);
    // Right after the headers go out, before anything else can throw: the handler's catch relies on "headers sent"
    // meaning "no longer in flight", so the gauge drops exactly once whichever way the request ends.
    metrics.requestFinished();
    response.end(body);
    const seconds = (performance.now() - startedAt) / 1000;
    metrics.recordRequest(handler, request.method ?? 'GET', code, seconds);
    if (config.accessLog) {
      logger.info('request', { method: request.method, path: request.url, handler, code, durationMs: seconds * 1000 });
    }
  }

  function sendMessage(
    request: IncomingMessage,
    response: ServerResponse,
    startedAt: number,
    handler: Handler,
    code: number,
    message: string,
    extraHeaders?: OutgoingHttpHeaders,
  ): void {
    const json = prefersJson(acceptHeader(request.rawHeaders));
    const body = json ? JSON.stringify(code < 400 ? { status: message } : { error: message }) : `${message}\n`;
    const headers = {
      ...BASE_HEADERS,
      ...extraHeaders,
      'Content-Type': json ? JSON_TYPE : TEXT,
      'Content-Length': Buffer.byteLength(body),
    };
    send(request, response, startedAt, handler, code, headers, body);
  }

  function sendKey(
    request: IncomingMessage,
    response: ServerResponse,
    startedAt: number,
    length: number,
    format: KeyFormat,
    json: boolean,
  ): void {
    if (faultErrorRatio > 0 && Math.random() < faultErrorRatio) {
      sendMessage(request, response, startedAt, handlers.key, 500, 'Internal server error (injected fault)');
      return;
    }
    const generationStartedAt = performance.now();
    const key = pool.takeEncoded(length, format);
    metrics.recordKey(length, (performance.now() - generationStartedAt) / 1000);
    if (json) {
      const body = `{"key":"${key}","length":${length},"format":"${format}"}`;
      const headers = { ...BASE_HEADERS, Vary: 'Accept', 'Content-Type': JSON_TYPE, 'Content-Length': body.length };
      send(request, response, startedAt, handlers.key, 200, headers, body);
      return;
    }
    let headers = format === 'hex' ? hexTextHeaders[length] : undefined;
    if (headers === undefined) {
      headers = Object.freeze({ ...BASE_HEADERS, Vary: 'Accept', 'Content-Type': TEXT, 'Content-Length': key.length });
      if (format === 'hex') {
        hexTextHeaders[length] = headers;
      }
    }
    send(request, response, startedAt, handlers.key, 200, headers, key);
  }

  function handleKey(request: IncomingMessage, response: ServerResponse, startedAt: number, url: string, queryStart: number): void {
    const json = prefersJson(acceptHeader(request.rawHeaders));
    const segment = queryStart === -1 ? url.slice(KEY_PREFIX.length) : url.slice(KEY_PREFIX.length, queryStart);
    const parsed = parseLength(segment, limits);
    if (!parsed.ok) {
      sendMessage(request, response, startedAt, handlers.key, 400, lengthError);
      return;
    }
    let format: KeyFormat = 'hex';
    if (queryStart !== -1) {
      const requested = new URLSearchParams(url.slice(queryStart + 1)).get('format');
      if (requested !== null) {
        const known = parseKeyFormat(requested);
        if (known === undefined) {
          sendMessage(request, response, startedAt, handlers.key, 400, FORMAT_ERROR);
          return;
        }
        format = known;
      }
    }
    if (faultLatencyMs > 0) {
      // Unref'd: a delayed answer must not keep a stopped server's process alive (the listener does while serving).
      setTimeout(sendKey, faultLatencyMs, request, response, startedAt, parsed.length, format, json).unref();
      return;
    }
    sendKey(request, response, startedAt, parsed.length, format, json);
  }

  /**
   * Rate limit first, then the token: a client guessing tokens is slowed like any other. Answers and returns false
   * when the request may not proceed. 401 and 429 bodies say what to fix and never echo the token.
   */
  function admitKeyRequest(request: IncomingMessage, response: ServerResponse, startedAt: number): boolean {
    if (rateLimiter !== undefined) {
      const retryAfter = rateLimiter.take(request.socket.remoteAddress ?? 'unknown', performance.now());
      if (retryAfter > 0) {
        sendMessage(request, response, startedAt, handlers.key, 429, 'Too many requests', { 'Retry-After': String(retryAfter) });
        return false;
      }
    }
    if (authenticator !== undefined) {
      const result = authenticator.check(request.headers.authorization);
      if (result !== 'ok') {
        // RFC 6750: no error code when no credentials were sent, invalid_token when they were wrong.
        const challenge = result === 'missing' ? `Bearer realm="${AUTH_REALM}"` : `Bearer realm="${AUTH_REALM}", error="invalid_token"`;
        sendMessage(request, response, startedAt, handlers.key, 401, 'Unauthorized: send Authorization: Bearer <token>', {
          'WWW-Authenticate': challenge,
        });
        return false;
      }
    }
    return true;
  }

  function handleMetrics(request: IncomingMessage, response: ServerResponse, startedAt: number): void {
    metrics.registry.metrics().then(
      (body) => {
        const headers = { ...BASE_HEADERS, 'Content-Type': metrics.registry.contentType, 'Content-Length': Buffer.byteLength(body) };
        send(request, response, startedAt, handlers.metrics, 200, headers, body);
      },
      (error: unknown) => {
        logger.error('collecting metrics failed', { error });
        sendMessage(request, response, startedAt, handlers.metrics, 500, 'Internal server error');
      },
    );
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
        return handlers.metrics;
      case handlers.ready:
        return routes === 'all' ? handlers.ready : handlers.unmatched;
      default:
        return handlers.unmatched;
    }
  }

  function dispatch(request: IncomingMessage, response: ServerResponse, startedAt: number): void {
    const url = request.url ?? '/';
    const queryStart = url.indexOf('?');
    const handler = routeOf(queryStart === -1 ? url : url.slice(0, queryStart));
    if (handler === handlers.unmatched) {
      sendMessage(request, response, startedAt, handler, 404, 'Not found');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      sendMessage(request, response, startedAt, handler, 405, 'Method not allowed', { Allow: ALLOW });
      return;
    }
    switch (handler) {
      case handlers.key:
        if (keyGuarded && !admitKeyRequest(request, response, startedAt)) {
          return;
        }
        handleKey(request, response, startedAt, url, queryStart);
        return;
      case handlers.health:
        sendMessage(request, response, startedAt, handler, 200, 'ok');
        return;
      case handlers.ready:
        if (dependencies.isReady()) {
          sendMessage(request, response, startedAt, handler, 200, 'ready');
        } else {
          sendMessage(request, response, startedAt, handler, 503, 'not ready');
        }
        return;
      case handlers.metrics:
        handleMetrics(request, response, startedAt);
        return;
    }
  }

  return function handleRequest(request, response) {
    const startedAt = performance.now();
    metrics.requestStarted();
    try {
      dispatch(request, response, startedAt);
    } catch (error) {
      // Our fault, not the client's: log the detail, answer a plain 500 with no internals.
      logger.error('request failed', { error, path: request.url });
      if (!response.headersSent) {
        sendMessage(request, response, startedAt, handlers.unmatched, 500, 'Internal server error');
      } else {
        // send() already took the request off the in-flight gauge when it wrote the headers.
        response.destroy();
      }
    }
  };
}
