// BoundCounter and BoundHistogram must expose exactly what prom-client's Counter and Histogram would.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Counter, Histogram, Registry } from 'prom-client';
import { BoundCounter, BoundHistogram } from '../../server/metric-primitives';

describe('BoundHistogram', () => {
  it('exposes the same text as a prom-client Histogram given the same observations', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const buckets = [0.1, 0.5, 1, 2.5];
    const bound = new BoundHistogram({ name: 'sample_seconds', help: 'Sample.', labelNames: ['code', 'handler'], buckets }, ours);
    const reference = new Histogram({ name: 'sample_seconds', help: 'Sample.', labelNames: ['code', 'handler'], buckets, registers: [theirs] });
    const observations: Array<[string, string, number]> = [
      ['200', '/a', 0.05], ['200', '/a', 0.1], ['200', '/a', 0.7], ['500', '/b', 3], ['200', '/a', 2.5], ['500', '/b', 0.3],
    ];
    for (const [code, handler, value] of observations) {
      bound.labels(code, handler).observe(value);
      reference.labels(code, handler).observe(value);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it('exposes an unlabelled histogram like prom-client', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const child = new BoundHistogram({ name: 'lengths', help: 'Lengths.', buckets: [51.2, 102.4] }, ours).labels();
    const reference = new Histogram({ name: 'lengths', help: 'Lengths.', buckets: [51.2, 102.4], registers: [theirs] });
    for (const value of [1, 51.2, 60, 1000]) {
      child.observe(value);
      reference.observe(value);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it('resets every series to zero', async () => {
    const registry = new Registry();
    const histogram = new BoundHistogram({ name: 'h', help: 'H.', buckets: [1] }, registry);
    histogram.labels().observe(0.5);
    registry.resetMetrics();
    expect(await registry.metrics()).toContain('h_count 0');
  });

  it('rejects duplicate buckets naming the metric', () => {
    expect(() => new BoundHistogram({ name: 'h', help: 'H.', buckets: [1, 1] }, new Registry())).toThrow('h: buckets must be distinct');
  });
});

describe('BoundCounter', () => {
  it('exposes the same text as a prom-client Counter given the same increments', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const bound = new BoundCounter({ name: 'requests_total', help: 'Requests.', labelNames: ['code'] }, ours);
    const reference = new Counter({ name: 'requests_total', help: 'Requests.', labelNames: ['code'], registers: [theirs] });
    for (const code of ['200', '200', '404', '200']) {
      bound.labels(code).inc();
      reference.labels(code).inc();
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it('exports a bound series at zero before any increment', async () => {
    const registry = new Registry();
    new BoundCounter({ name: 'reloads_total', help: 'Reloads.', labelNames: ['result'] }, registry).labels('failure');
    expect(await registry.metrics()).toContain('reloads_total{result="failure"} 0');
  });

  it('returns the same child for the same label values', () => {
    const counter = new BoundCounter({ name: 'c', help: 'C.', labelNames: ['a'] }, new Registry());
    expect(counter.labels('x')).toBe(counter.labels('x'));
  });

  it('rejects the wrong number of label values naming the metric', () => {
    const counter = new BoundCounter({ name: 'c', help: 'C.', labelNames: ['a', 'b'] }, new Registry());
    expect(() => counter.labels('x')).toThrow('c: expected 2 label values, got 1');
  });

  it('refuses a second metric with the same name in one registry', () => {
    const registry = new Registry();
    new BoundCounter({ name: 'c', help: 'C.' }, registry);
    expect(() => new BoundCounter({ name: 'c', help: 'C.' }, registry)).toThrow('already been registered');
  });
});

/**
 * The prom-client internals the fast /metrics path relies on (see metric-primitives.ts). An upgrade that changes them
 * would still render correct text (through `get()`, which the tests above compare), only slower, and silently: these
 * checks make it fail here instead, naming what changed, until the pin in package.json moves with a fresh check.
 */
describe('the prom-client internals BoundCounter and BoundHistogram rely on', () => {
  const root = path.resolve(__dirname, '..', '..');
  const pinned = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies['prom-client'];

  it('are those of the one release package.json pins exactly, which is the release installed', () => {
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    expect((JSON.parse(fs.readFileSync(require.resolve('prom-client/package.json'), 'utf8')) as { version: string }).version).toBe(pinned);
  });

  it('include the Registry formatting a metric through getForPromString() when it has one', async () => {
    const registry = new Registry();
    const counter = new BoundCounter({ name: 'calls_total', help: 'Calls.', labelNames: ['a'] }, registry);
    counter.labels('x').inc();
    const fast = jest.spyOn(counter, 'getForPromString');
    const slow = jest.spyOn(counter, 'get');
    await registry.metrics();
    if (fast.mock.calls.length === 0) throw new Error(`prom-client ${pinned}'s Registry no longer calls getForPromString(): the /metrics fast path is gone; see metric-primitives.ts`);
    expect(slow).not.toHaveBeenCalled();
  });

  it('include the Registry formatting sharedLabels beside each value\'s own labels', async () => {
    const registry = new Registry();
    const histogram = new BoundHistogram({ name: 'h_seconds', help: 'H.', labelNames: ['code'], buckets: [1] }, registry);
    histogram.labels('200').observe(0.5);
    const values = histogram.getForPromString().values;
    expect(values.every((value) => Object.keys(value.labels).every((label) => label === 'le') && value.sharedLabels?.code === '200')).toBe(true);
    const text = await registry.metrics();
    if (!text.includes('h_seconds_bucket{le="1",code="200"} 1')) {
      throw new Error(`prom-client ${pinned}'s Registry no longer writes sharedLabels after a value's labels:\n${text}`);
    }
  });
});
