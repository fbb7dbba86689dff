// The token bucket behind --rate-limit: admits bursts, refills at the rate, says when to retry, bounds its memory; keys
// IPv6 clients by /64; keeps failed authentications apart from authorised traffic.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { metricNames as names } from '../../server/metric-catalogue';
import { clientKey, createRateLimiter } from '../../server/rate-limit';
import { fetchText, parsePrometheusText, sampleValue } from './helpers/http';
import { startTestServer } from './helpers/server';
import { makeTempDirectory } from './helpers/tls';

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

  it('tracks at most maxClients clients, forgetting the least recently used first', () => {
    const limiter = createRateLimiter({ requestsPerSecond: 1, burst: 1, maxClients: 100 });
    limiter.take('limited', 0);
    for (let index = 0; index < 10_000; index++) {
      limiter.take(`flood-${index}`, 2000 + index); // each flood bucket is full again one second later
    }
    expect(limiter.size).toBeLessThanOrEqual(100);
    const fresh = createRateLimiter({ requestsPerSecond: 1, burst: 1, maxClients: 2 });
    fresh.take('limited', 0);
    fresh.take('other', 0);
    fresh.take('third', 0); // 'limited' was seen least recently, so it goes
    expect(fresh.size).toBe(2);
    expect(fresh.take('third', 0)).toBe(1);
    expect(fresh.take('other', 0)).toBe(1);
  });

  it('keeps a recently seen client when the table is full, however early it was first tracked', () => {
    const limiter = createRateLimiter({ requestsPerSecond: 0.001, burst: 1, maxClients: 3 });
    for (const client of ['a', 'b', 'c']) {
      expect(limiter.take(client, 0)).toBe(0);
    }
    expect(limiter.take('a', 1)).toBeGreaterThan(0); // 'a' is limited, and now the most recently seen
    expect(limiter.take('d', 2)).toBe(0); // the table is full: 'b', least recently seen, is forgotten
    expect(limiter.size).toBe(3);
    expect(limiter.take('a', 3)).toBeGreaterThan(0);
    expect(limiter.take('b', 4)).toBe(0);
  });

  it('forgets exactly one client per newcomer on a full table, always the least recently seen', () => {
    // Not timed (a test on a shared machine is no benchmark): the order of forgetting shows the eviction takes
    // the first entry of a least-recently-used order instead of searching the table for a refilled bucket.
    const limiter = createRateLimiter({ requestsPerSecond: 1, burst: 1 });
    const old = (index: number) => `10.0.${index >> 8}.${index & 255}`;
    const newcomer = (index: number) => `10.1.${index >> 8}.${index & 255}`;
    for (let index = 0; index < 10_000; index++) {
      limiter.take(old(index), 0);
    }
    for (let index = 0; index < 5_000; index++) {
      expect(limiter.take(newcomer(index), 0)).toBe(0);
      expect(limiter.size).toBe(10_000);
    }
    // At time 0 a remembered client has an empty bucket (refused) and a forgotten one starts full (admitted):
    // the 5,000 oldest are gone, the 5,000 most recently seen old clients and every newcomer are still tracked.
    expect(limiter.take(old(5_000), 0)).toBeGreaterThan(0);
    expect(limiter.take(old(9_999), 0)).toBeGreaterThan(0);
    expect(limiter.take(newcomer(0), 0)).toBeGreaterThan(0);
    expect(limiter.take(newcomer(4_999), 0)).toBeGreaterThan(0);
    expect(limiter.take(old(0), 0)).toBe(0);
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

describe('clientKey', () => {
  it.each([
    ['192.0.2.7', '192.0.2.7'],
    ['::ffff:192.0.2.7', '192.0.2.7'],
    ['::FFFF:192.0.2.7', '192.0.2.7'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['2001:db8:0:0:ffff:ffff:ffff:ffff', '2001:db8:0:0::/64'],
    ['2001:0DB8:0000:0001::5', '2001:db8:0:1::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['not-an-address', 'not-an-address'],
    ['2001:db8::1::2', '2001:db8::1::2'],
  ])('limits %s as %s', (address, key) => {
    expect(clientKey(address)).toBe(key);
  });

  it('gives every address of one IPv6 /64 the same bucket, and the next /64 its own', () => {
    const limiter = createRateLimiter({ requestsPerSecond: 1, burst: 1 });
    expect(limiter.take(clientKey('2001:db8:1:2::a'), 0)).toBe(0);
    expect(limiter.take(clientKey('2001:db8:1:2::b'), 0)).toBe(1);
    expect(limiter.take(clientKey('2001:db8:1:3::a'), 0)).toBe(0);
  });
});

describe('rate limit with access control, over sockets', () => {
  it('guards /metrics on the main port like /key when there is no metrics port', async () => {
    const temp = makeTempDirectory();
    const tokenFile = join(temp.directory, 'tokens');
    writeFileSync(tokenFile, 'valid-token\n');
    const running = await startTestServer({ authTokenFile: tokenFile });
    try {
      expect((await fetchText(`${running.url}/metrics`)).status).toBe(401);
      expect((await fetchText(`${running.url}/metrics`, { headers: { Authorization: 'Bearer valid-token' } })).status).toBe(200);
      expect((await fetchText(`${running.url}/health`)).status).toBe(200);
    } finally {
      await running.stop();
      temp.remove();
    }
  });

  it('draws failed authentications from a bucket of their own, so a token guesser at the same address never spends an authorised client\'s requests', async () => {
    const temp = makeTempDirectory();
    const tokenFile = join(temp.directory, 'tokens');
    writeFileSync(tokenFile, 'valid-token\n');
    const running = await startTestServer({ authTokenFile: tokenFile, rateLimit: 0.01, rateLimitBurst: 3, metricsPort: 0 });
    try {
      const guesses = [];
      for (let index = 0; index < 6; index++) {
        guesses.push((await fetchText(`${running.url}/key/16`, { headers: { Authorization: `Bearer guess-${index}` } })).status);
      }
      const authorised = [];
      for (let index = 0; index < 4; index++) {
        authorised.push((await fetchText(`${running.url}/key/16`, { headers: { Authorization: 'Bearer valid-token' } })).status);
      }
      expect(guesses).toEqual([401, 401, 401, 429, 429, 429]);
      expect(authorised).toEqual([200, 200, 200, 429]);
      const samples = parsePrometheusText((await fetchText(`${running.addresses.metricsUrl as string}/metrics`)).body);
      expect(sampleValue(samples, names.rateLimitedRequestsTotal, { client: 'unauthenticated' })).toBe(3);
      expect(sampleValue(samples, names.rateLimitedRequestsTotal, { client: 'authorised' })).toBe(1);
    } finally {
      await running.stop();
      temp.remove();
    }
  });
});
