// Kubernetes recommended labels, built in one place so every object of a construct carries the same set.

/** What identifies one installation of a component. */
export interface RecommendedLabelsInput {
  /** `app.kubernetes.io/name`: the application, e.g. `key-server`. */
  readonly name: string;
  /** `app.kubernetes.io/instance`: this installation, unique within the namespace. */
  readonly instance: string;
  /** `app.kubernetes.io/version`: the version being deployed (an image tag is a good value). */
  readonly version: string;
  /** `app.kubernetes.io/component`: the role inside the architecture, e.g. `server`. */
  readonly component: string;
  /** `app.kubernetes.io/part-of`: the larger application this belongs to. */
  readonly partOf: string;
}

/** The value of `app.kubernetes.io/managed-by`: the tool that writes the manifests. */
export const managedBy = 'cdk8s';

/** The six `app.kubernetes.io/*` labels for an object. */
export function recommendedLabels(input: RecommendedLabelsInput): Record<string, string> {
  return {
    'app.kubernetes.io/name': input.name,
    'app.kubernetes.io/instance': input.instance,
    'app.kubernetes.io/version': input.version,
    'app.kubernetes.io/component': input.component,
    'app.kubernetes.io/part-of': input.partOf,
    'app.kubernetes.io/managed-by': managedBy,
  };
}

/**
 * The subset of labels that selects pods. It leaves out version, so a rolling update's new pods are
 * selected by the same Service and PDB, and a Deployment's immutable selector survives an upgrade.
 */
export function selectorLabelsOf(input: Pick<RecommendedLabelsInput, 'name' | 'instance' | 'component'>): Record<string, string> {
  return {
    'app.kubernetes.io/name': input.name,
    'app.kubernetes.io/instance': input.instance,
    'app.kubernetes.io/component': input.component,
  };
}

/**
 * Labels that say which tool or GitOps Application owns an object. Argo CD's label tracking (its default before
 * 3.0) reads `app.kubernetes.io/instance: <Application>` as "this object belongs to that Application": an object
 * carrying it that is not in Git is pruned. `managed-by` names the tool that writes the manifests.
 */
export const ownershipLabelKeys = ['app.kubernetes.io/instance', 'app.kubernetes.io/managed-by'] as const;

/**
 * Labels for an object a controller creates from a template we write, such as the Secret cert-manager writes from a
 * Certificate's `secretTemplate`: the recommended labels without the ownership ones. With `instance`, Argo CD would
 * prune the Secret (it is not in Git), cert-manager would issue it again with a new key, and the loop would repeat;
 * `managed-by: cdk8s` would be untrue (the controller manages it). What is left still finds it next to its app.
 */
export function controllerCreatedLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).filter(([key]) => !(ownershipLabelKeys as readonly string[]).includes(key)));
}
