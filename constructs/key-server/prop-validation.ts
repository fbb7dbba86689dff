// Checks of KeyServerApp's scalar props (image, sizes, ports, host, shutdown timing), each throwing an Error that
// names the prop and what is allowed, so a bad prop fails the synth instead of a pod.
import { Duration } from 'cdk8s';
import { MAX_SIZE_HARD_CAP, SHUTDOWN_DELAY_CAP } from '../../server/config';
import { defaultImage, formatImageReference, ImageReference, parseImageReference, requireImageTag } from '../images';
import { requireInteger, requireLabelValue, requirePort } from '../validation';

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

/** The two ports, each a valid number, and different from each other. */
export function validatedPorts(httpsPort: number, metricsPort: number): { httpsPort: number; metricsPort: number } {
  requirePort('httpsPort', httpsPort);
  requirePort('metricsPort', metricsPort);
  if (httpsPort === metricsPort) {
    throw new Error(`httpsPort and metricsPort must differ; both are ${httpsPort}`);
  }
  return { httpsPort, metricsPort };
}

/** The key length bounds, within the server's cap and in order. */
export function validatedKeySizes(minSize: number, maxSize: number): { minSize: number; maxSize: number } {
  requireInteger('maxSize', maxSize, 1, MAX_SIZE_HARD_CAP);
  requireInteger('minSize', minSize, 1, MAX_SIZE_HARD_CAP);
  if (minSize > maxSize) throw new Error(`minSize (${minSize}) must not exceed maxSize (${maxSize})`);
  return { minSize, maxSize };
}

/** An address or host name: anything with spaces or URL syntax would only fail inside the pod. */
export function validatedHost(host: string): string {
  if (!/^[A-Za-z0-9.:-]+$/.test(host)) {
    throw new Error(`host must be an IP address or host name, e.g. '0.0.0.0' or '::'; got '${host}'`);
  }
  return host;
}

/**
 * The shutdown delay within the server's limit, and a grace period in whole seconds (as Kubernetes counts it) above
 * it: by default the delay plus 25 seconds, in which the server drains connections for up to 10 s, with margin.
 */
export function validatedShutdownTiming(shutdownDelay: Duration, gracePeriod: Duration | undefined): { shutdownDelay: Duration; terminationGracePeriod: Duration } {
  const delayMs = shutdownDelay.toMilliseconds();
  if (!(delayMs >= 0 && delayMs <= SHUTDOWN_DELAY_CAP * 1000)) {
    throw new Error(`shutdownDelay must be between 0 and ${SHUTDOWN_DELAY_CAP} seconds (the server's limit); got ${delayMs / 1000} s`);
  }
  const terminationGracePeriod = gracePeriod ?? Duration.seconds(Math.ceil(delayMs / 1000) + 25);
  const graceSeconds = terminationGracePeriod.toSeconds({ integral: false });
  if (!Number.isInteger(graceSeconds) || graceSeconds * 1000 <= delayMs) {
    throw new Error(`terminationGracePeriod must be a whole number of seconds above shutdownDelay (${delayMs / 1000} s); got ${graceSeconds} s`);
  }
  return { shutdownDelay, terminationGracePeriod };
}
