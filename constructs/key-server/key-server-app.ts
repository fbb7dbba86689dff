// KeyServerApp: everything one installation of the key server needs in a cluster, with production defaults.
import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { DisruptionBudget } from '../disruption-budget';
import { formatImageReference } from '../images';
import type { NamedPortNetworkPolicy, PeerSelector } from '../network-policy';
import type { SecretKeyReference } from '../secrets';
import { refuseReplacedProps, requireDnsLabel, requireDnsSubdomain, requireLabelValue, requireOwnNamespace } from '../validation';
import { HardenedWorkload } from '../workload';
import {
  authTokenFile, KeyServerAccessControlProps, KeyServerRateLimitProps, rateLimitSettings, validatedAccessControl,
} from './access-control';
import { keyServerArgs, serverConfig } from './args';
import { addKeyServerContainer, tlsFiles } from './container';
import { keyServerDefaults, keyServerLabels, keyServerSelectorLabels } from './defaults';
import { ImportedKeyServer, KeyServerAttributes } from './imported-key-server';
import { addIngress, KeyServerIngressProps } from './ingress';
import type { IKeyServer } from './key-server';
import {
  EgressPolicy, keyServerNetworkPolicy, PrometheusSelector, validatedClients, validatedEgress, validatedPeer, validatedPrometheusSelector,
} from './network-policy';
import { validatedGracePeriod, validatedHost, validatedImage, validatedPorts } from './prop-validation';
import { ContainerLimits, containerLimitsOf, defaultKeyServerResources, validatedResources } from './resources';
import { addAutoscaler, KeyServerScaling, resolveScaling } from './scaling';
import { addKeyServerService } from './service';
import { spreadPods } from './spread';
import { KeyServerTls, KeyServerTlsProps, serviceDnsNames, tlsServerName } from './tls';

/** Props of {@link KeyServerApp}. Every field has a production default. */
export interface KeyServerAppProps {
  /**
   * Base name of every object and `app.kubernetes.io/instance`.
   * @default 'key-server'
   */
  readonly name?: string;
  /**
   * Namespace of every object. With `createNamespace`, a namespace of its own: `default` and `kube-*` are refused.
   * @default 'key-server'
   */
  readonly namespace?: string;
  /**
   * Whether to emit the Namespace (labelled to enforce Pod Security "restricted").
   * @default true
   */
  readonly createNamespace?: boolean;
  /**
   * Image repository with its registry and without tag, e.g. `registry.example.com/team/key-server`. A name without a
   * registry is refused: it would resolve to docker.io/library/key-server, which does not exist.
   * @default - versions.json `images.keyServer.repository` (`ghcr.io/example/key-server`): push the image there, or
   * change it in that one place
   */
  readonly image?: string;
  /**
   * Image tag. `latest` is refused: a rollout must name what it deploys.
   * @default - versions.json `images.keyServer.tag`, which is this package's version
   */
  readonly imageTag?: string;
  /**
   * Image digest (`sha256:<64 hex digits>`), which pins the exact image whatever the tag later points at; the
   * container then runs `<image>:<tag>@<digest>`.
   * @default - none: the tag alone
   */
  readonly imageDigest?: string;
  /**
   * How many pods run: an autoscaler's range (`KeyServerScaling.autoscale({ minReplicas, maxReplicas, ... })`) or a
   * fixed count (`KeyServerScaling.fixedReplicas(n)`).
   * @default KeyServerScaling.autoscale(): CPU 70 %, 2 to 10 pods
   */
  readonly scaling?: KeyServerScaling;
  /**
   * How many pods a node drain may evict at once. None is emitted while at most one pod can run.
   * @default DisruptionBudget.onePodAtATime(): maxUnavailable 1, unhealthy pods always evictable
   */
  readonly podDisruptionBudget?: DisruptionBudget;
  /**
   * Largest key in bytes (`--max-size`; the server caps it at 65536). A plain number because cdk8s `Size`
   * cannot express single bytes.
   * @default 1024
   */
  readonly maxSize?: number;
  /**
   * Smallest key in bytes (`--min-size`).
   * @default 1
   */
  readonly minSize?: number;
  /**
   * Most connections one pod holds open (`--max-connections`); past it a newcomer takes the slot of a connection idle
   * or stuck for a second, or is refused. Sized for the default memory request: raise `resources` with it (an open
   * connection costs 55 to 100 KiB over HTTP/1.1 and up to 250 KiB over HTTP/2).
   * @default - the server's default, 128
   */
  readonly maxConnections?: number;
  /**
   * Port serving keys over HTTPS (`--srv-port`), named `https`.
   * @default 1123
   */
  readonly httpsPort?: number;
  /**
   * Port serving only /metrics (`--metrics-port`), named `metrics`.
   * @default 9464
   */
  readonly metricsPort?: number;
  /**
   * Address the server listens on (`--host`). `::` accepts IPv6 and, on Linux, IPv4 too (dual-stack), so the same
   * manifests work in IPv4, IPv6 and dual-stack clusters; nodes whose kernel has IPv6 switched off
   * (`ipv6.disable=1`) need `'0.0.0.0'`.
   * @default '::'
   */
  readonly host?: string;
  /**
   * Time the server keeps answering after SIGTERM while reporting not ready, so endpoints drop it first
   * (`--shutdown-delay`).
   * @default Duration.seconds(5)
   */
  readonly shutdownDelay?: Duration;
  /**
   * Time Kubernetes waits after SIGTERM before SIGKILL; must exceed `shutdownDelay` plus the server's 10 s drain.
   * @default - `shutdownDelay` plus 25 seconds: the server then drains connections for up to 10 s, with margin
   */
  readonly terminationGracePeriod?: Duration;
  /**
   * Whether the server logs every request (`--access-log`).
   * @default false
   */
  readonly accessLog?: boolean;
  /**
   * CPU and memory requests and limits of the container. The memory limit (at least 128Mi) also sets V8's heap
   * ceiling: `NODE_OPTIONS=--max-old-space-size=<half the limit in MiB>`.
   * @default - requests 100m CPU / 96Mi memory, limits 1 CPU / 256Mi memory (measured, see defaultKeyServerResources)
   */
  readonly resources?: kplus.ContainerResources;
  /**
   * Spread pods across zones (`topology.kubernetes.io/zone`) as well as nodes.
   * @default false
   */
  readonly spreadAcrossZones?: boolean;
  /**
   * Where the certificate comes from.
   * @default - a private CA bootstrapped with cert-manager in the namespace
   */
  readonly tls?: KeyServerTlsProps;
  /**
   * Cluster DNS domain, for the certificate's DNS names.
   * @default 'cluster.local'
   */
  readonly clusterDomain?: string;
  /**
   * Clients allowed to reach the `https` port; at least one when given (leave it out to admit any source). With an
   * `ingress`, include the ingress controller's pods: nothing else is admitted, the controller included.
   * @default - any source
   */
  readonly allowedClients?: PeerSelector[];
  /**
   * The Prometheus allowed to reach the `metrics` port; nothing else may, unless admitted with `allowMetricsFrom`.
   * @default - pods `app.kubernetes.io/name: prometheus` in namespace `monitoring`
   */
  readonly prometheusSelector?: PrometheusSelector;
  /**
   * Where the pods may send traffic: nowhere, or DNS only. The server makes no outbound calls.
   * @default EgressPolicy.NONE
   */
  readonly egress?: EgressPolicy;
  /**
   * An Ingress for external access.
   * @default - none
   */
  readonly ingress?: KeyServerIngressProps;
  /**
   * `app.kubernetes.io/part-of`.
   * @default 'key-server'
   */
  readonly partOf?: string;
  /**
   * Require a bearer token on `/key`, read from a mounted Secret.
   * @default - off: `/key` answers every client the NetworkPolicy admits
   */
  readonly accessControl?: KeyServerAccessControlProps;
  /**
   * Limit `/key` requests per client address.
   * @default - no limit
   */
  readonly rateLimit?: KeyServerRateLimitProps;
}

/** The image's user (nobody), which owns nothing in the image and may write nowhere. */
const nobody = 65534;

/** Props of earlier releases, refused by name with what replaced them (JavaScript callers get no compiler error). */
const replacedProps = {
  replicas: 'use scaling: KeyServerScaling.fixedReplicas(n), or KeyServerScaling.autoscale({ minReplicas: n })',
  autoscaling: 'use scaling: KeyServerScaling.autoscale({ ... }), or KeyServerScaling.fixedReplicas(n) for no autoscaler',
} as const;

/**
 * One installation of the key server: Namespace, ServiceAccount, Deployment, Service, TLS certificate,
 * HorizontalPodAutoscaler, PodDisruptionBudget, NetworkPolicy and, when asked, an Ingress.
 */
export class KeyServerApp extends Construct implements IKeyServer {
  /**
   * A key server this app did not create (installed from dist/, the Helm chart, or by another app), for monitoring
   * and anything else that wires to an {@link IKeyServer}. Attributes default to what KeyServerApp emits.
   */
  public static fromAttributes(scope: Construct, id: string, attributes: KeyServerAttributes = {}): IKeyServer {
    return new ImportedKeyServer(scope, id, attributes);
  }

  /** Namespace of every object. */
  public readonly namespace: string;
  /** Base name of every object. */
  public readonly name: string;
  public readonly deployment: kplus.Deployment;
  public readonly service: kplus.Service;
  public readonly serviceAccount: kplus.ServiceAccount;
  /** The emitted Namespace, when `createNamespace` is on. */
  public readonly namespaceResource?: kplus.Namespace;
  public readonly horizontalPodAutoscaler?: kplus.HorizontalPodAutoscaler;
  public readonly podDisruptionBudget?: kplus.k8s.KubePodDisruptionBudget;
  public readonly networkPolicy: kplus.k8s.KubeNetworkPolicy;
  public readonly ingress?: kplus.Ingress;
  /** The serving certificate's Secret and, with cert-manager, its Certificate. */
  public readonly tls: KeyServerTls;
  /** Name of the container and Service port serving keys. */
  public readonly httpsPortName: string = keyServerDefaults.httpsPortName;
  public readonly httpsPort: number;
  public readonly metricsPortName: string = keyServerDefaults.metricsPortName;
  public readonly metricsPort: number;
  public readonly metricsPath: string = keyServerDefaults.metricsPath;
  /** The metrics port serves the same certificate as the https port, so scrapers need `ca.crt` from the TLS Secret. */
  public readonly metricsScheme: string = 'https';
  /** Labels that select the pods (stable across versions); the Service carries them too. */
  public readonly selectorLabels: Record<string, string>;
  /** The recommended `app.kubernetes.io/*` labels on every object. */
  public readonly labels: Record<string, string>;
  /** `app.kubernetes.io/version`: the image tag. */
  public readonly version: string;
  /** `app.kubernetes.io/part-of`. */
  public readonly partOf: string;
  /** Name of the Service, which is also its `job` label in Prometheus. */
  public readonly serviceName: string;
  /** Name of the Deployment. */
  public readonly deploymentName: string;
  /** Name of the one container. */
  public readonly containerName: string = keyServerDefaults.containerName;
  /** The mounted `kubernetes.io/tls` Secret. */
  public readonly tlsSecretName: string;
  /** Key of the CA certificate in that Secret, for a scraper's tlsConfig. */
  public readonly tlsCaSecretKey: string;
  /** Key `tlsCaSecretKey` of Secret `tlsSecretName`: the CA scrapers verify the metrics port against. */
  public readonly caSecret: SecretKeyReference;
  /** `<service>.<namespace>.svc`, the certificate name scrapers verify. */
  public readonly tlsServerName: string;
  /** The Secret holding the access tokens, when `accessControl` is on. */
  public readonly tokenSecretName?: string;
  /** The container args exactly as in the manifest. */
  public readonly serverArgs: readonly string[];
  public readonly shutdownDelay: Duration;
  /** `registry/repository:tag`, with `@digest` when pinned, as the container runs it. */
  public readonly image: string;
  /** The container's CPU and memory, defaults applied. */
  public readonly resources: kplus.ContainerResources;
  /** The container's limits as numbers, for alerts that compare usage with them. */
  public readonly containerLimits: ContainerLimits;
  /** The Prometheus selector the NetworkPolicy admits to the metrics port, defaults applied. */
  public readonly prometheusSelector: Required<PrometheusSelector>;
  private readonly policy: NamedPortNetworkPolicy;

  constructor(scope: Construct, id: string, props: KeyServerAppProps = {}) {
    super(scope, id);
    refuseReplacedProps(props, replacedProps);
    this.name = requireDnsLabel('name', props.name ?? keyServerDefaults.name);
    this.namespace = requireDnsLabel('namespace', props.namespace ?? keyServerDefaults.namespace);
    const image = validatedImage(props.image, props.imageTag, props.imageDigest);
    this.image = formatImageReference(image);
    this.version = image.tag!;
    this.resources = validatedResources(props.resources ?? defaultKeyServerResources);
    this.containerLimits = containerLimitsOf(this.resources);
    ({ httpsPort: this.httpsPort, metricsPort: this.metricsPort } = validatedPorts(
      props.httpsPort ?? keyServerDefaults.httpsPort, props.metricsPort ?? keyServerDefaults.metricsPort));
    this.shutdownDelay = props.shutdownDelay ?? Duration.seconds(keyServerDefaults.shutdownDelaySeconds);
    const scaling = resolveScaling('scaling', props.scaling ?? KeyServerScaling.autoscale());
    const egress = validatedEgress(props.egress);
    const clusterDomain = requireDnsSubdomain('clusterDomain', props.clusterDomain ?? 'cluster.local');
    const accessControl = props.accessControl === undefined ? undefined : validatedAccessControl(props.accessControl);
    this.tokenSecretName = accessControl?.tokenSecretName;
    this.partOf = requireLabelValue('partOf', props.partOf ?? keyServerDefaults.partOf);
    this.labels = keyServerLabels(this.name, this.version, this.partOf);
    this.selectorLabels = keyServerSelectorLabels(this.name);
    this.prometheusSelector = validatedPrometheusSelector(props.prometheusSelector);
    const workload = new HardenedWorkload(this, {
      name: this.name, namespace: this.namespace, labels: this.labels, selectorLabels: this.selectorLabels, user: nobody,
    });

    if (props.createNamespace ?? true) {
      requireOwnNamespace('namespace', this.namespace, 'createNamespace');
      this.namespaceResource = this.addNamespace();
    }

    this.serviceAccount = new kplus.ServiceAccount(this, 'service-account', { metadata: workload.metadata(), automountToken: false });

    this.serviceName = this.name;
    this.deploymentName = this.name;
    this.tls = new KeyServerTls(this, 'tls', {
      ...props.tls,
      name: this.name,
      namespace: this.namespace,
      labels: this.labels,
      dnsNames: serviceDnsNames(this.serviceName, this.namespace, clusterDomain),
    });
    this.tlsSecretName = this.tls.secretName;
    this.tlsCaSecretKey = this.tls.caSecretKey;
    this.caSecret = { name: this.tlsSecretName, key: this.tlsCaSecretKey };
    this.tlsServerName = tlsServerName(this.serviceName, this.namespace);

    // The server's own parser checks these props (args.ts) and names the one it refuses.
    this.serverArgs = Object.freeze(keyServerArgs(serverConfig({
      host: validatedHost(props.host ?? keyServerDefaults.host),
      srvPort: this.httpsPort,
      metricsPort: this.metricsPort,
      maxSize: props.maxSize ?? keyServerDefaults.maxSize,
      minSize: props.minSize ?? keyServerDefaults.minSize,
      ...(props.maxConnections === undefined ? {} : { maxConnections: props.maxConnections }),
      // Milliseconds over 1000, so 2.5 s stays 2.5 instead of being rounded by Duration.toSeconds.
      shutdownDelay: this.shutdownDelay.toMilliseconds() / 1000,
      tls: tlsFiles,
      authTokenFile: accessControl === undefined ? undefined : authTokenFile,
      ...(props.rateLimit === undefined ? {} : rateLimitSettings(props.rateLimit)),
      accessLog: props.accessLog ?? false,
    })));
    const terminationGracePeriod = validatedGracePeriod(this.shutdownDelay, props.terminationGracePeriod);

    this.deployment = new kplus.Deployment(this, 'deployment', {
      ...workload.podTemplateProps(),
      replicas: scaling.fixedReplicas,
      strategy: kplus.DeploymentStrategy.rollingUpdate({
        maxUnavailable: kplus.PercentOrAbsolute.absolute(0),
        maxSurge: kplus.PercentOrAbsolute.absolute(1),
      }),
      serviceAccount: this.serviceAccount,
      automountServiceAccountToken: false,
      terminationGracePeriod,
    });
    addKeyServerContainer(this, this.deployment, {
      name: this.containerName,
      image: this.image,
      args: this.serverArgs,
      ports: { https: { name: this.httpsPortName, number: this.httpsPort }, metrics: { name: this.metricsPortName, number: this.metricsPort } },
      resources: this.resources,
      securityContext: workload.containerSecurity,
      tlsSecretName: this.tlsSecretName,
      accessControl,
    });
    workload.harden(this.deployment);
    spreadPods(this.deployment, this.selectorLabels, props.spreadAcrossZones ?? false);

    this.service = addKeyServerService(workload, {
      name: this.serviceName,
      https: { name: this.httpsPortName, port: this.httpsPort },
      metrics: { name: this.metricsPortName, port: this.metricsPort, path: this.metricsPath, scheme: this.metricsScheme },
    });

    this.horizontalPodAutoscaler = addAutoscaler(this, scaling, this.deployment, workload.metadata());
    this.podDisruptionBudget = workload.addDisruptionBudget('disruption-budget', {
      mostPods: scaling.mostPods, budget: props.podDisruptionBudget, prop: 'podDisruptionBudget',
    });
    this.policy = keyServerNetworkPolicy(workload, {
      httpsPortName: this.httpsPortName,
      metricsPortName: this.metricsPortName,
      allowedClients: validatedClients(props.allowedClients),
      prometheusSelector: this.prometheusSelector,
      egress,
    });
    this.networkPolicy = this.policy.resource;
    if (props.ingress !== undefined) this.ingress = addIngress(this, props.ingress, this.service, this.httpsPort, workload.metadata());

    // Namespace first, so `kubectl apply` never meets an object whose namespace does not exist yet.
    if (this.namespaceResource !== undefined) {
      for (const child of this.node.children) {
        if (child !== this.namespaceResource) child.node.addDependency(this.namespaceResource);
      }
    }
  }

  /** Admits `peer` to the metrics port: it joins the metrics rule of this key server's one NetworkPolicy. */
  public allowMetricsFrom(peer: PeerSelector): void {
    this.policy.allowFrom(this.metricsPortName, validatedPeer('allowMetricsFrom peer', peer));
  }

  private addNamespace(): kplus.Namespace {
    return new kplus.Namespace(this, 'namespace', {
      metadata: {
        name: this.namespace,
        labels: {
          ...this.labels,
          // The API server then refuses any pod in this namespace that breaks "restricted".
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'latest',
        },
      },
    });
  }
}
