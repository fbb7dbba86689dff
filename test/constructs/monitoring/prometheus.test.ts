// StandalonePrometheus used on its own: retention by time and size, checked against its volume.
import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { standalonePrometheusConfig, StandalonePrometheus, StandalonePrometheusProps } from '../../../constructs';
import { newChart, only, synthesize } from '../helpers/synth';

function props(scope: ReturnType<typeof newChart>, extra: Partial<StandalonePrometheusProps> = {}): StandalonePrometheusProps {
  return {
    namespace: 'mon', labels: {}, selectorLabels: { app: 'prometheus' },
    config: standalonePrometheusConfig({
      target: { namespace: 'keys', job: 'key-server', deployment: 'key-server', container: 'key-server' },
      metricsPortName: 'metrics', metricsPath: '/metrics', tlsServerName: 'key-server.keys.svc', alertmanagers: ['alertmanager.mon.svc:9093'],
    }),
    ruleGroups: [], serviceAccount: kplus.ServiceAccount.fromServiceAccountName(scope, 'sa', 'prometheus'), remoteWrite: [],
    queryClientLabels: { app: 'grafana' }, ...extra,
  };
}

describe('StandalonePrometheus', () => {
  it('keeps samples for the retention asked, up to the retention size or 80 % of the volume', () => {
    const args = (extra: Partial<StandalonePrometheusProps>) => only(synthesize((scope) => { new StandalonePrometheus(scope, 'prometheus', props(scope as never, extra)); }), 'StatefulSet')
      .spec.template.spec.containers[0].args;
    expect(args({ retention: Duration.days(3), storageSize: Size.gibibytes(10) })).toEqual(expect.arrayContaining(['--storage.tsdb.retention.time=3d', '--storage.tsdb.retention.size=8192MB']));
    expect(args({ retentionSize: Size.gibibytes(5) })).toContain('--storage.tsdb.retention.size=5120MB');
  });

  it.each<[string, Partial<StandalonePrometheusProps>, RegExp]>([
    ['a retention size above the volume', { storageSize: Size.gibibytes(1), retentionSize: Size.gibibytes(2) }, /^retentionSize must be between 1 MiB and storageSize \(1Gi\); got 2048 MiB$/],
    ['a retention shorter than one TSDB block', { retention: Duration.minutes(90) }, /^retention must be at least 2 hours/],
  ])('refuses %s, naming the prop', (_, extra, message) => {
    const chart = newChart();
    expect(() => new StandalonePrometheus(chart, 'prometheus', props(chart, extra))).toThrow(message);
  });
});
