// Every metric the key server exports, in one table: name, type, help, labels (with the values bound at start) and
// buckets. server/metrics.ts registers from it; the README's metric table, the alert rules and the dashboards read
// it, so a metric renamed here is renamed everywhere, and one removed breaks the build of the rule or panel reading it.

/** The three kinds of metric the server exports. */
export type MetricType = 'counter' | 'gauge' | 'histogram';

/** One metric: what Prometheus sees, and when the server exports it. */
export interface MetricDefinition {
  readonly name: string;
  readonly type: MetricType;
  /** The HELP line. */
  readonly help: string;
  /** More for the README's table: label values, what is and is not counted. */
  readonly details?: string;
  /** Label names, in the order the server binds them. */
  readonly labels: readonly string[];
  /** Histogram bucket bounds; `key_length_distribution`'s follow --max-size ({@link keyLengthBuckets}). */
  readonly buckets?: readonly number[];
  /**
   * Which servers export it: all, those serving TLS, those with --auth-token-file, those with --rate-limit.
   * @default 'always'
   */
  readonly exportedWhen?: 'always' | 'tls' | 'accessControl' | 'rateLimit';
  /**
   * Who registers it: the server from this table, or prom-client's default metrics (listed because the alerts and
   * dashboards read them too).
   * @default 'server'
   */
  readonly registeredBy?: 'server' | 'prom-client';
}

/** Route templates used as the `handler` label: never the raw path, so cardinality stays bounded. */
export const handlers = {
  key: '/key/{length}',
  health: '/health',
  ready: '/ready',
  metrics: '/metrics',
  unmatched: 'unmatched',
} as const;

export type Handler = (typeof handlers)[keyof typeof handlers];

/** The statuses of requests refused before routing (Node's parser: 400, 408, 413, 431; the server's checks, conformance.ts: 400, 405, 413, 417, 431). */
export const rejectionStatuses = [400, 405, 408, 413, 417, 431] as const;
export type RejectionStatus = (typeof rejectionStatuses)[number];

/** Why a received request went unanswered. */
export const unansweredReasons = ['client_gone', 'backlog_limit', 'drain_deadline'] as const;
export type UnansweredReason = (typeof unansweredReasons)[number];

/** The application protocol a connection negotiated. */
export const connectionProtocols = ['http/1.1', 'h2'] as const;
export type ConnectionProtocol = (typeof connectionProtocols)[number];

/** Why the server closed a connection to protect itself. */
export const connectionCutReasons = ['max_connections', 'idle_evicted', 'send_timeout', 'h2_abuse', 'drain_deadline'] as const;
export type ConnectionCutReason = (typeof connectionCutReasons)[number];

/** Whose bucket a rate-limited request came from. */
export const rateLimitedClients = ['authorised', 'unauthenticated', 'anonymous'] as const;
export type RateLimitedClient = (typeof rateLimitedClients)[number];

/** The outcome of a reload. */
export const reloadResults = ['success', 'failure'] as const;
export type ReloadResult = (typeof reloadResults)[number];

/** Request latency buckets, in seconds: fine below 10 ms where keys are served, coarse up to the 10 s timeout. */
export const REQUEST_DURATION_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Key generation buckets: 1 µs to about 0.26 s, by factors of 4 (a key takes microseconds; a pool refill more). */
export const KEY_GENERATION_BUCKETS: readonly number[] = exponentialBuckets(0.000001, 4, 10);

/** `count` bounds from `start`, each `factor` times the last: prom-client's exponentialBuckets, without importing it. */
function exponentialBuckets(start: number, factor: number, count: number): number[] {
  const buckets: number[] = [];
  for (let index = 0, bound = start; index < count; index++, bound *= factor) buckets.push(bound);
  return buckets;
}

/**
 * 20 linear buckets from 0 to max-size. Each bound is computed as max·i/20 rather than by repeated addition
 * (prom-client's linearBuckets), so the `le` labels read 768, not 768.0000000000001.
 */
export function keyLengthBuckets(maxSize: number): number[] {
  return Array.from({ length: 20 }, (_, index) => (maxSize * (index + 1)) / 20);
}

/**
 * The `length` label of key_generations_total: the length rounded up to a power of two, so requesting every valid
 * length creates at most log2(max-size) + 1 series (11 for the default 1024) instead of one per length.
 */
export function lengthBucket(length: number): number {
  return 2 ** lengthBucketIndex(length);
}

/** The index of {@link lengthBucket}'s bucket: 0 for 1 byte, 1 for 2, 2 for 3 and 4, … (what the hot path indexes by). */
export function lengthBucketIndex(length: number): number {
  return length <= 1 ? 0 : 32 - Math.clz32(length - 1);
}

const requestLabels = ['code', 'handler', 'method'] as const;

/** Every metric, by the name the code knows it by. */
export const metricCatalogue = {
  httpRequestsTotal: {
    name: 'http_requests_total', type: 'counter', labels: requestLabels,
    help: 'HTTP requests answered, by status code, route template and method.',
    details: `\`handler\` is the route template (${Object.values(handlers).map((handler) => `\`${handler}\``).join(', ')}), never the raw path; \`method\` is one of the standard methods or \`OTHER\`. Every HTTP/2 stream counts like a request, once it closed without error`,
  },
  httpRequestDurationSeconds: {
    name: 'http_request_duration_seconds', type: 'histogram', labels: requestLabels, buckets: REQUEST_DURATION_BUCKETS,
    help: 'Time from receiving a request to handing the whole response to the socket, in seconds.',
  },
  httpRequestsRejectedTotal: {
    name: 'http_requests_rejected_total', type: 'counter', labels: ['code'],
    help: 'Requests refused before routing (by the HTTP parser or the conformance checks), by status code.',
    details: `${rejectionStatuses.join(', ')}: by Node's parser (400 malformed, 408 headers or request too slow, 413 a chunk extension too large, 431 header block too large) or the server's conformance checks (400 bad framing, version, Host or transfer coding, 405 CONNECT, 413 a body where none belongs, 417 an unknown expectation, 431 an HTTP/2 header list over 8 KiB); every answer is counted in exactly one of this and \`http_requests_total\``,
  },
  httpRequestsUnansweredTotal: {
    name: 'http_requests_unanswered_total', type: 'counter', labels: ['reason'],
    help: 'Requests received and never answered, by reason.',
    details: '`client_gone` (the connection or stream closed, or an HTTP/2 stream was reset, before the answer went out), `backlog_limit` (the client had more answers unread and requests waiting than allowed: HTTP/1.1 pipelining past 16, closing the connection; an HTTP/2 session with 8 streams already waiting, refusing the stream with REFUSED_STREAM so it may be retried) or `drain_deadline` (cut at the end of a graceful shutdown). No key is generated for any of them',
  },
  httpRequestsInFlight: {
    name: 'http_requests_in_flight', type: 'gauge', labels: [],
    help: 'HTTP requests being processed right now.',
  },
  httpConnectionsTotal: {
    name: 'http_connections_total', type: 'counter', labels: ['protocol'],
    help: 'Connections that reached HTTP, by protocol negotiated.',
    details: `${connectionProtocols.map((protocol) => `\`${protocol}\``).join(', ')}, as ALPN negotiated`,
  },
  httpOpenConnections: {
    name: 'http_open_connections', type: 'gauge', labels: [],
    help: 'TCP connections open right now, TLS handshakes included.',
  },
  httpConnectionsClosedTotal: {
    name: 'http_connections_closed_total', type: 'counter', labels: ['reason'],
    help: 'Connections the server closed to protect itself, by reason.',
    details: '`max_connections` (refused at the cap), `idle_evicted` (an idle connection closed at the cap to admit a new one), `send_timeout` (the client stopped reading), `h2_abuse` (an HTTP/2 flood or rapid-reset defence tripped), `drain_deadline` (cut at the end of a graceful shutdown)',
  },
  keyGenerationsTotal: {
    name: 'key_generations_total', type: 'counter', labels: ['length'],
    help: 'Keys produced, by requested length rounded up to a power of two.',
    details: '11 series for max-size 1024',
  },
  keyGenerationDurationSeconds: {
    name: 'key_generation_duration_seconds', type: 'histogram', labels: [], buckets: KEY_GENERATION_BUCKETS,
    help: 'Time to produce and encode the random bytes of one key, in seconds.',
  },
  keyLengthDistribution: {
    name: 'key_length_distribution', type: 'histogram', labels: [],
    help: 'Requested key lengths in bytes (20 linear buckets from 0 to max-size).',
  },
  tlsCertificateExpiryTimestampSeconds: {
    name: 'tls_certificate_expiry_timestamp_seconds', type: 'gauge', labels: [], exportedWhen: 'tls',
    help: 'Expiry (notAfter) of the TLS certificate being served, in Unix seconds.',
  },
  tlsCertificateReloadsTotal: {
    name: 'tls_certificate_reloads_total', type: 'counter', labels: ['result'],
    help: 'Attempts to load a changed TLS certificate and key, by result.',
    details: 'Both results exist from the start at 0; a pair that stays broken counts a failure at every check',
  },
  authTokenReloadsTotal: {
    name: 'auth_token_reloads_total', type: 'counter', labels: ['result'], exportedWhen: 'accessControl',
    help: 'Attempts to load a changed access token file, by result (failure: no token in force).',
    details: '`failure`: unreadable, missing or holding no token; every client is then refused until a good file appears',
  },
  authTokensLoaded: {
    name: 'auth_tokens_loaded', type: 'gauge', labels: [], exportedWhen: 'accessControl',
    help: 'Access tokens in force; 0 means every /key request is refused.',
  },
  rateLimitedRequestsTotal: {
    name: 'rate_limited_requests_total', type: 'counter', labels: ['client'], exportedWhen: 'rateLimit',
    help: 'Requests refused by the rate limiter, by whose bucket they came from.',
    details: '`authorised` (a valid token), `unauthenticated` (no or a wrong token; their own buckets, so guessing never drains an authorised client\'s) or `anonymous` (no access control); also in `http_requests_total` as 429',
  },
  processCpuSecondsTotal: {
    name: 'process_cpu_seconds_total', type: 'counter', labels: [], registeredBy: 'prom-client',
    help: 'Total user and system CPU time spent in seconds.',
  },
  processResidentMemoryBytes: {
    name: 'process_resident_memory_bytes', type: 'gauge', labels: [], registeredBy: 'prom-client',
    help: 'Resident memory size in bytes.',
  },
  nodejsEventloopLagP99Seconds: {
    name: 'nodejs_eventloop_lag_p99_seconds', type: 'gauge', labels: [], registeredBy: 'prom-client',
    help: 'The 99th percentile of the recorded event loop delays.',
  },
} as const satisfies Record<string, MetricDefinition>;

/** The code's name for a metric. */
export type MetricKey = keyof typeof metricCatalogue;

/** Each metric's Prometheus name, by its key: `metricNames.httpRequestsTotal` is `'http_requests_total'`. */
export const metricNames = Object.freeze(Object.fromEntries(Object.entries(metricCatalogue).map(([key, definition]) => [key, definition.name]))) as {
  readonly [Key in MetricKey]: (typeof metricCatalogue)[Key]['name'];
};

/** The README's metric table, Markdown, one row per metric (`npm run docs:readme` writes it; a test compares). */
export function metricTable(): string {
  const when = { always: '', tls: ' Only with TLS.', accessControl: ' Only with `--auth-token-file`.', rateLimit: ' Only with `--rate-limit`.' };
  const rows = Object.values(metricCatalogue as Record<string, MetricDefinition>).map((definition) => {
    const labels = definition.labels.length === 0 ? '' : definition.labels.map((label) => `\`${label}\``).join(', ');
    const from = definition.registeredBy === 'prom-client' ? ' From prom-client\'s default metrics; the alerts and dashboards read it.' : '';
    const details = definition.details === undefined ? '' : ` ${definition.details}.`;
    const text = `${definition.help}${details}${when[definition.exportedWhen ?? 'always']}${from}`.replace(/\|/g, '\\|');
    return `| \`${definition.name}\` | ${definition.type} | ${labels} | ${text} |`;
  });
  return ['| Metric | Type | Labels | Meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}
