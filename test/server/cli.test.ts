// The key-server bin: help, configuration errors (exit code 2, one stderr line), serving, SIGTERM, SIGHUP reloads and
// exit codes 128+signal.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exitCodeFor } from '../../server/cli';
import { fetchText } from './helpers/http';
import { runCli, spawnCli, waitForExit, waitForLogLine } from './helpers/cli';
import { createTestCertificate, makeTempDirectory } from './helpers/tls';

describe('key-server CLI', () => {
  const temp = makeTempDirectory();

  afterAll(() => temp.remove());

  it('prints help with every flag and exits 0', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: key-server/);
    expect(result.stdout).toContain('--shutdown-delay');
  });

  // Concurrent: each case is a Node start-up (about a second), and they share nothing.
  it.concurrent.each([
    [['--min-size', '2000'], {}, '--min-size (2000) must not be greater than --max-size (1024)'],
    [['--max-size', '100000'], {}, '--max-size must be an integer from 1 to 65536'],
    [[], { SRV_PORT: 'eighty' }, '--srv-port must be an integer from 0 to 65535, got "eighty"'],
    [['--tls-cert', '/nonexistent/tls.crt', '--tls-key', '/nonexistent/tls.key'], {}, 'cannot read TLS certificate /nonexistent/tls.crt'],
  ])('exits 2 with one stderr line for %j %j', async (args, env, message) => {
    const result = await runCli(args, env);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    const lines = result.stderr.split('\n').filter((line) => line !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`key-server: invalid configuration: ${message}`);
  });

  it('serves HTTPS, logs JSON without key material, and exits 0 on SIGTERM', async () => {
    const certificate = createTestCertificate(temp.directory);
    const child = spawnCli([
      '--host', '127.0.0.1', '--srv-port', '0', '--tls-cert', certificate.certFile, '--tls-key', certificate.keyFile,
      '--shutdown-delay', '0.2', '--access-log',
    ]);
    const exited = waitForExit(child);
    const listening = await waitForLogLine(child, 'listening');
    const url = String(listening.url);
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const key = (await fetchText(`${url}/key/32`, { ca: certificate.certPem })).body;
    expect(key).toMatch(/^[0-9a-f]{64}$/);

    child.kill('SIGTERM');
    const result = await exited;
    expect(result.code).toBe(0);
    const records = result.stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.map((record) => record.msg)).toEqual(
      expect.arrayContaining(['listening', 'request', 'signal received: shutting down', 'stopped']),
    );
    expect(result.stdout).not.toContain(key);
  });

  it('reloads the certificate and token files on SIGHUP instead of dying, and applies a changed token file', async () => {
    const certificate = createTestCertificate(temp.directory, { name: 'hup' });
    const tokenFile = join(temp.directory, 'hup-tokens');
    writeFileSync(tokenFile, 'first-token\n');
    const child = spawnCli([
      '--host', '127.0.0.1', '--srv-port', '0', '--tls-cert', certificate.certFile, '--tls-key', certificate.keyFile,
      '--auth-token-file', tokenFile, '--shutdown-delay', '0',
    ]);
    const exited = waitForExit(child);
    const url = String((await waitForLogLine(child, 'listening')).url);
    const bearer = (token: string) => ({ ca: certificate.certPem, headers: { Authorization: `Bearer ${token}` } });

    const unchanged = waitForLogLine(child, 'reload finished');
    child.kill('SIGHUP');
    expect(await unchanged).toMatchObject({ certificate: 'unchanged', tokens: 'unchanged' });
    expect((await fetchText(`${url}/key/16`, bearer('first-token'))).status).toBe(200);

    // Written in place (no rename), which a directory watch can miss: the signal is what applies it here.
    writeFileSync(tokenFile, 'second-token\n');
    const reloaded = waitForLogLine(child, 'reload finished');
    child.kill('SIGHUP');
    expect((await reloaded).tokens).toMatch(/reloaded|unchanged/);
    expect((await fetchText(`${url}/key/16`, bearer('second-token'))).status).toBe(200);
    expect((await fetchText(`${url}/key/16`, bearer('first-token'))).status).toBe(401);

    child.kill('SIGTERM');
    expect((await exited).code).toBe(0);
  });

  it('exits with 128 + the signal number when a second signal cuts the drain short', async () => {
    const child = spawnCli(['--host', '127.0.0.1', '--srv-port', '0', '--shutdown-delay', '30']);
    const exited = waitForExit(child);
    await waitForLogLine(child, 'listening');
    const shuttingDown = waitForLogLine(child, 'shutting down: /ready answers 503, still serving during the shutdown delay');
    child.kill('SIGTERM');
    await shuttingDown;
    child.kill('SIGTERM');
    const result = await exited;
    expect(result.code).toBe(143);
    expect(result.stdout).toContain('"exitCode":143');
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
    ['SIGQUIT', 131],
  ] as const)('maps %s to exit code %d', (signal, code) => {
    expect(exitCodeFor(signal)).toBe(code);
  });
});
