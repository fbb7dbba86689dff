// RbacBundle: a least-privilege, read-only identity over chosen namespaces or the whole cluster.
import { DiscoveryScope, RbacBundle, RbacBundleProps } from '../../constructs';
import { only, synthesize } from './helpers/synth';
import { expectStrictlyValid } from './helpers/validate-strict';

/* eslint-disable @typescript-eslint/no-explicit-any */

function synth(props: RbacBundleProps): { bundle: RbacBundle; objects: any[] } {
  let bundle!: RbacBundle;
  const objects = synthesize((scope) => { bundle = new RbacBundle(scope, 'rbac', props); });
  return { bundle, objects };
}

/** `apiGroup/resource` → verbs, across every rule of every role object. */
function grants(objects: any[]): Map<string, string[]> {
  const result = new Map<string, string[]>();
  for (const role of objects.filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole')) {
    for (const rule of role.rules) {
      const targets = rule.nonResourceURLs ?? rule.apiGroups.flatMap((g: string) => rule.resources.map((r: string) => `${g}/${r}`));
      for (const target of targets) result.set(target, [...(result.get(target) ?? []), ...rule.verbs].sort());
    }
  }
  return result;
}

const writeVerbs = ['create', 'update', 'patch', 'delete', 'deletecollection', 'escalate', 'bind', 'impersonate', '*'];

describe('RbacBundle', () => {
  test('a namespaced scope (the default, its own namespace) matches the reviewed snapshot', () => {
    expect(synth({ namespace: 'monitoring' }).objects).toMatchSnapshot();
  });

  test('cluster scope matches the reviewed snapshot', () => {
    expect(synth({ namespace: 'monitoring', scope: DiscoveryScope.cluster(), name: 'prometheus' }).objects).toMatchSnapshot();
  });

  test.each<[string, RbacBundleProps]>([
    ['namespaced', { namespace: 'monitoring', scope: DiscoveryScope.namespaces(['monitoring', 'key-server']) }],
    ['cluster', { namespace: 'monitoring', scope: DiscoveryScope.cluster() }],
  ])('%s scope validates strictly against the Kubernetes schemas', (_, props) => {
    expectStrictlyValid(synth(props).objects);
  });

  test('a namespaced scope grants get/list/watch on discovery resources only, in each watched namespace', () => {
    const { objects, bundle } = synth({ namespace: 'monitoring', scope: DiscoveryScope.namespaces(['monitoring', 'key-server']) });
    expect(bundle.scope.clusterWide).toBe(false);
    expect(bundle.watchedNamespaces).toEqual(['monitoring', 'key-server']);
    const roles = objects.filter((o) => o.kind === 'Role');
    expect(roles.map((r) => r.metadata.namespace)).toEqual(['monitoring', 'key-server']);
    for (const role of roles) {
      expect(grants([role])).toEqual(new Map([
        ['/pods', ['get', 'list', 'watch']], ['/services', ['get', 'list', 'watch']],
        ['discovery.k8s.io/endpointslices', ['get', 'list', 'watch']],
      ]));
    }
    expect(objects.some((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding')).toBe(false);
  });

  test('each RoleBinding binds its Role to the bundle ServiceAccount', () => {
    const { objects, bundle } = synth({ namespace: 'monitoring', scope: DiscoveryScope.namespaces(['monitoring', 'key-server']) });
    for (const binding of objects.filter((o) => o.kind === 'RoleBinding')) {
      const role = objects.find((o) => o.kind === 'Role' && o.metadata.namespace === binding.metadata.namespace);
      expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name });
      expect(binding.subjects).toEqual([{ apiGroup: '', kind: 'ServiceAccount', name: bundle.serviceAccountName, namespace: 'monitoring' }]);
    }
  });

  test('cluster scope adds nodes and nodes/metrics, nothing else, bound cluster-wide', () => {
    const { objects, bundle } = synth({ namespace: 'monitoring', scope: DiscoveryScope.cluster() });
    expect(bundle.scope.clusterWide).toBe(true);
    expect(bundle.watchedNamespaces).toBeUndefined();
    expect([...grants(objects).keys()].sort()).toEqual([
      '/nodes', '/nodes/metrics', '/pods', '/services', 'discovery.k8s.io/endpointslices',
    ]);
    const binding = only(objects, 'ClusterRoleBinding');
    expect(binding.roleRef.name).toBe(only(objects, 'ClusterRole').metadata.name);
    expect(binding.subjects[0]).toEqual(expect.objectContaining({ name: bundle.serviceAccountName, namespace: 'monitoring' }));
  });

  test('names its cluster-wide objects after its namespace too, so scrapers in two namespaces keep their own', () => {
    const names = ['team-a', 'team-b'].map((namespace) => {
      const { objects } = synth({ namespace, name: 'prometheus', scope: DiscoveryScope.cluster() });
      return [only(objects, 'ClusterRole').metadata.name, only(objects, 'ClusterRoleBinding').metadata.name];
    });
    expect(names).toEqual([['team-a-prometheus', 'team-a-prometheus'], ['team-b-prometheus', 'team-b-prometheus']]);
  });

  test.each<[string, RbacBundleProps]>([
    ['namespaced', { namespace: 'monitoring' }],
    ['cluster', { namespace: 'monitoring', scope: DiscoveryScope.cluster() }],
  ])('%s scope grants no write verb and nothing on Secrets', (_, props) => {
    const granted = grants(synth(props).objects);
    for (const [target, verbs] of granted) {
      expect(verbs.filter((v) => writeVerbs.includes(v))).toEqual([]);
      expect(target).not.toMatch(/secrets|\*/);
    }
  });

  test('the ServiceAccount mounts no token by default and is exposed by name', () => {
    const { objects, bundle } = synth({ namespace: 'monitoring', name: 'scraper' });
    const account = only(objects, 'ServiceAccount');
    expect(account.automountServiceAccountToken).toBe(false);
    expect([account.metadata.name, bundle.serviceAccountName, bundle.serviceAccount.name]).toEqual(['scraper', 'scraper', 'scraper']);
  });

  test('every object carries the recommended labels, and given labels are added to them', () => {
    const { objects } = synth({ namespace: 'monitoring', name: 'scraper', labels: { team: 'observability' } });
    for (const object of objects) {
      expect(object.metadata.labels).toEqual(expect.objectContaining({
        'app.kubernetes.io/name': 'scraper', 'app.kubernetes.io/component': 'rbac', 'app.kubernetes.io/managed-by': 'cdk8s', team: 'observability',
      }));
    }
  });

  test.each<[string, RbacBundleProps, RegExp]>([
    ['a scope that is not a DiscoveryScope', { namespace: 'm', scope: 'global' as never }, /^scope must be DiscoveryScope.namespaces\(\[\.\.\.\]\) or DiscoveryScope.cluster\(\); got "global"$/],
    ['the mode prop of earlier releases', { namespace: 'm', mode: 'cluster' } as never, /^mode is no longer supported: use scope: DiscoveryScope.namespaces\(\[\.\.\.\]\) or DiscoveryScope.cluster\(\)$/],
    ['a non-DNS namespace', { namespace: 'Monitoring' }, /^namespace must be a DNS label/],
    ['a non-DNS name', { namespace: 'm', name: 'my scraper' }, /^name must be a DNS subdomain/],
    ['the watchedNamespaces prop of earlier releases', { namespace: 'm', watchedNamespaces: ['a'] } as never, /^watchedNamespaces is no longer supported: use scope: DiscoveryScope.namespaces\(\[\.\.\.\]\)$/],
    ['an empty watched namespace list', { namespace: 'm', scope: DiscoveryScope.namespaces([]) }, /^scope.namespaces must name at least one namespace$/],
    ['a duplicate watched namespace', { namespace: 'm', scope: DiscoveryScope.namespaces(['a', 'a']) }, /^scope.namespaces has duplicates: a, a$/],
    ['an invalid label', { namespace: 'm', labels: { team: 'not valid' } }, /^labels\['team'\] must be usable as a label value/],
    ['a non-DNS watched namespace', { namespace: 'm', scope: DiscoveryScope.namespaces(['ok', 'Not_OK']) }, /^scope.namespaces\[1\] must be a DNS label/],
  ])('refuses %s', (_, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});
