// The HTTP/2 limits the server sets on purpose, each against a known abuse; test/server/http2-limits.test.ts shows each.
import type { SecureServerOptions } from 'node:http2';
import { MAX_HEADER_BYTES } from './conformance';

/**
 * Session options for `http2.createSecureServer`. Node's own defaults are generous (unlimited concurrent streams,
 * 10 MB of session memory); these fit a server whose requests are a few hundred bytes of headers and no body.
 *
 * - `maxConcurrentStreams: 32`: streams past it get REFUSED_STREAM. An open stream costs about 4 KiB (a session with
 *   100 held open measured 512 KiB), and every stream of a read exists before the first is answered, so with the
 *   connection cap this bounds what a flood of sessions can make the process hold. A key takes microseconds: 32 in
 *   flight per connection keep a core busy; clients that want more open another connection (Go and curl do).
 * - `maxHeaderListSize: 8192`: the same 8 KiB as the HTTP/1.1 header limit, advertised to clients. Node does not
 *   enforce it on what it receives, so the routes refuse a larger decoded list with 431 (conformance.ts): a few bytes
 *   of HPACK references to one indexed field cannot buy a request with more.
 * - `maxHeaderListPairs: 64`: header fields per request, pseudo-headers included (a browser sends about 20); past it
 *   Node resets the stream with ENHANCE_YOUR_CALM before decoding the rest (the 400 KB HPACK bomb). At exactly 65
 *   fields Node's own check trips first and resets it with INTERNAL_ERROR (curl, 2026-12-03): refused, no key, but
 *   the code says less.
 * - `maxSessionMemory: 2` (MiB): nghttp2's buffers and the header blocks of one session; past it new streams are
 *   refused instead of the process growing.
 * - `maxSettings: 32` entries per SETTINGS frame. Floods of SETTINGS or PING frames whose acknowledgements the peer
 *   never reads trip nghttp2's limit on queued acknowledgements: the session is closed ("flooding detected") and
 *   counted as `h2_abuse`.
 * - `maxSessionInvalidFrames: 100`, `maxSessionRejectedStreams: 100`: a session sending that many malformed frames, or
 *   opening that many streams past the limit, is closed.
 * - Rapid reset (CVE-2023-44487): the server's own reset-rate limit (http2-reset-limit.ts, below nghttp2's) destroys
 *   the session, and the routes answer a stream only after the read that brought it, so a stream reset in the same
 *   read gets no key (routes.ts).
 * - `enablePush: false`: the server never pushes.
 *
 * Each is shown by test/server/http2-limits.test.ts.
 */
export function http2SessionOptions(unknownProtocolTimeoutMs: number): SecureServerOptions {
  return {
    settings: {
      maxConcurrentStreams: 32,
      maxHeaderListSize: MAX_HEADER_BYTES,
      enablePush: false,
    },
    maxHeaderListPairs: 64,
    maxSessionMemory: 2,
    maxSettings: 32,
    maxSessionInvalidFrames: 100,
    maxSessionRejectedStreams: 100,
    // A TLS client that negotiated neither h2 nor http/1.1 gets as long as a slow header block, then is closed.
    unknownProtocolTimeout: unknownProtocolTimeoutMs,
  };
}
