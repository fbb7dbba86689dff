// parseConfig: flags and environment variables → a frozen Config, or one line naming what is wrong.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as fc from 'fast-check';
import { tableIn } from '../../scripts/readme-tables';
import {
  DEFAULT_KEEP_ALIVE_TIMEOUT, DEFAULT_MAX_CONNECTIONS, defaultConfig, defaultRateLimitBurst, defaultText, FAULT_LATENCY_CAP, flagTable, formatArgs,
  KEEP_ALIVE_TIMEOUT_CAP, MAX_CONNECTIONS_CAP, MAX_SIZE_HARD_CAP, OPTIONS, RATE_LIMIT_CAP, SHUTDOWN_DELAY_CAP, helpText, parseConfig, type Config,
} from '../../server/config';

function configOf(argv: string[], env: Record<string, string> = {}): Config {
  const result = parseConfig(argv, env);
  if (result.kind !== 'config') {
    throw new Error(`expected a config, got ${JSON.stringify(result)}`);
  }
  return result.config;
}

function errorOf(argv: string[], env: Record<string, string> = {}): string {
  const result = parseConfig(argv, env);
  if (result.kind !== 'error') {
    throw new Error(`expected an error, got ${JSON.stringify(result)}`);
  }
  return result.message;
}

describe('parseConfig', () => {
  it('uses the documented defaults when nothing is given', () => {
    expect(configOf([])).toEqual({
      srvPort: 1123,
      host: '::',
      minSize: 1,
      maxSize: 1024,
      metricsPort: undefined,
      tls: undefined,
      shutdownDelay: 5,
      accessLog: false,
      faultErrorRatio: 0,
      faultLatency: 0,
      maxConnections: DEFAULT_MAX_CONNECTIONS,
      keepAliveTimeout: DEFAULT_KEEP_ALIVE_TIMEOUT,
    });
  });

  it('keeps idle connections longer than the load balancers in front: AWS ALB and nginx 60 s, nginx clients 75 s, Google 600 s', () => {
    expect(DEFAULT_KEEP_ALIVE_TIMEOUT).toBeGreaterThan(600);
    expect(configOf(['--keep-alive-timeout', '75']).keepAliveTimeout).toBe(75);
    expect(configOf([], { KEEP_ALIVE_TIMEOUT: '90.5' }).keepAliveTimeout).toBe(90.5);
  });

  it('reads the connection cap from --max-connections or MAX_CONNECTIONS', () => {
    expect(configOf(['--max-connections', '64']).maxConnections).toBe(64);
    expect(configOf([], { MAX_CONNECTIONS: '2000' }).maxConnections).toBe(2000);
  });

  it('returns a frozen config', () => {
    expect(Object.isFrozen(configOf([]))).toBe(true);
  });

  it('accepts --flag value and --flag=value for every option', () => {
    const config = configOf([
      '--srv-port', '8443', '--host=127.0.0.1', '--min-size', '16', '--max-size=4096', '--metrics-port', '9090',
      '--tls-cert', '/c.pem', '--tls-key=/k.pem', '--shutdown-delay', '2.5', '--access-log',
      '--fault-error-ratio=0.25', '--fault-latency', '0.1', '--max-connections', '100', '--keep-alive-timeout=75',
    ]);
    expect(config).toEqual({
      srvPort: 8443,
      host: '127.0.0.1',
      minSize: 16,
      maxSize: 4096,
      metricsPort: 9090,
      tls: { certFile: '/c.pem', keyFile: '/k.pem' },
      shutdownDelay: 2.5,
      accessLog: true,
      faultErrorRatio: 0.25,
      faultLatency: 0.1,
      maxConnections: 100,
      keepAliveTimeout: 75,
    });
  });

  it('reads every option from its environment variable', () => {
    const config = configOf([], {
      SRV_PORT: '8443', HOST: '::', MIN_SIZE: '2', MAX_SIZE: '64', METRICS_PORT: '9090',
      TLS_CERT_FILE: '/c.pem', TLS_KEY_FILE: '/k.pem', SHUTDOWN_DELAY: '0', ACCESS_LOG: 'true',
      FAULT_ERROR_RATIO: '1', FAULT_LATENCY: '3',
    });
    expect(config).toMatchObject({
      srvPort: 8443, host: '::', minSize: 2, maxSize: 64, metricsPort: 9090, shutdownDelay: 0, accessLog: true,
      tls: { certFile: '/c.pem', keyFile: '/k.pem' }, faultErrorRatio: 1, faultLatency: 3,
    });
  });

  it('lets a flag win over its environment variable', () => {
    expect(configOf(['--max-size', '2048'], { MAX_SIZE: '64' }).maxSize).toBe(2048);
  });

  it('allows port 0 so the system picks a free port', () => {
    expect(configOf(['--srv-port', '0', '--metrics-port', '0'])).toMatchObject({ srvPort: 0, metricsPort: 0 });
  });

  it('accepts --access-log=false', () => {
    expect(configOf(['--access-log=false']).accessLog).toBe(false);
  });

  it('asks for help on --help and -h', () => {
    expect(parseConfig(['--help'], {})).toEqual({ kind: 'help' });
    expect(parseConfig(['--max-size', '5', '-h'], {})).toEqual({ kind: 'help' });
  });

  it.each([
    [['--min-size', '2000'], '--min-size (2000) must not be greater than --max-size (1024)'],
    [['--max-size', String(MAX_SIZE_HARD_CAP + 1)], `--max-size must be an integer from 1 to ${MAX_SIZE_HARD_CAP}, got "65537"`],
    [['--max-size', 'lots'], '--max-size must be an integer from 1 to 65536, got "lots"'],
    [['--max-size', '1e3'], '--max-size must be an integer from 1 to 65536, got "1e3"'],
    [['--max-size', '0'], '--max-size must be an integer from 1 to 65536, got "0"'],
    [['--min-size', '-1'], '--min-size must be an integer from 1 to 65536, got "-1"'],
    [['--min-size=-1'], '--min-size must be an integer from 1 to 65536, got "-1"'],
    [['--srv-port', '70000'], '--srv-port must be an integer from 0 to 65535, got "70000"'],
    [['--srv-port', '8080', '--metrics-port', '8080'], '--metrics-port (8080) must differ from --srv-port'],
    [['--shutdown-delay', 'soon'], '--shutdown-delay must be a number from 0 to 300, got "soon"'],
    [['--shutdown-delay', '301'], '--shutdown-delay must be a number from 0 to 300, got "301"'],
    [['--fault-error-ratio', '1.5'], '--fault-error-ratio must be a number from 0 to 1, got "1.5"'],
    [['--fault-latency', '-2'], '--fault-latency must be a number from 0 to 60, got "-2"'],
    [['--max-size', '--min-size', '2'], '--max-size needs a value'],
    [['--tls-cert', '/c.pem'], '--tls-cert and --tls-key must be given together'],
    [['--tls-key=/k.pem'], '--tls-cert and --tls-key must be given together'],
    [['--access-log=maybe'], '--access-log must be true or false, got "maybe"'],
    [['--max-size'], '--max-size needs a value'],
    [['--verbose'], 'unknown option --verbose (see --help)'],
    [['serve'], 'unexpected argument "serve" (options start with --; see --help)'],
    [['--host='], '--host must not be empty'],
    [['--max-connections', '0'], '--max-connections must be an integer from 1 to 100000, got "0"'],
    [['--max-connections', '100001'], '--max-connections must be an integer from 1 to 100000, got "100001"'],
    [['--keep-alive-timeout', '0.5'], '--keep-alive-timeout must be a number from 1 to 3600, got "0.5"'],
    [['--keep-alive-timeout', '3601'], '--keep-alive-timeout must be a number from 1 to 3600, got "3601"'],
    [['--keep-alive-timeout', 'forever'], '--keep-alive-timeout must be a number from 1 to 3600, got "forever"'],
  ])('rejects %j with one line naming the flag', (argv, message) => {
    const error = errorOf(argv);
    expect(error).toBe(message);
    expect(error).not.toContain('\n');
  });

  it('rejects a bad environment value naming the flag it stands for', () => {
    expect(errorOf([], { MAX_SIZE: 'big' })).toBe('--max-size must be an integer from 1 to 65536, got "big"');
  });
});

describe('the README flag table', () => {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  const rows = tableIn(readme, 'flag-table').split('\n').filter((line) => line.startsWith('| `--'));

  it('is the table the flag contract renders (`npm run docs:readme` writes it)', () => {
    expect(tableIn(readme, 'flag-table')).toBe(flagTable());
  });

  it.each(OPTIONS.map((option) => [option.flag, option] as const))('lists --%s with its environment variable and default', (flag, option) => {
    const row = rows.find((line) => line.split('|')[1].includes(`\`--${flag}\``));
    expect(row).toBeDefined();
    expect(row).toContain(`\`${option.env}\``);
    expect(row?.split('|')[4].trim()).toBe(defaultText(option) ?? 'off');
  });
});

describe('helpText', () => {
  it('lists every flag with its environment variable', () => {
    const text = helpText();
    for (const [flag, env] of [
      ['--srv-port', 'SRV_PORT'], ['--host', 'HOST'], ['--max-size', 'MAX_SIZE'], ['--min-size', 'MIN_SIZE'],
      ['--metrics-port', 'METRICS_PORT'], ['--tls-cert', 'TLS_CERT_FILE'], ['--tls-key', 'TLS_KEY_FILE'],
      ['--shutdown-delay', 'SHUTDOWN_DELAY'], ['--access-log', 'ACCESS_LOG'],
      ['--fault-error-ratio', 'FAULT_ERROR_RATIO'], ['--fault-latency', 'FAULT_LATENCY'],
      ['--max-connections', 'MAX_CONNECTIONS'], ['--keep-alive-timeout', 'KEEP_ALIVE_TIMEOUT'],
    ]) {
      expect(text).toMatch(new RegExp(`${flag}\\b.*\\[env ${env}\\]`));
    }
  });
});

describe('formatArgs, the inverse of parseConfig', () => {
  /** Decimals as the parser reads them: up to nine places, within [min, max]. */
  const decimal = (min: number, max: number) => fc.integer({ min: min * 1e9, max: max * 1e9 }).map((nanos) => nanos / 1e9);
  const text = fc.string({ minLength: 1, maxLength: 40 }).filter((value) => value.trim() !== '');
  const sizes = fc.tuple(fc.integer({ min: 1, max: MAX_SIZE_HARD_CAP }), fc.integer({ min: 1, max: MAX_SIZE_HARD_CAP }))
    .map(([a, b]) => ({ minSize: Math.min(a, b), maxSize: Math.max(a, b) }));
  const ports = fc.tuple(fc.integer({ min: 0, max: 65535 }), fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }))
    .filter(([srvPort, metricsPort]) => metricsPort === undefined || metricsPort === 0 || metricsPort !== srvPort)
    .map(([srvPort, metricsPort]) => ({ srvPort, metricsPort }));
  const rateLimit = fc.option(fc.tuple(decimal(0, RATE_LIMIT_CAP).filter((rate) => rate > 0), fc.integer({ min: 1, max: RATE_LIMIT_CAP })), { nil: undefined })
    .map((pair) => (pair === undefined ? {} : { rateLimit: pair[0], rateLimitBurst: pair[1] }));
  /** Every config parseConfig can return. */
  const configs: fc.Arbitrary<Config> = fc.record({
    host: text, sizes, ports, rateLimit,
    tls: fc.option(fc.record({ certFile: text, keyFile: text }), { nil: undefined }),
    shutdownDelay: decimal(0, SHUTDOWN_DELAY_CAP),
    accessLog: fc.boolean(),
    faultErrorRatio: decimal(0, 1),
    faultLatency: decimal(0, FAULT_LATENCY_CAP),
    authTokenFile: fc.option(text, { nil: undefined }),
    maxConnections: fc.integer({ min: 1, max: MAX_CONNECTIONS_CAP }),
    keepAliveTimeout: decimal(1, KEEP_ALIVE_TIMEOUT_CAP),
  }).map(({ sizes: bounds, ports: listeners, rateLimit: limit, ...rest }) => ({ ...rest, ...bounds, ...listeners, ...limit }));

  it('gives back every config it is given: parseConfig(formatArgs(c)) equals c', () => {
    fc.assert(fc.property(configs, (config) => {
      expect(configOf(formatArgs(config))).toEqual(config);
    }), { numRuns: 2000 });
  });

  it('gives back every config with every option written explicitly, too', () => {
    const every = OPTIONS.map((option) => option.flag);
    fc.assert(fc.property(configs, (config) => {
      expect(configOf(formatArgs(config, every))).toEqual(config);
    }), { numRuns: 500 });
  });

  it('writes only what differs from the defaults, in the table\'s order, and nothing for the defaults', () => {
    expect(defaultConfig()).toEqual(configOf([]));
    expect(formatArgs(defaultConfig())).toEqual([]);
    expect(formatArgs({ ...defaultConfig(), accessLog: true, maxSize: 4096, host: '0.0.0.0' })).toEqual(['--host', '0.0.0.0', '--max-size', '4096', '--access-log']);
  });

  it('writes the options named explicit even at their default, still in the table\'s order', () => {
    expect(formatArgs(defaultConfig(), ['srv-port', 'host'])).toEqual(['--host', '::', '--srv-port', '1123']);
  });

  it('writes a value that starts with -- as --flag=value, which the parser cannot take for the next flag', () => {
    const config = { ...defaultConfig(), authTokenFile: '--tokens' };
    expect(formatArgs(config)).toEqual(['--auth-token-file=--tokens']);
    expect(configOf(formatArgs(config))).toEqual(config);
  });

  it('leaves out a burst equal to the rate rounded up, the default the parser derives, and writes any other', () => {
    expect(defaultRateLimitBurst(2.5)).toBe(3);
    expect(defaultRateLimitBurst(0.2)).toBe(1);
    expect(formatArgs({ ...defaultConfig(), rateLimit: 2.5, rateLimitBurst: 3 })).toEqual(['--rate-limit', '2.5']);
    expect(formatArgs({ ...defaultConfig(), rateLimit: 2.5, rateLimitBurst: 5 })).toEqual(['--rate-limit', '2.5', '--rate-limit-burst', '5']);
  });

  it('writes decimals as the parser reads them: no exponent, no trailing zeros', () => {
    expect(formatArgs({ ...defaultConfig(), faultLatency: 0.000000001, shutdownDelay: 2.5 })).toEqual(['--shutdown-delay', '2.5', '--fault-latency', '0.000000001']);
  });

  it('names the options at fault when it refuses a configuration', () => {
    expect(parseConfig(['--min-size', '5', '--max-size', '2'], {})).toEqual(expect.objectContaining({ kind: 'error', flags: ['min-size', 'max-size'] }));
    expect(parseConfig([], { RATE_LIMIT: 'fast' })).toEqual(expect.objectContaining({ kind: 'error', flags: ['rate-limit'] }));
  });

  it('writes a value nine decimals cannot hold as it is, so the parser refuses it by name instead of reading a rounded one', () => {
    const args = formatArgs({ ...defaultConfig(), shutdownDelay: 1.0000000001 });
    expect(args).toEqual(['--shutdown-delay', '1.0000000001']);
    expect(parseConfig(args, {})).toEqual({ kind: 'error', message: '--shutdown-delay must be a number from 0 to 300, got "1.0000000001"', flags: ['shutdown-delay'] });
  });
});
