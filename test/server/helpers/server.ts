// Starts key servers on random ports of 127.0.0.1 for tests, with logs captured instead of printed.
import { DEFAULT_KEEP_ALIVE_TIMEOUT, DEFAULT_MAX_CONNECTIONS, type Config } from '../../../server/config';
import type { LogFields, Logger } from '../../../server/logger';
import { createKeyServer, type KeyServer, type KeyServerOptions, type ListeningAddresses } from '../../../server/server';

/** One captured log event. */
export interface LogRecord {
  readonly level: 'info' | 'warn' | 'error';
  readonly msg: string;
  readonly fields: LogFields;
}

/** A logger that keeps every event in `records`, for tests that assert on logs. */
export function createCapturingLogger(): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const logger: Logger = {
    info: (msg, fields = {}) => void records.push({ level: 'info', msg, fields }),
    warn: (msg, fields = {}) => void records.push({ level: 'warn', msg, fields }),
    error: (msg, fields = {}) => void records.push({ level: 'error', msg, fields }),
  };
  return { logger, records };
}

/** A config for tests: 127.0.0.1, a random port, no shutdown delay, plain HTTP; `overrides` win. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  return Object.freeze({
    srvPort: 0,
    host: '127.0.0.1',
    minSize: 1,
    maxSize: 1024,
    shutdownDelay: 0,
    accessLog: false,
    faultErrorRatio: 0,
    faultLatency: 0,
    maxConnections: DEFAULT_MAX_CONNECTIONS,
    keepAliveTimeout: DEFAULT_KEEP_ALIVE_TIMEOUT,
    ...overrides,
  });
}

/** A listening server with its addresses and captured logs. */
export interface RunningTestServer {
  readonly server: KeyServer;
  readonly addresses: ListeningAddresses;
  /** Base URL of the main listener. */
  readonly url: string;
  readonly logs: LogRecord[];
  /** Graceful close; safe to call more than once. */
  stop(): Promise<void>;
}

/**
 * Creates and starts a server from {@link testConfig}(`overrides`). Set `metricsPort: 0` for a metrics listener
 * on a random port, `tls` for HTTPS. Always `stop()` it (afterAll/afterEach), or jest keeps running.
 */
export async function startTestServer(overrides: Partial<Config> = {}, options: KeyServerOptions = {}): Promise<RunningTestServer> {
  const { logger, records } = createCapturingLogger();
  const server = createKeyServer(testConfig(overrides), { logger, ...options });
  const addresses = await server.listen();
  return { server, addresses, url: addresses.url, logs: records, stop: () => server.close() };
}
