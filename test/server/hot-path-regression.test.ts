// Guards the mechanisms behind the benchmark's figures (not timed): pooled randomness is never handed out twice,
// label children are bound once and not per request, every request is still counted, and the faster /metrics text
// path says exactly what prom-client would.
import * as http from 'node:http';
import fc from 'fast-check';
import { Histogram, Registry } from 'prom-client';
import { createRandomPool } from '../../server/keys';
import { handlers, metricNames as names } from '../../server/metric-catalogue';
import { BoundCounter, BoundHistogram } from '../../server/metric-primitives';
import { fetchText, mapConcurrently, parsePrometheusText, sampleValue } from './helpers/http';
import { startTestServer, type RunningTestServer } from './helpers/server';

describe('pooled randomness', () => {
  // The fill marks every byte 0xff; the pool zeroes what it hands out. A slice that overlapped an earlier one, or
  // a refill that was skipped, would show up as 0x00 bytes in a later take.
  const markingFill = (buffer: Buffer): void => void buffer.fill(0xff);

  it('never hands out a byte twice for any pool size and any sequence of takes of either kind', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 512 }),
        fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom('bytes', 'hex', 'base64')), { maxLength: 200 }),
        (size, takes) => {
          const pool = createRandomPool(size, markingFill);
          for (const [share, kind] of takes) {
            const length = Math.round(share * size);
            const bytes = kind === 'bytes' ? pool.take(length) : Buffer.from(pool.takeEncoded(length, kind), kind);
            expect(bytes.length).toBe(length);
            expect(bytes.every((byte) => byte === 0xff)).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('wipes a slice from the pool buffer the moment it is handed out', () => {
    let poolBuffer: Buffer = Buffer.alloc(0);
    const pool = createRandomPool(64, (buffer) => {
      poolBuffer = buffer;
      buffer.fill(0xab);
    });
    expect(pool.takeEncoded(16, 'hex')).toBe('ab'.repeat(16));
    expect(poolBuffer.subarray(0, 16).every((byte) => byte === 0)).toBe(true);
    expect(poolBuffer.subarray(16).every((byte) => byte === 0xab)).toBe(true);
    pool.take(8);
    expect(poolBuffer.subarray(16, 24).every((byte) => byte === 0)).toBe(true);
  });

  it('refills the whole buffer before handing out more, never reusing old contents', () => {
    let fills = 0;
    const pool = createRandomPool(32, (buffer) => {
      fills++;
      buffer.fill(fills);
    });
    expect(pool.take(32).every((byte) => byte === 1)).toBe(true);
    expect(pool.take(1)[0]).toBe(2);
    expect(pool.take(31).every((byte) => byte === 2)).toBe(true);
    expect(pool.fills).toBe(2);
  });
});

describe('key server hot path', () => {
  let running: RunningTestServer;

  beforeEach(async () => {
    running = await startTestServer();
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await running.stop();
  });

  it('serves distinct keys across many pool refills under concurrent requests', async () => {
    // 1024-byte keys drain the server's 64 KiB pool every 64 requests: 400 requests refill it six times.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 20 });
    try {
      const keys = await mapConcurrently(400, 20, async () => (await fetchText(`${running.url}/key/1024`, { agent })).body);
      expect(keys.every((key) => /^[0-9a-f]{2048}$/.test(key))).toBe(true);
      expect(new Set(keys).size).toBe(400);
      // Any 8-byte window repeated between two keys would mean a reused slice.
      const windows = new Set<string>();
      for (const key of keys) {
        for (let offset = 0; offset < key.length; offset += 16) {
          windows.add(key.slice(offset, offset + 16));
        }
      }
      expect(windows.size).toBe(400 * 128);
    } finally {
      agent.destroy();
    }
  });

  it('binds label children once per series, not on every request', async () => {
    await fetchText(`${running.url}/key/32`);
    await fetchText(`${running.url}/key/0`);
    const counterLabels = jest.spyOn(BoundCounter.prototype, 'labels');
    const histogramLabels = jest.spyOn(BoundHistogram.prototype, 'labels');
    for (let index = 0; index < 20; index++) {
      await fetchText(`${running.url}/key/${index % 2 === 0 ? 32 : 0}`);
    }
    expect(counterLabels).not.toHaveBeenCalled();
    expect(histogramLabels).not.toHaveBeenCalled();
  });

  it('counts every request, good and bad, exactly once', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 10 });
    try {
      await mapConcurrently(300, 10, (index) => fetchText(`${running.url}/key/${index % 10 === 0 ? 'bad' : 32}`, { agent }));
    } finally {
      agent.destroy();
    }
    const samples = parsePrometheusText((await fetchText(`${running.url}/metrics`)).body);
    const key = handlers.key;
    expect(sampleValue(samples, names.httpRequestsTotal, { code: '200', handler: key, method: 'GET' })).toBe(270);
    expect(sampleValue(samples, names.httpRequestsTotal, { code: '400', handler: key, method: 'GET' })).toBe(30);
    expect(sampleValue(samples, `${names.httpRequestDurationSeconds}_count`, { code: '200', handler: key, method: 'GET' })).toBe(270);
    expect(sampleValue(samples, names.keyGenerationsTotal, { length: '32' })).toBe(270);
  });
});

describe('/metrics text from bound histograms', () => {
  it('stays identical to prom-client across scrapes as series are added and observed', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const options = { name: 'sample_seconds', help: 'Sample.', labelNames: ['code', 'handler'], buckets: [0.01, 0.1, 1] };
    const bound = new BoundHistogram(options, ours);
    const reference = new Histogram({ ...options, registers: [theirs] });
    // The second scrape after new observations proves the formatted labels prom-client caches never freeze values.
    for (const [code, handler, value] of [['200', '/a', 0.05], ['500', '/b"q', 2], ['200', '/a', 0.5]] as const) {
      bound.labels(code, handler).observe(value);
      reference.labels(code, handler).observe(value);
      expect(await ours.metrics()).toBe(await theirs.metrics());
    }
  });

  it('still gives full labels to JSON readers (cluster aggregation)', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const options = { name: 'sample_seconds', help: 'Sample.', labelNames: ['code'], buckets: [0.1, 1] };
    new BoundHistogram(options, ours).labels('200').observe(0.5);
    new Histogram({ ...options, registers: [theirs] }).labels('200').observe(0.5);
    const labelsOf = async (registry: Registry): Promise<unknown> =>
      (await registry.getMetricsAsJSON())[0].values.map((value) => ({ ...value.labels, name: (value as { metricName?: string }).metricName, value: value.value }));
    expect(await labelsOf(ours)).toEqual(await labelsOf(theirs));
  });
});
