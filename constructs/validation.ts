// Prop checks shared by the constructs: each throws an Error naming the prop and what is allowed.

const dnsLabelPattern = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dnsSubdomainPattern = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// Label values: at most 63 characters, alphanumeric at both ends, `-_.` inside; empty is allowed.
const labelValuePattern = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Throws unless `value` is an RFC 1123 label (namespaces, Service names): lower case, at most 63 characters. */
export function requireDnsLabel(prop: string, value: string): string {
  if (value.length > 63 || !dnsLabelPattern.test(value)) {
    throw new Error(`${prop} must be a DNS label (lower-case letters, digits and '-', at most 63 characters, starting and ending alphanumeric); got '${value}'`);
  }
  return value;
}

/** Throws unless `value` is an RFC 1123 subdomain (Secret and Issuer names, host names): at most 253 characters. */
export function requireDnsSubdomain(prop: string, value: string): string {
  if (value.length > 253 || !dnsSubdomainPattern.test(value)) {
    throw new Error(`${prop} must be a DNS subdomain (lower-case letters, digits, '-' and '.', at most 253 characters); got '${value}'`);
  }
  return value;
}

/** Throws unless `value` can be a label value (the version label carries the image tag). */
export function requireLabelValue(prop: string, value: string): string {
  if (value.length > 63 || !labelValuePattern.test(value)) {
    throw new Error(`${prop} must be usable as a label value (at most 63 characters of letters, digits, '-', '_' and '.', alphanumeric at both ends); got '${value}'`);
  }
  return value;
}

/** Throws unless `value` is an integer in [min, max]. */
export function requireInteger(prop: string, value: number, min: number, max: number = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `between ${min} and ${max}`;
    throw new Error(`${prop} must be an integer ${range}; got ${value}`);
  }
  return value;
}

/** Throws unless `value` is a TCP port number other than 0. */
export function requirePort(prop: string, value: number): number {
  return requireInteger(prop, value, 1, 65535);
}

/** Throws unless `value` is one of `allowed`. */
export function requireOneOf<T extends string>(prop: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new Error(`${prop} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}; got '${value}'`);
  }
  return value as T;
}

/** Throws unless `key` is a qualified name, as label and annotation keys are: `[prefix/]name`. */
function requireQualifiedKey(prop: string, kind: string, key: string): void {
  const slash = key.indexOf('/');
  const [prefix, name] = slash === -1 ? [undefined, key] : [key.slice(0, slash), key.slice(slash + 1)];
  if (prefix !== undefined) requireDnsSubdomain(`${prop} key prefix`, prefix);
  if (name === '' || !labelValuePattern.test(name) || name.length > 63) {
    throw new Error(`${prop} has an invalid ${kind} key '${key}' (an optional DNS-subdomain prefix and '/', then at most 63 characters of letters, digits, '-', '_' and '.', alphanumeric at both ends)`);
  }
}

/** Throws unless every key and value of `labels` is a valid label (used for selectors given as props). */
export function requireLabels(prop: string, labels: Record<string, string>): Record<string, string> {
  for (const [key, value] of Object.entries(labels)) {
    requireQualifiedKey(prop, 'label', key);
    requireLabelValue(`${prop}['${key}']`, value);
  }
  return labels;
}

/** Throws unless every key of `annotations` is a qualified name (values are free text). */
export function requireAnnotations(prop: string, annotations: Record<string, string>): Record<string, string> {
  for (const [key, value] of Object.entries(annotations)) {
    requireQualifiedKey(prop, 'annotation', key);
    if (typeof value !== 'string') throw new Error(`${prop}['${key}'] must be a string; got ${typeof value}`);
  }
  return annotations;
}

/**
 * Namespaces every cluster has and shares with the system: a construct that creates its namespace must not claim one,
 * since the Namespace it emits would relabel the existing one (and, with Pod Security labels, refuse other pods there).
 */
export const sharedNamespaces: readonly string[] = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/** Throws when `namespace` is a shared one that `createProp` would relabel. */
export function requireOwnNamespace(prop: string, namespace: string, createProp: string): string {
  if (sharedNamespaces.includes(namespace)) {
    throw new Error(`${prop} '${namespace}' is shared with the system, and ${createProp} (on by default) would relabel it to enforce Pod Security "restricted" on every pod in it: choose a namespace of its own, or set ${createProp}: false`);
  }
  return namespace;
}

/**
 * Throws for a prop an earlier release took and this one replaced, naming it and what to write instead: a JavaScript
 * caller, whom no compiler warns, would otherwise lose the setting without a word.
 */
export function refuseReplacedProps(props: object, replacements: Readonly<Record<string, string>>, prefix = ''): void {
  for (const [prop, instead] of Object.entries(replacements)) {
    if ((props as Record<string, unknown>)[prop] !== undefined) {
      throw new Error(`${prefix}${prop} is no longer supported: ${instead}`);
    }
  }
}
