// StandaloneGrafana used on its own: the image grammar, the datasource it provisions, and one replica without budget.
import { Duration } from 'cdk8s';
import { StandaloneGrafana, StandaloneGrafanaProps } from '../../../constructs';
import { newChart, synthesize } from '../helpers/synth';

const props: StandaloneGrafanaProps = {
  namespace: 'mon', labels: {}, selectorLabels: { app: 'grafana' }, prometheusUrl: 'http://prometheus:9090', scrapeInterval: Duration.seconds(15), dashboards: [],
};

describe('StandaloneGrafana', () => {
  it('checks an image given to it directly by the same grammar, naming the prop', () => {
    expect(() => new StandaloneGrafana(newChart(), 'grafana', { ...props, image: 'grafana/grafana:13.2.3' })).toThrow(/^image must be .*it names no registry/);
  });

  it('runs one pod, so no disruption budget, and admits pods of its own namespace to the UI only', () => {
    const objects = synthesize((scope) => { new StandaloneGrafana(scope, 'grafana', props); });
    expect(objects.map((object) => object.kind).sort()).toEqual(['ConfigMap', 'ConfigMap', 'Deployment', 'NetworkPolicy', 'Service']);
    const policy = objects.find((object) => object.kind === 'NetworkPolicy');
    expect(policy.spec.ingress).toEqual([{ from: [{ podSelector: {} }], ports: [{ port: 'http', protocol: 'TCP' }] }]);
  });
});
