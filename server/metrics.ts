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
  /** Counts one request refused before routing, answered with `code` by {@link rejectionStatus}. */
  recordRejectedRequest(code: RejectionStatus): void;
  requestStarted(): void;
  requestFinished(): void;
  /** Sets the expiry (notAfter) of the certificate being served, in Unix seconds. */
  setCertificateExpiry(unixSeconds: number): void;
  recordCertificateReload(result: 'success' | 'failure'): void;
  /** Counts one reload of the access token file (only servers with access control export the series). */
  recordTokenReload(result: 'success' | 'failure'): void;
}

/** The statuses of requests refused before routing. */
export type RejectionStatus = 400 | 408 | 431;

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
      return undefined;
    case 'HPE_HEADER_OVERFLOW':
      return 431;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return 408;
    default:
      return 400;
  }
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

  const tokenReloads = new BoundCounter(
    { name: names.authTokenReloadsTotal, help: 'Attempts to load a changed access token file, by result.', labelNames: ['result'] },
    options.accessControl === true ? registry : new Registry(),
  );
  const tokenReloadChildren = { success: tokenReloads.labels('success'), failure: tokenReloads.labels('failure') };

  const rejectedRequests = new BoundCounter(
    { name: names.httpRequestsRejectedTotal, help: 'Requests refused by the HTTP parser before routing, by status code.', labelNames: ['code'] },
    registry,
  );
  // Every code exists from the start at 0, so a rate over them has a series before the first refusal.
  const rejectedChildren: Record<RejectionStatus, CounterChild> = {
    400: rejectedRequests.labels('400'), 408: rejectedRequests.labels('408'), 431: rejectedRequests.labels('431'),
  };

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
      rejectedChildren[code].inc();
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
