// Optional access control over real sockets: bearer tokens from a reloaded file, and a per-client rate limit.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { metricNames as names } from '../../server/metric-catalogue';
import { runCli } from '../server/helpers/cli';
import { fetchText, parsePrometheusText, sampleValue } from '../server/helpers/http';
import { startTestServer, type RunningTestServer } from '../server/helpers/server';
import { makeTempDirectory, replaceFile } from '../server/helpers/tls';

/** Waits, in bounded 50 ms steps, until `condition` holds; returns the milliseconds it took. */
async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const startedAt = Date.now();
  while (!(await condition())) {
    if (Date.now() - startedAt > timeoutMs) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return Date.now() - startedAt;
}

const bearer = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } });

describe('bearer-token access control', () => {
  let running: RunningTestServer;
  let tokenFile: string;
  let remove: () => void;
  beforeAll(async () => {
    const temp = makeTempDirectory();
    remove = temp.remove;
    tokenFile = join(temp.directory, 'tokens');
    writeFileSync(tokenFile, '# clients of team A\ntoken-alpha\n');
    running = await startTestServer({ authTokenFile: tokenFile, metricsPort: 0 }, { tokenFilePollInterval: 2 });
  });
  afterAll(async () => {
    await running.stop();
    remove();
  });

  it('answers /key without a token with 401 and a Bearer challenge, and a wrong token with invalid_token', async () => {
    const missing = await fetchText(`${running.url}/key/16`);
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="key-server"');
    const wrong = await fetchText(`${running.url}/key/16`, bearer('token-guess'));
    expect(wrong.status).toBe(401);
    expect(wrong.headers['www-authenticate']).toBe('Bearer realm="key-server", error="invalid_token"');
    expect(wrong.body).not.toContain('token-guess');
    const basic = await fetchText(`${running.url}/key/16`, { headers: { Authorization: 'Basic dG9rZW4tYWxwaGE=' } });
    expect(basic.status).toBe(401);
  });

  it('serves /key with a listed token', async () => {
    const response = await fetchText(`${running.url}/key/16`, bearer('token-alpha'));
    expect(response.status).toBe(200);
    expect(response.body).toMatch(/^[0-9a-f]{32}$/);
  });

  it('leaves probes and the metrics port open, so kubelet and Prometheus need no token, and serves no /metrics on the main port', async () => {
    const paths = [`${running.url}/health`, `${running.url}/ready`, `${running.addresses.metricsUrl}/metrics`, `${running.url}/metrics`];
    const statuses = await Promise.all(paths.map(async (url) => (await fetchText(url)).status));
    expect(statuses).toEqual([200, 200, 200, 404]);
  });

  it('applies a changed token file within seconds, and refuses every token while the file holds none (counted, logged, gauge 0)', async () => {
    replaceFile(tokenFile, 'token-beta\n');
    const swapMs = await waitUntil(async () => (await fetchText(`${running.url}/key/16`, bearer('token-beta'))).status === 200, 10_000, 'token-beta accepted');
    expect((await fetchText(`${running.url}/key/16`, bearer('token-alpha'))).status).toBe(401);

    // Revocation by emptying the file fails closed: the token that was valid a moment ago is refused.
    replaceFile(tokenFile, '# emptied: every token revoked\n');
    const metricsText = async () => parsePrometheusText((await fetchText(`${running.addresses.metricsUrl}/metrics`)).body);
    const failureMs = await waitUntil(
      async () => sampleValue(await metricsText(), names.authTokenReloadsTotal, { result: 'failure' }) >= 1, 10_000, 'a counted failure',
    );
    expect((await fetchText(`${running.url}/key/16`, bearer('token-beta'))).status).toBe(401);
    const samples = await metricsText();
    expect(sampleValue(samples, names.authTokensLoaded)).toBe(0);
    expect(sampleValue(samples, names.authTokenReloadsTotal, { result: 'success' })).toBe(1);
    expect(running.logs.some((record) => record.level === 'error' && record.msg.startsWith('access token file unusable'))).toBe(true);

    replaceFile(tokenFile, 'token-gamma\n');
    const restoreMs = await waitUntil(async () => (await fetchText(`${running.url}/key/16`, bearer('token-gamma'))).status === 200, 10_000, 'token-gamma accepted');
    expect(sampleValue(await metricsText(), names.authTokensLoaded)).toBe(1);
    expect(JSON.stringify(running.logs)).not.toMatch(/token-(alpha|beta|gamma)/);
    console.log(
      `access control: new token accepted ${swapMs} ms after the file changed; emptied file refused every token after ${failureMs} ms ` +
        `(auth_tokens_loaded 0, failure counted and logged); tokens back ${restoreMs} ms after the file held one again`,
    );
  });

  it('refuses to start (exit 2) when the token file is missing, naming the file', async () => {
    const result = await runCli(['--srv-port', '0', '--auth-token-file', '/nonexistent/tokens']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('cannot read token file /nonexistent/tokens');
  });
});

describe('per-client rate limit', () => {
  it('admits the burst, answers 429 with Retry-After beyond it, admits again after waiting, and never limits probes', async () => {
    const running = await startTestServer({ rateLimit: 5, rateLimitBurst: 5 });
    try {
      const statuses: number[] = [];
      let retryAfter: string | undefined;
      for (let index = 0; index < 20; index++) {
        const response = await fetchText(`${running.url}/key/16`);
        statuses.push(response.status);
        if (response.status === 429) retryAfter = response.headers['retry-after'] as string;
      }
      const probes = await Promise.all(Array.from({ length: 20 }, async () => (await fetchText(`${running.url}/health`)).status));
      const admitted = statuses.filter((status) => status === 200).length;
      console.log(`rate limit 5/s burst 5: 20 quick requests → ${admitted} × 200, ${statuses.length - admitted} × 429 (Retry-After ${retryAfter} s)`);
      // 5 from the burst, plus at most one or two refilled while the 20 requests ran.
      expect(admitted).toBeGreaterThanOrEqual(5);
      expect(admitted).toBeLessThanOrEqual(7);
      expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
      expect(statuses.filter((status) => status !== 200 && status !== 429)).toEqual([]);
      expect(retryAfter).toBe('1');
      expect(probes).toEqual(new Array(20).fill(200));
      await new Promise((resolve) => setTimeout(resolve, Number(retryAfter) * 1000));
      expect((await fetchText(`${running.url}/key/16`)).status).toBe(200);
    } finally {
      await running.stop();
    }
  });
});
