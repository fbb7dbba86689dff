// HTTPS with throwaway certificates: serving, the expiry gauge, and hot reload under a live keep-alive connection.
import { readFileSync } from 'node:fs';
import * as https from 'node:https';
import { metricNames as names } from '../../server/metric-catalogue';
import { createKeyServer } from '../../server/server';
import { CertificateError, readCertificatePair, watchCertificatePair } from '../../server/tls';
import { fetchText, parsePrometheusText, sampleValue } from './helpers/http';
import { startTestServer, testConfig, type RunningTestServer } from './helpers/server';
import { createTestCertificate, installCertificate, makeTempDirectory, replaceFile, type TestCertificate } from './helpers/tls';

async function reloadCount(running: RunningTestServer, result: 'success' | 'failure'): Promise<number> {
  const samples = parsePrometheusText((await fetchText(`${running.url}/metrics`)).body);
  return sampleValue(samples, names.tlsCertificateReloadsTotal, { result });
}

/** Polls `condition` every 50 ms for at most `timeoutMs`: for effects of file watches, which have no event to await. */
async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error(`condition not met within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('HTTPS', () => {
  const temp = makeTempDirectory();
  let certificate: TestCertificate;
  let running: RunningTestServer;

  beforeAll(async () => {
    certificate = createTestCertificate(temp.directory, { commonName: 'localhost', days: 2 });
    running = await startTestServer({ metricsPort: 0, tls: { certFile: certificate.certFile, keyFile: certificate.keyFile } });
  });

  afterAll(async () => {
    await running.stop();
    temp.remove();
  });

  it('serves keys over HTTPS to a client that trusts the certificate', async () => {
    expect(running.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const response = await fetchText(`${running.url}/key/32`, { ca: certificate.certPem });
    expect(response.status).toBe(200);
    expect(response.body).toMatch(/^[0-9a-f]{64}$/);
    expect(response.peerCertificateSerial).toBe(certificate.serialNumber);
  });

  it('refuses plain HTTP on the HTTPS port', async () => {
    const plainUrl = running.url.replace('https:', 'http:');
    const outcome = await fetchText(`${plainUrl}/key/16`).then(
      (response) => `status ${response.status}`,
      () => 'refused',
    );
    expect(outcome).not.toBe('status 200');
  });

  it('serves the metrics port with the same certificate', async () => {
    const response = await fetchText(`${running.addresses.metricsUrl as string}/metrics`, { ca: certificate.certPem });
    expect(response.status).toBe(200);
    expect(response.peerCertificateSerial).toBe(certificate.serialNumber);
  });

  it('exports the certificate expiry in Unix seconds', async () => {
    const samples = parsePrometheusText((await fetchText(`${running.addresses.metricsUrl as string}/metrics`)).body);
    expect(sampleValue(samples, names.tlsCertificateExpiryTimestampSeconds)).toBe(certificate.notAfter.getTime() / 1000);
  });
});

describe('certificate hot reload', () => {
  const temp = makeTempDirectory();
  let first: TestCertificate;
  let second: TestCertificate;
  let third: TestCertificate;
  let live: { certFile: string; keyFile: string };
  let running: RunningTestServer;
  let agent: https.Agent;

  beforeAll(async () => {
    first = createTestCertificate(temp.directory, { name: 'first', commonName: 'first.test' });
    second = createTestCertificate(temp.directory, { name: 'second', commonName: 'second.test', days: 3 });
    third = createTestCertificate(temp.directory, { name: 'third', commonName: 'third.test' });
    live = { certFile: `${temp.directory}/live.crt`, keyFile: `${temp.directory}/live.key` };
    installCertificate(first, live);
    running = await startTestServer({ tls: live }, { certificatePollInterval: 3600 });
    agent = new https.Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
  });

  afterAll(async () => {
    agent.destroy();
    await running.stop();
    temp.remove();
  });

  it('swaps in a new pair without dropping a live keep-alive connection', async () => {
    const before = await fetchText(`${running.url}/key/16`, { agent });
    expect(before.peerCertificateSerial).toBe(first.serialNumber);

    installCertificate(second, live);
    expect(await running.server.reloadCertificate()).toBe('reloaded');

    const sameConnection = await fetchText(`${running.url}/key/16`, { agent });
    expect(sameConnection.status).toBe(200);
    expect(sameConnection.localPort).toBe(before.localPort);
    expect(sameConnection.peerCertificateSerial).toBe(first.serialNumber);

    const newConnection = await fetchText(`${running.url}/key/16`);
    expect(newConnection.peerCertificateSerial).toBe(second.serialNumber);
    expect(await reloadCount(running, 'success')).toBe(1);
    const samples = parsePrometheusText((await fetchText(`${running.url}/metrics`)).body);
    expect(sampleValue(samples, names.tlsCertificateExpiryTimestampSeconds)).toBe(second.notAfter.getTime() / 1000);
  });

  it('keeps the old pair and counts every check that finds the key not fitting, logging the broken pair once', async () => {
    const served = running.server.certificate?.serialNumber;
    const failuresBefore = await reloadCount(running, 'failure');
    replaceFile(live.keyFile, readFileSync(third.keyFile));
    expect(await running.server.reloadCertificate()).toBe('failed');
    expect((await fetchText(`${running.url}/key/16`)).peerCertificateSerial).toBe(served);
    const afterFirst = await reloadCount(running, 'failure');
    expect(afterFirst).toBeGreaterThan(failuresBefore);

    // Still broken: every check counts again (an alert on the increase keeps firing), the log does not repeat.
    expect(await running.server.reloadCertificate()).toBe('failed');
    expect(await running.server.reloadCertificate()).toBe('failed');
    expect(await reloadCount(running, 'failure')).toBeGreaterThanOrEqual(afterFirst + 2);
    expect(running.logs.filter((record) => record.level === 'error' && record.msg.startsWith('TLS certificate reload failed'))).toHaveLength(1);
  });

  it('keeps the old pair when the certificate file is not PEM', async () => {
    const served = running.server.certificate?.serialNumber;
    const failuresBefore = await reloadCount(running, 'failure');
    replaceFile(live.certFile, 'not a certificate');
    expect(await running.server.reloadCertificate()).toBe('failed');
    expect((await fetchText(`${running.url}/key/16`)).peerCertificateSerial).toBe(served);
    expect(await reloadCount(running, 'failure')).toBeGreaterThan(failuresBefore);
    // A different broken pair is logged again.
    expect(running.logs.filter((record) => record.level === 'error' && record.msg.startsWith('TLS certificate reload failed'))).toHaveLength(2);
  });

  it('stops counting failures once a good pair is in place', async () => {
    installCertificate(first, live);
    // 'reloaded', or 'unchanged' when the file watch got there first: checks run one at a time, so either way the
    // good pair is in place once this one ends.
    expect(await running.server.reloadCertificate()).not.toBe('failed');
    expect(running.server.certificate?.serialNumber).toBe(first.serialNumber);
    const failures = await reloadCount(running, 'failure');
    expect(await running.server.reloadCertificate()).toBe('unchanged');
    expect(await running.server.reloadCertificate()).toBe('unchanged');
    expect(await reloadCount(running, 'failure')).toBe(failures);
    expect((await fetchText(`${running.url}/key/16`)).peerCertificateSerial).toBe(first.serialNumber);
  });

  it('notices replaced files by itself, without a restart or an explicit reload', async () => {
    installCertificate(third, live);
    await eventually(() => running.server.certificate?.serialNumber === third.serialNumber);
    expect((await fetchText(`${running.url}/key/16`)).peerCertificateSerial).toBe(third.serialNumber);
  });
});

describe('certificate watcher retry', () => {
  const temp = makeTempDirectory();

  afterAll(() => temp.remove());

  it('retries a check that read a mismatched pair mid-rotation, and reports nothing when the retry reads the new pair', async () => {
    const old = createTestCertificate(temp.directory, { name: 'old' });
    const next = createTestCertificate(temp.directory, { name: 'next' });
    const live = { certFile: `${temp.directory}/live.crt`, keyFile: `${temp.directory}/live.key` };
    installCertificate(old, live);
    const failures: Error[] = [];
    const watcher = watchCertificatePair(live, readCertificatePair(live), {
      onReload: () => undefined,
      onFailure: (error) => void failures.push(error),
      pollInterval: 3600,
      retryDelayMs: 2000,
    });
    try {
      // The new certificate is in, its key not yet: what a check landing between the two reads of a swap sees.
      replaceFile(live.certFile, readFileSync(next.certFile));
      const outcome = watcher.check();
      // The first read is done long before the retry, which is 2 s away; the rotation completes in between.
      await new Promise((resolve) => setTimeout(resolve, 300));
      replaceFile(live.keyFile, readFileSync(next.keyFile));
      expect(await outcome).toBe('reloaded');
      expect(failures).toEqual([]);
    } finally {
      watcher.close();
    }
  });
});

describe('startup with an unusable certificate', () => {
  const temp = makeTempDirectory();

  afterAll(() => temp.remove());

  it('throws a CertificateError naming a missing file', () => {
    const missing = `${temp.directory}/missing.crt`;
    const create = () => createKeyServer(testConfig({ tls: { certFile: missing, keyFile: missing } }));
    expect(create).toThrow(CertificateError);
    expect(create).toThrow(`cannot read TLS certificate ${missing}`);
  });

  it('throws a CertificateError when the key belongs to another certificate', () => {
    const one = createTestCertificate(temp.directory, { name: 'one' });
    const other = createTestCertificate(temp.directory, { name: 'other' });
    const create = () => createKeyServer(testConfig({ tls: { certFile: one.certFile, keyFile: other.keyFile } }));
    expect(create).toThrow(/does not fit certificate/);
  });
});
