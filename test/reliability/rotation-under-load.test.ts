// Certificate rotation under steady traffic on new connections: no failed handshake, the new certificate within
// seconds (found by the server's own file watch, nothing called by hand), and a broken replacement changes nothing
// but an error metric.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { metricNames as names } from '../../server/metric-catalogue';
import { fetchText, parsePrometheusText, sampleValue } from '../server/helpers/http';
import { startTestServer } from '../server/helpers/server';
import { createTestCertificate, installCertificate, makeTempDirectory, replaceFile } from '../server/helpers/tls';

interface Handshake {
  readonly at: number;
  readonly serial?: string;
  readonly error?: string;
}

/** Waits, in bounded 50 ms steps, until `condition` holds; returns the milliseconds it took. */
async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const startedAt = Date.now();
  while (!(await condition())) {
    if (Date.now() - startedAt > timeoutMs) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return Date.now() - startedAt;
}

describe('certificate rotation under steady traffic', () => {
  it('swaps to the new certificate within seconds with zero failed handshakes; a broken pair keeps the old one and counts a failure', async () => {
    const { directory, remove } = makeTempDirectory();
    const live = { certFile: join(directory, 'live.crt'), keyFile: join(directory, 'live.key') };
    const first = createTestCertificate(directory, { name: 'first' });
    const second = createTestCertificate(directory, { name: 'second' });
    const third = createTestCertificate(directory, { name: 'third' });
    installCertificate(first, live);
    // A 2 s poll backs up the file watch, as the 30 s default does in production.
    const running = await startTestServer({ tls: live }, { certificatePollInterval: 2 });
    const url = `${running.url.replace('localhost', '127.0.0.1')}/key/16`;
    const trusted = `${first.certPem}\n${second.certPem}\n${third.certPem}`;
    const handshakes: Handshake[] = [];
    let stopped = false;
    // Steady traffic, each request on a new connection (a new handshake), from 4 bounded loops.
    const clients = Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let count = 0; count < 5000 && !stopped; count++) {
          try {
            const response = await fetchText(url, { ca: trusted, timeoutMs: 5000 });
            handshakes.push({ at: Date.now(), serial: response.status === 200 ? response.peerCertificateSerial : `status ${response.status}` });
          } catch (error) {
            handshakes.push({ at: Date.now(), error: (error as NodeJS.ErrnoException).code ?? (error as Error).message });
          }
        }
      }),
    );
    const metric = async (result: string) =>
      sampleValue(parsePrometheusText((await fetchText(`${running.url}/metrics`, { ca: trusted })).body), names.tlsCertificateReloadsTotal, { result });
    try {
      await waitUntil(() => handshakes.length >= 50, 10_000, '50 handshakes');

      const rotatedAt = Date.now();
      installCertificate(second, live);
      const swapMs = await waitUntil(() => handshakes.some((handshake) => handshake.serial === second.serialNumber), 10_000, 'the new certificate');
      await waitUntil(() => handshakes.filter((handshake) => handshake.at > rotatedAt + swapMs).length >= 50, 10_000, '50 more handshakes');
      const oldAfterSwap = handshakes.filter((handshake) => handshake.at > rotatedAt + swapMs + 100 && handshake.serial === first.serialNumber);

      // Broken: the third certificate with the second's key. The server must keep serving the second.
      const brokenAt = Date.now();
      replaceFile(live.certFile, readFileSync(third.certFile));
      const failureMs = await waitUntil(async () => (await metric('failure')) >= 1, 10_000, 'a counted reload failure');
      const countAtFailure = handshakes.length;
      await waitUntil(() => handshakes.length >= countAtFailure + 50, 10_000, '50 handshakes after the failure');
      stopped = true;
      await clients;

      const errors = handshakes.filter((handshake) => handshake.error !== undefined || !handshake.serial?.match(/^[0-9A-F]+$/));
      const afterBroken = handshakes.filter((handshake) => handshake.at > brokenAt);
      console.log(
        `rotation: ${handshakes.length} new connections, ${errors.length} failed; new certificate on new connections ${swapMs} ms after the swap; `
          + `broken pair counted as a failure after ${failureMs} ms, ${afterBroken.filter((h) => h.serial === second.serialNumber).length}/${afterBroken.length} later connections still got the previous certificate`,
      );
      expect(errors).toEqual([]);
      expect(swapMs).toBeLessThan(3000);
      expect(oldAfterSwap).toEqual([]);
      expect(afterBroken.length).toBeGreaterThanOrEqual(50);
      expect(afterBroken.every((handshake) => handshake.serial === second.serialNumber)).toBe(true);
      // Every check that finds the broken pair counts (file events here; the poll in production), so at least one.
      expect(await metric('failure')).toBeGreaterThanOrEqual(1);
      expect(await metric('success')).toBe(1);
      expect(running.server.certificate?.serialNumber).toBe(second.serialNumber);
    } finally {
      stopped = true;
      await clients;
      await running.stop();
      remove();
    }
  }, 60_000);
});
