// The key server's flag contract: one table of options (flag, environment variable, type, bounds, default, help)
// from which parsing, --help, the defaults and the README's flag table all come, and formatArgs, the inverse of
// parseConfig. The constructs import this file (and the metric catalogue) and nothing else of the server.

/** Certificate and private key files (PEM) that switch the server to HTTPS. */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

/** Everything the key server needs to start; built by {@link parseConfig}, never mutated. Defaults: {@link OPTIONS}. */
export interface Config {
  /** Port of the main listener (keys, health, readiness, metrics). 0 picks a free port. */
  readonly srvPort: number;
  /**
   * Address both listeners bind to. `::` accepts IPv6 and, through IPv4-mapped addresses, IPv4 too, so the same
   * default serves IPv4, dual-stack and IPv6 single-stack pods; where the kernel has no IPv6 it falls back to 0.0.0.0.
   */
  readonly host: string;
  /** Smallest key length in bytes a client may request. */
  readonly minSize: number;
  /** Largest key length in bytes a client may request, at most {@link MAX_SIZE_HARD_CAP}. */
  readonly maxSize: number;
  /** Port of a second listener that serves only /metrics and /health; undefined: off. */
  readonly metricsPort?: number;
  /** Certificate and key for HTTPS; undefined: plain HTTP, with a warning. */
  readonly tls?: TlsFiles;
  /** Seconds to keep serving after SIGTERM while /ready answers 503, so endpoints drain first. */
  readonly shutdownDelay: number;
  /** Log one line per request. */
  readonly accessLog: boolean;
  /** Share (0..1) of /key requests answered with 500, for alert tests only. */
  readonly faultErrorRatio: number;
  /** Seconds added to every /key request, for alert tests only. */
  readonly faultLatency: number;
  /** File of bearer tokens (one per line) that /key then requires; reloaded on change. undefined: open. */
  readonly authTokenFile?: string;
  /** Requests per second each client address may make to /key (token bucket); undefined: no limit. */
  readonly rateLimit?: number;
  /** Requests a client may make at once before the rate applies; set whenever `rateLimit` is ({@link defaultRateLimitBurst}). */
  readonly rateLimitBurst?: number;
  /**
   * Most connections open at once per listener (TLS handshakes included). At the cap the least recently active idle
   * connection is closed to admit a new one; with none idle, the new connection is closed unanswered.
   */
  readonly maxConnections: number;
  /** Seconds an idle keep-alive connection stays open: longer than any load balancer in front keeps its own. */
  readonly keepAliveTimeout: number;
}

/** The largest `--max-size` accepted: beyond it one request could make the server allocate unbounded memory. */
export const MAX_SIZE_HARD_CAP = 65536;
/** The longest `--shutdown-delay`: far above any sensible grace period, it only catches typos like 5000. */
export const SHUTDOWN_DELAY_CAP = 300;
/**
 * Seconds in-flight requests get to finish after SIGTERM's shutdown delay, before connections are cut. Not a flag:
 * the pod's grace period must cover the delay plus this, and KeyServerApp checks it against this one figure.
 */
export const DRAIN_TIMEOUT = 10;
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

/** The burst a rate limit gets unless told: the rate rounded up, at least one request. */
export function defaultRateLimitBurst(requestsPerSecond: number): number {
  return Math.max(1, Math.ceil(requestsPerSecond));
}

/** The result of parsing: a config, a request for help, or one line explaining what is wrong and which flag. */
export type ParseResult =
  | { readonly kind: 'config'; readonly config: Config }
  | { readonly kind: 'help' }
  | { readonly kind: 'error'; readonly message: string; readonly flags: readonly OptionFlag[] };

class ConfigError extends Error {
  constructor(message: string, readonly flags: readonly OptionFlag[]) {
    super(message);
  }
}

/** How an option's text reads and writes, and how --help and the README name what it takes. */
interface ValueType<T> {
  /** `integer 1..65536`, `seconds 0..300`: the type column of the README table. */
  readonly description: string;
  /** The value, or an Error message's tail ("must be …, got …") for the flag. */
  read(text: string): T | { readonly refused: string };
  /** The text `read` turns back into `value`. */
  write(value: T): string;
  readonly isSwitch?: true;
}

/** Digits only: `Number()` would accept '', ' 8', '1e3' and '0x10', which are typos here, not values. */
function integer(min: number, max: number, unit = 'integer'): ValueType<number> {
  return {
    description: `${unit} ${min}..${max}`,
    read: (text) => {
      const value = /^\d{1,6}$/.test(text) ? Number(text) : Number.NaN;
      return value >= min && value <= max ? value : { refused: `must be an integer from ${min} to ${max}, got "${text}"` };
    },
    write: String,
  };
}

/** Up to nine decimals, no exponent: what a person types, and what {@link formatDecimal} writes back. */
function decimal(min: number, max: number, unit = 'number'): ValueType<number> {
  return {
    description: `${unit} ${min}..${max}`,
    read: (text) => {
      const value = /^\d{1,9}(\.\d{1,9})?$/.test(text) ? Number(text) : Number.NaN;
      return value >= min && value <= max ? value : { refused: `must be a number from ${min} to ${max}, got "${text}"` };
    },
    write: formatDecimal,
  };
}

/** Any text but blanks: an empty path or address is a mistake, not a value. */
function text(description: string): ValueType<string> {
  return { description, read: (value) => (value.trim() === '' ? { refused: 'must not be empty' } : value), write: (value) => value };
}

const onOff: ValueType<boolean> = {
  description: 'switch',
  isSwitch: true,
  read: (value) => {
    const normalised = value.toLowerCase();
    if (normalised === 'true' || normalised === '1') return true;
    if (normalised === 'false' || normalised === '0') return false;
    return { refused: `must be true or false, got "${value}"` };
  },
  write: String,
};

/**
 * `2.5`, `0.000001`: fixed notation with at most nine decimals and no trailing zeros, which {@link decimal} reads
 * back. A value nine decimals cannot hold is written as JavaScript prints it, for the parser to refuse by name
 * rather than read a rounded value.
 */
function formatDecimal(value: number): string {
  const fixed = value.toFixed(9).replace(/\.?0+$/, '');
  return Number(fixed) === value ? fixed : String(value);
}

/** One option: its spellings, what it takes, its default and what it does. */
interface OptionSpec<T> {
  readonly flag: string;
  readonly env: string;
  readonly type: ValueType<T>;
  /** The value when neither flag nor environment gives one; a function for one derived from other options; undefined: off. */
  readonly default?: T | ((config: Config) => T | undefined);
  /** How --help and the README state a default that is not a fixed value. */
  readonly defaultText?: string;
  /** One line for --help. */
  readonly help: string;
  /** More for the README's table: figures, caveats, links. */
  readonly details?: string;
  /** The option's value in a Config. */
  readonly get: (config: Config) => T | undefined;
}

/** An option with its flag kept as a literal type, so {@link OptionFlag} lists the flags. */
function option<Flag extends string, T>(spec: OptionSpec<T> & { readonly flag: Flag }): OptionSpec<T> & { readonly flag: Flag } {
  return spec;
}

/** Every option the server takes, in --help and README order. */
export const OPTIONS = [
  option({
    flag: 'host', env: 'HOST', type: text('address'), default: '::', get: (c) => c.host,
    help: 'address to bind; :: (IPv6 and IPv4) falls back to 0.0.0.0 where the kernel has no IPv6',
    details: 'so the default serves IPv4, dual-stack and IPv6 single-stack pods alike; the fallback is logged as a warning',
  }),
  option({ flag: 'srv-port', env: 'SRV_PORT', type: integer(0, 65535, 'port'), default: 1123, get: (c) => c.srvPort, help: 'port for keys, health, readiness and metrics (0 picks a free one)' }),
  option({
    flag: 'metrics-port', env: 'METRICS_PORT', type: integer(0, 65535, 'port'), get: (c) => c.metricsPort,
    help: 'also serve /metrics (and /health) on this port; /metrics then leaves the main port',
    details: 'e.g. for a NetworkPolicy that admits only Prometheus',
  }),
  option({ flag: 'max-size', env: 'MAX_SIZE', type: integer(1, MAX_SIZE_HARD_CAP, 'bytes'), default: 1024, get: (c) => c.maxSize, help: 'largest key length in bytes' }),
  option({ flag: 'min-size', env: 'MIN_SIZE', type: integer(1, MAX_SIZE_HARD_CAP, 'bytes'), default: 1, get: (c) => c.minSize, help: 'smallest key length in bytes' }),
  option({
    flag: 'shutdown-delay', env: 'SHUTDOWN_DELAY', type: decimal(0, SHUTDOWN_DELAY_CAP, 'seconds'), default: 5, get: (c) => c.shutdownDelay,
    help: 'seconds to keep serving after SIGTERM while /ready answers 503',
  }),
  option({
    flag: 'tls-cert', env: 'TLS_CERT_FILE', type: text('path'), get: (c) => c.tls?.certFile,
    help: 'PEM certificate (chain); with --tls-key serves HTTPS only, reloaded on change',
    details: 'HTTP/2 and HTTP/1.1 over TLS 1.2+; also reloaded on SIGHUP. Without it: plain HTTP/1.1 and a warning',
  }),
  option({ flag: 'tls-key', env: 'TLS_KEY_FILE', type: text('path'), get: (c) => c.tls?.keyFile, help: 'PEM private key for --tls-cert' }),
  option({
    flag: 'auth-token-file', env: 'AUTH_TOKEN_FILE', type: text('path'), get: (c) => c.authTokenFile,
    help: '/key then needs "Authorization: Bearer <token>" with a token from this file (one per line), reloaded on change',
    details: '`#` starts a comment. See [Security](#security)',
  }),
  option({
    flag: 'rate-limit', env: 'RATE_LIMIT', type: decimal(0, RATE_LIMIT_CAP, 'requests/s'), get: (c) => c.rateLimit,
    help: 'requests per second each client address may make to /key; over it the answer is 429',
    details: 'a token bucket per client address (an IPv6 /64 counts as one); the 429 carries `Retry-After`',
  }),
  option({
    flag: 'rate-limit-burst', env: 'RATE_LIMIT_BURST', type: integer(1, RATE_LIMIT_CAP, 'requests'), get: (c) => c.rateLimitBurst,
    default: (c) => (c.rateLimit === undefined ? undefined : defaultRateLimitBurst(c.rateLimit)), defaultText: 'the rate rounded up',
    help: 'requests a client may make at once before --rate-limit applies',
  }),
  option({
    flag: 'max-connections', env: 'MAX_CONNECTIONS', type: integer(1, MAX_CONNECTIONS_CAP, 'connections'), default: DEFAULT_MAX_CONNECTIONS,
    get: (c) => c.maxConnections,
    help: 'connections open at once per port; at the cap the least recently active idle one is closed, else the new one',
    details: 'TLS handshakes included; only a connection idle a second or more, or whose client stopped reading, gives way, and a refused newcomer is closed before any handshake. Sized for the pod\'s 96Mi memory request (see [Security](#security)); raise it with the memory',
  }),
  option({
    flag: 'keep-alive-timeout', env: 'KEEP_ALIVE_TIMEOUT', type: decimal(1, KEEP_ALIVE_TIMEOUT_CAP, 'seconds'), default: DEFAULT_KEEP_ALIVE_TIMEOUT,
    get: (c) => c.keepAliveTimeout,
    help: 'seconds an idle connection stays open; keep it above the idle timeout of every load balancer in front',
    details: 'an idle HTTP/2 session then gets GOAWAY. AWS ALB keeps idle connections 60 s by default, ingress-nginx and nginx upstream keep-alive 60 s, nginx\'s client keep-alive 75 s, Google Cloud load balancers 600 s (they ask backends for more), so 620 s. Envoy\'s default (1 h) is longer: set Envoy\'s upstream idle timeout below this, or talk HTTP/2 to the pod',
  }),
  option({ flag: 'access-log', env: 'ACCESS_LOG', type: onOff, default: false, get: (c) => c.accessLog, help: 'log one JSON line per request' }),
  option({
    flag: 'fault-error-ratio', env: 'FAULT_ERROR_RATIO', type: decimal(0, 1, 'ratio'), default: 0, get: (c) => c.faultErrorRatio,
    help: 'TESTING ONLY: share (0..1) of /key requests answered with 500', details: 'logged as a warning',
  }),
  option({
    flag: 'fault-latency', env: 'FAULT_LATENCY', type: decimal(0, FAULT_LATENCY_CAP, 'seconds'), default: 0, get: (c) => c.faultLatency,
    help: 'TESTING ONLY: seconds added to every /key request', details: 'logged as a warning',
  }),
] as const;

/** The flags of {@link OPTIONS}, without their dashes. */
export type OptionFlag = (typeof OPTIONS)[number]['flag'];

type AnyOption = OptionSpec<unknown>;
const optionsByFlag = new Map<string, AnyOption>(OPTIONS.map((spec) => [spec.flag, spec as AnyOption]));

/** The text of an option's default in --help and the README, or undefined when it is off by default. */
export function defaultText(spec: (typeof OPTIONS)[number]): string | undefined {
  const option = spec as AnyOption;
  if (option.defaultText !== undefined) return option.defaultText;
  return option.default === undefined || typeof option.default === 'function' ? undefined : option.type.write(option.default);
}

/** The text `key-server --help` prints. */
export function helpText(): string {
  const lines = OPTIONS.map((spec) => {
    const option = spec as AnyOption;
    const left = `  --${option.flag}${option.type.isSwitch ? '' : ' <value>'}`;
    const fallback = defaultText(spec);
    return `${left.padEnd(30)} ${option.help} (${option.type.description}${fallback === undefined ? '' : `, default ${fallback}`})  [env ${option.env}]`;
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

/** The README's flag table, Markdown, one row per option (`npm run docs:readme` writes it; a test compares). */
export function flagTable(): string {
  const cell = (value: string) => value.replace(/\|/g, '\\|');
  const rows = OPTIONS.map((spec) => {
    const option = spec as AnyOption;
    const meaning = option.details === undefined ? option.help : `${option.help}; ${option.details}`;
    return `| \`--${option.flag}\` | \`${option.env}\` | ${option.type.description} | ${defaultText(spec) ?? 'off'} | ${cell(meaning)} |`;
  });
  return ['| Flag | Environment | Takes | Default | Meaning |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}

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
      return { kind: 'error', message: error.message, flags: error.flags };
    }
    throw error;
  }
}

/** The configuration with nothing given: every option at its default. */
export function defaultConfig(): Config {
  return buildConfig(new Map());
}

/**
 * The args that make {@link parseConfig} return `config`: every option whose value differs from its default, in
 * table order, and those of `explicit` even at their default (a Deployment states the ports and paths its other
 * fields must agree with, whatever the server's defaults). A value starting with `--` is written `--flag=value`,
 * which the parser cannot mistake for the next flag.
 */
export function formatArgs(config: Config, explicit: readonly OptionFlag[] = []): string[] {
  const args: string[] = [];
  for (const spec of OPTIONS) {
    const option = spec as AnyOption;
    const value = option.get(config);
    if (value === undefined) continue;
    const fallback = typeof option.default === 'function' ? option.default(config) : option.default;
    if (value === fallback && !explicit.includes(spec.flag)) continue;
    if (option.type.isSwitch) {
      args.push(value === true ? `--${option.flag}` : `--${option.flag}=false`);
      continue;
    }
    const text = option.type.write(value);
    args.push(...(text.startsWith('--') ? [`--${option.flag}=${text}`] : [`--${option.flag}`, text]));
  }
  return args;
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
      throw new ConfigError(`unexpected argument "${argument}" (options start with --; see --help)`, []);
    }
    const equals = argument.indexOf('=');
    const name = argument.slice(2, equals === -1 ? undefined : equals);
    const option = optionsByFlag.get(name);
    if (option === undefined) {
      throw new ConfigError(`unknown option --${name} (see --help)`, []);
    }
    const flags = [name as OptionFlag];
    if (equals !== -1) {
      values.set(name, argument.slice(equals + 1));
    } else if (option.type.isSwitch) {
      values.set(name, 'true');
    } else {
      const next = argv[index + 1];
      if (next === undefined || next.startsWith('--')) {
        throw new ConfigError(`--${name} needs a value`, flags);
      }
      values.set(name, next);
      index++;
    }
  }
  return values;
}

function buildConfig(raw: Map<string, string>): Config {
  /** The option's value from `raw`, or its fixed default; undefined when off. */
  const read = <T>(flag: OptionFlag): T | undefined => {
    const option = optionsByFlag.get(flag) as OptionSpec<T>;
    const text = raw.get(flag);
    if (text === undefined) return typeof option.default === 'function' ? undefined : option.default;
    const value = option.type.read(text);
    if (typeof value === 'object' && value !== null && 'refused' in value) {
      throw new ConfigError(`--${flag} ${value.refused}`, [flag]);
    }
    return value as T;
  };
  const minSize = read<number>('min-size')!;
  const maxSize = read<number>('max-size')!;
  if (minSize > maxSize) {
    throw new ConfigError(`--min-size (${minSize}) must not be greater than --max-size (${maxSize})`, ['min-size', 'max-size']);
  }
  const srvPort = read<number>('srv-port')!;
  const metricsPort = read<number>('metrics-port');
  if (metricsPort !== undefined && metricsPort !== 0 && metricsPort === srvPort) {
    throw new ConfigError(`--metrics-port (${metricsPort}) must differ from --srv-port`, ['metrics-port', 'srv-port']);
  }
  const config = {
    srvPort,
    host: read<string>('host')!,
    minSize,
    maxSize,
    metricsPort,
    tls: readTlsFiles(read<string>('tls-cert'), read<string>('tls-key')),
    shutdownDelay: read<number>('shutdown-delay')!,
    accessLog: read<boolean>('access-log')!,
    faultErrorRatio: read<number>('fault-error-ratio')!,
    faultLatency: read<number>('fault-latency')!,
    authTokenFile: read<string>('auth-token-file'),
    ...readRateLimit(read<number>('rate-limit'), read<number>('rate-limit-burst'), raw.get('rate-limit')),
    maxConnections: read<number>('max-connections')!,
    keepAliveTimeout: read<number>('keep-alive-timeout')!,
  };
  return Object.freeze(config);
}

function readTlsFiles(certFile: string | undefined, keyFile: string | undefined): TlsFiles | undefined {
  if (certFile === undefined && keyFile === undefined) {
    return undefined;
  }
  if (certFile === undefined || keyFile === undefined) {
    throw new ConfigError('--tls-cert and --tls-key must be given together', ['tls-cert', 'tls-key']);
  }
  return Object.freeze({ certFile, keyFile });
}

/** Both fields or neither: a burst without a rate limits nothing, so it is refused rather than ignored. */
function readRateLimit(rateLimit: number | undefined, burst: number | undefined, text: string | undefined): { rateLimit?: number; rateLimitBurst?: number } {
  if (rateLimit === undefined) {
    if (burst !== undefined) {
      throw new ConfigError('--rate-limit-burst needs --rate-limit', ['rate-limit-burst']);
    }
    return {};
  }
  if (rateLimit <= 0) {
    throw new ConfigError(`--rate-limit must be above 0 requests per second, got "${text}"`, ['rate-limit']);
  }
  return { rateLimit, rateLimitBurst: burst ?? defaultRateLimitBurst(rateLimit) };
}
