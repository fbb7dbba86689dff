// The prom-client registry and every metric the key server exports; hot-path series are bound once, not per request.
import { Gauge, Registry, collectDefaultMetrics, exponentialBuckets } from 'prom-client';
import { lengthBucket } from './keys';
import { BoundCounter, BoundHistogram, type CounterChild, type HistogramChild } from './metric-primitives';
import * as names from './metric-names';
import type { Handler } from './metric-names';

/** What the server records; one instance per server, so tests can run many servers in one process. */
export interface ServerMetrics {
  readonly registry: Registry;
  /** Counts one answered request and observes its duration. */
  recordRequest(handler: Handler, method: string, code: number, seconds: number): void;
  /** Counts one key of `length` bytes that took `seconds` to produce. */
  recordKey(length: number, seconds: number): void;
  /** Counts one request refused before routing (by Node's parser or the server's conformance checks) with `code`. */
  recordRejectedRequest(code: RejectionStatus): void;
  /** Counts one request that was received and never answered. */
  recordUnanswered(reason: UnansweredReason): void;
  /** One more TCP connection open (handshakes included). */
  connectionOpened(): void;
  /** One TCP connection fewer. */
  connectionClosed(): void;
  /** Counts one connection that reached HTTP over `protocol`. */
  recordConnectionProtocol(protocol: ConnectionProtocol): void;
  /** Counts one connection the server closed to protect itself. */
  recordConnectionCut(reason: ConnectionCutReason): void;
  /** Sets the number of access tokens in force (only servers with access control export it). */
  setTokensLoaded(count: number): void;
  /** Counts one request refused by the rate limiter (only servers with a rate limit export it). */
  recordRateLimited(client: RateLimitedClient): void;
  requestStarted(): void;
  requestFinished(): void;
  /** Sets the expiry (notAfter) of the certificate being served, in Unix seconds. */
  setCertificateExpiry(unixSeconds: number): void;
  recordCertificateReload(result: 'success' | 'failure'): void;
  /** Counts one reload of the access token file (only servers with access control export the series). */
  recordTokenReload(result: 'success' | 'failure'): void;
}

/** The statuses of requests refused before routing (Node's parser: 400, 408, 413, 431; the server's checks: conformance.ts). */
export type RejectionStatus = 400 | 405 | 408 | 413 | 417 | 431;
const REJECTION_STATUSES: readonly RejectionStatus[] = [400, 405, 408, 413, 417, 431];

/** Why a received request went unanswered: see `http_requests_unanswered_total` in metric-names.ts. */
export type UnansweredReason = 'client_gone' | 'backlog_limit' | 'drain_deadline';
const UNANSWERED_REASONS: readonly UnansweredReason[] = ['client_gone', 'backlog_limit', 'drain_deadline'];

/** The application protocol a connection negotiated. */
export type ConnectionProtocol = 'http/1.1' | 'h2';

/** Why the server closed a connection to protect itself: see `http_connections_closed_total` in metric-names.ts. */
export type ConnectionCutReason = 'max_connections' | 'idle_evicted' | 'send_timeout' | 'h2_abuse' | 'drain_deadline';
const CONNECTION_CUT_REASONS: readonly ConnectionCutReason[] = ['max_connections', 'idle_evicted', 'send_timeout', 'h2_abuse', 'drain_deadline'];

/** Whose bucket a rate-limited request came from. */
export type RateLimitedClient = 'authorised' | 'unauthenticated' | 'anonymous';

/**
 * The status for a request the HTTP parser refused, as Node itself would answer it (header overflow 431, timeout
 * 408, anything else malformed 400), or undefined when the client is gone or never got past TLS, and there is
 * nobody to answer in HTTP.
 */
export function rejectionStatus(errorCode: string | undefined): RejectionStatus | undefined {
  // TLS errors (handshake timeout, not TLS at all, bad records) come before any HTTP: an HTTP answer written into a
  // connection whose handshake failed never leaves, and the socket would linger instead of closing.
  if (errorCode !== undefined && (errorCode.startsWith('ERR_TLS_') || errorCode.startsWith('ERR_SSL_'))) {
    return undefined;
  }
  switch (errorCode) {
    case 'ECONNRESET':
    case 'EPIPE':
    // Not a malformed request: Node 20's parser, paused because the client does not read its pipelined answers, got
    // more bytes from TLS anyway. The requests were fine; the connection is closed without a 400 (see listener.ts).
    case 'HPE_PAUSED':
      return undefined;
    case 'HPE_HEADER_OVERFLOW':
      return 431;
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return 413;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return 408;
    default:
      return 400;
  }
}

/** Binds one child per label value now, so each series exists at 0 from the start and the hot path does one Map lookup. */
function bindAll<Value extends string | number>(counter: BoundCounter, values: readonly Value[]): ReadonlyMap<Value, CounterChild> {
  return new Map(values.map((value) => [value, counter.labels(String(value))]));
}

/** Request latency buckets, in seconds: fine below 10 ms where keys are served, coarse up to the 10 s timeout. */
export const REQUEST_DURATION_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
/** Key generation buckets: 1 µs to about 0.26 s, by factors of 4 (a key takes microseconds; a pool refill more). */
export const KEY_GENERATION_BUCKETS: readonly number[] = exponentialBuckets(0.000001, 4, 10);

/**
 * 20 linear buckets from 0 to max-size. Each bound is computed as max·i/20 rather than by repeated addition
 * (prom-client's linearBuckets), so the `le` labels read 768, not 768.0000000000001.
 */
export function keyLengthBuckets(maxSize: number): number[] {
  return Array.from({ length: 20 }, (_, index) => (maxSize * (index + 1)) / 20);
}

/** Methods kept as label values; anything else becomes `OTHER`, so a client cannot invent series. */
const METHOD_LABELS: Readonly<Record<string, string>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, string>, {
    GET: 'GET', HEAD: 'HEAD', POST: 'POST', PUT: 'PUT', DELETE: 'DELETE', PATCH: 'PATCH', OPTIONS: 'OPTIONS',
  }),
);

/** The `method` label for an HTTP method. */
export function methodLabel(method: string | undefined): string {
  return (method !== undefined && METHOD_LABELS[method]) || 'OTHER';
}

interface RequestChildren {
  readonly count: CounterChild;
  readonly duration: HistogramChild;
}

/** What shapes the metrics of one server. */
export interface ServerMetricsOptions {
  /** Largest key length: sets the key length buckets and the `length` series. */
  readonly maxSize: number;
  /** Whether the server serves TLS; without it there is no certificate, so no expiry series (a 0 would alert). */
  readonly tls: boolean;
  /** Whether access tokens are read from a file; without it there are no token reload series. @default false */
  readonly accessControl?: boolean;
  /** Whether a rate limit is configured; without it there is no rate-limited series. @default false */
  readonly rateLimit?: boolean;
}

/** Creates the registry and every metric. */
export function createServerMetrics(options: ServerMetricsOptions): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const labelNames = ['code', 'handler', 'method'];
  const requestsTotal = new BoundCounter(
    { name: names.httpRequestsTotal, help: 'HTTP requests answered, by status code, route template and method.', labelNames },
    registry,
  );
  const requestDuration = new BoundHistogram(
    {
      name: names.httpRequestDurationSeconds,
      help: 'Time from receiving a request to handing the whole response to the socket, in seconds.',
      labelNames,
      buckets: REQUEST_DURATION_BUCKETS,
    },
    registry,
  );
  let inFlight = 0;
  new Gauge({
    name: names.httpRequestsInFlight,
    help: 'HTTP requests being processed right now.',
    registers: [registry],
    // Read at scrape time: the hot path only bumps a number instead of updating a prom-client map.
    collect() {
      this.set(inFlight);
    },
  });

  const keyGenerations = new BoundCounter(
    { name: names.keyGenerationsTotal, help: 'Keys produced, by requested length rounded up to a power of two.', labelNames: ['length'] },
    registry,
  );
  const keyGenerationDuration = new BoundHistogram(
    {
      name: names.keyGenerationDurationSeconds,
      help: 'Time to produce and encode the random bytes of one key, in seconds.',
      buckets: KEY_GENERATION_BUCKETS,
    },
    registry,
  ).labels();
  const keyLengths = new BoundHistogram(
    {
      name: names.keyLengthDistribution,
      help: 'Requested key lengths in bytes (20 linear buckets from 0 to max-size).',
      buckets: keyLengthBuckets(options.maxSize),
    },
    registry,
  ).labels();

  const certificateExpiry = new Gauge({
    name: names.tlsCertificateExpiryTimestampSeconds,
    help: 'Expiry (notAfter) of the TLS certificate being served, in Unix seconds.',
    registers: options.tls ? [registry] : [],
  });
  const certificateReloads = new BoundCounter(
    { name: names.tlsCertificateReloadsTotal, help: 'Attempts to load a changed TLS certificate and key, by result.', labelNames: ['result'] },
    registry,
  );
  // Both results exist from the start at 0, so `increase(...{result="failure"}[1h])` has a series to work on.
  const reloadChildren = { success: certificateReloads.labels('success'), failure: certificateReloads.labels('failure') };

  const accessControlRegistry = options.accessControl === true ? registry : new Registry();
  const tokenReloads = new BoundCounter(
    { name: names.authTokenReloadsTotal, help: 'Attempts to load a changed access token file, by result (failure: no token in force).', labelNames: ['result'] },
    accessControlRegistry,
  );
  const tokenReloadChildren = { success: tokenReloads.labels('success'), failure: tokenReloads.labels('failure') };
  const tokensLoaded = new Gauge({
    name: names.authTokensLoaded,
    help: 'Access tokens in force; 0 means every /key request is refused.',
    registers: [accessControlRegistry],
  });

  const rateLimited = new BoundCounter(
    { name: names.rateLimitedRequestsTotal, help: 'Requests refused by the rate limiter, by whose bucket they came from.', labelNames: ['client'] },
    options.rateLimit === true ? registry : new Registry(),
  );
  const rateLimitedChildren = bindAll(rateLimited, ['authorised', 'unauthenticated', 'anonymous'] as const);

  const rejectedRequests = new BoundCounter(
    { name: names.httpRequestsRejectedTotal, help: 'Requests refused before routing (by the HTTP parser or the conformance checks), by status code.', labelNames: ['code'] },
    registry,
  );
  // Every label value exists from the start at 0, so a rate over them has a series before the first event.
  const rejectedChildren = bindAll(rejectedRequests, REJECTION_STATUSES);
  const unanswered = new BoundCounter(
    { name: names.httpRequestsUnansweredTotal, help: 'Requests received and never answered, by reason.', labelNames: ['reason'] },
    registry,
  );
  const unansweredChildren = bindAll(unanswered, UNANSWERED_REASONS);
  const connections = new BoundCounter(
    { name: names.httpConnectionsTotal, help: 'Connections that reached HTTP, by protocol negotiated.', labelNames: ['protocol'] },
    registry,
  );
  const connectionChildren = bindAll(connections, ['http/1.1', 'h2'] as const);
  const connectionsCut = new BoundCounter(
    { name: names.httpConnectionsClosedTotal, help: 'Connections the server closed to protect itself, by reason.', labelNames: ['reason'] },
    registry,
  );
  const connectionCutChildren = bindAll(connectionsCut, CONNECTION_CUT_REASONS);
  let openConnections = 0;
  new Gauge({
    name: names.httpOpenConnections,
    help: 'TCP connections open right now, TLS handshakes included.',
    registers: [registry],
    collect() {
      this.set(openConnections);
    },
  });

  // One child per power-of-two bucket, bound now so the hot path indexes an array.
  const keyChildren: CounterChild[] = [];
  for (let bucket = 1, index = 0; bucket <= lengthBucket(options.maxSize); bucket *= 2, index++) {
    keyChildren[index] = keyGenerations.labels(String(bucket));
  }

  // handler → method → code → bound children, filled on first use: the label values are all bounded sets.
  const requestChildren = new Map<string, Map<string, Map<number, RequestChildren>>>();
  function childrenFor(handler: Handler, method: string, code: number): RequestChildren {
    let byMethod = requestChildren.get(handler);
    if (byMethod === undefined) {
      byMethod = new Map();
      requestChildren.set(handler, byMethod);
    }
    let byCode = byMethod.get(method);
    if (byCode === undefined) {
      byCode = new Map();
      byMethod.set(method, byCode);
    }
    let children = byCode.get(code);
    if (children === undefined) {
      const labels = [String(code), handler, method];
      children = { count: requestsTotal.labels(...labels), duration: requestDuration.labels(...labels) };
      byCode.set(code, children);
    }
    return children;
  }
  // Bind the successful GET series up front, so dashboards show zeros instead of "no data" on a fresh pod.
  for (const handler of Object.values(names.handlers)) {
    if (handler !== names.handlers.unmatched) {
      childrenFor(handler, 'GET', 200);
    }
  }

  return {
    registry,
    recordRequest(handler, method, code, seconds) {
      const children = childrenFor(handler, methodLabel(method), code);
      children.count.inc();
      children.duration.observe(seconds);
    },
    recordKey(length, seconds) {
      keyChildren[length <= 1 ? 0 : 32 - Math.clz32(length - 1)].inc();
      keyGenerationDuration.observe(seconds);
      keyLengths.observe(length);
    },
    recordRejectedRequest(code) {
      rejectedChildren.get(code)?.inc();
    },
    recordUnanswered(reason) {
      unansweredChildren.get(reason)?.inc();
    },
    connectionOpened() {
      openConnections++;
    },
    connectionClosed() {
      openConnections--;
    },
    recordConnectionProtocol(protocol) {
      connectionChildren.get(protocol)?.inc();
    },
    recordConnectionCut(reason) {
      connectionCutChildren.get(reason)?.inc();
    },
    setTokensLoaded(count) {
      tokensLoaded.set(count);
    },
    recordRateLimited(client) {
      rateLimitedChildren.get(client)?.inc();
    },
    requestStarted() {
      inFlight++;
    },
    requestFinished() {
      inFlight--;
    },
    setCertificateExpiry(unixSeconds) {
      certificateExpiry.set(unixSeconds);
    },
    recordCertificateReload(result) {
      reloadChildren[result].inc();
    },
    recordTokenReload(result) {
      tokenReloadChildren[result].inc();
    },
  };
}
