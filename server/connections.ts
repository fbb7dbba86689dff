// The connections of one listener: the cap (closing idle ones first), the send timeout, the open-connection gauge, and
// closing them at shutdown.
import type { ServerHttp2Session } from 'node:http2';
import type { Server as NetServer, Socket } from 'node:net';
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
  /** Milliseconds a connection may hold unsent bytes without any of them leaving before it is closed. */
  readonly sendTimeoutMs: number;
  /** How often the send timeout is checked, in milliseconds. @default 1000 */
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

/** What the send-timeout sweep remembers of a socket between two looks. */
interface SendProgress {
  /** Bytes libuv held unsent at the last look. */
  queued: number;
  /** `performance.now()` since when that amount has not moved, or undefined while nothing is stuck. */
  stuckSince: number | undefined;
}

/** The private libuv handle every net.Socket has; its `writeQueueSize` is what Node's own socket timeout reads too. */
interface SocketWithHandle extends Socket {
  readonly _handle?: { readonly writeQueueSize?: number } | null;
}

/**
 * Bytes written to `socket` that the kernel has not taken yet. Non-zero only while the kernel send buffer is full,
 * that is while the client does not read; Node's own `socket.setTimeout` uses the same field to tell a stuck write
 * from a slow one. Every TLS and HTTP/2 write ends on this raw TCP handle, so one test covers all protocols.
 */
export function unsentBytes(socket: Socket): number {
  return (socket as SocketWithHandle)._handle?.writeQueueSize ?? 0;
}

/**
 * One step of the send timeout, pure: the progress after a look at `queued` bytes at `now`, and whether the
 * connection has been stuck for `timeoutMs` (nothing left the socket in all that time while bytes waited).
 */
export function sendProgress(previous: SendProgress, queued: number, now: number, timeoutMs: number): { progress: SendProgress; timedOut: boolean } {
  if (queued === 0) {
    return { progress: { queued, stuckSince: undefined }, timedOut: false };
  }
  if (queued !== previous.queued || previous.stuckSince === undefined) {
    return { progress: { queued, stuckSince: now }, timedOut: false };
  }
  return { progress: previous, timedOut: now - previous.stuckSince >= timeoutMs };
}

/**
 * Wires `server` so that it never holds more than `maxConnections` TCP connections. At the cap, the HTTP connection
 * idle for longest (no request in flight or waiting) is closed to admit the new one; a pod behind a load balancer
 * then keeps serving new clients however many idle keep-alive connections others leave open. With none idle the new
 * connection is closed unanswered (cheap: no TLS handshake happens). Every connection whose unsent bytes do not move
 * for `sendTimeoutMs` is destroyed: a client that stops reading frees its memory in bounded time.
 */
export function trackConnections(server: NetServer, options: ConnectionTrackerOptions): ConnectionTracker {
  const { metrics, maxConnections, sendTimeoutMs } = options;
  const sockets = new Map<Socket, SendProgress>();
  const httpConnections = new Set<HttpConnection>();

  function stateOf(connection: HttpConnection): ConnectionState {
    return connection.kind === 'http1' ? connectionStateOf(connection.socket) : connectionStateOf(connection.session);
  }

  function closeConnection(connection: HttpConnection): void {
    if (connection.kind === 'http1') {
      connection.socket.destroy();
    } else {
      connection.session.close();
    }
  }

  /** The HTTP connection idle for longest, or undefined when every one has a request in flight or waiting. */
  function longestIdle(): HttpConnection | undefined {
    let oldest: HttpConnection | undefined;
    let oldestAt = Number.POSITIVE_INFINITY;
    for (const connection of httpConnections) {
      const state = stateOf(connection);
      if (state.active === 0 && state.waiting === 0 && state.lastActiveAt < oldestAt && !isClosing(connection)) {
        oldest = connection;
        oldestAt = state.lastActiveAt;
      }
    }
    return oldest;
  }

  function addHttpConnection(connection: HttpConnection, closeEmitter: NodeJS.EventEmitter): void {
    httpConnections.add(connection);
    closeEmitter.once('close', () => {
      httpConnections.delete(connection);
      // Requests waiting on this connection find it gone and are counted unanswered (routes.ts).
      wakeWaiters(stateOf(connection));
    });
  }

  server.on('connection', (socket: Socket) => {
    if (sockets.size >= maxConnections) {
      const idle = longestIdle();
      if (idle === undefined) {
        metrics.recordConnectionCut('max_connections');
        socket.destroy();
        return;
      }
      metrics.recordConnectionCut('idle_evicted');
      closeConnection(idle);
    }
    sockets.set(socket, { queued: 0, stuckSince: undefined });
    metrics.connectionOpened();
    socket.once('close', () => {
      sockets.delete(socket);
      metrics.connectionClosed();
    });
    if (!options.secure) {
      metrics.recordConnectionProtocol('http/1.1');
      addHttpConnection({ kind: 'http1', socket }, socket);
    }
  });
  // HTTP/1.x over TLS: the TLS socket is what the HTTP machinery and the requests see. HTTP/2: the session.
  server.on('secureConnection', (socket: TLSSocket) => {
    if (socket.alpnProtocol !== 'h2') {
      metrics.recordConnectionProtocol('http/1.1');
      addHttpConnection({ kind: 'http1', socket }, socket);
    }
  });
  server.on('session', (session: ServerHttp2Session) => {
    metrics.recordConnectionProtocol('h2');
    addHttpConnection({ kind: 'h2', session }, session);
  });

  const sweepIntervalMs = options.sweepIntervalMs ?? 1000;
  const sweep = setInterval(() => {
    const now = performance.now();
    for (const [socket, previous] of sockets) {
      const { progress, timedOut } = sendProgress(previous, unsentBytes(socket), now, sendTimeoutMs);
      if (timedOut) {
        metrics.recordConnectionCut('send_timeout');
        socket.destroy();
      } else if (progress !== previous) {
        sockets.set(socket, progress);
      }
    }
  }, sweepIntervalMs);
  sweep.unref();

  return {
    get size() {
      return sockets.size;
    },
    closeGracefully() {
      for (const connection of httpConnections) {
        if (connection.kind === 'h2') {
          connection.session.close();
        } else if (stateOf(connection).active === 0 && stateOf(connection).waiting === 0) {
          connection.socket.destroy();
        }
      }
    },
    destroyAll(reason) {
      for (const socket of sockets.keys()) {
        metrics.recordConnectionCut(reason);
        socket.destroy();
      }
      for (const connection of httpConnections) {
        if (connection.kind === 'h2') connection.session.destroy();
      }
    },
    stop() {
      clearInterval(sweep);
    },
  };
}

function isClosing(connection: HttpConnection): boolean {
  return connection.kind === 'h2' ? connection.session.closed || connection.session.destroyed : connection.socket.destroyed;
}
