// Counters and histograms with pre-bound label children that cost one array write per request, exposed through a
// prom-client Registry. prom-client's own children re-hash their labels and allocate on every inc/observe, which
// showed up as several percent of CPU per key request in a profile; scrapes are rare, requests are not.
//
// Two things used here are prom-client internals, not its public API: the Registry formats a metric's
// `getForPromString()` when it has one, and caches the formatting of a value's `sharedLabels` per object. So the
// dependency is pinned to the exact release they were verified against (package.json), and
// test/server/metric-primitives.test.ts fails, naming which, when an upgrade stops doing either.
import type { Metric, Registry } from 'prom-client';

/** A counter series bound to fixed label values. */
export interface CounterChild {
  inc(): void;
}

/** A histogram series bound to fixed label values. */
export interface HistogramChild {
  observe(value: number): void;
}

/**
 * The shape prom-client's Registry reads from a metric: `getForPromString()` is what `registry.metrics()` formats,
 * `get()` what JSON and cluster aggregation read. `sharedLabels` are formatted once per object and cached by
 * prom-client (a WeakMap keyed by the object), which is why each child keeps one labels object for its lifetime.
 */
interface MetricValue {
  readonly metricName?: string;
  readonly labels: Record<string, string | number>;
  readonly sharedLabels?: Record<string, string>;
  readonly value: number;
}

interface MetricSnapshot {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  readonly values: MetricValue[];
  readonly aggregator: 'sum';
}

/** Name, help and label names, as in prom-client. */
export interface PrimitiveOptions {
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly string[];
}

/** Empty own labels beside shared ones; never mutated (prom-client copies before it merges). */
const NO_LABELS: Record<string, string> = Object.freeze({}) as Record<string, string>;

abstract class LabelledMetric<Child> {
  readonly name: string;
  readonly help: string;
  readonly aggregator = 'sum' as const;
  protected readonly labelNames: readonly string[];
  protected readonly children = new Map<string, { labels: Record<string, string>; child: Child }>();

  protected constructor(options: PrimitiveOptions, registry: Registry) {
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames ?? [];
    // The registry only calls get(), reset() and reads name/help/type/aggregator, which this class provides.
    registry.registerMetric(this as unknown as Metric);
  }

  /** The child for these label values (in labelNames order), created on first use and kept. */
  labels(...values: string[]): Child {
    if (values.length !== this.labelNames.length) {
      throw new Error(`${this.name}: expected ${this.labelNames.length} label values, got ${values.length}`);
    }
    const key = values.join('\u0000');
    let entry = this.children.get(key);
    if (entry === undefined) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((labelName, index) => (labels[labelName] = values[index]));
      entry = { labels, child: this.createChild() };
      this.children.set(key, entry);
    }
    return entry.child;
  }

  protected abstract createChild(): Child;
}

class CounterValue implements CounterChild {
  value = 0;
  inc(): void {
    this.value++;
  }
}

/** A counter whose series are bound once with `labels(...)`; `inc()` on a child is one addition. */
export class BoundCounter extends LabelledMetric<CounterValue> {
  readonly type = 'counter' as const;

  constructor(options: PrimitiveOptions, registry: Registry) {
    super(options, registry);
  }

  protected createChild(): CounterValue {
    return new CounterValue();
  }

  get(): MetricSnapshot {
    const values = [...this.children.values()].map(({ labels, child }) => ({ labels, value: child.value }));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** As {@link get}, with the labels passed as shared labels, so a scrape formats them once per series, not per scrape. */
  getForPromString(): MetricSnapshot {
    const values = [...this.children.values()].map(({ labels, child }) => ({ labels: NO_LABELS, sharedLabels: labels, value: child.value }));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    for (const { child } of this.children.values()) {
      child.value = 0;
    }
  }
}

class HistogramValue implements HistogramChild {
  /** Observations per bucket, not cumulative; the last slot counts values above every bound (+Inf only). */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: Float64Array) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let index = 0;
    while (index < bounds.length && value > bounds[index]) {
      index++;
    }
    this.counts[index]++;
    this.sum += value;
    this.count++;
  }
}

/** A histogram with fixed buckets whose series are bound once; `observe()` on a child is a short scan and three additions. */
export class BoundHistogram extends LabelledMetric<HistogramValue> {
  readonly type = 'histogram' as const;
  private readonly bounds: Float64Array;
  /** One `{ le }` object per bound and +Inf, made once: a scrape of many series would otherwise make one per line. */
  private readonly bucketLabels: ReadonlyArray<Record<string, string | number>>;

  constructor(options: PrimitiveOptions & { readonly buckets: readonly number[] }, registry: Registry) {
    super(options, registry);
    const sorted = [...options.buckets].sort((a, b) => a - b);
    if (sorted.length === 0 || sorted.some((bound, index) => !Number.isFinite(bound) || bound === sorted[index - 1])) {
      throw new Error(`${options.name}: buckets must be distinct finite numbers`);
    }
    this.bounds = Float64Array.from(sorted);
    this.bucketLabels = [...sorted, '+Inf'].map((le) => Object.freeze({ le }));
  }

  protected createChild(): HistogramValue {
    return new HistogramValue(this.bounds);
  }

  get(): MetricSnapshot {
    const values: MetricValue[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const { labels, child } of this.children.values()) {
      let cumulative = 0;
      this.bounds.forEach((bound, index) => {
        cumulative += child.counts[index];
        values.push({ metricName: bucketName, labels: { le: bound, ...labels }, value: cumulative });
      });
      values.push({ metricName: bucketName, labels: { le: '+Inf', ...labels }, value: child.count });
      values.push({ metricName: `${this.name}_sum`, labels, value: child.sum });
      values.push({ metricName: `${this.name}_count`, labels, value: child.count });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /**
   * The text-format view: the same lines as {@link get} in the same order, with the series labels shared (formatted
   * once per series by prom-client) and each `le` from a prebuilt object. /metrics with every series populated
   * rendered in about 4.5 ms with {@link get}; see bench/RESULTS.md for the figure with this.
   */
  getForPromString(): MetricSnapshot {
    const values: MetricValue[] = [];
    const bucketName = `${this.name}_bucket`;
    const sumName = `${this.name}_sum`;
    const countName = `${this.name}_count`;
    const lastBucket = this.bounds.length;
    for (const { labels, child } of this.children.values()) {
      let cumulative = 0;
      for (let index = 0; index < lastBucket; index++) {
        cumulative += child.counts[index];
        values.push({ metricName: bucketName, labels: this.bucketLabels[index], sharedLabels: labels, value: cumulative });
      }
      values.push({ metricName: bucketName, labels: this.bucketLabels[lastBucket], sharedLabels: labels, value: child.count });
      values.push({ metricName: sumName, labels: NO_LABELS, sharedLabels: labels, value: child.sum });
      values.push({ metricName: countName, labels: NO_LABELS, sharedLabels: labels, value: child.count });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    for (const { child } of this.children.values()) {
      child.counts.fill(0);
      child.sum = 0;
      child.count = 0;
    }
  }
}
