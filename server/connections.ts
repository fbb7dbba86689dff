// The connections of one listener: the cap (closing idle ones first), the send timeout, the open-connection gauge, and
// closing them at shutdown.
import type { ServerHttp2Session } from 'node:http2';
import type { Server as NetServer, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { TLSSocket } from 'node:tls';
import { connectionStateOf, wakeWaiters, type ConnectionState } from './exchange';
import type { ConnectionCutReason, ServerMetrics } from './metrics';

/** An HTTP-level connection: an HTTP/1.x socket (TLS or plain) or an HTTP/2 session. */
type HttpConnection = { readonly kind: 'http1'; readonly socket: Socket } | { readonly kind: 'h2'; readonly session: ServerHttp2Session };

/** Settings of a {@link ConnectionTracker}. */
export interface ConnectionTrackerOptions {
  readonly maxConnections: number;
  /** Whether the listener speaks TLS (HTTP/1.1 or HTTP/2 after the handshake) or plain HTTP/1.x from the first byte. */
  readonly secure: boolean;
  /** Milliseconds a connection may hold output with no byte of it leaving before it is closed. */
  readonly sendTimeoutMs: number;
  /**
   * Milliseconds an HTTP/2 session may stay idle (no stream in flight, nothing to send) before it gets GOAWAY: the
   * keep-alive timeout, which Node applies to HTTP/1.1 connections itself.
   */
  readonly idleSessionTimeoutMs: number;
  /**
   * Milliseconds a connection must have been idle before the cap may close it for a newcomer. Between two requests a
   * busy client's connection is idle for microseconds; closing it would make every newcomer cost a busy client a new
   * TLS handshake, and past the cap throughput would collapse into handshakes. @default 1000
   */
  readonly evictableAfterIdleMs?: number;
  /** How often the send and idle timeouts are checked, in milliseconds. @default 1000 */
  readonly sweepIntervalMs?: number;
  readonly metrics: ServerMetrics;
}

/** Tracks every connection of one listener; see {@link trackConnections}. */
export interface ConnectionTracker {
  /** TCP connections open now, TLS handshakes included. */
  readonly size: number;
  /** Closes idle HTTP/1.1 connections and sends GOAWAY on every HTTP/2 session (graceful shutdown). */
  closeGracefully(): void;
  /** Destroys every connection still open, counting each as cut by `reason`. */
  destroyAll(reason: ConnectionCutReason): void;
  /** Stops the send-timeout sweep. */
  stop(): void;
}

/** What the send-timeout sweep remembers of a connection between two looks. */
export interface SendProgress {
  /** Bytes the connection had handed to the kernel at the last look (TLS records included). */
  readonly bytesWritten: number;
  /** `performance.now()` since when output has been waiting with no byte leaving, or undefined while none waits. */
  readonly stuckSince: number | undefined;
}

/**
 * One step of the send timeout, pure: given the last look, the kernel's byte count now, and whether the server holds
 * output for the connection (bytes buffered, answers unsent, requests waiting for the connection), the next look and
 * whether no byte has left for `timeoutMs` while output waited. A client that reads, however slowly, keeps the count
 * moving and is never cut.
 */
export function sendProgress(
  previous: SendProgress,
  bytesWritten: number,
  outputWaiting: boolean,
  now: number,
  timeoutMs: number,
): { progress: SendProgress; timedOut: boolean } {
  if (!outputWaiting) {
    return { progress: { bytesWritten, stuckSince: undefined }, timedOut: false };
  }
  if (bytesWritten !== previous.bytesWritten || previous.stuckSince === undefined) {
    return { progress: { bytesWritten, stuckSince: now }, timedOut: false };
  }
  return { progress: previous, timedOut: now - previous.stuckSince >= timeoutMs };
}

/** One accepted TCP connection: when it opened, its send progress, and what HTTP made of it once known. */
interface TrackedSocket {
  readonly openedAt: number;
  progress: SendProgress;
  http: HttpConnection | undefined;
}

/**
 * The raw TCP socket under a TLS socket (Node keeps it as `_parent`; an HTTP/2 session's socket proxy passes it
 * through). Its `bytesWritten` counts every byte handed to the kernel, TLS records and HTTP/2 frames included.
 */
function rawSocketOf(socket: Socket): Socket {
  return (socket as Socket & { readonly _parent?: Socket })._parent ?? socket;
}

/**
 * Wires `server` so that it never holds more than `maxConnections` TCP connections. At the cap, a connection whose
 * client stopped reading, else one idle (or stuck in its TLS handshake) for longest, is closed to admit the new one
 * (see evictionCandidate): a pod behind a load balancer keeps serving new clients however many idle, stuck or silent
 * connections others leave open. With none of these the new connection is closed unanswered (cheap: no TLS
 * handshake happens); clients that keep every slot busy do hold them. A connection holding output of which no byte
 * leaves for `sendTimeoutMs` (the client stopped reading, or stopped granting HTTP/2 flow-control window) is
 * destroyed, so whatever it holds is freed in bounded time.
 */
export function trackConnections(server: NetServer, options: ConnectionTrackerOptions): ConnectionTracker {
  const { metrics, maxConnections, sendTimeoutMs } = options;
  const sockets = new Map<Socket, TrackedSocket>();
  const httpConnections = new Set<HttpConnection>();

  function stateOf(connection: HttpConnection): ConnectionState {
    return connection.kind === 'http1' ? connectionStateOf(connection.socket) : connectionStateOf(connection.session);
  }

  /** Whether the server holds output for the connection: buffered bytes, unsent answers, requests waiting for it. */
  function outputWaiting(connection: HttpConnection): boolean {
    const state = stateOf(connection);
    if (state.waiting > 0) {
      return true;
    }
    return connection.kind === 'http1' ? connection.socket.writableLength > 0 : state.unsentBytes > 0;
  }

  /** No request in flight or waiting, and nothing left to send. */
  function isIdle(connection: HttpConnection): boolean {
    const state = stateOf(connection);
    return state.active === 0 && state.waiting === 0 && !outputWaiting(connection);
  }

  function isClosing(connection: HttpConnection): boolean {
    return connection.kind === 'h2' ? connection.session.closed || connection.session.destroyed : connection.socket.destroyed;
  }

  /**
   * The socket to close to admit a new one at the cap: the one stuck longest (output waiting, no byte leaving at the
   * sweep's last look: a client that stopped reading); else, among those idle for at least `evictableAfterIdleMs`,
   * the one that never carried a request, oldest first (a port scan, a parked spare, or a TLS handshake still
   * unfinished after that long: a client that opened TCP and sent nothing), then the one idle longest.
   * Undefined when every connection is busy, moving or only just idle: the newcomer is then refused.
   * Stuck first: otherwise clients that never read would hold every slot, and a polite keep-alive client, idle
   * between its requests, would be the one to go.
   */
  function evictionCandidate(now: number): { socket: Socket; connection: HttpConnection | undefined } | undefined {
    const idleBefore = now - (options.evictableAfterIdleMs ?? 1000);
    let best: { socket: Socket; connection: HttpConnection | undefined } | undefined;
    let bestRank = Number.POSITIVE_INFINITY;
    let bestSince = Number.POSITIVE_INFINITY;
    for (const [socket, tracked] of sockets) {
      const connection = tracked.http;
      let rank: number;
      let since: number;
      if (connection === undefined) {
        // Still in its TLS handshake, which takes milliseconds; one that lasts a second is a client holding a slot.
        if (socket.destroyed || tracked.openedAt > idleBefore) continue;
        rank = 1;
        since = tracked.openedAt;
      } else {
        if (isClosing(connection)) continue;
        const state = stateOf(connection);
        const stuckSince = tracked.progress.stuckSince;
        if (stuckSince !== undefined && socket.bytesWritten === tracked.progress.bytesWritten && outputWaiting(connection)) {
          rank = 0;
          since = stuckSince;
        } else if (isIdle(connection) && state.lastActiveAt <= idleBefore) {
          rank = state.requests === 0 ? 1 : 2;
          since = state.lastActiveAt;
        } else {
          continue;
        }
      }
      if (rank < bestRank || (rank === bestRank && since < bestSince)) {
        best = { socket, connection };
        bestRank = rank;
        bestSince = since;
      }
    }
    return best;
  }

  function addHttpConnection(connection: HttpConnection, socket: Socket, closeEmitter: NodeJS.EventEmitter): void {
    const tracked = sockets.get(rawSocketOf(socket));
    if (tracked !== undefined) {
      tracked.http = connection;
    }
    // Created now, so a connection that never sends a request counts as idle since it opened.
    stateOf(connection).lastActiveAt = performance.now();
    httpConnections.add(connection);
    closeEmitter.once('close', () => {
      httpConnections.delete(connection);
      // Requests waiting on this connection find it gone and are counted unanswered (routes.ts).
      wakeWaiters(stateOf(connection));
    });
  }

  server.on('connection', (socket: Socket) => {
    if (sockets.size >= maxConnections) {
      const candidate = evictionCandidate(performance.now());
      if (candidate === undefined) {
        metrics.recordConnectionCut('max_connections');
        socket.destroy();
        return;
      }
      // Destroyed, not closed gracefully: the slot is needed now, and an idle connection has nothing in flight.
      const { connection } = candidate;
      metrics.recordConnectionCut(connection === undefined || isIdle(connection) ? 'idle_evicted' : 'send_timeout');
      if (connection === undefined) candidate.socket.destroy();
      else (connection.kind === 'http1' ? connection.socket : connection.session).destroy();
    }
    sockets.set(socket, { openedAt: performance.now(), progress: { bytesWritten: 0, stuckSince: undefined }, http: undefined });
    metrics.connectionOpened();
    socket.once('close', () => {
      sockets.delete(socket);
      metrics.connectionClosed();
    });
    if (!options.secure) {
      metrics.recordConnectionProtocol('http/1.1');
      addHttpConnection({ kind: 'http1', socket }, socket, socket);
    }
  });
  // HTTP/1.x over TLS: the TLS socket is what the HTTP machinery and the requests see. HTTP/2: the session.
  server.on('secureConnection', (socket: TLSSocket) => {
    if (socket.alpnProtocol !== 'h2') {
      metrics.recordConnectionProtocol('http/1.1');
      addHttpConnection({ kind: 'http1', socket }, socket, socket);
    }
  });
  server.on('session', (session: ServerHttp2Session) => {
    metrics.recordConnectionProtocol('h2');
    addHttpConnection({ kind: 'h2', session }, session.socket as Socket, session);
  });

  const sweep = setInterval(() => {
    const now = performance.now();
    for (const [socket, tracked] of sockets) {
      if (tracked.http === undefined) {
        continue; // still in its TLS handshake: the handshake timeout covers it
      }
      const connection = tracked.http;
      const { progress, timedOut } = sendProgress(tracked.progress, socket.bytesWritten, outputWaiting(connection), now, sendTimeoutMs);
      tracked.progress = progress;
      if (timedOut) {
        metrics.recordConnectionCut('send_timeout');
        socket.destroy();
      } else if (connection.kind === 'h2' && isIdle(connection) && now - stateOf(connection).lastActiveAt >= options.idleSessionTimeoutMs) {
        // Checked here rather than with session.setTimeout(), which re-arms a timer on every frame of every request.
        connection.session.close();
      }
    }
  }, options.sweepIntervalMs ?? 1000);
  sweep.unref();

  return {
    get size() {
      return sockets.size;
    },
    closeGracefully() {
      for (const connection of httpConnections) {
        if (connection.kind === 'h2') {
          connection.session.close();
        } else if (isIdle(connection)) {
          connection.socket.destroy();
        }
      }
    },
    destroyAll(reason) {
      for (const socket of sockets.keys()) {
        metrics.recordConnectionCut(reason);
        socket.destroy();
      }
    },
    stop() {
      clearInterval(sweep);
    },
  };
}
