// The serving certificate of KeyServerApp: either a Secret the user already has, or cert-manager Certificates.
import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import {
  Certificate, CertificateSpecPrivateKeyAlgorithm, CertificateSpecPrivateKeyRotationPolicy, CertificateSpecUsages,
} from '../../imports/certificates-cert-manager.io';
import { Issuer } from '../../imports/issuers-cert-manager.io';
import { controllerCreatedLabels } from '../labels';
import { requireDnsSubdomain, requireOneOf } from '../validation';

/** The kinds of cert-manager issuer a Certificate may reference. */
export enum IssuerKind {
  /** An Issuer in the key server's namespace. */
  ISSUER = 'Issuer',
  /** A ClusterIssuer, which signs for every namespace. */
  CLUSTER_ISSUER = 'ClusterIssuer',
}

/** A cert-manager issuer that signs the serving certificate. */
export interface IssuerReference {
  /** Name of the Issuer (in the app's namespace) or ClusterIssuer. */
  readonly name: string;
  /**
   * Whether `name` is a namespaced Issuer or a ClusterIssuer.
   * @default IssuerKind.ISSUER
   */
  readonly kind?: IssuerKind;
}

/**
 * Where the key server's certificate comes from. Give `existingSecretName` or `issuer`, not both; give
 * neither to let the construct bootstrap a private CA with cert-manager in the namespace.
 */
export interface KeyServerTlsProps {
  /**
   * Name of an existing `kubernetes.io/tls` Secret in the namespace. The construct mounts it and creates
   * no Certificate. A Secret made by hand may lack `ca.crt`; scrapers then need another CA source.
   * @default - a Secret written by cert-manager
   */
  readonly existingSecretName?: string;
  /**
   * The cert-manager Issuer or ClusterIssuer that signs the serving certificate.
   * @default - a self-signed CA bootstrapped in the namespace (selfSigned Issuer, CA Certificate, CA Issuer)
   */
  readonly issuer?: IssuerReference;
  /**
   * Name of the Secret cert-manager writes the serving certificate to.
   * @default `<name>-tls`
   */
  readonly secretName?: string;
  /**
   * Lifetime of the serving certificate.
   * @default Duration.days(90)
   */
  readonly duration?: Duration;
  /**
   * How long before expiry cert-manager renews it; the server hot-reloads the new files.
   * @default Duration.days(30)
   */
  readonly renewBefore?: Duration;
}

/** The key of the CA certificate in the Secret cert-manager writes, which clients (and Prometheus) trust. */
export const caCertificateKey = 'ca.crt';

/** The Secret cert-manager writes the serving certificate to unless `secretName` says otherwise. */
export function defaultTlsSecretName(name: string): string {
  return `${name}-tls`;
}

/** The names a client inside the cluster may use for the Service, all on the certificate. */
export function serviceDnsNames(service: string, namespace: string, clusterDomain: string): string[] {
  return [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.${clusterDomain}`];
}

/**
 * The name a scraper verifies the certificate against: `<service>.<namespace>.svc`, one of {@link serviceDnsNames}.
 * Scrapes go to pod IPs, which the certificate does not name, so the scraper must say which name it expects.
 */
export function tlsServerName(service: string, namespace: string): string {
  return `${service}.${namespace}.svc`;
}

/** What KeyServerTls needs from the app that owns it. */
export interface KeyServerTlsContext extends KeyServerTlsProps {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Record<string, string>;
  /** DNS names the serving certificate must cover (the Service's names). */
  readonly dnsNames: readonly string[];
}

const caDuration = Duration.days(5 * 365);
const caRenewBefore = Duration.days(365);

/** A cert-manager `spec.duration` value: whole hours, which every Go duration parser accepts. */
export function toGoDuration(prop: string, duration: Duration): string {
  const hours = duration.toHours({ integral: false });
  if (!Number.isInteger(hours) || hours < 1) {
    throw new Error(`${prop} must be a whole number of hours, at least 1; got ${duration.toHumanString()}`);
  }
  return `${hours}h`;
}

/**
 * Emits (or references) the Secret that holds the key server's certificate. cert-manager writes
 * `tls.crt`, `tls.key` and `ca.crt` into it; the pod mounts it and the server reloads it on change.
 */
export class KeyServerTls extends Construct {
  /** The Secret the pod mounts. */
  public readonly secretName: string;
  /** The key in that Secret holding the CA certificate clients (and Prometheus) trust. */
  public readonly caSecretKey = caCertificateKey;
  /** The serving Certificate, when cert-manager issues it. */
  public readonly certificate?: Certificate;
  /** The issuer that signs the serving certificate, when cert-manager issues it. */
  public readonly issuer?: Required<IssuerReference>;

  constructor(scope: Construct, id: string, props: KeyServerTlsContext) {
    super(scope, id);
    if (props.existingSecretName !== undefined && (props.issuer !== undefined || props.secretName !== undefined)) {
      throw new Error('tls.existingSecretName cannot be combined with tls.issuer or tls.secretName: name an existing Secret, or let cert-manager write one');
    }
    if (props.existingSecretName !== undefined) {
      this.secretName = requireDnsSubdomain('tls.existingSecretName', props.existingSecretName);
      return;
    }
    this.secretName = requireDnsSubdomain('tls.secretName', props.secretName ?? defaultTlsSecretName(props.name));
    this.issuer = props.issuer !== undefined ? validatedIssuer(props.issuer) : this.bootstrapCa(props);
    const duration = props.duration ?? Duration.days(90);
    const renewBefore = props.renewBefore ?? Duration.days(30);
    const durationText = toGoDuration('tls.duration', duration);
    const renewBeforeText = toGoDuration('tls.renewBefore', renewBefore);
    if (renewBefore.toSeconds() >= duration.toSeconds()) {
      throw new Error(`tls.renewBefore (${renewBefore.toHumanString()}) must be shorter than tls.duration (${duration.toHumanString()})`);
    }
    this.certificate = new Certificate(this, 'certificate', {
      metadata: { name: props.name, namespace: props.namespace, labels: props.labels },
      spec: {
        secretName: this.secretName,
        // Labels on the Secret let a person find it next to the rest of the app; none that claims GitOps ownership
        // of an object Git does not hold (see controllerCreatedLabels).
        secretTemplate: { labels: controllerCreatedLabels(props.labels) },
        dnsNames: [...props.dnsNames],
        duration: durationText,
        renewBefore: renewBeforeText,
        usages: [CertificateSpecUsages.SERVER_AUTH, CertificateSpecUsages.DIGITAL_SIGNATURE],
        privateKey: {
          algorithm: CertificateSpecPrivateKeyAlgorithm.ECDSA,
          size: 256,
          // A fresh key on every renewal: a leaked key expires with its certificate.
          rotationPolicy: CertificateSpecPrivateKeyRotationPolicy.ALWAYS,
        },
        issuerRef: { name: this.issuer.name, kind: this.issuer.kind, group: 'cert-manager.io' },
      },
    });
  }

  /** The cert-manager CA bootstrap: a self-signed root signs nothing but the namespace's own CA Issuer. */
  private bootstrapCa(props: KeyServerTlsContext): Required<IssuerReference> {
    const meta = (name: string) => ({ name, namespace: props.namespace, labels: props.labels });
    const selfSignedName = `${props.name}-selfsigned`;
    const caName = `${props.name}-ca`;
    new Issuer(this, 'selfsigned-issuer', { metadata: meta(selfSignedName), spec: { selfSigned: {} } });
    new Certificate(this, 'ca-certificate', {
      metadata: meta(caName),
      spec: {
        isCa: true,
        commonName: caName,
        secretName: caName,
        duration: toGoDuration('ca duration', caDuration),
        renewBefore: toGoDuration('ca renewBefore', caRenewBefore),
        // The CA keeps its key when cert-manager renews it (cert-manager 1.18+ defaults to Always): the renewed CA
        // certificate has the same subject and key, so a leaf it signs verifies against the old CA certificate
        // too, and clients that pinned `ca.crt` keep working until the old one expires a year later (renewBefore).
        privateKey: { algorithm: CertificateSpecPrivateKeyAlgorithm.ECDSA, size: 256, rotationPolicy: CertificateSpecPrivateKeyRotationPolicy.NEVER },
        issuerRef: { name: selfSignedName, kind: 'Issuer', group: 'cert-manager.io' },
      },
    });
    new Issuer(this, 'ca-issuer', { metadata: meta(caName), spec: { ca: { secretName: caName } } });
    return { name: caName, kind: IssuerKind.ISSUER };
  }
}

function validatedIssuer(issuer: IssuerReference): Required<IssuerReference> {
  return {
    name: requireDnsSubdomain('tls.issuer.name', issuer.name),
    kind: requireOneOf('tls.issuer.kind', issuer.kind ?? IssuerKind.ISSUER, Object.values(IssuerKind)),
  };
}
