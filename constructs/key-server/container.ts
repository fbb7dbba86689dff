// The key server's one container: image, args, named ports, resources with V8's heap ceiling, the restricted security
// context, probes, and the Secret files it reads (its certificate, and its tokens when access control is on).
import * as kplus from 'cdk8s-plus-27';
import type { Construct } from 'constructs';
import type { TlsFiles } from '../../server/config';
import { secretVolume } from '../secrets';
import { KeyServerAccessControlProps, mountTokens } from './access-control';
import { keyServerProbes, probeByPortName } from './probes';
import { nodeOptionsFor } from './resources';

/** Where the TLS Secret is mounted. */
const tlsMountPath = '/etc/key-server/tls';

/** The files `--tls-cert` and `--tls-key` name: those of the mounted TLS Secret. */
export const tlsFiles: TlsFiles = { certFile: `${tlsMountPath}/tls.crt`, keyFile: `${tlsMountPath}/tls.key` };

/** What the container is made of; every value checked by KeyServerApp. */
export interface KeyServerContainerOptions {
  readonly name: string;
  readonly image: string;
  readonly args: readonly string[];
  /** The port serving keys (readiness knocks here), then the one serving only /metrics and /health (startup, liveness). */
  readonly ports: { readonly https: kplus.ContainerPort & { readonly name: string }; readonly metrics: kplus.ContainerPort & { readonly name: string } };
  /** With both limits: the memory limit sets the heap ceiling. */
  readonly resources: kplus.ContainerResources;
  readonly securityContext: kplus.ContainerSecurityContextProps;
  readonly tlsSecretName: string;
  readonly accessControl?: Required<KeyServerAccessControlProps>;
}

/** Adds the container to `deployment`, with its mounts and its probes on its named ports. */
export function addKeyServerContainer(scope: Construct, deployment: kplus.Deployment, options: KeyServerContainerOptions): kplus.Container {
  const container = deployment.addContainer({
    name: options.name,
    image: options.image,
    imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
    args: [...options.args],
    ports: [options.ports.https, options.ports.metrics],
    resources: options.resources,
    // V8 sizes its heap from the node's memory, not the container's limit: the ceiling makes it collect before the
    // kernel kills the pod (resources.ts derives it; the image's ENTRYPOINT adds the semi-space size).
    envVariables: { NODE_OPTIONS: kplus.EnvValue.fromValue(nodeOptionsFor(options.resources.memory!.limit!)) },
    securityContext: options.securityContext,
    ...keyServerProbes(options.ports),
  });
  const secret = kplus.Secret.fromSecretName(scope, 'tls-secret', options.tlsSecretName);
  container.mount(tlsMountPath, secretVolume(scope, 'tls-volume', secret, { name: 'tls' }), { readOnly: true });
  if (options.accessControl !== undefined) mountTokens(scope, container, options.accessControl);
  probeByPortName(deployment, options.ports);
  return container;
}
