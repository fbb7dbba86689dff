// The key server's Service: both ports by name, the pods' selector, and annotations for annotation-based Prometheus.
import { KeyServerApp, KeyServerAppProps } from '../../../constructs';
import { only, synthesize } from '../helpers/synth';

/* eslint-disable @typescript-eslint/no-explicit-any */

function synth(props: KeyServerAppProps = {}): { app: KeyServerApp; objects: any[] } {
  let app!: KeyServerApp;
  const objects = synthesize((scope) => { app = new KeyServerApp(scope, 'keys', props); });
  return { app, objects };
}

describe('KeyServerApp Service', () => {
  test('the Service is ClusterIP with named ports and annotations for annotation-based Prometheus', () => {
    const { app, objects } = synth();
    const service = only(objects, 'Service');
    expect(service.spec.type).toBe('ClusterIP');
    expect(service.spec.ports.map((p: any) => [p.name, p.port])).toEqual([['https', app.httpsPort], ['metrics', app.metricsPort]]);
    expect(service.spec.selector).toEqual(app.selectorLabels);
    expect(service.metadata.annotations).toEqual({
      'prometheus.io/scrape': 'true', 'prometheus.io/port': '9464', 'prometheus.io/path': '/metrics', 'prometheus.io/scheme': 'https',
    });
  });
});
