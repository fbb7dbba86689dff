// Standalone mode: a Prometheus StatefulSet with its scrape config, rules, storage, Service, PDB and NetworkPolicy.
import { Duration, Size, SizeRoundingBehavior } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { stringify } from 'yaml';
import { PrometheusConfig, prometheusPaths, remoteWriteCredentialsFile, RemoteWriteTarget } from './monitoring-prometheus-config';
import { promDuration } from './monitoring-target';
import {
  addVolumeClaimTemplate, configChecksum, hardenWorkload, namedPortIngressPolicy, oneAtATimeDisruptionBudget, restrictedContainerSecurity, sizeQuantity,
} from './monitoring-workload';
import type { SecretKeyReference } from './monitoring-operator';
import type { RuleGroup } from './rules/rule-types';

/** Props of {@link StandalonePrometheus}. */
export interface StandalonePrometheusProps {
  readonly namespace: string;
  /** Labels on every object; the pods add `selectorLabels`. */
  readonly labels: Readonly<Record<string, string>>;
  /** Labels that select the Prometheus pods (and that NetworkPolicies admit). */
  readonly selectorLabels: Readonly<Record<string, string>>;
  /** prometheus.yml, from {@link standalonePrometheusConfig}. */
  readonly config: PrometheusConfig;
  /** Rule groups, written to one rule file. */
  readonly ruleGroups: readonly RuleGroup[];
  /** The ServiceAccount with read-only discovery RBAC (from RbacBundle). */
  readonly serviceAccount: kplus.IServiceAccount;
  /** The key server's CA certificate, mounted where prometheus.yml expects it; undefined when verification is skipped. */
  readonly keyServerCa?: SecretKeyReference;
  /** Remote write targets of `config`, whose token Secrets get mounted. */
  readonly remoteWrite: readonly RemoteWriteTarget[];
  /** Pods allowed to query Prometheus (Grafana). */
  readonly queryClientLabels: Readonly<Record<string, string>>;
  /**
   * Image, pinned to a version.
   * @default 'quay.io/prometheus/prometheus:v2.53.4'
   */
  readonly image?: string;
  /**
   * How long samples are kept (`--storage.tsdb.retention.time`).
   * @default Duration.days(15)
   */
  readonly retention?: Duration;
  /**
   * Size of the PersistentVolumeClaim holding the TSDB.
   * @default Size.gibibytes(20)
   */
  readonly storageSize?: Size;
  /**
   * Most disk the TSDB may use before dropping the oldest blocks (`--storage.tsdb.retention.size`); leaves
   * room for the write-ahead log and compaction.
   * @default - 80 % of `storageSize`
   */
  readonly retentionSize?: Size;
  /**
   * StorageClass of the claim.
   * @default - the cluster's default StorageClass
   */
  readonly storageClassName?: string;
  /**
   * CPU and memory of the container.
   * @default - requests 200m CPU / 1Gi memory, limits 1 CPU / 2Gi memory
   */
  readonly resources?: kplus.ContainerResources;
}

/** The image's user (nobody). */
const prometheusUser = 65534;
export const prometheusPort = 9090;
/** The image used unless told otherwise, pinned to a version. */
export const defaultPrometheusImage = 'quay.io/prometheus/prometheus:v2.53.4';

/** Prometheus, its configuration, storage and access rules. */
export class StandalonePrometheus extends Construct {
  public readonly statefulSet: kplus.StatefulSet;
  public readonly service: kplus.Service;
  public readonly configMap: kplus.ConfigMap;
  public readonly rulesConfigMap: kplus.ConfigMap;
  public readonly podDisruptionBudget: kplus.k8s.KubePodDisruptionBudget;
  public readonly networkPolicy: kplus.k8s.KubeNetworkPolicy;
  /** `http://<service>.<namespace>.svc:9090`, for Grafana's datasource. */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: StandalonePrometheusProps) {
    super(scope, id);
    const name = 'prometheus';
    const metadata = (objectName = name) => ({ name: objectName, namespace: props.namespace, labels: { ...props.labels } });
    const storageSize = props.storageSize ?? Size.gibibytes(20);
    const storageQuantity = sizeQuantity('storageSize', storageSize);
    const retentionMebibytes = props.retentionSize
      ? props.retentionSize.toMebibytes({ rounding: SizeRoundingBehavior.FLOOR })
      : Math.floor(storageSize.toMebibytes() * 0.8);
    if (retentionMebibytes < 1 || retentionMebibytes > storageSize.toMebibytes()) {
      throw new Error(`retentionSize must be between 1 MiB and storageSize (${storageQuantity}); got ${retentionMebibytes} MiB`);
    }
    const retention = props.retention ?? Duration.days(15);
    if (retention.toHours({ integral: false }) < 2) {
      throw new Error(`retention must be at least 2 hours (one TSDB block); got ${retention.toHumanString()}`);
    }

    const configYaml = stringify(props.config);
    const rulesYaml = stringify({ groups: props.ruleGroups });
    this.configMap = new kplus.ConfigMap(this, 'config', { metadata: metadata('prometheus-config'), data: { 'prometheus.yml': configYaml } });
    this.rulesConfigMap = new kplus.ConfigMap(this, 'rules', { metadata: metadata('prometheus-rules'), data: { 'key-server.yml': rulesYaml } });

    this.service = new kplus.Service(this, 'service', {
      metadata: metadata(),
      type: kplus.ServiceType.CLUSTER_IP,
      ports: [{ name: 'web', port: prometheusPort, targetPort: prometheusPort }],
    });
    for (const [key, value] of Object.entries(props.selectorLabels)) this.service.selectLabel(key, value);
    this.url = `http://${name}.${props.namespace}.svc:${prometheusPort}`;

    this.statefulSet = new kplus.StatefulSet(this, 'statefulset', {
      metadata: metadata(),
      select: false,
      service: this.service,
      replicas: 1,
      podMetadata: {
        labels: { ...props.labels, ...props.selectorLabels },
        annotations: { 'checksum/config': configChecksum(configYaml, rulesYaml) },
      },
      serviceAccount: props.serviceAccount,
      // Kubernetes service discovery authenticates with the pod's token; RbacBundle's ServiceAccount does not mount it by default.
      automountServiceAccountToken: true,
      securityContext: { ensureNonRoot: true, user: prometheusUser, group: prometheusUser, fsGroup: prometheusUser },
      terminationGracePeriod: Duration.minutes(2),
    });
    const container = this.statefulSet.addContainer({
      name,
      image: props.image ?? defaultPrometheusImage,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      args: [
        `--config.file=${prometheusPaths.config}`,
        `--storage.tsdb.path=${prometheusPaths.data}`,
        `--storage.tsdb.retention.time=${promDuration(retention)}`,
        `--storage.tsdb.retention.size=${retentionMebibytes}MB`,
        '--web.console.templates=/etc/prometheus/consoles',
        '--web.console.libraries=/etc/prometheus/console_libraries',
      ],
      ports: [{ name: 'web', number: prometheusPort }],
      resources: props.resources ?? {
        cpu: { request: kplus.Cpu.millis(200), limit: kplus.Cpu.units(1) },
        memory: { request: Size.gibibytes(1), limit: Size.gibibytes(2) },
      },
      securityContext: restrictedContainerSecurity(prometheusUser),
      // Replaying a large write-ahead log after a restart can take minutes.
      startup: kplus.Probe.fromHttpGet('/-/ready', { port: prometheusPort, periodSeconds: Duration.seconds(10), failureThreshold: 60 }),
      readiness: kplus.Probe.fromHttpGet('/-/ready', { port: prometheusPort, periodSeconds: Duration.seconds(10), failureThreshold: 3 }),
      liveness: kplus.Probe.fromHttpGet('/-/healthy', { port: prometheusPort, periodSeconds: Duration.seconds(15), failureThreshold: 4 }),
    });
    container.mount('/etc/prometheus/config', kplus.Volume.fromConfigMap(this, 'config-volume', this.configMap, { name: 'config' }), { readOnly: true });
    container.mount(prometheusPaths.rules, kplus.Volume.fromConfigMap(this, 'rules-volume', this.rulesConfigMap, { name: 'rules' }), { readOnly: true });
    if (props.keyServerCa) {
      // Only the CA certificate: the Secret also holds the key server's private key, which Prometheus must not see.
      const caSecret = kplus.Secret.fromSecretName(this, 'key-server-ca-secret', props.keyServerCa.name);
      const caFile = prometheusPaths.keyServerCa.split('/').pop()!;
      container.mount(prometheusPaths.keyServerCa.replace(`/${caFile}`, ''), kplus.Volume.fromSecret(this, 'key-server-ca-volume', caSecret, {
        name: 'key-server-ca', items: { [props.keyServerCa.key]: { path: caFile } },
      }), { readOnly: true });
    }
    for (const [index, target] of props.remoteWrite.entries()) {
      if (!target.bearerTokenSecret) continue;
      const { name: secretName, key } = target.bearerTokenSecret;
      const file = remoteWriteCredentialsFile(target.bearerTokenSecret);
      const secret = kplus.Secret.fromSecretName(this, `remote-write-secret-${index}`, secretName);
      container.mount(file.slice(0, file.lastIndexOf('/')), kplus.Volume.fromSecret(this, `remote-write-volume-${index}`, secret, {
        name: `remote-write-${index}`, items: { [key]: { path: key } },
      }), { readOnly: true });
    }
    addVolumeClaimTemplate(this.statefulSet, 'data', prometheusPaths.data, storageQuantity, props.storageClassName);
    hardenWorkload(this.statefulSet, { ...props.selectorLabels });

    this.podDisruptionBudget = oneAtATimeDisruptionBudget(this, metadata(), props.selectorLabels);
    // Egress stays open: Prometheus reaches the API server, every scrape target, Alertmanager and remote-write endpoints.
    this.networkPolicy = namedPortIngressPolicy(this, metadata(), props.selectorLabels, 'web', props.queryClientLabels);
  }
}
