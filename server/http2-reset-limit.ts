// The rapid-reset limit of an HTTP/2 session (CVE-2023-44487), enforced by the server itself so the session ends.
import type { BucketRate } from './token-bucket';

/**
 * Streams a client may abandon (reset before their answer went out) in a burst, and how many more a second after it.
 * nghttp2 has a limit of its own (a burst of 1,000, then 33 a second): past it, it sends GOAWAY and stops reading the
 * session, but Node keeps the socket open, unread and uncounted, until the keep-alive timeout. This one trips first
 * (half the burst, the same rate) and destroys the session, counted as `h2_abuse`. A client that cancels a request
 * now and then, or a browser abandoning a page's requests, never comes near it.
 */
export const RESET_BURST = 500;
export const RESETS_PER_SECOND = 33;

/** The bucket a session's resets are taken from (token-bucket.ts). */
export const resetRate: BucketRate = { burst: RESET_BURST, perMs: RESETS_PER_SECOND / 1000 };

/** What a session destroyed for its resets fails with (the routes count it; the listener's session error handler does not). */
export class RapidResetError extends Error {
  readonly code = 'ERR_KEY_SERVER_RAPID_RESET';

  constructor() {
    super(`the client reset streams faster than ${RESETS_PER_SECOND} a second after a burst of ${RESET_BURST}`);
  }
}
