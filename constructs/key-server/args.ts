// The key server container's args, through the server's own flag contract: formatArgs writes them from the Config
// the props describe, parseConfig reads them back at synth time, and what it refuses is reported under the prop's name.
import { defaultConfig, formatArgs, OPTIONS, parseConfig, type Config, type OptionFlag } from '../../server/config';

/**
 * The prop behind each flag, for errors: typed by the contract's flags, so a flag added or renamed in
 * server/config.ts fails the build here until it is mapped. `undefined`: KeyServerApp leaves it at the server's default.
 */
const propOf: Readonly<Record<OptionFlag, string | undefined>> = {
  'host': 'host',
  'srv-port': 'httpsPort',
  'metrics-port': 'metricsPort',
  'max-size': 'maxSize',
  'min-size': 'minSize',
  'shutdown-delay': 'shutdownDelay',
  'tls-cert': 'tls',
  'tls-key': 'tls',
  'auth-token-file': 'accessControl',
  'rate-limit': 'rateLimit.requestsPerSecond',
  'rate-limit-burst': 'rateLimit.burst',
  'max-connections': 'maxConnections',
  'keep-alive-timeout': undefined,
  'access-log': 'accessLog',
  'fault-error-ratio': undefined,
  'fault-latency': undefined,
};

/**
 * Written even at the server's default: the address and ports the container declares, the key sizes, the shutdown
 * delay the grace period is computed from, and a rate limit's burst. The Deployment states what its other fields
 * must agree with, so a later server release with other defaults cannot pull them apart.
 */
const explicit: readonly OptionFlag[] = ['host', 'srv-port', 'metrics-port', 'max-size', 'min-size', 'shutdown-delay', 'rate-limit-burst'];

/** What the props set of the server's configuration; everything else stays at the server's default. */
export type KeyServerSettings = Partial<Config>;

/** The server's configuration for `settings`, the rest at the server's defaults (one place: server/config.ts). */
export function serverConfig(settings: KeyServerSettings): Config {
  return { ...defaultConfig(), ...settings };
}

/**
 * The container args for `config`. Checked by the server's own parser: a value it refuses throws here, at synth
 * time, naming the prop (`maxSize must be an integer from 1 to 65536, got "65537" (the server's --max-size)`), and a
 * value it would read differently (a rate with more decimals than it reads) throws too, instead of a crash-looping pod.
 */
export function keyServerArgs(config: Config): string[] {
  const args = formatArgs(config, explicit);
  const parsed = parseConfig(args, {});
  if (parsed.kind === 'error') {
    const named = parsed.message.replace(/--([a-z-]+)/g, (flag, name: OptionFlag) => propOf[name] ?? flag);
    throw new Error(`${named} (the server's ${parsed.flags.map((flag) => `--${flag}`).join(' and ')})`);
  }
  if (parsed.kind === 'help') throw new Error(`the container args ${JSON.stringify(args)} ask the server for --help`);
  for (const option of OPTIONS) {
    const read = (option.get as (config: Config) => unknown);
    if (read(parsed.config) !== read(config)) {
      throw new Error(`${propOf[option.flag] ?? `--${option.flag}`} would reach the server as ${JSON.stringify(read(parsed.config))}, not ${JSON.stringify(read(config))} (the server's --${option.flag})`);
    }
  }
  return args;
}
