// Checks of KeyServerApp's props that Kubernetes, not the server, constrains (image, container ports, address, grace
// period), each throwing an Error that names the prop; what the server constrains, its own parser checks (args.ts).
import { Duration } from 'cdk8s';
import { DRAIN_TIMEOUT } from '../../server/config';
import { defaultImage, formatImageReference, ImageReference, parseImageReference, requireImageTag } from '../images';
import { requireLabelValue, requirePort } from '../validation';

/**
 * The key server's image from its three props, each error naming the prop at fault; the result passes the one image
 * grammar of images.ts (a registry, a tag, an optional digest).
 */
export function validatedImage(repository: string | undefined, tag: string | undefined, digest: string | undefined): ImageReference {
  const pinned = defaultImage('keyServer');
  const resolvedTag = requireImageTag('imageTag', tag ?? pinned.tag!);
  // The tag is also the version label, whose alphabet is a little narrower.
  requireLabelValue('imageTag', resolvedTag);
  let { registry, path } = pinned;
  if (repository !== undefined) {
    // After the registry (which may carry a port), a colon or @ starts a tag or digest.
    if (/[:@]/.test(repository.slice(repository.indexOf('/') + 1))) {
      throw new Error(`image must be a repository without tag or digest (those are imageTag and imageDigest), e.g. 'ghcr.io/example/key-server'; got '${repository}'`);
    }
    ({ registry, path } = parseImageReference('image', `${repository}:${resolvedTag}`));
  }
  const reference: ImageReference = { registry, path, tag: resolvedTag };
  if (digest === undefined) return reference;
  return { ...reference, digest: parseImageReference('imageDigest', `${formatImageReference(reference)}@${digest}`).digest };
}

/** The two container ports: a container cannot declare port 0, which the server alone would take as "any free port". */
export function validatedPorts(httpsPort: number, metricsPort: number): { httpsPort: number; metricsPort: number } {
  return { httpsPort: requirePort('httpsPort', httpsPort), metricsPort: requirePort('metricsPort', metricsPort) };
}

/** An address or host name: anything with spaces or URL syntax would only fail inside the pod. */
export function validatedHost(host: string): string {
  if (!/^[A-Za-z0-9.:-]+$/.test(host)) {
    throw new Error(`host must be an IP address or host name, e.g. '0.0.0.0' or '::'; got '${host}'`);
  }
  return host;
}

/**
 * The grace period in whole seconds (as Kubernetes counts it), longer than the shutdown delay (which the server's
 * parser has checked) plus the server's drain: a shorter one SIGKILLs the requests the drain would have finished.
 * By default the delay plus 25 seconds: the drain's 10 s, with margin.
 */
export function validatedGracePeriod(shutdownDelay: Duration, gracePeriod: Duration | undefined): Duration {
  const delayMs = shutdownDelay.toMilliseconds();
  const terminationGracePeriod = gracePeriod ?? Duration.seconds(Math.ceil(delayMs / 1000) + 25);
  const graceSeconds = terminationGracePeriod.toSeconds({ integral: false });
  const neededMs = delayMs + DRAIN_TIMEOUT * 1000;
  if (!Number.isInteger(graceSeconds) || graceSeconds * 1000 <= neededMs) {
    throw new Error(`terminationGracePeriod must be a whole number of seconds above shutdownDelay (${delayMs / 1000} s) plus the server's drain (${DRAIN_TIMEOUT} s), so above ${neededMs / 1000} s; got ${graceSeconds} s`);
  }
  return terminationGracePeriod;
}
