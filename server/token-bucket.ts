// A token bucket, pure: the one arithmetic behind the per-client rate limit and the HTTP/2 rapid-reset limit.

/** Tokens left at `updatedAt` (milliseconds). Mutated in place: one per client or session, on the request path. */
export interface TokenBucket {
  tokens: number;
  updatedAt: number;
}

/** How a bucket fills: `burst` tokens at most, `perMs` more every millisecond. */
export interface BucketRate {
  readonly burst: number;
  readonly perMs: number;
}

/** A full bucket, as a new client or session starts with. */
export function fullBucket(rate: BucketRate, nowMs: number): TokenBucket {
  return { tokens: rate.burst, updatedAt: nowMs };
}

/**
 * Refills `bucket` for the time since it was last used (nothing if the clock went back), then takes one token.
 * Returns whether there was one; either way `bucket.tokens` is what is left, for working out when the next will be.
 */
export function takeToken(bucket: TokenBucket, rate: BucketRate, nowMs: number): boolean {
  bucket.tokens = Math.min(rate.burst, bucket.tokens + Math.max(0, nowMs - bucket.updatedAt) * rate.perMs);
  bucket.updatedAt = nowMs;
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  return true;
}
