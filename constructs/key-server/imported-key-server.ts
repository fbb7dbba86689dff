// A key server installed by other means (dist/ applied by hand, the Helm chart, another team's cdk8s app), described
// by its attributes so monitoring can be built for it: what KeyServerApp.fromAttributes returns.
import { Construct } from 'constructs';
import { defaultImage } from '../images';
import { NamedPortNetworkPolicy, PeerSelector } from '../network-policy';
import type { SecretKeyReference } from '../secrets';
import { requireDnsLabel, requireDnsSubdomain, requireLabels, requireLabelValue } from '../validation';
import { keyServerDefaults, keyServerLabels, keyServerSelectorLabels } from './defaults';
import type { IKeyServer } from './key-server';
import { validatedPeer } from './network-policy';
import { ContainerLimits, defaultContainerLimits, validatedContainerLimits } from './resources';
import { caCertificateKey, defaultTlsSecretName, tlsServerName } from './tls';

/**
 * What is known of a key server this app did not create. Every attribute defaults to what KeyServerApp emits with the
 * same `name`, so a key server installed from this package's manifests needs at most its name and namespace.
 */
export interface KeyServerAttributes {
  /**
   * Base name of its objects (`app.kubernetes.io/instance`).
   * @default 'key-server'
   */
  readonly name?: string;
  /**
   * Namespace it runs in.
   * @default 'key-server'
   */
  readonly namespace?: string;
  /**
   * `app.kubernetes.io/version` of its objects, repeated on the objects made for it.
   * @default - the tag of this package's image (versions.json `images.keyServer.tag`)
   */
  readonly version?: string;
  /**
   * `app.kubernetes.io/part-of` of its objects, repeated on the objects made for it.
   * @default 'key-server'
   */
  readonly partOf?: string;
  /**
   * Name of its Service.
   * @default - `name`
   */
  readonly serviceName?: string;
  /**
   * Labels that select its pods, carried by its Service too.
   * @default - KeyServerApp's: `app.kubernetes.io/name: key-server`, `app.kubernetes.io/instance: <name>`, `app.kubernetes.io/component: server`
   */
  readonly selectorLabels?: Record<string, string>;
  /**
   * Name of its Deployment.
   * @default - `name`
   */
  readonly deploymentName?: string;
  /**
   * Name of its container.
   * @default 'key-server'
   */
  readonly containerName?: string;
  /**
   * Name of the port serving only /metrics.
   * @default 'metrics'
   */
  readonly metricsPortName?: string;
  /**
   * Path of the metrics endpoint.
   * @default '/metrics'
   */
  readonly metricsPath?: string;
  /**
   * The CA that signed its certificate, in a Secret of its namespace.
   * @default - key `ca.crt` of Secret `<name>-tls`, where cert-manager writes it for KeyServerApp
   */
  readonly caSecret?: SecretKeyReference;
  /**
   * The name its certificate is verified against.
   * @default - `<serviceName>.<namespace>.svc`
   */
  readonly tlsServerName?: string;
  /**
   * Its container's CPU and memory limits, for the resource alerts.
   * @default - KeyServerApp's default limits: 1 CPU, 256Mi
   */
  readonly containerLimits?: ContainerLimits;
  /**
   * Whether NetworkPolicies isolate its pods, as KeyServerApp's does. Then a peer needs a policy of its own to reach
   * the metrics port, and `allowMetricsFrom` writes one (`<name>-allow-metrics`; policies add up). Without isolation
   * it writes nothing: a policy that selects the pods would isolate them, and every client of the https port that no
   * policy admits would be cut off.
   * @default false
   */
  readonly isolatedByNetworkPolicy?: boolean;
}

/** A key server known by its attributes; see {@link KeyServerAttributes}. */
export class ImportedKeyServer extends Construct implements IKeyServer {
  public readonly name: string;
  public readonly namespace: string;
  public readonly version: string;
  public readonly partOf: string;
  public readonly serviceName: string;
  public readonly selectorLabels: Record<string, string>;
  public readonly deploymentName: string;
  public readonly containerName: string;
  public readonly metricsPortName: string;
  public readonly metricsPath: string;
  public readonly caSecret: SecretKeyReference;
  public readonly tlsServerName: string;
  public readonly containerLimits: ContainerLimits;
  /** Whether `allowMetricsFrom` writes a policy (see {@link KeyServerAttributes.isolatedByNetworkPolicy}). */
  public readonly isolatedByNetworkPolicy: boolean;
  /** The policy admitting peers to the metrics port, once a peer was admitted to an isolated key server. */
  private metricsPolicy?: NamedPortNetworkPolicy;

  constructor(scope: Construct, id: string, attributes: KeyServerAttributes) {
    super(scope, id);
    this.name = requireDnsLabel('name', attributes.name ?? keyServerDefaults.name);
    this.namespace = requireDnsLabel('namespace', attributes.namespace ?? keyServerDefaults.namespace);
    this.version = requireLabelValue('version', attributes.version ?? defaultImage('keyServer').tag!);
    this.partOf = requireLabelValue('partOf', attributes.partOf ?? keyServerDefaults.partOf);
    this.serviceName = requireDnsLabel('serviceName', attributes.serviceName ?? this.name);
    this.selectorLabels = { ...requireLabels('selectorLabels', attributes.selectorLabels ?? keyServerSelectorLabels(this.name)) };
    if (Object.keys(this.selectorLabels).length === 0) {
      throw new Error('selectorLabels must not be empty: it would select every pod and Service of the namespace');
    }
    this.deploymentName = requireDnsSubdomain('deploymentName', attributes.deploymentName ?? this.name);
    this.containerName = requireDnsLabel('containerName', attributes.containerName ?? keyServerDefaults.containerName);
    this.metricsPortName = requirePortName('metricsPortName', attributes.metricsPortName ?? keyServerDefaults.metricsPortName);
    this.metricsPath = requirePath('metricsPath', attributes.metricsPath ?? keyServerDefaults.metricsPath);
    const caSecret = attributes.caSecret ?? { name: defaultTlsSecretName(this.name), key: caCertificateKey };
    this.caSecret = { name: requireDnsSubdomain('caSecret.name', caSecret.name), key: caSecret.key };
    this.tlsServerName = requireDnsSubdomain('tlsServerName', attributes.tlsServerName ?? tlsServerName(this.serviceName, this.namespace));
    this.containerLimits = validatedContainerLimits('containerLimits', attributes.containerLimits ?? defaultContainerLimits);
    this.isolatedByNetworkPolicy = attributes.isolatedByNetworkPolicy ?? false;
  }

  public allowMetricsFrom(peer: PeerSelector): void {
    if (!this.isolatedByNetworkPolicy) return;
    this.metricsPolicy ??= new NamedPortNetworkPolicy(this, 'allow-metrics', {
      metadata: { name: `${this.name}-allow-metrics`, namespace: this.namespace, labels: keyServerLabels(this.name, this.version, this.partOf) },
      selectorLabels: this.selectorLabels,
    });
    this.metricsPolicy.allowFrom(this.metricsPortName, validatedPeer('allowMetricsFrom peer', peer));
  }
}

/** An IANA service name, as a container port name must be: at most 15 characters, lower case, a letter among them. */
function requirePortName(prop: string, value: string): string {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(value) || value.length > 15 || !/[a-z]/.test(value) || value.includes('--')) {
    throw new Error(`${prop} must be a port name (at most 15 lower-case letters, digits and single '-', with a letter); got '${value}'`);
  }
  return value;
}

/** An absolute URL path. */
function requirePath(prop: string, value: string): string {
  if (!/^\/[\x21-\x7e]*$/.test(value)) throw new Error(`${prop} must be an absolute path such as '/metrics'; got '${value}'`);
  return value;
}
