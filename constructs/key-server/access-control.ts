// Who may take keys beyond the NetworkPolicy: bearer tokens from a mounted Secret (--auth-token-file) and a
// per-client rate limit (--rate-limit, --rate-limit-burst).
import * as kplus from 'cdk8s-plus-27';
import type { Construct } from 'constructs';
import { defaultRateLimitBurst } from '../../server/config';
import { secretVolume } from '../secrets';
import { requireDnsSubdomain } from '../validation';

/** Bearer-token access control for `/key` (`--auth-token-file`); probes and `/metrics` stay open. */
export interface KeyServerAccessControlProps {
  /**
   * An existing Secret holding the tokens, one per line (`#` starts a comment). Not created here, so tokens never
   * sit in the manifests; the server re-reads the file when Kubernetes updates the mounted Secret.
   */
  readonly tokenSecretName: string;
  /**
   * The key in that Secret holding the token file.
   * @default 'tokens'
   */
  readonly tokenSecretKey?: string;
}

/**
 * A per-client rate limit on `/key` (`--rate-limit`, `--rate-limit-burst`): a token bucket per client address,
 * answering 429 with `Retry-After`. Clients are told apart by source address, so behind an Ingress or a proxy every
 * client shares the proxy's bucket: limit there instead.
 */
export interface KeyServerRateLimitProps {
  /** Requests per second each client address may make on average. */
  readonly requestsPerSecond: number;
  /**
   * Requests a client may make at once after being idle.
   * @default - `requestsPerSecond` rounded up
   */
  readonly burst?: number;
}

/** Where the token file is mounted: a directory mount (not subPath), so Secret updates reach the server. */
const authMountPath = '/etc/key-server/auth';
/** The token file's name inside the mounted directory, whatever the Secret key is called. */
const authFileName = 'tokens';

/** The token file as `--auth-token-file` names it. */
export const authTokenFile = `${authMountPath}/${authFileName}`;

/** Checks the props and applies the default key. */
export function validatedAccessControl(props: KeyServerAccessControlProps): Required<KeyServerAccessControlProps> {
  const tokenSecretKey = props.tokenSecretKey ?? 'tokens';
  if (!/^[-._a-zA-Z0-9]{1,253}$/.test(tokenSecretKey)) {
    throw new Error(`accessControl.tokenSecretKey must be a Secret key (letters, digits, '-', '_', '.'); got '${tokenSecretKey}'`);
  }
  return { tokenSecretName: requireDnsSubdomain('accessControl.tokenSecretName', props.tokenSecretName), tokenSecretKey };
}

/** Mounts only the token key of the Secret, under a fixed name, where {@link authTokenFile} points. */
export function mountTokens(scope: Construct, container: kplus.Container, accessControl: Required<KeyServerAccessControlProps>): void {
  const tokens = kplus.Secret.fromSecretName(scope, 'token-secret', accessControl.tokenSecretName);
  const volume = secretVolume(scope, 'token-volume', tokens, {
    name: 'auth-tokens', items: { [accessControl.tokenSecretKey]: { path: authFileName } },
  });
  container.mount(authMountPath, volume, { readOnly: true });
}

/** The server settings of a rate limit; the server's parser checks them (args.ts), as it checks its flags. */
export function rateLimitSettings(props: KeyServerRateLimitProps): { rateLimit: number; rateLimitBurst: number } {
  return { rateLimit: props.requestsPerSecond, rateLimitBurst: props.burst ?? defaultRateLimitBurst(props.requestsPerSecond) };
}
