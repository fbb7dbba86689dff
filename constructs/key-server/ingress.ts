// The optional Ingress that routes an external host name to the key server's https port.
import * as kplus from 'cdk8s-plus-27';
import type { Construct } from 'constructs';
import { requireAnnotations, requireDnsSubdomain } from '../validation';
import type { WorkloadObjectMetadata } from '../workload';

/**
 * An Ingress for access from outside the cluster. With `allowedClients`, list the ingress controller's pods among
 * them: the NetworkPolicy admits nothing else to the https port, the controller included.
 */
export interface KeyServerIngressProps {
  /** The external host name, e.g. `keys.example.com`. */
  readonly host: string;
  /**
   * The IngressClass.
   * @default - the cluster's default IngressClass
   */
  readonly className?: string;
  /**
   * A `kubernetes.io/tls` Secret holding the certificate for `host`.
   * @default - the Ingress serves no TLS of its own
   */
  readonly tlsSecretName?: string;
  /**
   * Annotations for the controller. The backend speaks HTTPS, so most controllers need one saying so,
   * e.g. `{ 'nginx.ingress.kubernetes.io/backend-protocol': 'HTTPS' }`.
   * @default {}
   */
  readonly annotations?: Record<string, string>;
}

/** The Ingress for `ingress`, sending every path of its host to `port` of `service`. */
export function addIngress(
  scope: Construct, ingress: KeyServerIngressProps, service: kplus.Service, port: number, metadata: WorkloadObjectMetadata,
): kplus.Ingress {
  const host = requireDnsSubdomain('ingress.host', ingress.host);
  const annotations = ingress.annotations === undefined ? undefined : requireAnnotations('ingress.annotations', ingress.annotations);
  const className = ingress.className === undefined ? undefined : requireDnsSubdomain('ingress.className', ingress.className);
  const result = new kplus.Ingress(scope, 'ingress', {
    metadata: { ...metadata, annotations },
    className,
    rules: [{
      host, path: '/', pathType: kplus.HttpIngressPathType.PREFIX,
      backend: kplus.IngressBackend.fromService(service, { port }),
    }],
  });
  if (ingress.tlsSecretName !== undefined) {
    const secretName = requireDnsSubdomain('ingress.tlsSecretName', ingress.tlsSecretName);
    result.addTls([{ hosts: [host], secret: kplus.Secret.fromSecretName(scope, 'ingress-tls-secret', secretName) }]);
  }
  return result;
}
