// The names of every metric the key server exports, shared by the server and the monitoring constructs,
// so renaming a metric breaks the build of a dashboard or rule instead of blanking a panel.

/** Counter: every HTTP request answered, labelled `code`, `handler` (route template) and `method`. */
export const httpRequestsTotal = 'http_requests_total';
/** Histogram: time from request to response end, same labels as {@link httpRequestsTotal}. */
export const httpRequestDurationSeconds = 'http_request_duration_seconds';
/**
 * Counter: requests refused before any route saw them, labelled `code`: by Node's HTTP parser (400 malformed, 408
 * headers or request too slow, 431 header block too large) or by the server's own conformance checks (400 bad
 * framing, version, Host or transfer coding, 405 CONNECT, 413 a body where none belongs, 417 an unknown expectation,
 * 431 an HTTP/2 header list over 8 KiB). Not in {@link httpRequestsTotal}: they have no route. Every answer is counted in exactly one of
 * the two.
 */
export const httpRequestsRejectedTotal = 'http_requests_rejected_total';
/**
 * Counter: requests that were received but never answered, labelled `reason`: `client_gone` (the connection or stream
 * closed, or an HTTP/2 stream was reset, before the answer went out), `backlog_limit` (the client had more answers
 * unread and requests waiting than allowed: HTTP/1.1 pipelining past 16, closing the connection; an HTTP/2 session
 * with 8 streams already waiting, refusing the stream with REFUSED_STREAM so it may be retried) or `drain_deadline`
 * (cut at the end of a graceful shutdown). No key is generated for any of them.
 */
export const httpRequestsUnansweredTotal = 'http_requests_unanswered_total';
/** Counter: connections that reached HTTP, labelled `protocol` (`http/1.1` or `h2`, as negotiated by ALPN). */
export const httpConnectionsTotal = 'http_connections_total';
/** Gauge: TCP connections open right now on every listener, TLS handshakes included. */
export const httpOpenConnections = 'http_open_connections';
/**
 * Counter: connections the server closed to protect itself, labelled `reason`: `max_connections` (refused at the cap),
 * `idle_evicted` (an idle connection closed at the cap to admit a new one), `send_timeout` (the client stopped
 * reading), `h2_abuse` (an HTTP/2 flood or rapid-reset defence tripped), `drain_deadline` (cut at the end of a
 * graceful shutdown).
 */
export const httpConnectionsClosedTotal = 'http_connections_closed_total';
/** Gauge: requests being processed right now. */
export const httpRequestsInFlight = 'http_requests_in_flight';
/** Counter: keys produced, labelled `length` (the requested length rounded up to a power of two). */
export const keyGenerationsTotal = 'key_generations_total';
/** Histogram: time to produce the random bytes of one key. */
export const keyGenerationDurationSeconds = 'key_generation_duration_seconds';
/** Histogram: requested key lengths in bytes, 20 linear buckets from 0 to max-size. */
export const keyLengthDistribution = 'key_length_distribution';
/** Gauge: expiry (notAfter) of the certificate being served, in Unix seconds. */
export const tlsCertificateExpiryTimestampSeconds = 'tls_certificate_expiry_timestamp_seconds';
/** Counter: certificate reloads, labelled `result` (`success` or `failure`). */
export const tlsCertificateReloadsTotal = 'tls_certificate_reloads_total';

/**
 * Counter: reloads of the access token file, labelled `result`: `success`, or `failure` (unreadable, missing or
 * holding no token; every client is then refused until a good file appears).
 */
export const authTokenReloadsTotal = 'auth_token_reloads_total';
/** Gauge: access tokens in force. 0 with access control on means every /key request is refused: alert on it. */
export const authTokensLoaded = 'auth_tokens_loaded';
/**
 * Counter: requests refused by the rate limiter (also in {@link httpRequestsTotal} as 429), labelled `client`:
 * `authorised` (a valid token), `unauthenticated` (no or a wrong token; their own buckets, so guessing never drains
 * an authorised client's) or `anonymous` (no access control).
 */
export const rateLimitedRequestsTotal = 'rate_limited_requests_total';

/** Route templates used as the `handler` label: never the raw path, so cardinality stays bounded. */
export const handlers = {
  key: '/key/{length}',
  health: '/health',
  ready: '/ready',
  metrics: '/metrics',
  unmatched: 'unmatched',
} as const;

export type Handler = (typeof handlers)[keyof typeof handlers];
