// RbacBundle: a read-only identity for a metrics scraper (or any component that only needs to discover targets).
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { version as packageVersion } from '../package.json';
import { recommendedLabels } from './labels';
import { requireDnsLabel, requireDnsSubdomain, requireLabels, requireLabelValue, requireOneOf } from './validation';

/** `namespaced`: Roles in chosen namespaces. `cluster`: one ClusterRole over every namespace, plus node metrics. */
export type RbacMode = 'namespaced' | 'cluster';
const rbacModes: readonly RbacMode[] = ['namespaced', 'cluster'];

/** Props of {@link RbacBundle}. */
export interface RbacBundleProps {
  /** Namespace of the ServiceAccount (and of the Role and RoleBinding in namespaced mode). */
  readonly namespace: string;
  /**
   * Name of the ServiceAccount, Role(s)/ClusterRole and binding(s).
   * @default 'metrics-scraper'
   */
  readonly name?: string;
  /**
   * Whether the identity may read one set of namespaces or the whole cluster.
   * @default 'namespaced'
   */
  readonly mode?: RbacMode;
  /**
   * Namespaces the identity may read in `namespaced` mode; a Role and RoleBinding go into each.
   * Not allowed in `cluster` mode, which reads every namespace.
   * @default - only `namespace`
   */
  readonly watchedNamespaces?: string[];
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
 * A ServiceAccount bound to get/list/watch on pods, services and endpointslices; in cluster
 * mode also nodes, nodes/metrics, ingresses and the non-resource URL /metrics. No write verb, no Secrets.
 */
export class RbacBundle extends Construct {
  public readonly serviceAccount: kplus.ServiceAccount;
  public readonly serviceAccountName: string;
  public readonly mode: RbacMode;
  /** The Roles (namespaced mode), one per watched namespace. */
  public readonly roles: kplus.Role[] = [];
  /** The ClusterRole (cluster mode). */
  public readonly clusterRole?: kplus.ClusterRole;

  constructor(scope: Construct, id: string, props: RbacBundleProps) {
    super(scope, id);
    const namespace = requireDnsLabel('namespace', props.namespace);
    // Also a label value (app.kubernetes.io/name), hence at most 63 characters.
    const name = requireLabelValue('name', requireDnsSubdomain('name', props.name ?? 'metrics-scraper'));
    this.mode = requireOneOf('mode', props.mode ?? 'namespaced', rbacModes);
    if (this.mode === 'cluster' && props.watchedNamespaces !== undefined) {
      throw new Error("watchedNamespaces is only allowed with mode 'namespaced'; mode 'cluster' reads every namespace");
    }
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

    if (this.mode === 'cluster') {
      this.clusterRole = new kplus.ClusterRole(this, 'cluster-role', { metadata: { name, labels } });
      this.clusterRole.allow(readVerbs,
        ...discoveryResources(),
        kplus.ApiResource.NODES,
        kplus.ApiResource.custom({ apiGroup: '', resourceType: 'nodes/metrics' }),
        kplus.ApiResource.INGRESSES);
      this.clusterRole.allow(['get'], kplus.NonApiResource.of('/metrics'));
      const binding = new kplus.ClusterRoleBinding(this, 'cluster-role-binding', { metadata: { name, labels }, role: this.clusterRole });
      binding.addSubjects(this.serviceAccount);
      return;
    }

    const watched = (props.watchedNamespaces ?? [namespace]).map((ns, i) => requireDnsLabel(`watchedNamespaces[${i}]`, ns));
    if (watched.length === 0) throw new Error('watchedNamespaces must name at least one namespace');
    if (new Set(watched).size !== watched.length) throw new Error(`watchedNamespaces has duplicates: ${watched.join(', ')}`);
    for (const watchedNamespace of watched) {
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
