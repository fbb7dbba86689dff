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
