// The "Key Server Key Generation" dashboard: keys produced, how fast, which lengths, and the certificate's remaining life.
import { metricNames as metric } from '../../../server/metric-catalogue';
import { MonitoredKeyServer, scrapeSelector } from '../monitored-key-server';
import { DashboardSpec } from './grafana-model';
import { quantileQuery, rateInterval } from './http-overview';

export function keyGenerationDashboard(target: MonitoredKeyServer): DashboardSpec {
  const all = scrapeSelector(target);
  return {
    uid: 'key-server-keys',
    title: 'Key Server Key Generation',
    description: 'Keys produced by length, generation latency, requested lengths and the served certificate.',
    tags: ['key-server', 'keys'],
    panels: [
      {
        type: 'stat', title: 'Certificate days left', unit: 'd', width: 6, height: 6,
        description: 'Days until the certificate each pod serves expires; renewal should keep this above 14.',
        queries: [{ expr: `min by (pod) ((${metric.tlsCertificateExpiryTimestampSeconds}${all} - time()) / 86400)`, legend: '{{pod}}' }],
        thresholds: [{ color: 'red', value: null }, { color: 'orange', value: 7 }, { color: 'green', value: 14 }],
      },
      {
        type: 'timeseries', title: 'Certificate reloads', unit: 'short', width: 18, height: 6, min: 0,
        description: 'Certificate reloads by result; any failure means a pod still serves the previous certificate.',
        queries: [{ expr: `sum by (result) (increase(${metric.tlsCertificateReloadsTotal}${all}${rateInterval}))`, legend: '{{result}}' }],
      },
      {
        type: 'timeseries', title: 'Keys per second by length', unit: 'ops', width: 12, min: 0,
        description: 'Keys produced, by requested length rounded up to a power of two.',
        queries: [{ expr: `sum by (length) (rate(${metric.keyGenerationsTotal}${all}${rateInterval}))`, legend: '{{length}} bytes' }],
      },
      {
        type: 'timeseries', title: 'Key generation latency', unit: 's', width: 12, min: 0,
        description: `Time to produce the random bytes of one key, from the ${metric.keyGenerationDurationSeconds} histogram.`,
        queries: [0.5, 0.95, 0.99].map((quantile) => quantileQuery(metric.keyGenerationDurationSeconds, all, quantile)),
      },
      {
        type: 'heatmap', title: 'Requested key lengths', unit: 'bytes', cellUnit: 'reqps', width: 16,
        description: `Requests per second in each bucket of the ${metric.keyLengthDistribution} histogram.`,
        queries: [{ expr: `sum by (le) (rate(${metric.keyLengthDistribution}_bucket${all}${rateInterval}))`, legend: '{{le}}', format: 'heatmap' }],
      },
      {
        type: 'timeseries', title: 'Mean requested key length', unit: 'bytes', width: 8, min: 0,
        description: 'Average requested length over the interval.',
        queries: [{
          expr: `sum(rate(${metric.keyLengthDistribution}_sum${all}${rateInterval})) / sum(rate(${metric.keyLengthDistribution}_count${all}${rateInterval}))`,
          legend: 'mean',
        }],
      },
    ],
  };
}
