// Optional per-client rate limit for /key: one token bucket per client (an IPv4 address or an IPv6 /64), in a map of bounded size.
import { isIPv4 } from 'node:net';
import { fullBucket, takeToken, type BucketRate, type TokenBucket } from './token-bucket';

/**
 * The client a request is limited as: an IPv4 address itself (also when a dual-stack listener reports it as
 * `::ffff:a.b.c.d`), an IPv6 address by its /64 prefix. One IPv6 subscriber or host usually holds a whole /64, so
 * keying by the full address would give a client 2^64 buckets to rotate through. Pure; anything unparsable is its own key.
 */
export function clientKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped !== null) {
    return mapped[1];
  }
  if (isIPv4(address) || !address.includes(':')) {
    return address;
  }
  const groups = ipv6Groups(address.split('%')[0]);
  return groups === undefined ? address : `${groups.slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, in lower-case hex without leading zeros; undefined if it is not one. */
function ipv6Groups(address: string): string[] | undefined {
  const halves = address.toLowerCase().split('::');
  if (halves.length > 2) {
    return undefined;
  }
  const parse = (text: string): string[] => (text === '' ? [] : text.split(':'));
  const head = parse(halves[0]);
  const tail = halves.length === 2 ? parse(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) {
    return undefined;
  }
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (!groups.every((group) => /^[0-9a-f]{1,4}$/.test(group))) {
    return undefined;
  }
  return groups.map((group) => group.replace(/^0+(?=.)/, ''));
}

/** Settings of the limiter. */
export interface RateLimitOptions {
  /** Requests per second each client may make on average; the bucket refills at this rate. */
  readonly requestsPerSecond: number;
  /** Requests a client may make at once after being idle: the bucket's size. */
  readonly burst: number;
  /**
   * Most clients tracked at once. Past it, the least recently seen client is forgotten (the likeliest to have a
   * refilled bucket, indistinguishable from a new client), so a flood of source addresses costs bounded memory and
   * constant time per request.
   * @default 10000
   */
  readonly maxClients?: number;
}

/** Admits or refuses requests per client. */
export interface RateLimiter {
  /**
   * Takes one token from `client`'s bucket at time `nowMs`. Returns 0 when the request may proceed, else the
   * whole seconds (at least 1) after which one will, for `Retry-After`.
   */
  take(client: string, nowMs: number): number;
  /** Clients tracked now (for tests of the memory bound). */
  readonly size: number;
}

/** Validates the options; the messages name the flag, since that is where a bad value comes from. */
export function createRateLimiter(options: RateLimitOptions): RateLimiter {
  const { requestsPerSecond, burst } = options;
  const maxClients = options.maxClients ?? 10_000;
  if (!(Number.isFinite(requestsPerSecond) && requestsPerSecond > 0)) {
    throw new RangeError(`rate limit: requestsPerSecond must be a positive number, got ${requestsPerSecond}`);
  }
  if (!(Number.isInteger(burst) && burst >= 1)) {
    throw new RangeError(`rate limit: burst must be a whole number of at least 1, got ${burst}`);
  }
  if (!(Number.isInteger(maxClients) && maxClients >= 1)) {
    throw new RangeError(`rate limit: maxClients must be a whole number of at least 1, got ${maxClients}`);
  }
  const rate: BucketRate = { burst, perMs: requestsPerSecond / 1000 };
  const buckets = new Map<string, TokenBucket>();

  /** Forgets the least recently used client: the first in the Map's order, kept by re-inserting on each access. */
  function forgetLeastRecentlyUsed(): void {
    const oldest = buckets.keys().next();
    if (oldest.done !== true) {
      buckets.delete(oldest.value);
    }
  }

  return {
    take(client, nowMs) {
      let bucket = buckets.get(client);
      if (bucket === undefined) {
        if (buckets.size >= maxClients) {
          forgetLeastRecentlyUsed();
        }
        bucket = fullBucket(rate, nowMs);
      } else {
        // Map iteration follows insertion order: moving the client to the end keeps it least-recently-used first,
        // so a full table forgets a client in O(1) instead of scanning every bucket.
        buckets.delete(client);
      }
      buckets.set(client, bucket);
      if (takeToken(bucket, rate, nowMs)) {
        return 0;
      }
      return Math.max(1, Math.ceil((1 - bucket.tokens) / rate.perMs / 1000));
    },
    get size() {
      return buckets.size;
    },
  };
}
