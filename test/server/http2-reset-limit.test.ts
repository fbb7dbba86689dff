// The rapid-reset budget, pure: a burst, then a steady rate, never more than the burst.
import { freshResetBudget, RESET_BURST, RESETS_PER_SECOND, spendReset } from '../../server/http2-reset-limit';

describe('the rapid-reset budget', () => {
  it('allows a burst, refuses the next reset at the same instant, and refills at the rate', () => {
    const budget = freshResetBudget(0);
    for (let reset = 0; reset < RESET_BURST; reset++) expect(spendReset(budget, 0)).toBe(true);
    expect(spendReset(budget, 0)).toBe(false);
    // One second later the rate has refilled 33.
    const allowed = Array.from({ length: RESETS_PER_SECOND + 5 }, () => spendReset(budget, 1000)).filter(Boolean).length;
    expect(allowed).toBe(RESETS_PER_SECOND);
  });

  it('never holds more than the burst, however long the session was quiet', () => {
    const budget = freshResetBudget(0);
    const allowed = Array.from({ length: RESET_BURST + 10 }, () => spendReset(budget, 3_600_000)).filter(Boolean).length;
    expect(allowed).toBe(RESET_BURST);
  });

  it('stays below nghttp2\'s own burst of 1,000, so the server\'s limit is the one that trips', () => {
    expect(RESET_BURST).toBeLessThan(1000);
    expect(RESETS_PER_SECOND).toBeLessThanOrEqual(33);
  });
});
