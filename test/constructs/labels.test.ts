// The recommended labels, their selecting subset, and the labels of objects controllers create from our templates.
import { controllerCreatedLabels, recommendedLabels, selectorLabelsOf } from '../../constructs';

const input = { name: 'key-server', instance: 'keys', version: '1.0', component: 'server', partOf: 'payments' };

describe('labels', () => {
  test('every object carries the six recommended labels, managed by cdk8s', () => {
    expect(recommendedLabels(input)).toEqual({
      'app.kubernetes.io/name': 'key-server', 'app.kubernetes.io/instance': 'keys', 'app.kubernetes.io/version': '1.0',
      'app.kubernetes.io/component': 'server', 'app.kubernetes.io/part-of': 'payments', 'app.kubernetes.io/managed-by': 'cdk8s',
    });
  });

  test('pods are selected without the version, so an upgrade keeps the Deployment\'s immutable selector', () => {
    expect(selectorLabelsOf(input)).toEqual({ 'app.kubernetes.io/name': 'key-server', 'app.kubernetes.io/instance': 'keys', 'app.kubernetes.io/component': 'server' });
  });

  test('an object a controller creates claims no GitOps ownership', () => {
    expect(Object.keys(controllerCreatedLabels(recommendedLabels(input))).sort()).toEqual([
      'app.kubernetes.io/component', 'app.kubernetes.io/name', 'app.kubernetes.io/part-of', 'app.kubernetes.io/version',
    ]);
  });
});
