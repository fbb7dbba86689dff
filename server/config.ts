// Command-line flags and environment variables → one frozen, typed Config, or one clear error line (exit code 2).

/** Certificate and private key files (PEM) that switch the server to HTTPS. */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

/** Everything the key server needs to start; built by {@link parseConfig}, never mutated. */
export interface Config {
  /** Port of the main listener (keys, health, readiness, metrics). 0 picks a free port. @default 1123 */
  readonly srvPort: number;
  /**
   * Address both listeners bind to. `::` accepts IPv6 and, through IPv4-mapped addresses, IPv4 too, so the same
   * default serves IPv4, dual-stack and IPv6 single-stack pods; where the kernel has no IPv6 it falls back to 0.0.0.0.
   * @default '::'
   */
  readonly host: string;
  /** Smallest key length in bytes a client may request. @default 1 */
  readonly minSize: number;
  /** Largest key length in bytes a client may request, at most {@link MAX_SIZE_HARD_CAP}. @default 1024 */
  readonly maxSize: number;
  /** Port of a second listener that serves only /metrics and /health. @default undefined (off) */
  readonly metricsPort?: number;
  /** Certificate and key for HTTPS. @default undefined (plain HTTP, with a warning) */
  readonly tls?: TlsFiles;
  /** Seconds to keep serving after SIGTERM while /ready answers 503, so endpoints drain first. @default 5 */
  readonly shutdownDelay: number;
  /** Log one line per request. @default false */
  readonly accessLog: boolean;
  /** Share (0..1) of /key requests answered with 500, for alert tests only. @default 0 */
  readonly faultErrorRatio: number;
  /** Seconds added to every /key request, for alert tests only. @default 0 */
  readonly faultLatency: number;
  /** File of bearer tokens (one per line) that /key then requires; reloaded on change. @default undefined (open) */
  readonly authTokenFile?: string;
  /** Requests per second each client address may make to /key (token bucket). @default undefined (no limit) */
  readonly rateLimit?: number;
  /** Requests a client may make at once before the rate applies. @default the rate rounded up, at least 1 */
  readonly rateLimitBurst?: number;
  /**
   * Most connections open at once per listener (TLS handshakes included). At the cap the least recently active idle
   * connection is closed to admit a new one; with none idle, the new connection is closed unanswered.
   * @default {@link DEFAULT_MAX_CONNECTIONS}
   */
  readonly maxConnections: number;
  /** Seconds an idle keep-alive connection stays open: longer than any load balancer in front keeps its own. @default 620 */
  readonly keepAliveTimeout: number;
}

/** The largest `--max-size` accepted: beyond it one request could make the server allocate unbounded memory. */
export const MAX_SIZE_HARD_CAP = 65536;
/** The longest `--shutdown-delay`: far above any sensible grace period, it only catches typos like 5000. */
export const SHUTDOWN_DELAY_CAP = 300;
/** The longest `--fault-latency`, in seconds. */
export const FAULT_LATENCY_CAP = 60;
/** The highest `--rate-limit` and `--rate-limit-burst`: anything above is no limit at all on one process. */
export const RATE_LIMIT_CAP = 100_000;
/**
 * The default `--max-connections`, measured against the pod's 96 MiB memory request: a started server takes 55 MiB,
 * a few thousand TLS handshakes leave Node 20 to 25 MiB larger however few stay open (a bare node:tls server too), and
 * an open connection then costs 55 to 100 KiB over HTTP/1.1 and 100 to 250 KiB over HTTP/2 with its streams.
 * test/reliability/connection-flood.test.ts measures floods of 2,000 clients against it (256 reached 101 MiB with
 * clients that never read). A pod needs few: a key takes microseconds and load balancers multiplex onto a few
 * keep-alive connections; past the cap a newcomer takes the slot of a connection stuck or idle for a second, or is
 * refused. Raise it with the pod's memory (benchmarks of 200 busy connections run with 1000).
 */
export const DEFAULT_MAX_CONNECTIONS = 128;
/** The highest `--max-connections`: one file descriptor each, and far above what one pod's memory holds. */
export const MAX_CONNECTIONS_CAP = 100_000;
/**
 * The default `--keep-alive-timeout`, in seconds. A load balancer that reuses an idle connection the server is
 * closing loses the request, so the server must keep idle connections longer than every balancer in front of it:
 * AWS ALB 60 s (its default idle timeout), ingress-nginx and nginx upstream keep-alive 60 s, nginx's client-side
 * keepalive_timeout 75 s, Google Cloud load balancers 600 s (their documentation asks backends for more than that).
 * 620 s outlives all of them; idle connections cost little, and the connection cap closes idle ones first.
 */
export const DEFAULT_KEEP_ALIVE_TIMEOUT = 620;
/** The longest `--keep-alive-timeout`, in seconds: Envoy's own default idle timeout, one hour. */
export const KEEP_ALIVE_TIMEOUT_CAP = 3600;

/** The result of parsing: a config, a request for help, or one line explaining what is wrong. */
export type ParseResult =
  | { readonly kind: 'config'; readonly config: Config }
  | { readonly kind: 'help' }
  | { readonly kind: 'error'; readonly message: string };

type Kind = 'port' | 'size' | 'seconds' | 'ratio' | 'string' | 'boolean' | 'rate' | 'count';

interface OptionSpec {
  readonly flag: string;
  readonly env: string;
  readonly kind: Kind;
  readonly help: string;
  /** Shown in --help; absent when the option is off by default. */
  readonly defaultText?: string;
}

/** Every option the server takes, in --help order. The cdk8s Deployment maps typed props onto these flags. */
export const OPTIONS: readonly OptionSpec[] = [
  { flag: 'srv-port', env: 'SRV_PORT', kind: 'port', help: 'port for keys, health, readiness and metrics', defaultText: '1123' },
  { flag: 'host', env: 'HOST', kind: 'string', help: 'address to bind; :: (IPv6 and IPv4) falls back to 0.0.0.0 where the kernel has no IPv6', defaultText: '::' },
  { flag: 'min-size', env: 'MIN_SIZE', kind: 'size', help: 'smallest key length in bytes', defaultText: '1' },
  { flag: 'max-size', env: 'MAX_SIZE', kind: 'size', help: `largest key length in bytes (at most ${MAX_SIZE_HARD_CAP})`, defaultText: '1024' },
  { flag: 'metrics-port', env: 'METRICS_PORT', kind: 'port', help: 'also serve /metrics (and /health) on this port' },
  { flag: 'tls-cert', env: 'TLS_CERT_FILE', kind: 'string', help: 'PEM certificate (chain); with --tls-key serves HTTPS only, reloaded on change' },
  { flag: 'tls-key', env: 'TLS_KEY_FILE', kind: 'string', help: 'PEM private key for --tls-cert' },
  { flag: 'shutdown-delay', env: 'SHUTDOWN_DELAY', kind: 'seconds', help: 'seconds to keep serving after SIGTERM while /ready answers 503', defaultText: '5' },
  { flag: 'auth-token-file', env: 'AUTH_TOKEN_FILE', kind: 'string', help: '/key then needs "Authorization: Bearer <token>" with a token from this file (one per line), reloaded on change' },
  { flag: 'rate-limit', env: 'RATE_LIMIT', kind: 'rate', help: 'requests per second each client address may make to /key; over it the answer is 429' },
  { flag: 'rate-limit-burst', env: 'RATE_LIMIT_BURST', kind: 'count', help: 'requests a client may make at once before --rate-limit applies (default: the rate rounded up)' },
  { flag: 'max-connections', env: 'MAX_CONNECTIONS', kind: 'count', help: `connections open at once per port; at the cap the least recently active idle one is closed, else the new one (at most ${MAX_CONNECTIONS_CAP})`, defaultText: String(DEFAULT_MAX_CONNECTIONS) },
  { flag: 'keep-alive-timeout', env: 'KEEP_ALIVE_TIMEOUT', kind: 'seconds', help: `seconds an idle connection stays open; keep it above the idle timeout of every load balancer in front (1 to ${KEEP_ALIVE_TIMEOUT_CAP})`, defaultText: String(DEFAULT_KEEP_ALIVE_TIMEOUT) },
  { flag: 'access-log', env: 'ACCESS_LOG', kind: 'boolean', help: 'log one JSON line per request', defaultText: 'false' },
  { flag: 'fault-error-ratio', env: 'FAULT_ERROR_RATIO', kind: 'ratio', help: 'TESTING ONLY: share (0..1) of /key requests answered with 500', defaultText: '0' },
  { flag: 'fault-latency', env: 'FAULT_LATENCY', kind: 'seconds', help: 'TESTING ONLY: seconds added to every /key request', defaultText: '0' },
];

const DEFAULTS = {
  srvPort: 1123,
  host: '::',
  minSize: 1,
  maxSize: 1024,
  shutdownDelay: 5,
  accessLog: false,
  faultErrorRatio: 0,
  faultLatency: 0,
} as const;

/** The text `key-server --help` prints. */
export function helpText(): string {
  const lines = OPTIONS.map((option) => {
    const left = `  --${option.flag}${option.kind === 'boolean' ? '' : ' <value>'}`;
    const suffix = option.defaultText === undefined ? '' : ` (default ${option.defaultText})`;
    return `${left.padEnd(30)} ${option.help}${suffix}  [env ${option.env}]`;
  });
  return [
    'Usage: key-server [options]',
    '',
    'Serves fresh random keys: GET /key/{length} returns `length` random bytes as hex.',
    'Each option may be given as --flag value, --flag=value or through its environment variable;',
    'a flag wins over the environment.',
    '',
    'Options:',
    ...lines,
    `  ${'--help, -h'.padEnd(28)} show this text`,
    '',
  ].join('\n');
}

class ConfigError extends Error {}

/**
 * Parses flags (`--flag value` or `--flag=value`) and environment variables into a frozen Config.
 * Pure: reads nothing but its arguments, so every rule has a table-driven test.
 */
export function parseConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ParseResult {
  try {
    const raw = collectRawValues(argv, env);
    if (raw === 'help') {
      return { kind: 'help' };
    }
    return { kind: 'config', config: buildConfig(raw) };
  } catch (error) {
    if (error instanceof ConfigError) {
      return { kind: 'error', message: error.message };
    }
    throw error;
  }
}

/** Raw string values by flag name, flags overriding the environment. */
function collectRawValues(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Map<string, string> | 'help' {
  const values = new Map<string, string>();
  for (const option of OPTIONS) {
    const fromEnv = env[option.env];
    if (fromEnv !== undefined && fromEnv !== '') {
      values.set(option.flag, fromEnv);
    }
  }
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index];
    if (argument === '--help' || argument === '-h') {
      return 'help';
    }
    if (!argument.startsWith('--')) {
      throw new ConfigError(`unexpected argument "${argument}" (options start with --; see --help)`);
    }
    const equals = argument.indexOf('=');
    const name = argument.slice(2, equals === -1 ? undefined : equals);
    const option = OPTIONS.find((candidate) => candidate.flag === name);
    if (option === undefined) {
      throw new ConfigError(`unknown option --${name} (see --help)`);
    }
    if (equals !== -1) {
      values.set(name, argument.slice(equals + 1));
    } else if (option.kind === 'boolean') {
      values.set(name, 'true');
    } else {
      const next = argv[index + 1];
      if (next === undefined || next.startsWith('--')) {
        throw new ConfigError(`--${name} needs a value`);
      }
      values.set(name, next);
      index++;
    }
  }
  return values;
}

function buildConfig(raw: Map<string, string>): Config {
  const minSize = readInteger(raw, 'min-size', 1, MAX_SIZE_HARD_CAP) ?? DEFAULTS.minSize;
  const maxSize = readInteger(raw, 'max-size', 1, MAX_SIZE_HARD_CAP) ?? DEFAULTS.maxSize;
  if (minSize > maxSize) {
    throw new ConfigError(`--min-size (${minSize}) must not be greater than --max-size (${maxSize})`);
  }
  const srvPort = readInteger(raw, 'srv-port', 0, 65535) ?? DEFAULTS.srvPort;
  const metricsPort = readInteger(raw, 'metrics-port', 0, 65535);
  if (metricsPort !== undefined && metricsPort !== 0 && metricsPort === srvPort) {
    throw new ConfigError(`--metrics-port (${metricsPort}) must differ from --srv-port`);
  }
  const host = raw.get('host') ?? DEFAULTS.host;
  if (host.trim() === '') {
    throw new ConfigError('--host must not be empty');
  }
  const config: Config = {
    srvPort,
    host,
    minSize,
    maxSize,
    metricsPort,
    tls: readTlsFiles(raw),
    shutdownDelay: readDecimal(raw, 'shutdown-delay', SHUTDOWN_DELAY_CAP) ?? DEFAULTS.shutdownDelay,
    accessLog: readBoolean(raw, 'access-log') ?? DEFAULTS.accessLog,
    faultErrorRatio: readDecimal(raw, 'fault-error-ratio', 1) ?? DEFAULTS.faultErrorRatio,
    faultLatency: readDecimal(raw, 'fault-latency', FAULT_LATENCY_CAP) ?? DEFAULTS.faultLatency,
    authTokenFile: readNonEmpty(raw, 'auth-token-file'),
    ...readRateLimit(raw),
    maxConnections: readInteger(raw, 'max-connections', 1, MAX_CONNECTIONS_CAP) ?? DEFAULT_MAX_CONNECTIONS,
    keepAliveTimeout: readKeepAliveTimeout(raw),
  };
  return Object.freeze(config);
}

function readTlsFiles(raw: Map<string, string>): TlsFiles | undefined {
  const certFile = raw.get('tls-cert');
  const keyFile = raw.get('tls-key');
  if (certFile === undefined && keyFile === undefined) {
    return undefined;
  }
  if (certFile === undefined || keyFile === undefined || certFile === '' || keyFile === '') {
    throw new ConfigError('--tls-cert and --tls-key must be given together');
  }
  return Object.freeze({ certFile, keyFile });
}

function readNonEmpty(raw: Map<string, string>, flag: string): string | undefined {
  const text = raw.get(flag);
  if (text !== undefined && text.trim() === '') {
    throw new ConfigError(`--${flag} must not be empty`);
  }
  return text;
}

/** Both fields or neither: a burst without a rate limits nothing, so it is refused rather than ignored. */
function readRateLimit(raw: Map<string, string>): { rateLimit?: number; rateLimitBurst?: number } {
  const rateLimit = readDecimal(raw, 'rate-limit', RATE_LIMIT_CAP);
  const burst = readInteger(raw, 'rate-limit-burst', 1, RATE_LIMIT_CAP);
  if (rateLimit === undefined) {
    if (burst !== undefined) {
      throw new ConfigError('--rate-limit-burst needs --rate-limit');
    }
    return {};
  }
  if (rateLimit <= 0) {
    throw new ConfigError(`--rate-limit must be above 0 requests per second, got "${raw.get('rate-limit')}"`);
  }
  return { rateLimit, rateLimitBurst: burst ?? Math.max(1, Math.ceil(rateLimit)) };
}

/** Whole or fractional seconds from 1 to the cap: below a second every keep-alive connection would be a new handshake. */
function readKeepAliveTimeout(raw: Map<string, string>): number {
  const text = raw.get('keep-alive-timeout');
  if (text === undefined) {
    return DEFAULT_KEEP_ALIVE_TIMEOUT;
  }
  const seconds = /^\d{1,9}(\.\d{1,9})?$/.test(text) ? Number(text) : Number.NaN;
  if (!(seconds >= 1 && seconds <= KEEP_ALIVE_TIMEOUT_CAP)) {
    throw new ConfigError(`--keep-alive-timeout must be a number from 1 to ${KEEP_ALIVE_TIMEOUT_CAP}, got "${text}"`);
  }
  return seconds;
}

/** Digits only: `Number()` would accept '', ' 8', '1e3' and '0x10', which are typos here, not values. */
function readInteger(raw: Map<string, string>, flag: string, min: number, max: number): number | undefined {
  const text = raw.get(flag);
  if (text === undefined) {
    return undefined;
  }
  const value = /^\d{1,6}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= min && value <= max)) {
    throw new ConfigError(`--${flag} must be an integer from ${min} to ${max}, got "${text}"`);
  }
  return value;
}

function readDecimal(raw: Map<string, string>, flag: string, max: number): number | undefined {
  const text = raw.get(flag);
  if (text === undefined) {
    return undefined;
  }
  const value = /^\d{1,9}(\.\d{1,9})?$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= 0 && value <= max)) {
    throw new ConfigError(`--${flag} must be a number from 0 to ${max}, got "${text}"`);
  }
  return value;
}

function readBoolean(raw: Map<string, string>, flag: string): boolean | undefined {
  const text = raw.get(flag);
  if (text === undefined) {
    return undefined;
  }
  const normalised = text.toLowerCase();
  if (normalised === 'true' || normalised === '1') {
    return true;
  }
  if (normalised === 'false' || normalised === '0') {
    return false;
  }
  throw new ConfigError(`--${flag} must be true or false, got "${text}"`);
}
