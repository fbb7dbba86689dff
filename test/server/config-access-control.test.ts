// The access-control flags: --auth-token-file, --rate-limit and --rate-limit-burst, off unless given.
import { parseConfig, RATE_LIMIT_CAP } from '../../server/config';

function parse(argv: string[], env: Record<string, string> = {}) {
  return parseConfig(argv, env);
}

describe('access-control flags', () => {
  it('leaves access control and the rate limit off by default', () => {
    const result = parse([]);
    expect(result.kind === 'config' && [result.config.authTokenFile, result.config.rateLimit, result.config.rateLimitBurst]).toEqual([
      undefined, undefined, undefined,
    ]);
  });

  it('reads the token file and the rate from flags or the environment, the burst defaulting to the rate rounded up', () => {
    expect(parse(['--auth-token-file', '/etc/tokens', '--rate-limit', '2.5'])).toMatchObject({
      kind: 'config', config: { authTokenFile: '/etc/tokens', rateLimit: 2.5, rateLimitBurst: 3 },
    });
    expect(parse([], { AUTH_TOKEN_FILE: '/t', RATE_LIMIT: '0.5', RATE_LIMIT_BURST: '10' })).toMatchObject({
      kind: 'config', config: { authTokenFile: '/t', rateLimit: 0.5, rateLimitBurst: 10 },
    });
  });

  it.each([
    [['--rate-limit', '0'], /--rate-limit must be above 0/],
    [['--rate-limit', '-1'], /--rate-limit must be a number/],
    [['--rate-limit', String(RATE_LIMIT_CAP + 1)], /--rate-limit must be a number from 0 to 100000/],
    [['--rate-limit-burst', '5'], /--rate-limit-burst needs --rate-limit/],
    [['--rate-limit', '1', '--rate-limit-burst', '0'], /--rate-limit-burst must be an integer/],
    [['--auth-token-file='], /--auth-token-file must not be empty/],
  ])('refuses %j with a message naming the flag', (argv, message) => {
    const result = parse(argv);
    expect(result.kind).toBe('error');
    expect(result.kind === 'error' && result.message).toMatch(message);
  });
});
