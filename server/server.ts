// createKeyServer(config): the listeners, certificate and token reloads and graceful shutdown, composed in one place.
import { once } from 'node:events';
import type { AddressInfo, Server as NetServer } from 'node:net';
import type { Registry } from 'prom-client';
import { createAuthenticator, type Authenticator } from './auth';
import { defaultRateLimitBurst, DRAIN_TIMEOUT, type Config } from './config';
import { createRandomPool } from './keys';
import { createListener, DEFAULT_LIMITS, type Listener, type ServerLimits } from './listener';
import { silentLogger, type Logger } from './logger';
import { createServerMetrics } from './metrics';
import { createRateLimiter, type RateLimiter } from './rate-limit';
import type { RouteSet } from './routes';
import {
  readCertificatePair,
  secureContextOptions,
  watchCertificatePair,
  type CertificatePair,
  type CertificateWatcher,
  type ReloadOutcome,
} from './tls';

export { DEFAULT_LIMITS, type ServerLimits } from './listener';

/** Wiring that is not configuration: where logs go and how long things may take. */
export interface KeyServerOptions {
  /** Where events go. @default silentLogger */
  readonly logger?: Logger;
  /** Slow-client limits; unset fields keep {@link DEFAULT_LIMITS}. */
  readonly limits?: Partial<ServerLimits>;
  /** Seconds in-flight requests get to finish after the listeners close, before connections are cut. @default DRAIN_TIMEOUT (10) */
  readonly drainTimeout?: number;
  /** Seconds between polls of the certificate files, behind the file watch. @default 30 */
  readonly certificatePollInterval?: number;
  /** Seconds between polls of the token file, behind the file watch. @default 30 */
  readonly tokenFilePollInterval?: number;
}

/** Where the server listens, with the ports actually bound (port 0 means "any free port"). */
export interface ListeningAddresses {
  /** The address bound: the configured one, or 0.0.0.0 when `::` had to fall back for lack of IPv6. */
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

/** What one reload (SIGHUP) found: the certificate pair's outcome, and the token file's when access control is on. */
export interface ReloadResult {
  readonly certificate: ReloadOutcome;
  readonly tokens?: ReloadOutcome;
}

/** A key server; create it with {@link createKeyServer}. */
export interface KeyServer {
  /** Starts both listeners; resolves with the bound addresses, rejects (and cleans up) if either fails. */
  listen(): Promise<ListeningAddresses>;
  /**
   * Graceful shutdown: /ready turns 503 at once, requests are served for `shutdownDelay` seconds, then the
   * listeners stop accepting, idle connections close, HTTP/2 sessions get GOAWAY and in-flight requests finish.
   * Idempotent.
   */
  close(): Promise<void>;
  /** Reads the certificate files now and applies them if they changed (the watcher does this by itself). */
  reloadCertificate(): Promise<ReloadOutcome>;
  /** Reads the certificate files and the token file now (what SIGHUP does). */
  reload(): Promise<ReloadResult>;
  readonly state: ServerState;
  readonly registry: Registry;
  /** The certificate being served, undefined over plain HTTP. */
  readonly certificate: CertificatePair | undefined;
}

/** The fallback for `::` on a kernel without IPv6. */
const IPV4_ANY = '0.0.0.0';

/**
 * Creates a key server. Reads the certificate synchronously and throws a `CertificateError` if it is unusable,
 * so the CLI can exit with code 2 before anything listens. No module-level state: many servers may share a process.
 */
export function createKeyServer(config: Config, options: KeyServerOptions = {}): KeyServer {
  const logger = options.logger ?? silentLogger;
  const limits: ServerLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const drainTimeoutMs = (options.drainTimeout ?? DRAIN_TIMEOUT) * 1000;
  let certificate = config.tls === undefined ? undefined : readCertificatePair(config.tls);
  let state: ServerState = 'starting';

  const metrics = createServerMetrics({
    maxSize: config.maxSize,
    tls: certificate !== undefined,
    accessControl: config.authTokenFile !== undefined,
    rateLimit: config.rateLimit !== undefined,
  });
  // Four max-size keys per fill at least, and never less than 64 KiB: one CSPRNG call serves many small keys.
  const pool = createRandomPool(Math.max(65536, config.maxSize * 4));
  if (certificate !== undefined) {
    metrics.setCertificateExpiry(certificate.notAfter.getTime() / 1000);
  }

  const authenticator = config.authTokenFile === undefined ? undefined : createTokenAuthenticator(config.authTokenFile);
  if (authenticator !== undefined) {
    metrics.setTokensLoaded(authenticator.tokenCount);
  }
  const rateLimiter: RateLimiter | undefined =
    config.rateLimit === undefined
      ? undefined
      : createRateLimiter({ requestsPerSecond: config.rateLimit, burst: config.rateLimitBurst ?? defaultRateLimitBurst(config.rateLimit) });

  function createTokenAuthenticator(file: string): Authenticator {
    return createAuthenticator(file, {
      pollInterval: options.tokenFilePollInterval,
      onReload(tokenCount) {
        metrics.recordTokenReload('success');
        metrics.setTokensLoaded(tokenCount);
        logger.info('access tokens reloaded', { tokenCount });
      },
      onFailure(error, repeated) {
        // Counted on every failed check (like the certificate), logged once per distinct failure.
        metrics.recordTokenReload('failure');
        metrics.setTokensLoaded(0);
        if (!repeated) {
          logger.error('access token file unusable: every /key request is refused until it holds tokens again', { error });
        }
      },
    });
  }

  const routeDependencies = {
    config,
    metrics,
    pool,
    logger,
    authenticator,
    rateLimiter,
    isReady: () => state === 'serving',
    isDraining: () => state === 'draining' || state === 'closed',
  };
  function listenerFor(routes: RouteSet): Listener {
    return createListener({
      routes,
      certificate,
      limits,
      keepAliveTimeoutMs: config.keepAliveTimeout * 1000,
      maxConnections: config.maxConnections,
      routeDependencies,
      metrics,
      logger,
      isRunning: () => state === 'serving' || state === 'draining',
    });
  }
  const listeners: Array<Listener & { readonly port: number }> = [{ ...listenerFor('all'), port: config.srvPort }];
  if (config.metricsPort !== undefined) {
    listeners.push({ ...listenerFor('metrics-only'), port: config.metricsPort });
  }

  let watcher: CertificateWatcher | undefined;
  if (config.tls !== undefined && certificate !== undefined) {
    const files = config.tls;
    watcher = watchCertificatePair(files, certificate, {
      pollInterval: options.certificatePollInterval,
      onReload(pair) {
        // Existing connections keep the context they shook hands with; new ones get the new pair.
        for (const { server } of listeners) {
          (server as unknown as { setSecureContext(options: object): void }).setSecureContext(secureContextOptions(pair));
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

  let boundHost = config.host;
  async function listenOne(server: NetServer, port: number): Promise<number> {
    try {
      return await bind(server, port, boundHost);
    } catch (error) {
      if (!fallsBackToIpv4(boundHost, (error as NodeJS.ErrnoException).code)) {
        throw error;
      }
      // A kernel without IPv6 (ipv6.disable=1): `::` cannot be bound, so serve IPv4 rather than nothing.
      logger.warn('IPv6 is not available here; listening on 0.0.0.0 instead of ::', { error });
      boundHost = IPV4_ANY;
      return bind(server, port, boundHost);
    }
  }

  let binding: Promise<unknown> | undefined;
  async function listen(): Promise<ListeningAddresses> {
    if (state !== 'starting' || binding !== undefined) {
      throw new Error(`listen() called on a server that is ${binding === undefined ? state : 'already listening'}`);
    }
    const bound = (async () => {
      const ports: number[] = [];
      // One after the other: the second listener binds where the first one could (after a fallback to IPv4).
      for (const { server, port } of listeners) {
        ports.push(await listenOne(server, port));
      }
      return ports;
    })();
    binding = bound.catch(() => undefined);
    let ports: number[];
    try {
      ports = await bound;
    } catch (error) {
      stopWatching();
      await Promise.all(listeners.map(({ server }) => closeQuietly(server)));
      state = 'closed';
      throw error;
    }
    if (state !== 'starting') {
      // close() came while the ports were being bound; it waits for this, so it ends with nothing listening.
      await Promise.all(listeners.map(({ server }) => closeQuietly(server)));
      throw new Error('the server was closed before it started listening');
    }
    state = 'serving';
    const addresses = describeAddresses(boundHost, certificate !== undefined, ports);
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
      host: boundHost,
      protocols: certificate === undefined ? ['http/1.1'] : ['h2', 'http/1.1'],
      minSize: config.minSize,
      maxSize: config.maxSize,
      maxConnections: config.maxConnections,
      keepAliveTimeout: config.keepAliveTimeout,
      certificateNotAfter: certificate?.notAfter.toISOString(),
      accessControl: authenticator === undefined ? 'off' : 'bearer-token',
      rateLimit: config.rateLimit,
    });
    return addresses;
  }

  function stopWatching(): void {
    watcher?.close();
    authenticator?.close();
    for (const { tracker } of listeners) {
      tracker.stop();
    }
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
    const cut = await drain(listeners, drainTimeoutMs);
    if (cut.requests > 0 || cut.connections > 0) {
      logger.warn('drain deadline reached: cut what was still running', { drainTimeout: drainTimeoutMs / 1000, ...cut });
    }
    stopWatching();
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
    async reload() {
      const [certificateOutcome, tokens] = await Promise.all([
        watcher === undefined ? Promise.resolve<ReloadOutcome>('unchanged') : watcher.check(),
        authenticator?.reload(),
      ]);
      return tokens === undefined ? { certificate: certificateOutcome } : { certificate: certificateOutcome, tokens };
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

function bind(server: NetServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Whether binding `host` failed only because this kernel has no IPv6 (booted with ipv6.disable=1, or a sandbox
 * without it), so 0.0.0.0 should be tried instead; a port in use or a permission error is a real failure. Pure.
 */
export function fallsBackToIpv4(host: string, errorCode: string | undefined): boolean {
  return host === '::' && (errorCode === 'EAFNOSUPPORT' || errorCode === 'EADDRNOTAVAIL');
}

/** Milliseconds `close()` waits for the listener to report closed after every socket was destroyed at the deadline. */
const AFTER_DEADLINE_MS = 1000;

/**
 * Stops accepting, closes idle HTTP/1.1 connections and sends GOAWAY on HTTP/2 sessions, waits for in-flight
 * requests, and at the deadline counts and logs every request still waiting and cuts every connection left (TLS
 * handshakes included); never waits unbounded after it. Returns what was cut.
 */
async function drain(listeners: readonly Listener[], timeoutMs: number): Promise<{ requests: number; connections: number }> {
  const running = listeners.filter(({ server }) => server.listening);
  const closed = Promise.all(running.map(({ server }) => new Promise<void>((resolve) => server.close(() => resolve()))));
  for (const { tracker } of running) {
    tracker.closeGracefully();
  }
  if (await settlesWithin(closed.then(() => undefined), timeoutMs)) {
    return { requests: 0, connections: 0 };
  }
  let requests = 0;
  let connections = 0;
  for (const { handler, tracker } of running) {
    requests += handler.pending.size;
    handler.cutPending();
    connections += tracker.size;
    tracker.destroyAll('drain_deadline');
  }
  await settlesWithin(closed.then(() => undefined), AFTER_DEADLINE_MS);
  return { requests, connections };
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

async function closeQuietly(server: NetServer): Promise<void> {
  if (!server.listening) {
    return;
  }
  const closed = once(server, 'close');
  server.close();
  (server as { closeAllConnections?: () => void }).closeAllConnections?.();
  await closed;
}

function describeAddresses(host: string, secure: boolean, ports: number[]): ListeningAddresses {
  const scheme = secure ? 'https' : 'http';
  const unspecified = host === IPV4_ANY || host === '::';
  const hostForUrl = unspecified ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  const [port, metricsPort] = ports;
  return {
    host,
    port,
    url: `${scheme}://${hostForUrl}:${port}`,
    metricsPort,
    metricsUrl: metricsPort === undefined ? undefined : `${scheme}://${hostForUrl}:${metricsPort}`,
  };
}
