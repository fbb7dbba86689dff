// The rapid-reset limit of an HTTP/2 session (CVE-2023-44487), enforced by the server itself so the session ends.

/**
 * Streams a client may abandon (reset before their answer went out) in a burst, and how many more a second after it.
 * nghttp2 has a limit of its own (a burst of 1,000, then 33 a second): past it, it sends GOAWAY and stops reading the
 * session, but Node keeps the socket open, unread and uncounted, until the keep-alive timeout. This one trips first
 * (half the burst, the same rate) and destroys the session, counted as `h2_abuse`. A client that cancels a request
 * now and then, or a browser abandoning a page's requests, never comes near it.
 */
export const RESET_BURST = 500;
export const RESETS_PER_SECOND = 33;

/** How many more resets a session may make now, and when that was last worked out. */
export interface ResetBudget {
  tokens: number;
  refilledAt: number;
}

/** A full budget, as a session starts with. */
export function freshResetBudget(now: number): ResetBudget {
  return { tokens: RESET_BURST, refilledAt: now };
}

/**
 * Spends one reset of `budget` at `now` (milliseconds), refilling at {@link RESETS_PER_SECOND} up to the burst first.
 * Returns false once the budget is spent: the session has reset streams faster than any client that means it.
 */
export function spendReset(budget: ResetBudget, now: number): boolean {
  budget.tokens = Math.min(RESET_BURST, budget.tokens + ((now - budget.refilledAt) / 1000) * RESETS_PER_SECOND);
  budget.refilledAt = now;
  if (budget.tokens < 1) return false;
  budget.tokens -= 1;
  return true;
}

/** What a session destroyed for its resets fails with (the routes count it; the listener's session error handler does not). */
export class RapidResetError extends Error {
  readonly code = 'ERR_KEY_SERVER_RAPID_RESET';

  constructor() {
    super(`the client reset streams faster than ${RESETS_PER_SECOND} a second after a burst of ${RESET_BURST}`);
  }
}
