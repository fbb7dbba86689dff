// The prom-client registry of one server, registered from the metric catalogue; hot-path series are bound once, not
// per request.
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import {
  connectionCutReasons, connectionProtocols, handlers, keyLengthBuckets, lengthBucketIndex, metricCatalogue, rateLimitedClients,
  rejectionStatuses, reloadResults, unansweredReasons,
  type ConnectionCutReason, type ConnectionProtocol, type Handler, type MetricDefinition, type RateLimitedClient, type RejectionStatus,
  type ReloadResult, type UnansweredReason,
} from './metric-catalogue';
import { BoundCounter, BoundHistogram, type CounterChild, type HistogramChild } from './metric-primitives';

export type { ConnectionCutReason, ConnectionProtocol, RateLimitedClient, RejectionStatus, UnansweredReason } from './metric-catalogue';

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
  recordCertificateReload(result: ReloadResult): void;
  /** Counts one reload of the access token file (only servers with access control export the series). */
  recordTokenReload(result: ReloadResult): void;
}






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

/** prom-client's options for a metric of the catalogue. */
function declared(definition: MetricDefinition): { name: string; help: string; labelNames: readonly string[] } {
  return { name: definition.name, help: definition.help, labelNames: definition.labels };
}

/** Creates the registry and every metric of the catalogue this server exports. */
export function createServerMetrics(options: ServerMetricsOptions): ServerMetrics {
  const registry = new Registry();
  // The catalogue's `registeredBy: 'prom-client'` entries; the alerts and dashboards read some of them.
  collectDefaultMetrics({ register: registry });
  // Metrics exported only by servers with a feature on are registered in a registry nobody scrapes otherwise.
  const registryFor = (definition: MetricDefinition): Registry => {
    const exported = {
      always: true, tls: options.tls, accessControl: options.accessControl === true, rateLimit: options.rateLimit === true,
    }[definition.exportedWhen ?? 'always'];
    return exported ? registry : new Registry();
  };
  const counter = (definition: MetricDefinition) => new BoundCounter(declared(definition), registryFor(definition));
  const histogram = (definition: MetricDefinition, buckets: readonly number[] = definition.buckets!) =>
    new BoundHistogram({ ...declared(definition), buckets }, registryFor(definition));
  /** A gauge read at scrape time: the hot path only bumps a number instead of updating a prom-client map. */
  const gaugeOf = (definition: MetricDefinition, read: () => number) => new Gauge({
    name: definition.name, help: definition.help, registers: [registryFor(definition)],
    collect() {
      this.set(read());
    },
  });
  const catalogue = metricCatalogue;

  const requestsTotal = counter(catalogue.httpRequestsTotal);
  const requestDuration = histogram(catalogue.httpRequestDurationSeconds);
  let inFlight = 0;
  gaugeOf(catalogue.httpRequestsInFlight, () => inFlight);

  const keyGenerations = counter(catalogue.keyGenerationsTotal);
  const keyGenerationDuration = histogram(catalogue.keyGenerationDurationSeconds).labels();
  const keyLengths = histogram(catalogue.keyLengthDistribution, keyLengthBuckets(options.maxSize)).labels();

  const certificateExpiry = new Gauge({
    name: catalogue.tlsCertificateExpiryTimestampSeconds.name,
    help: catalogue.tlsCertificateExpiryTimestampSeconds.help,
    registers: [registryFor(catalogue.tlsCertificateExpiryTimestampSeconds)],
  });
  // Both results exist from the start at 0, so `increase(...{result="failure"}[1h])` has a series to work on.
  const reloadChildren = bindAll(counter(catalogue.tlsCertificateReloadsTotal), reloadResults);
  const tokenReloadChildren = bindAll(counter(catalogue.authTokenReloadsTotal), reloadResults);
  const tokensLoaded = new Gauge({
    name: catalogue.authTokensLoaded.name, help: catalogue.authTokensLoaded.help, registers: [registryFor(catalogue.authTokensLoaded)],
  });
  const rateLimitedChildren = bindAll(counter(catalogue.rateLimitedRequestsTotal), rateLimitedClients);

  // Every label value exists from the start at 0, so a rate over them has a series before the first event.
  const rejectedChildren = bindAll(counter(catalogue.httpRequestsRejectedTotal), rejectionStatuses);
  const unansweredChildren = bindAll(counter(catalogue.httpRequestsUnansweredTotal), unansweredReasons);
  const connectionChildren = bindAll(counter(catalogue.httpConnectionsTotal), connectionProtocols);
  const connectionCutChildren = bindAll(counter(catalogue.httpConnectionsClosedTotal), connectionCutReasons);
  let openConnections = 0;
  gaugeOf(catalogue.httpOpenConnections, () => openConnections);

  // One child per power-of-two bucket, bound now so the hot path indexes an array.
  const keyChildren: CounterChild[] = [];
  for (let index = 0; index <= lengthBucketIndex(options.maxSize); index++) {
    keyChildren[index] = keyGenerations.labels(String(2 ** index));
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
  for (const handler of Object.values(handlers)) {
    if (handler !== handlers.unmatched) {
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
      keyChildren[lengthBucketIndex(length)].inc();
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
      reloadChildren.get(result)?.inc();
    },
    recordTokenReload(result) {
      tokenReloadChildren.get(result)?.inc();
    },
  };
}
