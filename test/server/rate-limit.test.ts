// The token bucket behind --rate-limit: admits bursts, refills at the rate, says when to retry, bounds its memory.
import { createRateLimiter } from '../../server/rate-limit';

describe('createRateLimiter', () => {
  it('admits a burst, then refuses with the whole seconds until the next token', () => {
    const limiter = createRateLimiter({ requestsPerSecond: 2, burst: 3 });
    expect([0, 1, 2].map(() => limiter.take('a', 1000))).toEqual([0, 0, 0]);
    expect(limiter.take('a', 1000)).toBe(1);
    // Half a second at 2/s buys exactly one token.
    expect(limiter.take('a', 1500)).toBe(0);
    expect(limiter.take('a', 1500)).toBe(1);
  });

  it('rounds Retry-After up, so a client that waits as told is admitted', () => {
    const limiter = createRateLimiter({ requestsPerSecond: 0.1, burst: 1 });
    expect(limiter.take('a', 0)).toBe(0);
    expect(limiter.take('a', 0)).toBe(10);
    expect(limiter.take('a', 9_999)).toBe(1);
    expect(limiter.take('a', 10_000)).toBe(0);
  });

  it('keeps one bucket per client: one client spending its burst does not limit another', () => {
    const limiter = createRateLimiter({ requestsPerSecond: 1, burst: 1 });
    expect(limiter.take('a', 0)).toBe(0);
    expect(limiter.take('a', 0)).toBe(1);
    expect(limiter.take('b', 0)).toBe(0);
  });

  it('never refills above the burst, however long a client was idle', () => {
    const limiter = createRateLimiter({ requestsPerSecond: 100, burst: 2 });
    limiter.take('a', 0);
    const admitted = Array.from({ length: 5 }, () => limiter.take('a', 3_600_000)).filter((wait) => wait === 0).length;
    expect(admitted).toBe(2);
  });

  it('tracks at most maxClients clients, forgetting refilled buckets first, then the longest-tracked', () => {
    const limiter = createRateLimiter({ requestsPerSecond: 1, burst: 1, maxClients: 100 });
    limiter.take('limited', 0);
    for (let index = 0; index < 10_000; index++) {
      limiter.take(`flood-${index}`, 2000 + index); // each flood bucket is full again one second later
    }
    expect(limiter.size).toBeLessThanOrEqual(100);
    const fresh = createRateLimiter({ requestsPerSecond: 1, burst: 1, maxClients: 2 });
    fresh.take('limited', 0);
    fresh.take('other', 0);
    fresh.take('third', 0); // both buckets are empty, so the longest-tracked goes
    expect(fresh.size).toBe(2);
    expect(fresh.take('third', 0)).toBe(1);
    expect(fresh.take('other', 0)).toBe(1);
  });

  it.each([
    [{ requestsPerSecond: 0, burst: 1 }, /requestsPerSecond/],
    [{ requestsPerSecond: Number.NaN, burst: 1 }, /requestsPerSecond/],
    [{ requestsPerSecond: 1, burst: 0 }, /burst/],
    [{ requestsPerSecond: 1, burst: 1.5 }, /burst/],
    [{ requestsPerSecond: 1, burst: 1, maxClients: 0 }, /maxClients/],
  ])('refuses %j naming the option', (options, message) => {
    expect(() => createRateLimiter(options)).toThrow(message);
  });
});
