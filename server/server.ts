// createKeyServer(config): the listeners, their timeouts, TLS hot reload and graceful shutdown, composed in one place.
import { once } from 'node:events';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Registry } from 'prom-client';
import { createAuthenticator, type Authenticator } from './auth';
import type { Config } from './config';
import { createRandomPool } from './keys';
import { silentLogger, type Logger } from './logger';
import { createServerMetrics, rejectionStatus, type RejectionStatus } from './metrics';
import { createRateLimiter, type RateLimiter } from './rate-limit';
import { createRequestListener, type RouteSet } from './routes';
import {
  readCertificatePair,
  secureContextOptions,
  watchCertificatePair,
  type CertificatePair,
  type CertificateWatcher,
  type ReloadOutcome,
} from './tls';

/** The answers Node itself gives to requests its parser refuses: a status line, `Connection: close`, no body. */
const REJECTION_RESPONSES: Readonly<Record<RejectionStatus, string>> = Object.freeze({
  400: 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n',
  408: 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n',
  431: 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n',
});

/** Limits that cut off slow and oversized clients. */
export interface ServerLimits {
  /** Milliseconds a client has to send all request headers (slowloris). @default 10000 */
  readonly headersTimeoutMs: number;
  /** Milliseconds a client has to send the whole request. @default 30000 */
  readonly requestTimeoutMs: number;
  /** Milliseconds an idle keep-alive connection stays open. @default 5000 */
  readonly keepAliveTimeoutMs: number;
  /** How often Node checks the two timeouts above, in milliseconds. @default 1000 */
  readonly timeoutCheckIntervalMs: number;
  /** Largest request header block in bytes; past it the answer is 431. Keys need a few hundred bytes. @default 8192 */
  readonly maxHeaderSize: number;
}

/** Defaults for {@link ServerLimits}. */
export const DEFAULT_LIMITS: ServerLimits = Object.freeze({
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  timeoutCheckIntervalMs: 1_000,
  maxHeaderSize: 8192,
});

/** Wiring that is not configuration: where logs go and how long things may take. */
export interface KeyServerOptions {
  /** Where events go. @default silentLogger */
  readonly logger?: Logger;
  /** Slow-client limits; unset fields keep {@link DEFAULT_LIMITS}. */
  readonly limits?: Partial<ServerLimits>;
  /** Seconds in-flight requests get to finish after the listeners close, before connections are cut. @default 10 */
  readonly drainTimeout?: number;
  /** Seconds between polls of the certificate files, behind the file watch. @default 30 */
  readonly certificatePollInterval?: number;
  /** Seconds between polls of the token file, behind the file watch. @default 30 */
  readonly tokenFilePollInterval?: number;
}

/** Where the server listens, with the ports actually bound (port 0 means "any free port"). */
export interface ListeningAddresses {
  readonly host: string;
  readonly port: number;
  /** Base URL of the main listener, e.g. `https://127.0.0.1:1123`. */
  readonly url: string;
  /** Port of the metrics-only listener, when `metricsPort` is configured. */
  readonly metricsPort?: number;
  readonly metricsUrl?: string;
}

/** Lifecycle: `starting` (not listening; /ready 503) → `serving` → `draining` (/ready 503) → `closed`. */
export type ServerState = 'starting' | 'serving' | 'draining' | 'closed';

/** A key server; create it with {@link createKeyServer}. */
export interface KeyServer {
  /** Starts both listeners; resolves with the bound addresses, rejects (and cleans up) if either fails. */
  listen(): Promise<ListeningAddresses>;
  /**
   * Graceful shutdown: /ready turns 503 at once, requests are served for `shutdownDelay` seconds, then the
   * listeners stop accepting, idle connections close and in-flight requests finish. Idempotent.
   */
  close(): Promise<void>;
  /** Reads the certificate files now and applies them if they changed (the watcher does this by itself). */
  reloadCertificate(): Promise<ReloadOutcome>;
  readonly state: ServerState;
  readonly registry: Registry;
  /** The certificate being served, undefined over plain HTTP. */
  readonly certificate: CertificatePair | undefined;
}

/**
 * Creates a key server. Reads the certificate synchronously and throws a `CertificateError` if it is unusable,
 * so the CLI can exit with code 2 before anything listens. No module-level state: many servers may share a process.
 */
export function createKeyServer(config: Config, options: KeyServerOptions = {}): KeyServer {
  const logger = options.logger ?? silentLogger;
  const limits: ServerLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const drainTimeoutMs = (options.drainTimeout ?? 10) * 1000;
  let certificate = config.tls === undefined ? undefined : readCertificatePair(config.tls);
  let state: ServerState = 'starting';

  const metrics = createServerMetrics({
    maxSize: config.maxSize,
    tls: certificate !== undefined,
    accessControl: config.authTokenFile !== undefined,
  });
  // Four max-size keys per fill at least, and never less than 64 KiB: one CSPRNG call serves many small keys.
  const pool = createRandomPool(Math.max(65536, config.maxSize * 4));
  if (certificate !== undefined) {
    metrics.setCertificateExpiry(certificate.notAfter.getTime() / 1000);
  }

  const authenticator = config.authTokenFile === undefined ? undefined : createTokenAuthenticator(config.authTokenFile);
  const rateLimiter: RateLimiter | undefined =
    config.rateLimit === undefined
      ? undefined
      : createRateLimiter({ requestsPerSecond: config.rateLimit, burst: config.rateLimitBurst ?? Math.max(1, Math.ceil(config.rateLimit)) });

  function createTokenAuthenticator(file: string): Authenticator {
    return createAuthenticator(file, {
      pollInterval: options.tokenFilePollInterval,
      onReload(tokenCount) {
        metrics.recordTokenReload('success');
        logger.info('access tokens reloaded', { tokenCount });
      },
      onFailure(error) {
        metrics.recordTokenReload('failure');
        logger.error('access token reload failed; the previous tokens stay in force', { error });
      },
    });
  }

  const dependencies = {
    config,
    metrics,
    pool,
    logger,
    authenticator,
    rateLimiter,
    isReady: () => state === 'serving',
    isDraining: () => state === 'draining' || state === 'closed',
  };
  const servers: Array<{ server: http.Server; port: number; routes: RouteSet; sockets: Set<Socket> }> = [
    { server: createListener('all'), port: config.srvPort, routes: 'all', sockets: new Set() },
  ];
  if (config.metricsPort !== undefined) {
    servers.push({ server: createListener('metrics-only'), port: config.metricsPort, routes: 'metrics-only', sockets: new Set() });
  }
  for (const { server, sockets } of servers) {
    trackSockets(server, sockets);
  }

  function createListener(routes: RouteSet): http.Server {
    const serverOptions: http.ServerOptions = {
      maxHeaderSize: limits.maxHeaderSize,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: limits.timeoutCheckIntervalMs,
    };
    // A client that has not finished its TLS handshake gets as long as one that has not finished its headers, not
    // Node's 120 s: port scans and load-balancer TCP checks must not hold sockets open for minutes.
    const tlsOptions: https.ServerOptions = { handshakeTimeout: limits.headersTimeoutMs };
    const listener = createRequestListener(dependencies, routes);
    const server =
      certificate === undefined
        ? http.createServer(serverOptions, listener)
        : https.createServer({ ...serverOptions, ...tlsOptions, ...secureContextOptions(certificate) }, listener);
    // Older Node versions ignore some of these as constructor options; the properties work everywhere.
    server.headersTimeout = limits.headersTimeoutMs;
    server.requestTimeout = limits.requestTimeoutMs;
    server.keepAliveTimeout = limits.keepAliveTimeoutMs;
    // Node answers what its parser refuses (431, 408, 400) by itself and no route sees it; answering here, the same
    // way, is what lets a flood of oversized or malformed requests show in the metrics.
    server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
      const status = rejectionStatus(error.code);
      if (status !== undefined && socket.writable && !responseUnderway(socket as SocketWithResponse)) {
        metrics.recordRejectedRequest(status);
        socket.end(REJECTION_RESPONSES[status]);
      } else {
        socket.destroy();
      }
    });
    // An accept() failure (EMFILE under a connection flood) must be logged, not crash a serving process.
    server.on('error', (error) => {
      if (state === 'serving' || state === 'draining') {
        logger.error('listener error', { error, routes });
      }
    });
    return server;
  }

  let watcher: CertificateWatcher | undefined;
  if (config.tls !== undefined && certificate !== undefined) {
    const files = config.tls;
    watcher = watchCertificatePair(files, certificate, {
      pollInterval: options.certificatePollInterval,
      onReload(pair) {
        // Existing connections keep the context they shook hands with; new ones get the new pair.
        for (const { server } of servers) {
          (server as https.Server).setSecureContext(secureContextOptions(pair));
        }
        certificate = pair;
        metrics.setCertificateExpiry(pair.notAfter.getTime() / 1000);
        metrics.recordCertificateReload('success');
        logger.info('TLS certificate reloaded', {
          subject: pair.subject,
          serialNumber: pair.serialNumber,
          notAfter: pair.notAfter.toISOString(),
        });
      },
      onFailure(error, repeated) {
        // Counted on every failed check, so an alert on the counter's increase holds while the pair stays broken;
        // logged once per broken pair, so a poll every 30 s does not flood the log.
        metrics.recordCertificateReload('failure');
        if (!repeated) {
          logger.error('TLS certificate reload failed; still serving the previous certificate', { error });
        }
      },
    });
  }

  async function listenOne(server: http.Server, port: number): Promise<number> {
    server.listen(port, config.host);
    await once(server, 'listening');
    return (server.address() as AddressInfo).port;
  }

  let binding: Promise<unknown> | undefined;
  async function listen(): Promise<ListeningAddresses> {
    if (state !== 'starting' || binding !== undefined) {
      throw new Error(`listen() called on a server that is ${binding === undefined ? state : 'already listening'}`);
    }
    const bound = Promise.all(servers.map(({ server, port }) => listenOne(server, port)));
    binding = bound.catch(() => undefined);
    let ports: number[];
    try {
      ports = await bound;
    } catch (error) {
      watcher?.close();
      authenticator?.close();
      await Promise.all(servers.map(({ server }) => closeQuietly(server)));
      state = 'closed';
      throw error;
    }
    if (state !== 'starting') {
      // close() came while the ports were being bound; it waits for this, so it ends with nothing listening.
      await Promise.all(servers.map(({ server }) => closeQuietly(server)));
      throw new Error('the server was closed before it started listening');
    }
    state = 'serving';
    const addresses = describeAddresses(config, certificate !== undefined, ports);
    if (certificate === undefined) {
      logger.warn('serving plain HTTP: no --tls-cert/--tls-key given; keys travel unencrypted');
    }
    if (config.faultErrorRatio > 0 || config.faultLatency > 0) {
      logger.warn('FAULT INJECTION ENABLED: /key answers are deliberately failed or delayed', {
        faultErrorRatio: config.faultErrorRatio,
        faultLatency: config.faultLatency,
      });
    }
    logger.info('listening', {
      url: addresses.url,
      metricsUrl: addresses.metricsUrl,
      minSize: config.minSize,
      maxSize: config.maxSize,
      certificateNotAfter: certificate?.notAfter.toISOString(),
      accessControl: authenticator === undefined ? 'off' : 'bearer-token',
      rateLimit: config.rateLimit,
    });
    return addresses;
  }

  let closing: Promise<void> | undefined;
  async function shutdown(): Promise<void> {
    const wasServing = state === 'serving';
    state = 'draining';
    watcher?.close();
    authenticator?.close();
    // A listen() still binding its ports sees the state change and closes them itself; wait for that.
    await binding;
    if (wasServing && config.shutdownDelay > 0) {
      logger.info('shutting down: /ready answers 503, still serving during the shutdown delay', {
        shutdownDelay: config.shutdownDelay,
      });
      // Endpoints controllers and load balancers need this long to stop sending new traffic here.
      await new Promise((resolve) => setTimeout(resolve, config.shutdownDelay * 1000));
    }
    await Promise.all(servers.map(({ server, sockets }) => drain(server, sockets, drainTimeoutMs)));
    state = 'closed';
    logger.info('stopped');
  }

  return {
    listen,
    close() {
      closing ??= shutdown();
      return closing;
    },
    reloadCertificate() {
      return watcher === undefined ? Promise.resolve('unchanged') : watcher.check();
    },
    get state() {
      return state;
    },
    get certificate() {
      return certificate;
    },
    registry: metrics.registry,
  };
}

/**
 * Node's private link from a socket to the response being written on it (`_httpMessage`, set by `http.Server`).
 * Node's own clientError handler reads it for the same question; there is no public equivalent.
 */
interface SocketWithResponse extends Socket {
  readonly _httpMessage?: { readonly _headerSent?: boolean } | null;
}

/**
 * Whether a response has started on `socket`, so a status line now would corrupt it. Not `bytesWritten`: on a
 * keep-alive connection that counts earlier, finished responses (and over TLS, the handshake).
 */
function responseUnderway(socket: SocketWithResponse): boolean {
  return socket._httpMessage?._headerSent === true;
}

/** Milliseconds `close()` waits for the listener to report closed after every socket was destroyed at the deadline. */
const AFTER_DEADLINE_MS = 1000;

/**
 * Keeps every accepted TCP socket in `sockets` until it closes. `closeAllConnections()` knows only connections that
 * reached HTTP; over TLS that is after the handshake, so a socket still shaking hands (a port scan, a load balancer's
 * TCP check) is known only here. One Set entry per connection, nothing per request.
 */
function trackSockets(server: http.Server, sockets: Set<Socket>): void {
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
}

/**
 * Stops accepting, closes idle keep-alive connections, waits for in-flight requests, cuts what remains at the
 * deadline (HTTP connections and sockets that never got that far), and never waits unbounded after it.
 */
async function drain(server: http.Server, sockets: Set<Socket>, timeoutMs: number): Promise<void> {
  if (!server.listening) {
    return;
  }
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  if (await settlesWithin(closed, timeoutMs)) {
    return;
  }
  server.closeAllConnections();
  for (const socket of sockets) {
    socket.destroy();
  }
  await settlesWithin(closed, AFTER_DEADLINE_MS);
}

/** Resolves true when `promise` settles within `ms`, false when the time runs out first (the timer is cleared either way). */
async function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(resolve, ms, false);
  });
  try {
    return await Promise.race([promise.then(() => true as const), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

function closeQuietly(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

function describeAddresses(config: Config, secure: boolean, ports: number[]): ListeningAddresses {
  const scheme = secure ? 'https' : 'http';
  const unspecified = config.host === '0.0.0.0' || config.host === '::';
  const hostForUrl = unspecified ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host;
  const [port, metricsPort] = ports;
  return {
    host: config.host,
    port,
    url: `${scheme}://${hostForUrl}:${port}`,
    metricsPort,
    metricsUrl: metricsPort === undefined ? undefined : `${scheme}://${hostForUrl}:${metricsPort}`,
  };
}
