// Alerts split by whether the Prometheus that evaluates them scrapes every source they read.
import { partitionBySources } from '../../../../constructs/monitoring/rules/metric-sources';

describe('partitionBySources', () => {
  const alerts = [{ alert: 'A' }, { alert: 'B' }, { alert: 'C' }];
  const sources = { A: ['keyServer'], B: ['kubeStateMetrics'], C: [] } as const;

  test('keeps the alerts whose every source is scraped and names what the others lack, in order', () => {
    expect(partitionBySources(alerts, (alert) => sources[alert.alert as 'A' | 'B' | 'C'], ['keyServer'])).toEqual({
      kept: [{ alert: 'A' }, { alert: 'C' }],
      omitted: [{ alert: 'B', missingSources: ['kubeStateMetrics'] }],
    });
  });

  test('keeps everything when every source is scraped', () => {
    expect(partitionBySources(alerts, (alert) => sources[alert.alert as 'A' | 'B' | 'C'], ['keyServer', 'kubeStateMetrics']).omitted).toEqual([]);
  });
});
