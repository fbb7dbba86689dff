// KeyServerApp: everything one installation of the key server needs in a cluster, with production defaults.
import { ApiObject, Duration, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { MAX_SIZE_HARD_CAP, RATE_LIMIT_CAP, SHUTDOWN_DELAY_CAP } from '../server/config';
import { disruptionBudget } from './disruption-budget';
import { defaultImage, formatImageReference, ImageReference, parseImageReference } from './images';
import {
  ContainerLimits, containerLimitsOf, cpuCores, defaultKeyServerResources, minimumMemoryLimit, nodeOptionsFor,
} from './key-server-resources';
import { KeyServerTls, KeyServerTlsProps } from './key-server-tls';
import { secretVolume } from './secret-volume';
import { recommendedLabels, selectorLabelsOf } from './labels';
import {
  requireDnsLabel, requireDnsSubdomain, requireInteger, requireLabels, requireLabelValue, requireOneOf, requirePort,
} from './validation';

/** Pods, possibly in other namespaces, identified by labels. */
export interface PeerSelector {
  /**
   * Labels of the namespaces the pods run in; `{}` means every namespace.
   * @default - only the app's own namespace
   */
  readonly namespaceLabels?: Record<string, string>;
  /**
   * Labels of the pods; `{}` means every pod of the selected namespaces.
   * @default {}
   */
  readonly podLabels?: Record<string, string>;
}

/** The Prometheus allowed to reach the metrics port. */
export interface PrometheusSelector {
  /**
   * Labels of the namespace Prometheus runs in.
   * @default { 'kubernetes.io/metadata.name': 'monitoring' }
   */
  readonly namespaceLabels?: Record<string, string>;
  /**
   * Labels of the Prometheus pods.
   * @default { 'app.kubernetes.io/name': 'prometheus' }
   */
  readonly podLabels?: Record<string, string>;
}

/** Horizontal pod autoscaling (`autoscaling/v2`). */
export interface KeyServerAutoscalingProps {
  /**
   * Fewest pods.
   * @default - `replicas` when given, else 2
   */
  readonly minReplicas?: number;
  /**
   * Most pods.
   * @default 10
   */
  readonly maxReplicas?: number;
  /**
   * Target average CPU use, in percent of the CPU request.
   * @default 70
   */
  readonly cpuUtilization?: number;
  /**
   * Target average memory use, in percent of the memory request.
   * @default - memory does not drive scaling (key generation is CPU-bound)
   */
  readonly memoryUtilization?: number;
}

/** The PodDisruptionBudget (`policy/v1`), emitted whenever more than one pod can run. */
export interface KeyServerDisruptionBudgetProps {
  /**
   * Pods a node drain may evict at once, however many the autoscaler runs: `PercentOrAbsolute.absolute(1)` or
   * `PercentOrAbsolute.percent(25)`. Unhealthy pods can always be evicted (`unhealthyPodEvictionPolicy: AlwaysAllow`).
   * @default PercentOrAbsolute.absolute(1)
   */
  readonly maxUnavailable?: kplus.PercentOrAbsolute;
}

/** An Ingress for access from outside the cluster. */
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

/** Where the key server pods may send traffic. */
export type EgressPolicy = 'none' | 'dns';
const egressPolicies: readonly EgressPolicy[] = ['none', 'dns'];

/** Props of {@link KeyServerApp}. Every field has a production default. */
export interface KeyServerAppProps {
  /**
   * Base name of every object and `app.kubernetes.io/instance`.
   * @default 'key-server'
   */
  readonly name?: string;
  /**
   * Namespace of every object.
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
   * Pod count when autoscaling is off; the autoscaler's minimum when it is on.
   * @default 2 (the autoscaler's minimum)
   */
  readonly replicas?: number;
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
   * Time Kubernetes waits after SIGTERM before SIGKILL; must exceed `shutdownDelay`.
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
   * @default - requests 100m CPU / 96Mi memory, limits 1 CPU / 192Mi memory (measured, see defaultKeyServerResources)
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
   * Horizontal pod autoscaling, or `false` for a fixed `replicas`.
   * @default - CPU 70 %, 2 to 10 pods
   */
  readonly autoscaling?: KeyServerAutoscalingProps | false;
  /**
   * PodDisruptionBudget, or `false` for none. None is emitted when at most one pod can run.
   * @default - maxUnavailable 1, unhealthy pods always evictable
   */
  readonly podDisruptionBudget?: KeyServerDisruptionBudgetProps | false;
  /**
   * Clients allowed to reach the `https` port; at least one when given (leave it out to admit any source).
   * @default - any source
   */
  readonly allowedClients?: PeerSelector[];
  /**
   * The Prometheus allowed to reach the `metrics` port; nothing else may.
   * @default - pods `app.kubernetes.io/name: prometheus` in namespace `monitoring`
   */
  readonly prometheusSelector?: PrometheusSelector;
  /**
   * Where the pods may send traffic: nowhere, or DNS only. The server makes no outbound calls.
   * @default 'none'
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

const nobody = 65534;
const tlsMountPath = '/etc/key-server/tls';
const authMountPath = '/etc/key-server/auth';
/** The token file's name inside the mounted directory, whatever the Secret key is called. */
const authFileName = 'tokens';
const containerName = 'key-server';
/** The server refuses larger keys, and longer shutdown delays, whatever its flags say. */
const serverMaxSizeCap = MAX_SIZE_HARD_CAP;
const serverShutdownDelayCap = SHUTDOWN_DELAY_CAP;

/** The container args for the server, in the order they appear in the manifest. */
export function keyServerArgs(options: {
  httpsPort: number; metricsPort: number; host: string; maxSize: number; minSize: number;
  shutdownDelay: Duration; tlsCertFile: string; tlsKeyFile: string; accessLog: boolean;
  authTokenFile?: string; rateLimit?: { requestsPerSecond: number; burst: number };
}): string[] {
  const args = [
    '--host', options.host,
    '--srv-port', String(options.httpsPort),
    '--metrics-port', String(options.metricsPort),
    '--max-size', String(options.maxSize),
    '--min-size', String(options.minSize),
    // Milliseconds over 1000, so 2.5 s stays 2.5 instead of being rounded by Duration.toSeconds.
    '--shutdown-delay', String(options.shutdownDelay.toMilliseconds() / 1000),
    '--tls-cert', options.tlsCertFile,
    '--tls-key', options.tlsKeyFile,
  ];
  if (options.authTokenFile !== undefined) args.push('--auth-token-file', options.authTokenFile);
  if (options.rateLimit !== undefined) {
    args.push('--rate-limit', String(options.rateLimit.requestsPerSecond), '--rate-limit-burst', String(options.rateLimit.burst));
  }
  return options.accessLog ? [...args, '--access-log'] : args;
}

/**
 * One installation of the key server: Namespace, ServiceAccount, Deployment, Service, TLS certificate,
 * HorizontalPodAutoscaler, PodDisruptionBudget, NetworkPolicy and, when asked, an Ingress.
 */
export class KeyServerApp extends Construct {
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
  public readonly httpsPortName = 'https';
  public readonly httpsPort: number;
  public readonly metricsPortName = 'metrics';
  public readonly metricsPort: number;
  public readonly metricsPath = '/metrics';
  /** The metrics port serves the same certificate as the https port, so scrapers need `ca.crt` from the TLS Secret. */
  public readonly metricsScheme = 'https';
  /** Labels that select the pods (stable across versions). */
  public readonly selectorLabels: Record<string, string>;
  /** The recommended `app.kubernetes.io/*` labels on every object. */
  public readonly labels: Record<string, string>;
  /** The mounted `kubernetes.io/tls` Secret. */
  public readonly tlsSecretName: string;
  /** Key of the CA certificate in that Secret, for a scraper's tlsConfig. */
  public readonly tlsCaSecretKey: string;
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

  constructor(scope: Construct, id: string, props: KeyServerAppProps = {}) {
    super(scope, id);
    this.name = requireDnsLabel('name', props.name ?? 'key-server');
    this.namespace = requireDnsLabel('namespace', props.namespace ?? 'key-server');
    const image = validatedImage(props.image, props.imageTag, props.imageDigest);
    const imageTag = image.tag!;
    this.image = formatImageReference(image);
    this.resources = validatedResources(props.resources ?? defaultKeyServerResources);
    this.containerLimits = containerLimitsOf(this.resources);
    this.httpsPort = requirePort('httpsPort', props.httpsPort ?? 1123);
    this.metricsPort = requirePort('metricsPort', props.metricsPort ?? 9464);
    if (this.httpsPort === this.metricsPort) {
      throw new Error(`httpsPort and metricsPort must differ; both are ${this.httpsPort}`);
    }
    const maxSize = requireInteger('maxSize', props.maxSize ?? 1024, 1, serverMaxSizeCap);
    const minSize = requireInteger('minSize', props.minSize ?? 1, 1, serverMaxSizeCap);
    if (minSize > maxSize) throw new Error(`minSize (${minSize}) must not exceed maxSize (${maxSize})`);
    this.shutdownDelay = props.shutdownDelay ?? Duration.seconds(5);
    const terminationGracePeriod = validatedGracePeriod(this.shutdownDelay, props.terminationGracePeriod);
    const replicas = props.replicas === undefined ? undefined : requireInteger('replicas', props.replicas, 0);
    const egress = requireOneOf('egress', props.egress ?? 'none', egressPolicies);
    const clusterDomain = requireDnsSubdomain('clusterDomain', props.clusterDomain ?? 'cluster.local');
    const accessControl = props.accessControl === undefined ? undefined : validatedAccessControl(props.accessControl);
    this.tokenSecretName = accessControl?.tokenSecretName;
    const rateLimit = props.rateLimit === undefined ? undefined : validatedRateLimit(props.rateLimit);

    const labelInput = {
      name: 'key-server', instance: this.name, component: 'server',
      version: imageTag, partOf: requireLabelValue('partOf', props.partOf ?? 'key-server'),
    };
    this.labels = recommendedLabels(labelInput);
    this.selectorLabels = selectorLabelsOf(labelInput);
    this.prometheusSelector = {
      namespaceLabels: requireLabels('prometheusSelector.namespaceLabels',
        props.prometheusSelector?.namespaceLabels ?? { 'kubernetes.io/metadata.name': 'monitoring' }),
      podLabels: requireLabels('prometheusSelector.podLabels',
        props.prometheusSelector?.podLabels ?? { 'app.kubernetes.io/name': 'prometheus' }),
    };
    const metadata = (name: string = this.name) => ({ name, namespace: this.namespace, labels: this.labels });

    if (props.createNamespace ?? true) this.namespaceResource = this.addNamespace();

    this.serviceAccount = new kplus.ServiceAccount(this, 'service-account', {
      metadata: metadata(), automountToken: false,
    });

    const serviceName = this.name;
    this.tls = new KeyServerTls(this, 'tls', {
      ...props.tls,
      name: this.name,
      namespace: this.namespace,
      labels: this.labels,
      dnsNames: serviceDnsNames(serviceName, this.namespace, clusterDomain),
    });
    this.tlsSecretName = this.tls.secretName;
    this.tlsCaSecretKey = this.tls.caSecretKey;

    this.serverArgs = Object.freeze(keyServerArgs({
      httpsPort: this.httpsPort, metricsPort: this.metricsPort, host: validatedHost(props.host ?? '::'),
      maxSize, minSize, shutdownDelay: this.shutdownDelay, accessLog: props.accessLog ?? false,
      tlsCertFile: `${tlsMountPath}/tls.crt`, tlsKeyFile: `${tlsMountPath}/tls.key`,
      authTokenFile: accessControl === undefined ? undefined : `${authMountPath}/${authFileName}`, rateLimit,
    }));

    this.deployment = new kplus.Deployment(this, 'deployment', {
      metadata: metadata(),
      // Our own selector: the default one is a hash of the construct path, unreadable in kubectl.
      select: false,
      podMetadata: { labels: this.labels },
      replicas: props.autoscaling === false ? (replicas ?? 2) : undefined,
      strategy: kplus.DeploymentStrategy.rollingUpdate({
        maxUnavailable: kplus.PercentOrAbsolute.absolute(0),
        maxSurge: kplus.PercentOrAbsolute.absolute(1),
      }),
      serviceAccount: this.serviceAccount,
      automountServiceAccountToken: false,
      terminationGracePeriod,
      // OnRootMismatch: the kubelet then skips the recursive chown of volumes that already belong to the group.
      securityContext: {
        ensureNonRoot: true, user: nobody, group: nobody, fsGroup: nobody, fsGroupChangePolicy: kplus.FsGroupChangePolicy.ON_ROOT_MISMATCH,
      },
    });
    this.deployment.select(kplus.LabelSelector.of({ labels: this.selectorLabels }));
    const container = this.deployment.addContainer({
      name: containerName,
      image: this.image,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      args: [...this.serverArgs],
      ports: [
        { name: this.httpsPortName, number: this.httpsPort },
        { name: this.metricsPortName, number: this.metricsPort },
      ],
      resources: this.resources,
      // V8 sizes its heap from the node's memory, not the container's limit: the ceiling makes it collect before the
      // kernel kills the pod (key-server-resources.ts derives it; the image's ENTRYPOINT adds the semi-space size).
      envVariables: { NODE_OPTIONS: kplus.EnvValue.fromValue(nodeOptionsFor(this.resources.memory!.limit!)) },
      securityContext: {
        ensureNonRoot: true, user: nobody, group: nobody,
        readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, privileged: false,
      },
      // Every probe opens a new TLS connection. Measured under 200 connections of /key/1024: at a 200m CPU limit the
      // probe took up to 4.4 s (p90 3 s), at 500m or 1 CPU at most 0.1 s. Startup allows 60 s before liveness counts;
      // readiness drops a pod after 15 s of 503 (shutdown) or silence; liveness restarts only after a minute without
      // an answer within 5 s, i.e. a process that is stuck, not one that is busy.
      startup: httpsProbe('/health', this.httpsPort, { period: Duration.seconds(2), failureThreshold: 30, timeout: Duration.seconds(2) }),
      readiness: httpsProbe('/ready', this.httpsPort, { period: Duration.seconds(5), failureThreshold: 3, timeout: Duration.seconds(3) }),
      liveness: httpsProbe('/health', this.httpsPort, { period: Duration.seconds(10), failureThreshold: 6, timeout: Duration.seconds(5) }),
    });
    const secret = kplus.Secret.fromSecretName(this, 'tls-secret', this.tlsSecretName);
    container.mount(tlsMountPath, secretVolume(this, 'tls-volume', secret, { name: 'tls' }), { readOnly: true });
    if (accessControl !== undefined) {
      const tokens = kplus.Secret.fromSecretName(this, 'token-secret', accessControl.tokenSecretName);
      // Only the token key, under a fixed name; a directory mount (not subPath) so Secret updates reach the server.
      const volume = secretVolume(this, 'token-volume', tokens, {
        name: 'auth-tokens', items: { [accessControl.tokenSecretKey]: { path: authFileName } },
      });
      container.mount(authMountPath, volume, { readOnly: true });
    }
    this.patchPodTemplate(props.spreadAcrossZones ?? false);

    this.service = this.addService(metadata(serviceName));

    if (props.autoscaling !== false) {
      this.horizontalPodAutoscaler = this.addAutoscaler(props.autoscaling ?? {}, replicas, metadata());
    }
    if (props.podDisruptionBudget !== false) {
      this.podDisruptionBudget = disruptionBudget(this, 'disruption-budget', {
        metadata: metadata(),
        selectorLabels: this.selectorLabels,
        mostPods: this.horizontalPodAutoscaler?.maxReplicas ?? replicas ?? 2,
        maxUnavailable: validatedBudgetProps(props.podDisruptionBudget ?? {}).maxUnavailable,
        prop: 'podDisruptionBudget',
      });
    }
    // L1: the cdk8s-plus NetworkPolicy takes port numbers only; named ports keep the policy right if a number changes.
    this.networkPolicy = new kplus.k8s.KubeNetworkPolicy(this, 'network-policy', {
      metadata: metadata(),
      spec: networkPolicySpec({
        selectorLabels: this.selectorLabels,
        httpsPortName: this.httpsPortName,
        metricsPortName: this.metricsPortName,
        allowedClients: props.allowedClients === undefined ? 'any' : validatedClients(props.allowedClients),
        prometheusSelector: this.prometheusSelector,
        egress,
      }),
    });
    if (props.ingress !== undefined) this.ingress = this.addIngress(props.ingress, metadata());

    // Namespace first, so `kubectl apply` never meets an object whose namespace does not exist yet.
    if (this.namespaceResource !== undefined) {
      for (const child of this.node.children) {
        if (child !== this.namespaceResource) child.node.addDependency(this.namespaceResource);
      }
    }
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

  private addService(metadata: { name: string; namespace: string; labels: Record<string, string> }): kplus.Service {
    const service = new kplus.Service(this, 'service', {
      metadata: {
        ...metadata,
        // For Prometheus configured by annotations rather than by ServiceMonitor.
        annotations: {
          'prometheus.io/scrape': 'true',
          'prometheus.io/port': String(this.metricsPort),
          'prometheus.io/path': this.metricsPath,
          'prometheus.io/scheme': this.metricsScheme,
        },
      },
      type: kplus.ServiceType.CLUSTER_IP,
      ports: [
        { name: this.httpsPortName, port: this.httpsPort, targetPort: this.httpsPort },
        { name: this.metricsPortName, port: this.metricsPort, targetPort: this.metricsPort },
      ],
    });
    for (const [key, value] of Object.entries(this.selectorLabels)) service.selectLabel(key, value);
    return service;
  }

  /** Pod-template fields cdk8s-plus has no option for: seccomp, capabilities, spreading, named probe ports. */
  private patchPodTemplate(spreadAcrossZones: boolean): void {
    const deployment = ApiObject.of(this.deployment);
    const pod = '/spec/template/spec';
    deployment.addJsonPatch(
      // cdk8s-plus labels every pod with a hash of the construct path; the selector above replaces it.
      JsonPatch.remove('/spec/template/metadata/labels/cdk8s.io~1metadata.addr'),
      JsonPatch.add(`${pod}/securityContext/seccompProfile`, { type: 'RuntimeDefault' }),
      JsonPatch.add(`${pod}/containers/0/securityContext/capabilities`, { drop: ['ALL'] }),
      JsonPatch.add(`${pod}/topologySpreadConstraints`, spreadConstraints(this.selectorLabels, spreadAcrossZones)),
      // Probes name the port, so a port change cannot leave a probe knocking on the old number. The value is an
      // IntOrString because KubeDeployment converts the patched JSON through its typed mapper once more.
      ...['startupProbe', 'readinessProbe', 'livenessProbe'].map((probe) =>
        JsonPatch.replace(`${pod}/containers/0/${probe}/httpGet/port`, kplus.k8s.IntOrString.fromString(this.httpsPortName))),
    );
  }

  private addAutoscaler(
    autoscaling: KeyServerAutoscalingProps, replicas: number | undefined, metadata: { name: string; namespace: string; labels: Record<string, string> },
  ): kplus.HorizontalPodAutoscaler {
    const minReplicas = requireInteger('autoscaling.minReplicas', autoscaling.minReplicas ?? replicas ?? 2, 1);
    const maxReplicas = requireInteger('autoscaling.maxReplicas', autoscaling.maxReplicas ?? Math.max(10, minReplicas), 1);
    if (minReplicas > maxReplicas) {
      throw new Error(`autoscaling.minReplicas (${minReplicas}) must not exceed autoscaling.maxReplicas (${maxReplicas})`);
    }
    const cpu = requireInteger('autoscaling.cpuUtilization', autoscaling.cpuUtilization ?? 70, 1, 100);
    const metrics = [kplus.Metric.resourceCpu(kplus.MetricTarget.averageUtilization(cpu))];
    if (autoscaling.memoryUtilization !== undefined) {
      const memory = requireInteger('autoscaling.memoryUtilization', autoscaling.memoryUtilization, 1, 100);
      metrics.push(kplus.Metric.resourceMemory(kplus.MetricTarget.averageUtilization(memory)));
    }
    return new kplus.HorizontalPodAutoscaler(this, 'autoscaler', {
      metadata, target: this.deployment, minReplicas, maxReplicas, metrics,
    });
  }

  private addIngress(
    ingress: KeyServerIngressProps, metadata: { name: string; namespace: string; labels: Record<string, string> },
  ): kplus.Ingress {
    const host = requireDnsSubdomain('ingress.host', ingress.host);
    const result = new kplus.Ingress(this, 'ingress', {
      metadata: { ...metadata, annotations: ingress.annotations },
      className: ingress.className,
      rules: [{
        host, path: '/', pathType: kplus.HttpIngressPathType.PREFIX,
        backend: kplus.IngressBackend.fromService(this.service, { port: this.httpsPort }),
      }],
    });
    if (ingress.tlsSecretName !== undefined) {
      const secretName = requireDnsSubdomain('ingress.tlsSecretName', ingress.tlsSecretName);
      result.addTls([{ hosts: [host], secret: kplus.Secret.fromSecretName(this, 'ingress-tls-secret', secretName) }]);
    }
    return result;
  }
}

/** An HTTPS GET probe; the port number is replaced by the port's name in {@link KeyServerApp}'s pod template patch. */
function httpsProbe(path: string, port: number, timing: { period: Duration; failureThreshold: number; timeout: Duration }): kplus.Probe {
  return kplus.Probe.fromHttpGet(path, {
    scheme: kplus.ConnectionScheme.HTTPS, port, periodSeconds: timing.period, failureThreshold: timing.failureThreshold, timeoutSeconds: timing.timeout,
  });
}

/** The names a client inside the cluster may use for the Service, all on the certificate. */
export function serviceDnsNames(service: string, namespace: string, clusterDomain: string): string[] {
  return [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.${clusterDomain}`];
}

/**
 * Spread over nodes (and zones) without ever blocking scheduling: a small cluster still runs every replica.
 * `matchLabelKeys: [pod-template-hash]` counts only pods of the same ReplicaSet, so during a rollout the old pods,
 * about to go, do not push the new ones onto the nodes that have none of the old (Kubernetes 1.27+).
 */
export function spreadConstraints(selectorLabels: Record<string, string>, acrossZones: boolean) {
  const keys = ['kubernetes.io/hostname', ...(acrossZones ? ['topology.kubernetes.io/zone'] : [])];
  return keys.map((topologyKey) => ({
    maxSkew: 1, topologyKey, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: selectorLabels },
    matchLabelKeys: ['pod-template-hash'],
  }));
}

/** Inputs of {@link networkPolicySpec}. */
export interface NetworkPolicyInput {
  readonly selectorLabels: Record<string, string>;
  readonly httpsPortName: string;
  readonly metricsPortName: string;
  /** The peers admitted to the `https` port, or `'any'` for every source; never empty. */
  readonly allowedClients: PeerSelector[] | 'any';
  readonly prometheusSelector: Required<PrometheusSelector>;
  readonly egress: EgressPolicy;
}

/** Ingress to `https` from the allowed clients, to `metrics` from Prometheus only; egress nowhere or DNS. */
export function networkPolicySpec(input: NetworkPolicyInput): kplus.k8s.NetworkPolicySpec {
  const tcp = (name: string) => ({ protocol: 'TCP', port: kplus.k8s.IntOrString.fromString(name) });
  const dns = [
    { protocol: 'UDP', port: kplus.k8s.IntOrString.fromNumber(53) },
    { protocol: 'TCP', port: kplus.k8s.IntOrString.fromNumber(53) },
  ];
  return {
    podSelector: { matchLabels: input.selectorLabels },
    policyTypes: ['Ingress', 'Egress'],
    ingress: [
      {
        ports: [tcp(input.httpsPortName)],
        from: input.allowedClients === 'any' ? undefined : clientPeers(input.allowedClients),
      },
      {
        ports: [tcp(input.metricsPortName)],
        from: [toPeer(input.prometheusSelector)],
      },
    ],
    // No egress rule at all denies all egress (policyTypes names Egress). Not `egress: []`: the API server drops an
    // empty list, so every server-side apply would set it again, bump the generation and show as drift in GitOps.
    egress: input.egress === 'dns'
      ? [{ to: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }], ports: dns }]
      : undefined,
  };
}

function toPeer(peer: PeerSelector): kplus.k8s.NetworkPolicyPeer {
  return {
    namespaceSelector: peer.namespaceLabels === undefined ? undefined : { matchLabels: peer.namespaceLabels },
    podSelector: { matchLabels: peer.podLabels ?? {} },
  };
}

/** An empty list would be an ingress rule with no `from`, which Kubernetes reads as every source. */
function validatedClients(clients: PeerSelector[]): PeerSelector[] {
  if (clients.length === 0) {
    throw new Error('allowedClients must list at least one client; leave it out to admit any source');
  }
  return clients.map((peer, i) => validatedPeer(`allowedClients[${i}]`, peer));
}

function clientPeers(clients: PeerSelector[]): kplus.k8s.NetworkPolicyPeer[] {
  // Same reason as validatedClients: an empty `from` admits everyone, the opposite of what a list means.
  if (clients.length === 0) throw new Error('allowedClients must not be empty (an empty `from` admits every source)');
  return clients.map(toPeer);
}

function validatedPeer(prop: string, peer: PeerSelector): PeerSelector {
  if (peer.namespaceLabels !== undefined) requireLabels(`${prop}.namespaceLabels`, peer.namespaceLabels);
  if (peer.podLabels !== undefined) requireLabels(`${prop}.podLabels`, peer.podLabels);
  return peer;
}

function validatedAccessControl(props: KeyServerAccessControlProps): Required<KeyServerAccessControlProps> {
  const tokenSecretKey = props.tokenSecretKey ?? 'tokens';
  if (!/^[-._a-zA-Z0-9]{1,253}$/.test(tokenSecretKey)) {
    throw new Error(`accessControl.tokenSecretKey must be a Secret key (letters, digits, '-', '_', '.'); got '${tokenSecretKey}'`);
  }
  return { tokenSecretName: requireDnsSubdomain('accessControl.tokenSecretName', props.tokenSecretName), tokenSecretKey };
}

function validatedRateLimit(props: KeyServerRateLimitProps): { requestsPerSecond: number; burst: number } {
  const rate = props.requestsPerSecond;
  // The server reads at most 9 decimals; a rate it would refuse must fail here, not in a crash-looping pod.
  if (!(rate > 0 && rate <= RATE_LIMIT_CAP) || !/^\d{1,9}(\.\d{1,9})?$/.test(String(rate))) {
    throw new Error(`rateLimit.requestsPerSecond must be a number above 0 and at most ${RATE_LIMIT_CAP}; got ${rate}`);
  }
  const burst = requireInteger('rateLimit.burst', props.burst ?? Math.max(1, Math.ceil(rate)), 1, RATE_LIMIT_CAP);
  return { requestsPerSecond: rate, burst };
}

function validatedHost(host: string): string {
  // An IPv4 or IPv6 address or a host name; anything with spaces or URL syntax would only fail inside the pod.
  if (!/^[A-Za-z0-9.:-]+$/.test(host)) {
    throw new Error(`host must be an IP address or host name, e.g. '0.0.0.0' or '::'; got '${host}'`);
  }
  return host;
}

/**
 * The key server's image from its three props, each error naming the prop at fault; the result passes the one image
 * grammar of images.ts (a registry, a tag, an optional digest).
 */
function validatedImage(repository: string | undefined, tag: string | undefined, digest: string | undefined): ImageReference {
  const pinned = defaultImage('keyServer');
  const resolvedTag = tag ?? pinned.tag!;
  if (resolvedTag === 'latest') {
    throw new Error("imageTag must name a version; 'latest' is refused because a rollout could not say what it deploys");
  }
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(resolvedTag)) {
    throw new Error(`imageTag must be a Docker tag (letters, digits, '_', '.', '-', at most 128 characters); got '${resolvedTag}'`);
  }
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

function validatedGracePeriod(shutdownDelay: Duration, gracePeriod: Duration | undefined): Duration {
  const delayMs = shutdownDelay.toMilliseconds();
  if (!(delayMs >= 0 && delayMs <= serverShutdownDelayCap * 1000)) {
    throw new Error(`shutdownDelay must be between 0 and ${serverShutdownDelayCap} seconds (the server's limit); got ${delayMs / 1000} s`);
  }
  // Kubernetes counts the grace period in whole seconds.
  const result = gracePeriod ?? Duration.seconds(Math.ceil(delayMs / 1000) + 25);
  const resultSeconds = result.toSeconds({ integral: false });
  if (!Number.isInteger(resultSeconds) || resultSeconds * 1000 <= delayMs) {
    throw new Error(`terminationGracePeriod must be a whole number of seconds above shutdownDelay (${delayMs / 1000} s); got ${resultSeconds} s`);
  }
  return result;
}

/** Requests and limits for both CPU and memory, each request within its limit: the scheduler and the OOM killer need all four. */
function validatedResources(resources: kplus.ContainerResources): kplus.ContainerResources {
  const cpu = resources.cpu;
  const memory = resources.memory;
  if (cpu?.request === undefined || cpu.limit === undefined || memory?.request === undefined || memory.limit === undefined) {
    throw new Error('resources must set cpu.request, cpu.limit, memory.request and memory.limit');
  }
  if (cpuCores(cpu.request) > cpuCores(cpu.limit)) {
    throw new Error(`resources.cpu.request (${cpu.request.amount}) must not exceed resources.cpu.limit (${cpu.limit.amount})`);
  }
  if (memory.request.toKibibytes() > memory.limit.toKibibytes()) {
    throw new Error(`resources.memory.request (${memory.request.toMebibytes()}Mi) must not exceed resources.memory.limit (${memory.limit.toMebibytes()}Mi)`);
  }
  if (memory.limit.toKibibytes() < minimumMemoryLimit.toKibibytes()) {
    throw new Error(`resources.memory.limit must be at least ${minimumMemoryLimit.toMebibytes()}Mi (idle RSS is 54 MiB, and half the limit is V8's heap); got ${memory.limit.toMebibytes()}Mi`);
  }
  return resources;
}

/** The budget props; `minAvailable`, replaced by `maxUnavailable`, is refused by name for JavaScript callers. */
function validatedBudgetProps(budget: KeyServerDisruptionBudgetProps): KeyServerDisruptionBudgetProps {
  if ('minAvailable' in budget) {
    throw new Error('podDisruptionBudget.minAvailable is no longer supported: use podDisruptionBudget.maxUnavailable (pods a drain may evict at once; minAvailable 1 let a drain take all but one of ten)');
  }
  return budget;
}
