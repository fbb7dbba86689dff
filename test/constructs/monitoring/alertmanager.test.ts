// StandaloneAlertmanager used on its own: the image grammar, its config Secret or an existing one, and its storage.
import { StandaloneAlertmanager, StandaloneAlertmanagerProps } from '../../../constructs';
import { newChart, only, synthesize } from '../helpers/synth';

const props: StandaloneAlertmanagerProps = { namespace: 'mon', labels: {}, selectorLabels: { app: 'am' }, alertSenderLabels: { app: 'prom' } };

describe('StandaloneAlertmanager', () => {
  it('checks an image given to it directly by the same grammar, and takes one by digest', () => {
    expect(() => new StandaloneAlertmanager(newChart(), 'alertmanager', { ...props, image: 'prometheus/alertmanager:v0.35.0' })).toThrow(/^image must be .*it names no registry/);
    expect(() => new StandaloneAlertmanager(newChart(), 'alertmanager', { ...props, image: `quay.io/prometheus/alertmanager@sha256:${'e'.repeat(64)}` })).not.toThrow();
  });

  it('keeps silences on a 1Gi claim mounted where it stores them, and admits only the alert senders', () => {
    const objects = synthesize((scope) => { new StandaloneAlertmanager(scope, 'alertmanager', { ...props, storageClassName: 'fast' }); });
    const spec = only(objects, 'StatefulSet').spec;
    expect(spec.volumeClaimTemplates[0].spec).toEqual({ accessModes: ['ReadWriteOnce'], storageClassName: 'fast', resources: { requests: { storage: '1Gi' } } });
    expect(spec.template.spec.containers[0].volumeMounts).toContainEqual({ name: 'data', mountPath: '/alertmanager' });
    expect(only(objects, 'NetworkPolicy').spec.ingress[0].from).toEqual([{ podSelector: { matchLabels: { app: 'prom' } } }]);
  });
});
