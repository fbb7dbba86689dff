// Randomness: no key twice, and the bytes pass byte-frequency, monobit and runs sanity checks.
import * as http from 'node:http';
import { createRandomPool } from '../../server/keys';
import { fetchText, mapConcurrently } from '../server/helpers/http';
import { startTestServer } from '../server/helpers/server';
import { byteChiSquare, monobitZ, runsZ, Z_BOUND } from './helpers/statistics';

/** Checks one sample and prints its figures. */
function expectRandomLooking(label: string, bytes: Uint8Array): void {
  const chi = byteChiSquare(bytes);
  const monobit = monobitZ(bytes);
  const runs = runsZ(bytes);
  console.log(
    `${label}: ${bytes.length} bytes; chi-square ${chi.statistic.toFixed(1)} (bounds ${chi.low.toFixed(1)}..${chi.high.toFixed(1)}), `
      + `monobit z ${monobit.toFixed(2)}, runs z ${runs.toFixed(2)} (bound ±${Z_BOUND})`,
  );
  expect(chi.statistic).toBeGreaterThan(chi.low);
  expect(chi.statistic).toBeLessThan(chi.high);
  expect(Math.abs(monobit)).toBeLessThan(Z_BOUND);
  expect(Math.abs(runs)).toBeLessThan(Z_BOUND);
}

describe('randomness', () => {
  it('draws 1,000,000 16-byte keys in-process through the server\'s own key pool (as /key/16 does) with no duplicate', () => {
    // Over the wire a million requests would take minutes on two cores; the pool is the code that produces every
    // key the server sends (routes call takeEncoded), sized as the server sizes it. The test below covers the wire.
    const pool = createRandomPool(65536);
    const count = 1_000_000;
    const seen = new Set<string>();
    const bytes = Buffer.allocUnsafe(count * 16);
    for (let index = 0; index < count; index++) {
      const key = pool.takeEncoded(16, 'hex');
      seen.add(key);
      bytes.write(key, index * 16, 'hex');
    }
    console.log(`in-process: ${count} keys checked, ${count - seen.size} duplicates`);
    expect(seen.size).toBe(count);
    expectRandomLooking('in-process 16-byte keys', bytes);
  });

  it('serves 10,000 16-byte keys over keep-alive HTTP with no duplicate and random-looking bytes', async () => {
    const running = await startTestServer();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 50 });
    try {
      const count = 10_000;
      const keys = await mapConcurrently(count, 50, async () => {
        const response = await fetchText(`${running.url}/key/16`, { agent });
        expect(response.status).toBe(200);
        return response.body;
      });
      const unique = new Set(keys);
      console.log(`over the wire: ${count} keys checked, ${count - unique.size} duplicates`);
      expect(unique.size).toBe(count);
      expect(keys.every((key) => /^[0-9a-f]{32}$/.test(key))).toBe(true);
      expectRandomLooking('over-the-wire 16-byte keys', Buffer.from(keys.join(''), 'hex'));
    } finally {
      agent.destroy();
      await running.stop();
    }
  }, 60_000);

  it('catches mangled bytes: the checks fail on a biased or repeating sample', () => {
    const biased = Buffer.alloc(1 << 16).map((_, index) => (index * 7) & 0xfe);
    const repeating = Buffer.alloc(1 << 16, Buffer.from([0x5a, 0xa5]));
    const chi = byteChiSquare(biased);
    expect(chi.statistic > chi.high || Math.abs(monobitZ(biased)) > Z_BOUND).toBe(true);
    expect(Math.abs(runsZ(repeating))).toBeGreaterThan(Z_BOUND);
  });
});
