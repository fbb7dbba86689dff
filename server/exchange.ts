// One request and its answer, whichever protocol carries it: when an answer may be written, and how it is written.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { constants as http2Constants, sensitiveHeaders as http2SensitiveHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { RapidResetError, resetRate } from './http2-reset-limit';
import type { Handler } from './metric-catalogue';
import { fullBucket, takeToken, type TokenBucket } from './token-bucket';
import type { UnansweredReason } from './metrics';
import type { RequestHead } from './request-head';

/**
 * Whether an answer written now would go straight to the client: `now`; `later` when the connection is still busy
 * with earlier answers the client has not read (HTTP/1.1 pipelining, a full send buffer, an HTTP/2 session with too
 * much unsent); `gone` when the connection or stream is closed and nobody can be answered.
 */
export type Readiness = 'now' | 'later' | 'gone';

/** What the routes need from a request in flight; see {@link Http1Exchange} and {@link Http2Exchange}. */
export interface Exchange {
  readonly head: RequestHead;
  /** The id echoed in `X-Request-Id` and logged with every line about this request. */
  readonly requestId: string;
  /** `performance.now()` when the request arrived. */
  readonly startedAt: number;
  /** True once the request is answered or counted as unanswered ({@link settle}), so nothing counts it twice. */
  readonly settled: boolean;
  /** Marks the request answered or given up, and drops what watched its connection for it. */
  settle(): void;
  readiness(): Readiness;
  /** Why nobody can be answered once {@link readiness} is `gone`. */
  goneReason(): UnansweredReason;
  /**
   * Whether the request may wait for {@link readiness} `now`. When it may not, {@link decline} it: the connection
   * already has as many waiting as it may hold.
   */
  mayWait(): boolean;
  /** Ends the request unprocessed in a way the client may retry: REFUSED_STREAM over HTTP/2. */
  decline(): void;
  /** Calls `then(true)` once {@link readiness} is `now`, or `then(false)` once it is `gone`; exactly once. */
  whenReady(then: (writable: boolean) => void): void;
  /** Calls `then` if the connection or stream closes before the request settles (for answers that take a while). */
  onGone(then: () => void): void;
  /**
   * Writes the whole answer and tells `report` whether it reached the client's connection. Header names are lower
   * case; X-Request-Id is added here. `closeConnection` asks the client to stop using the connection after this
   * answer: `Connection: close` over HTTP/1.1, GOAWAY over HTTP/2.
   */
  write(status: number, headers: OutgoingHttpHeaders, body: string, closeConnection: boolean, route: AnswerRoute, report: DeliveryReport): void;
  /** `performance.now()` when the answer was written. */
  readonly answeredAt: number;
  /** Ends the exchange without an answer (an internal error after the headers went out). */
  destroy(): void;
  /**
   * Notes that the client abandoned this request before its answer went out. True when that was one too many for the
   * connection (HTTP/2 rapid reset, see http2-reset-limit.ts), which is then destroyed with ENHANCE_YOUR_CALM; always
   * false over HTTP/1.1, where abandoning a request means closing the connection.
   */
  abandonedByClient(): boolean;
}

/** The route an answer came from, or `refused` for a refusal before routing. */
export type AnswerRoute = Handler | 'refused';

/**
 * Where an exchange reports what became of its answer. Over HTTP/1.1 at once: an answer is written only when the
 * socket takes it without waiting (see {@link Readiness}), so written is delivered to the kernel. Over HTTP/2 when
 * the stream closes: a stream closed without error carried the whole answer; one reset first (a client cancelling,
 * rapid reset) did not, and is not counted as answered.
 */
export interface DeliveryReport {
  delivered(exchange: Exchange, route: AnswerRoute, status: number): void;
  lost(exchange: Exchange): void;
}

/**
 * Most answer bytes an HTTP/2 session may hold unsent before new answers wait: a client that opens many streams and
 * reads none cannot make the server generate and buffer keys for all of them. 16 KiB is about 7 answers of the
 * default largest key (1024 bytes as hex) and one at a time of larger ones; a reading client empties it in
 * microseconds.
 */
export const MAX_UNSENT_BYTES_PER_SESSION = 16 * 1024;

/**
 * Most requests an HTTP/1.1 connection may have waiting behind the one being answered. Requests parsed in one read
 * (up to a 16 KiB TLS record of them) all arrive before any answer has gone; each waiting one holds Node's request
 * and response objects (about 4 KiB). Past this the server stops answering on the connection (see routes.ts).
 * Clients that pipeline at all (few do) keep well under it.
 */
export const MAX_PIPELINED_REQUESTS = 16;

/**
 * Most HTTP/2 streams of one session that may wait for the session's unsent answers to leave; past it a new stream is
 * refused with REFUSED_STREAM, which tells the client it was not processed and may be retried. An open stream costs
 * about 4 KiB, so a session that never reads holds a bounded few instead of its 32 concurrent ones.
 */
export const MAX_WAITING_STREAMS_PER_SESSION = 8;

const NO_ERROR = http2Constants.NGHTTP2_NO_ERROR;
const REQUEST_ID_HEADER: readonly string[] = Object.freeze(['x-request-id']);

/** Where an answered HTTP/2 stream keeps what its close listener needs. */
const answerKey = Symbol('keyServerAnswer');

interface AnsweredStream extends ServerHttp2Stream {
  [answerKey]?: { exchange: Http2Exchange; size: number; route: AnswerRoute; status: number; report: DeliveryReport };
}

/** The one close listener of every answered stream (`this` is the stream). */
function onAnsweredStreamClose(this: AnsweredStream): void {
  const answer = this[answerKey];
  if (answer !== undefined) {
    this[answerKey] = undefined;
    answer.exchange.closed(answer.size, answer.route, answer.status, answer.report, this.rstCode);
  }
}

/** Per-connection bookkeeping, kept on the socket or session object under this symbol (no shared map). */
const connectionStateKey = Symbol('keyServerConnectionState');

/** What the server tracks for one HTTP/1.1 connection or HTTP/2 session beyond what Node does. */
export interface ConnectionState {
  /** Requests on this connection whose answer waits for {@link Readiness} `now`. */
  waiting: number;
  /** HTTP/2: answer bytes written to streams that have not closed yet. */
  unsentBytes: number;
  /** Callbacks to run when the connection closes or frees up; each removes itself once it has run its course. */
  readonly waiters: Set<() => void>;
  /** Requests in flight on this connection; 0 means idle (a candidate for closing at the connection cap). */
  active: number;
  /** Requests this connection has carried so far. */
  requests: number;
  /** `performance.now()` when the connection last finished a request (or opened). */
  lastActiveAt: number;
  /** The client's address, kept once per HTTP/2 session instead of read through the session's socket per stream. */
  remoteAddress?: string;
  /** Set when the server stops answering on this connection (too deep a pipeline), for counting what is left unanswered. */
  refusing?: 'backlog_limit';
  /** HTTP/2: the streams the client may still reset (http2-reset-limit.ts), created at its first reset. */
  resets?: TokenBucket;
}

/** The state of the connection a socket or session carries, created on first use. */
export function connectionStateOf(owner: Socket | ServerHttp2Session): ConnectionState {
  const holder = owner as unknown as { [connectionStateKey]?: ConnectionState };
  let state = holder[connectionStateKey];
  if (state === undefined) {
    state = { waiting: 0, unsentBytes: 0, waiters: new Set(), active: 0, requests: 0, lastActiveAt: performance.now() };
    holder[connectionStateKey] = state;
  }
  return state;
}

/** Runs every waiter of `state` (the connection closed, or something was sent and they may go now). */
export function wakeWaiters(state: ConnectionState): void {
  if (state.waiters.size === 0) {
    return;
  }
  for (const waiter of [...state.waiters]) {
    waiter();
  }
}

/** An HTTP/1.x request on Node's `http` machinery (a plain HTTP server, or HTTP/1.1 negotiated on the TLS port). */
export class Http1Exchange implements Exchange {
  settled = false;
  answeredAt = 0;
  private goneWatcher: (() => void) | undefined;

  constructor(
    private readonly request: IncomingMessage,
    private readonly response: ServerResponse,
    readonly head: RequestHead,
    readonly requestId: string,
    readonly startedAt: number,
  ) {
    const state = connectionStateOf(request.socket);
    state.active++;
    state.requests++;
  }

  readiness(): Readiness {
    const socket = this.request.socket;
    if (socket.destroyed || !socket.writable) {
      return 'gone';
    }
    // No socket yet: an earlier pipelined request on this connection is still being answered. A full send buffer:
    // the client is not reading. Either way an answer made now would only wait in memory.
    if (this.response.socket === null || socket.writableNeedDrain) {
      return 'later';
    }
    return 'now';
  }

  goneReason(): UnansweredReason {
    return connectionStateOf(this.request.socket).refusing ?? 'client_gone';
  }

  mayWait(): boolean {
    // The pipeline depth is checked before a request becomes an exchange (routes.ts), where the connection can be closed.
    return true;
  }

  decline(): void {
    this.request.socket.destroy();
  }

  whenReady(then: (writable: boolean) => void): void {
    const socket = this.request.socket;
    const state = connectionStateOf(socket);
    state.waiting++;
    let done = false;
    const attempt = (): void => {
      if (done) return;
      const readiness = this.readiness();
      if (readiness === 'later') {
        wait();
        return;
      }
      done = true;
      state.waiting--;
      state.waiters.delete(attempt);
      then(readiness === 'now');
    };
    const wait = (): void => {
      if (this.response.socket === null) {
        this.response.once('socket', attempt);
      } else {
        socket.once('drain', attempt);
      }
    };
    // The connection's close wakes every waiter (connections.ts), and the attempt then finds it gone.
    state.waiters.add(attempt);
    wait();
  }

  onGone(then: () => void): void {
    const watcher = (): void => {
      if (!this.settled) then();
    };
    this.goneWatcher = watcher;
    connectionStateOf(this.request.socket).waiters.add(watcher);
  }

  settle(): void {
    this.settled = true;
    const state = connectionStateOf(this.request.socket);
    state.active--;
    state.lastActiveAt = performance.now();
    if (this.goneWatcher !== undefined) {
      state.waiters.delete(this.goneWatcher);
      this.goneWatcher = undefined;
    }
  }

  write(status: number, headers: OutgoingHttpHeaders, body: string, closeConnection: boolean, route: AnswerRoute, report: DeliveryReport): void {
    const response = this.response;
    this.answeredAt = performance.now();
    // A request with an (ignored) body is answered as soon as its head is read, before the body: the connection then
    // closes after the answer, so the rest of the body is never read, and a body that never completes cannot earn the
    // same request a second answer (a 400 or 408). Requests without a body keep their connection.
    const close = closeConnection || (this.head.contentLength !== undefined && this.head.contentLength !== '0' && !this.request.complete);
    response.writeHead(
      status,
      close ? { ...headers, 'x-request-id': this.requestId, connection: 'close' } : { ...headers, 'x-request-id': this.requestId },
    );
    // HEAD: Node's ServerResponse knows the method and drops the body, keeping Content-Length.
    response.end(body);
    report.delivered(this, route, status);
  }

  destroy(): void {
    this.response.destroy();
  }

  abandonedByClient(): boolean {
    return false;
  }
}

/** An HTTP/2 stream, answered through Node's stream API (the compatibility API costs about a third more CPU per request). */
export class Http2Exchange implements Exchange {
  settled = false;
  answeredAt = 0;

  private readonly connection: ConnectionState;

  constructor(
    private readonly stream: ServerHttp2Stream,
    /** Kept: a closed stream no longer knows its session. */
    private readonly session: ServerHttp2Session,
    readonly head: RequestHead,
    readonly requestId: string,
    readonly startedAt: number,
  ) {
    this.connection = connectionStateOf(session);
    this.connection.active++;
    this.connection.requests++;
  }

  readiness(): Readiness {
    const stream = this.stream;
    if (stream.destroyed || stream.closed || stream.session === undefined || stream.session.destroyed) {
      return 'gone';
    }
    return this.connection.unsentBytes < MAX_UNSENT_BYTES_PER_SESSION ? 'now' : 'later';
  }

  goneReason(): UnansweredReason {
    return 'client_gone';
  }

  mayWait(): boolean {
    return this.connection.waiting < MAX_WAITING_STREAMS_PER_SESSION;
  }

  decline(): void {
    this.stream.close(http2Constants.NGHTTP2_REFUSED_STREAM);
  }

  whenReady(then: (writable: boolean) => void): void {
    const state = this.connection;
    state.waiting++;
    let done = false;
    const attempt = (): void => {
      if (done || this.readiness() === 'later') return;
      done = true;
      state.waiting--;
      state.waiters.delete(attempt);
      then(this.readiness() === 'now');
    };
    // Woken when one of the session's streams closes (its bytes went out) or the session goes (connections.ts).
    state.waiters.add(attempt);
    this.stream.once('close', attempt);
  }

  onGone(then: () => void): void {
    this.stream.once('close', () => {
      if (!this.settled) then();
    });
  }

  settle(): void {
    this.settled = true;
    this.connection.active--;
    this.connection.lastActiveAt = performance.now();
  }

  write(status: number, headers: OutgoingHttpHeaders, body: string, closeConnection: boolean, route: AnswerRoute, report: DeliveryReport): void {
    const stream = this.stream as AnsweredStream;
    const session = stream.session as ServerHttp2Session;
    const size = this.head.method === 'HEAD' ? 0 : Buffer.byteLength(body);
    this.answeredAt = performance.now();
    this.connection.unsentBytes += size;
    // What the shared close listener needs, kept on the stream: no closure per answer on the hot path.
    stream[answerKey] = { exchange: this, size, route, status, report };
    stream.on('close', onAnsweredStreamClose);
    // A fresh object: respond() adds to the one it is given, and the routes pass shared, frozen header objects. Built
    // field by field from :status on, the shape of Node's own answers (a spread of a frozen object measured slower in
    // respond()). The request id is sent never-indexed: a new value every answer would otherwise cycle through HPACK's
    // dynamic table and push out the constant headers every answer repeats.
    const responseHeaders: OutgoingHttpHeaders = { ':status': status };
    for (const name in headers) {
      responseHeaders[name] = headers[name];
    }
    responseHeaders['x-request-id'] = this.requestId;
    (responseHeaders as Record<symbol, unknown>)[http2SensitiveHeaders] = REQUEST_ID_HEADER;
    if (size === 0) {
      stream.respond(responseHeaders, { endStream: true });
    } else {
      stream.respond(responseHeaders);
      stream.end(body);
    }
    if (closeConnection && !session.closed) {
      // GOAWAY: streams already open finish, new ones go to another connection.
      session.close();
    }
  }

  /** Called when the answered stream closes: counts the answer delivered, or lost if the stream was reset first. */
  closed(size: number, route: AnswerRoute, status: number, report: DeliveryReport, rstCode: number | undefined): void {
    this.connection.unsentBytes -= size;
    if (rstCode === NO_ERROR) {
      report.delivered(this, route, status);
    } else {
      report.lost(this);
    }
    wakeWaiters(this.connection);
  }

  destroy(): void {
    this.stream.destroy();
  }

  abandonedByClient(): boolean {
    const session = this.session;
    if (session.destroyed) return false;
    const now = performance.now();
    this.connection.resets ??= fullBucket(resetRate, now);
    if (takeToken(this.connection.resets, resetRate, now)) return false;
    session.destroy(new RapidResetError(), http2Constants.NGHTTP2_ENHANCE_YOUR_CALM);
    return true;
  }
}
