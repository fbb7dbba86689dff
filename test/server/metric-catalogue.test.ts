// The metric catalogue: the one table of every metric's name, type, help, labels and buckets, which the server
// registers from and the README, the rules and the dashboards read.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectDefaultMetrics, exponentialBuckets, Registry } from 'prom-client';
import { tableIn } from '../../scripts/readme-tables';
import {
  KEY_GENERATION_BUCKETS, keyLengthBuckets, lengthBucket, lengthBucketIndex, metricCatalogue, metricNames, metricTable, type MetricDefinition,
} from '../../server/metric-catalogue';
import { createServerMetrics } from '../../server/metrics';
import { parsePrometheusText } from './helpers/http';

const definitions = Object.values(metricCatalogue as Record<string, MetricDefinition>);

/** `# HELP` and `# TYPE` of every family in a text exposition, and the label names its samples carry. */
function families(text: string): Map<string, { help?: string; type?: string; labels: Set<string> }> {
  const result = new Map<string, { help?: string; type?: string; labels: Set<string> }>();
  const family = (name: string) => result.get(name) ?? result.set(name, { labels: new Set() }).get(name)!;
  for (const line of text.split('\n')) {
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta !== null) family(meta[2])[meta[1] === 'HELP' ? 'help' : 'type'] = meta[3];
  }
  for (const sample of parsePrometheusText(text)) {
    const name = [...result.keys()].find((candidate) => sample.name === candidate || sample.name.replace(/_(bucket|sum|count)$/, '') === candidate);
    if (name !== undefined) for (const label of Object.keys(sample.labels)) family(name).labels.add(label);
  }
  return result;
}

async function exposition(options: Parameters<typeof createServerMetrics>[0]): Promise<string> {
  return createServerMetrics(options).registry.metrics();
}

describe('the metric catalogue', () => {
  it('keeps the published metric names, which dashboards, queries and alert routes outside this repository select by', () => {
    expect(definitions.map((definition) => definition.name)).toEqual([
      'http_requests_total', 'http_request_duration_seconds', 'http_requests_rejected_total', 'http_requests_unanswered_total',
      'http_requests_in_flight', 'http_connections_total', 'http_open_connections', 'http_connections_closed_total',
      'key_generations_total', 'key_generation_duration_seconds', 'key_length_distribution',
      'tls_certificate_expiry_timestamp_seconds', 'tls_certificate_reloads_total', 'auth_token_reloads_total', 'auth_tokens_loaded',
      'rate_limited_requests_total', 'process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_p99_seconds',
    ]);
    expect(metricNames.httpRequestsTotal).toBe('http_requests_total');
    expect(Object.keys(metricNames)).toEqual(Object.keys(metricCatalogue));
  });

  it('is what the server registers: each entry with its type, help and labels, and nothing of the server\'s own beside them', async () => {
    const exported = families(await exposition({ maxSize: 1024, tls: true, accessControl: true, rateLimit: true }));
    const defaults = new Registry();
    collectDefaultMetrics({ register: defaults });
    const defaultFamilies = families(await defaults.metrics());
    for (const definition of definitions) {
      const family = exported.get(definition.name);
      expect({ name: definition.name, type: family?.type }).toEqual({ name: definition.name, type: definition.type });
      if (definition.registeredBy === 'prom-client') continue;
      expect({ name: definition.name, help: family?.help }).toEqual({ name: definition.name, help: definition.help });
      expect({ name: definition.name, labels: [...family!.labels].filter((label) => label !== 'le').sort() })
        .toEqual({ name: definition.name, labels: [...definition.labels].sort() });
    }
    const ours = [...exported.keys()].filter((name) => !defaultFamilies.has(name));
    expect(ours.sort()).toEqual(definitions.filter((definition) => definition.registeredBy !== 'prom-client').map((definition) => definition.name).sort());
  });

  it('exports the metrics of TLS, access control and the rate limit only from servers that have them', async () => {
    const exported = families(await exposition({ maxSize: 1024, tls: false }));
    const optional = definitions.filter((definition) => (definition.exportedWhen ?? 'always') !== 'always').map((definition) => definition.name);
    expect(optional.sort()).toEqual(['auth_token_reloads_total', 'auth_tokens_loaded', 'rate_limited_requests_total', 'tls_certificate_expiry_timestamp_seconds']);
    expect(optional.filter((name) => exported.has(name))).toEqual([]);
  });

  it('gives histograms the buckets it states: request latency, key generation (prom-client\'s exponential ones), key lengths from max-size', async () => {
    expect(KEY_GENERATION_BUCKETS).toEqual(exponentialBuckets(0.000001, 4, 10));
    expect(metricCatalogue.httpRequestDurationSeconds.buckets).toHaveLength(14);
    expect(keyLengthBuckets(1024).slice(0, 3)).toEqual([51.2, 102.4, 153.6]);
    expect(keyLengthBuckets(1024)[14]).toBe(768);
    const text = await exposition({ maxSize: 1024, tls: true });
    expect(text).toContain(`${metricNames.keyLengthDistribution}_bucket{le="768"} 0`);
    expect(text).toContain(`${metricNames.keyGenerationDurationSeconds}_bucket{le="0.262144"} 0`);
  });

  it('is the README\'s metric table (`npm run docs:readme` writes it)', () => {
    expect(tableIn(readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8'), 'metric-table')).toBe(metricTable());
  });
});

describe('lengthBucket', () => {
  it.each([
    [1, 1], [2, 2], [3, 4], [4, 4], [5, 8], [32, 32], [33, 64], [1000, 1024], [1024, 1024], [65536, 65536],
  ])('rounds %d up to %d', (length, bucket) => {
    expect(lengthBucket(length)).toBe(bucket);
  });

  it('indexes the buckets from 0, as the hot path binds them', () => {
    expect([1, 2, 3, 4, 5, 1024].map(lengthBucketIndex)).toEqual([0, 1, 2, 2, 3, 10]);
  });

  it('maps every length from 1 to 1024 onto 11 label values', () => {
    const buckets = new Set(Array.from({ length: 1024 }, (_, index) => lengthBucket(index + 1)));
    expect(buckets.size).toBe(11);
  });
});
