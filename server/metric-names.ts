// The names of every metric the key server exports, shared by the server and the monitoring constructs,
// so renaming a metric breaks the build of a dashboard or rule instead of blanking a panel.

/** Counter: every HTTP request answered, labelled `code`, `handler` (route template) and `method`. */
export const httpRequestsTotal = 'http_requests_total';
/** Histogram: time from request to response end, same labels as {@link httpRequestsTotal}. */
export const httpRequestDurationSeconds = 'http_request_duration_seconds';
/**
 * Counter: requests refused by Node's HTTP parser before any route saw them, labelled `code` (400 malformed, 408
 * headers or request too slow, 431 header block too large). Not in {@link httpRequestsTotal}: they have no handler,
 * method or duration.
 */
export const httpRequestsRejectedTotal = 'http_requests_rejected_total';
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

/** Counter: reloads of the access token file, labelled `result` (`success` or `failure`). */
export const authTokenReloadsTotal = 'auth_token_reloads_total';

/** Route templates used as the `handler` label: never the raw path, so cardinality stays bounded. */
export const handlers = {
  key: '/key/{length}',
  health: '/health',
  ready: '/ready',
  metrics: '/metrics',
  unmatched: 'unmatched',
} as const;

export type Handler = (typeof handlers)[keyof typeof handlers];
