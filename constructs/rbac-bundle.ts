// RbacBundle: a read-only identity for a metrics scraper (or any component that only needs to discover targets).
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { version as packageVersion } from '../package.json';
import { recommendedLabels } from './labels';
import { refuseReplacedProps, requireDnsLabel, requireDnsSubdomain, requireLabels, requireLabelValue } from './validation';

/**
 * What a scraper identity may discover: pods, Services and EndpointSlices in chosen namespaces, or everything in the
 * cluster, with nodes and their metrics.
 */
export class DiscoveryScope {
  /** A Role and RoleBinding in each of these namespaces (at least one); nothing anywhere else. */
  public static namespaces(names: string[]): DiscoveryScope {
    return new DiscoveryScope([...names]);
  }

  /** One ClusterRole over every namespace, which also reads nodes and node metrics (the kubelets' cAdvisor). */
  public static cluster(): DiscoveryScope {
    return new DiscoveryScope(undefined);
  }

  /** The namespaces, or undefined for the whole cluster. */
  public readonly namespaceNames?: string[];

  private constructor(namespaceNames: string[] | undefined) {
    this.namespaceNames = namespaceNames;
  }

  /** Whether the scope is the whole cluster. */
  public get clusterWide(): boolean {
    return this.namespaceNames === undefined;
  }
}

/** The namespaces of `scope`, each a DNS label, at least one and no duplicate; undefined for the whole cluster. */
export function validatedScope(prop: string, scope: unknown): string[] | undefined {
  if (!(scope instanceof DiscoveryScope)) {
    throw new Error(`${prop} must be DiscoveryScope.namespaces([...]) or DiscoveryScope.cluster(); got ${JSON.stringify(scope)}`);
  }
  if (scope.namespaceNames === undefined) return undefined;
  const names = scope.namespaceNames.map((namespace, i) => requireDnsLabel(`${prop}.namespaces[${i}]`, namespace));
  if (names.length === 0) throw new Error(`${prop}.namespaces must name at least one namespace`);
  if (new Set(names).size !== names.length) throw new Error(`${prop}.namespaces has duplicates: ${names.join(', ')}`);
  return names;
}

/** Props of {@link RbacBundle}. */
export interface RbacBundleProps {
  /** Namespace of the ServiceAccount; the Roles go into the namespaces of `scope`. */
  readonly namespace: string;
  /**
   * Name of the ServiceAccount, Role(s) and RoleBinding(s). The ClusterRole and its binding, whose names every
   * namespace shares, are `<namespace>-<name>`, so two scrapers in two namespaces never take each other's.
   * @default 'metrics-scraper'
   */
  readonly name?: string;
  /**
   * What the identity may read: chosen namespaces (a Role and RoleBinding in each) or the whole cluster.
   * @default - DiscoveryScope.namespaces([namespace])
   */
  readonly scope?: DiscoveryScope;
  /**
   * Labels on every object, added to (and overriding) the recommended `app.kubernetes.io/*` labels.
   * @default - the recommended labels: name and instance `name`, component `rbac`, part-of `key-server`
   */
  readonly labels?: Record<string, string>;
}

const readVerbs = ['get', 'list', 'watch'];

/**
 * Discovery resources, namespaced: what a scraper needs to find pods behind Services. EndpointSlices, not the v1
 * Endpoints API (deprecated since Kubernetes 1.33): discovery here uses `role: endpointslice`.
 */
function discoveryResources(): kplus.ApiResource[] {
  return [kplus.ApiResource.PODS, kplus.ApiResource.SERVICES, kplus.ApiResource.ENDPOINT_SLICES];
}

/**
 * A ServiceAccount bound to get/list/watch on pods, services and endpointslices; cluster-wide also nodes and
 * nodes/metrics, which node discovery and the kubelets' cAdvisor need. No write verb, no Secrets, and nothing the
 * standalone Prometheus's jobs do not use (no ingresses, no API server `/metrics`).
 */
export class RbacBundle extends Construct {
  public readonly serviceAccount: kplus.ServiceAccount;
  public readonly serviceAccountName: string;
  /** What the identity may read. */
  public readonly scope: DiscoveryScope;
  /** The namespaces it may read, or undefined for the whole cluster. */
  public readonly watchedNamespaces?: readonly string[];
  /** The Roles (namespaced scope), one per watched namespace. */
  public readonly roles: kplus.Role[] = [];
  /** The ClusterRole (cluster scope). */
  public readonly clusterRole?: kplus.ClusterRole;

  constructor(scope: Construct, id: string, props: RbacBundleProps) {
    super(scope, id);
    refuseReplacedProps(props, {
      mode: 'use scope: DiscoveryScope.namespaces([...]) or DiscoveryScope.cluster()',
      watchedNamespaces: 'use scope: DiscoveryScope.namespaces([...])',
    });
    const namespace = requireDnsLabel('namespace', props.namespace);
    // Also a label value (app.kubernetes.io/name), hence at most 63 characters.
    const name = requireLabelValue('name', requireDnsSubdomain('name', props.name ?? 'metrics-scraper'));
    this.scope = props.scope ?? DiscoveryScope.namespaces([namespace]);
    this.watchedNamespaces = validatedScope('scope', this.scope);
    const labels = {
      ...recommendedLabels({ name, instance: name, version: packageVersion, component: 'rbac', partOf: 'key-server' }),
      ...requireLabels('labels', props.labels ?? {}),
    };
    this.serviceAccountName = name;
    this.serviceAccount = new kplus.ServiceAccount(this, 'service-account', {
      metadata: { name, namespace, labels },
      // A scraper reads its token through a projected volume it asks for, not through the default mount.
      automountToken: false,
    });

    if (this.watchedNamespaces === undefined) {
      const clusterName = requireDnsSubdomain('namespace and name', `${namespace}-${name}`);
      this.clusterRole = new kplus.ClusterRole(this, 'cluster-role', { metadata: { name: clusterName, labels } });
      this.clusterRole.allow(readVerbs,
        ...discoveryResources(),
        kplus.ApiResource.NODES,
        kplus.ApiResource.custom({ apiGroup: '', resourceType: 'nodes/metrics' }));
      const binding = new kplus.ClusterRoleBinding(this, 'cluster-role-binding', { metadata: { name: clusterName, labels }, role: this.clusterRole });
      binding.addSubjects(this.serviceAccount);
      return;
    }

    for (const watchedNamespace of this.watchedNamespaces) {
      const role = new kplus.Role(this, `role-${watchedNamespace}`, { metadata: { name, namespace: watchedNamespace, labels } });
      role.allow(readVerbs, ...discoveryResources());
      const binding = new kplus.RoleBinding(this, `role-binding-${watchedNamespace}`, {
        metadata: { name, namespace: watchedNamespace, labels }, role,
      });
      binding.addSubjects(this.serviceAccount);
      this.roles.push(role);
    }
  }
}
