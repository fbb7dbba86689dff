// Container images: the defaults every construct runs (read from versions.json, the one versions table) and the
// one grammar every image prop is checked against.
import versions from '../versions.json';

/** The images this library deploys unless told otherwise, by component. */
export type ImageName = keyof typeof versions.images;

/** An image reference taken apart: always a registry, a repository path, and a tag, a digest or both. */
export interface ImageReference {
  /** Registry host, with a port when it has one: `quay.io`, `registry.example.com:5000`. */
  readonly registry: string;
  /** Everything between the registry and the tag: `prometheus/prometheus`. */
  readonly path: string;
  readonly tag?: string;
  /** `sha256:<64 hex>` (or sha512), which pins the content whatever the tag says. */
  readonly digest?: string;
}

// The distribution reference grammar (github.com/distribution/reference), with the registry made mandatory: a
// name without one resolves to docker.io/library/<name>, which is how a pod ends up in ImagePullBackOff.
const registryPattern = /^(?:localhost|[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)+)(?::\d{1,5})?$|^[a-zA-Z0-9-]+:\d{1,5}$/;
const pathComponentPattern = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const tagPattern = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const digestPattern = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

/** The fix a user needs, spelled the same in every error. */
const grammar = "'<registry>/<path>:<tag>', '<registry>/<path>@sha256:<digest>' or both, e.g. 'quay.io/prometheus/prometheus:v3.13.5'";

/**
 * Parses `registry/path[:tag][@digest]`, or throws an Error naming `prop`. A registry is required (no implicit
 * docker.io), and so is a tag or a digest; the tag `latest` is refused, because a rollout must say what it deploys.
 */
export function parseImageReference(prop: string, reference: string): ImageReference {
  const fail = (why: string): never => {
    throw new Error(`${prop} must be ${grammar}; ${why}: got '${reference}'`);
  };
  const [nameAndTag, digest, ...extra] = reference.split('@');
  if (extra.length > 0) fail('more than one @');
  if (digest !== undefined && !digestPattern.test(digest)) fail('a digest is sha256: and 64 lower-case hex digits');
  const firstSlash = nameAndTag.indexOf('/');
  const registry = firstSlash < 0 ? '' : nameAndTag.slice(0, firstSlash);
  // As container runtimes read it: the first component is a registry only with a dot, a port, or as localhost.
  if (!/[.:]/.test(registry) && registry !== 'localhost') {
    fail("it names no registry: a name without one ('key-server', 'grafana/grafana') is pulled from docker.io");
  }
  if (!registryPattern.test(registry)) fail(`'${registry}' is not a registry host`);
  const rest = nameAndTag.slice(firstSlash + 1);
  const colon = rest.lastIndexOf(':');
  const path = colon < 0 ? rest : rest.slice(0, colon);
  const tag = colon < 0 ? undefined : rest.slice(colon + 1);
  if (path.split('/').some((component) => !pathComponentPattern.test(component))) {
    fail('the path is lower-case letters, digits and separators (., _, __, -) between slashes');
  }
  if (tag !== undefined && !tagPattern.test(tag)) fail('a tag is letters, digits, _, . and -, at most 128 characters');
  if (tag === undefined && digest === undefined) fail('it has neither a tag nor a digest, so it would mean :latest');
  if (tag === 'latest') fail("'latest' names no version");
  return { registry, path, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** Throws unless `tag` is a tag that names a version (the grammar's tag, and not `latest`), naming `prop`. */
export function requireImageTag(prop: string, tag: string): string {
  if (tag === 'latest') {
    throw new Error(`${prop} must name a version; 'latest' is refused because a rollout could not say what it deploys`);
  }
  if (!tagPattern.test(tag)) {
    throw new Error(`${prop} must be a Docker tag (letters, digits, '_', '.', '-', at most 128 characters); got '${tag}'`);
  }
  return tag;
}

/** The reference as a container's `image` field spells it. */
export function formatImageReference(image: ImageReference): string {
  return `${image.registry}/${image.path}${image.tag !== undefined ? `:${image.tag}` : ''}${image.digest !== undefined ? `@${image.digest}` : ''}`;
}

/**
 * What `app.kubernetes.io/version` says about an image: its tag, or for a digest-only reference the digest's
 * first 12 hex digits (a label value holds at most 63 characters, a digest 71).
 */
export function imageVersionLabel(image: ImageReference): string {
  if (image.tag !== undefined && image.tag.length <= 63 && /[A-Za-z0-9]$/.test(image.tag)) return image.tag;
  if (image.digest !== undefined) return image.digest.replace(':', '-').slice(0, 'sha256-'.length + 12);
  return image.tag!.slice(0, 63).replace(/[^A-Za-z0-9]+$/, '');
}

/** The default image of `name`, from versions.json: change the registry, repository or version there, in one place. */
export function defaultImage(name: ImageName): ImageReference {
  const entry = versions.images[name];
  return parseImageReference(`versions.json images.${name}`, `${entry.repository}:${entry.tag}`);
}
