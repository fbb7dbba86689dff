// The rapid-reset budget (a token bucket, token-bucket.ts): a burst, then a steady rate, never more than the burst.
import { RESET_BURST, resetRate, RESETS_PER_SECOND } from '../../server/http2-reset-limit';
import { fullBucket, takeToken } from '../../server/token-bucket';

describe('the rapid-reset budget', () => {
  it('allows a burst, refuses the next reset at the same instant, and refills at the rate', () => {
    const budget = fullBucket(resetRate, 0);
    for (let reset = 0; reset < RESET_BURST; reset++) expect(takeToken(budget, resetRate, 0)).toBe(true);
    expect(takeToken(budget, resetRate, 0)).toBe(false);
    // One second later the rate has refilled 33.
    const allowed = Array.from({ length: RESETS_PER_SECOND + 5 }, () => takeToken(budget, resetRate, 1000)).filter(Boolean).length;
    expect(allowed).toBe(RESETS_PER_SECOND);
  });

  it('never holds more than the burst, however long the session was quiet', () => {
    const budget = fullBucket(resetRate, 0);
    const allowed = Array.from({ length: RESET_BURST + 10 }, () => takeToken(budget, resetRate, 3_600_000)).filter(Boolean).length;
    expect(allowed).toBe(RESET_BURST);
  });

  it('refills nothing when the clock goes back', () => {
    const budget = fullBucket(resetRate, 10_000);
    for (let reset = 0; reset < RESET_BURST; reset++) takeToken(budget, resetRate, 10_000);
    expect(takeToken(budget, resetRate, 0)).toBe(false);
  });

  it('stays below nghttp2\'s own burst of 1,000, so the server\'s limit is the one that trips', () => {
    expect(RESET_BURST).toBeLessThan(1000);
    expect(RESETS_PER_SECOND).toBeLessThanOrEqual(33);
  });
});
