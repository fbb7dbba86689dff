// Standalone mode: a Prometheus StatefulSet with its scrape config, rules, storage, Service, PDB and NetworkPolicy.
import { Duration, Size, SizeRoundingBehavior } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { stringify } from 'yaml';
import { defaultImage, formatImageReference, parseImageReference } from '../images';
import { requireSecretKey, SecretKeyReference, secretVolume } from '../secrets';
import { requireDnsSubdomain } from '../validation';
import { HardenedWorkload, sizeQuantity } from '../workload';
import { monitoringProbeTimeout } from './probe-timing';
import { PrometheusConfig, prometheusPaths, remoteWriteSecretDirectory, RemoteWriteTarget } from './prometheus-config';
import { promDuration } from './prometheus-duration';
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
   * Image, with its registry and a tag or digest.
   * @default - versions.json `images.prometheus` (quay.io/prometheus/prometheus:v3.13.5, an LTS release)
   */
  readonly image?: string;
  /**
   * How long samples are kept (`--storage.tsdb.retention.time`).
   * @default Duration.days(15)
   */
  readonly retention?: Duration;
  /**
   * Size of the PersistentVolumeClaim holding the TSDB. A StatefulSet's volume claim template cannot change once
   * created: see "Change monitoring storage" in docs/runbooks.md before changing it.
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
   * StorageClass of the claim; changing it later means moving the data (docs/runbooks.md, "Change monitoring storage").
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
/** One replica: a second would scrape and alert twice; scale out with remote write instead. */
const replicas = 1;

/** Prometheus, its configuration, storage and access rules. */
export class StandalonePrometheus extends Construct {
  public readonly statefulSet: kplus.StatefulSet;
  public readonly service: kplus.Service;
  /** The headless Service that governs the StatefulSet (`serviceName`). */
  public readonly governingService: kplus.Service;
  public readonly configMap: kplus.ConfigMap;
  public readonly rulesConfigMap: kplus.ConfigMap;
  /** None while there is a single replica (see disruptionBudget). */
  public readonly podDisruptionBudget?: kplus.k8s.KubePodDisruptionBudget;
  public readonly networkPolicy: kplus.k8s.KubeNetworkPolicy;
  /** `http://<service>.<namespace>.svc:9090`, for Grafana's datasource. */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: StandalonePrometheusProps) {
    super(scope, id);
    const name = 'prometheus';
    const workload = new HardenedWorkload(this, {
      name, namespace: props.namespace, labels: props.labels, selectorLabels: props.selectorLabels, user: prometheusUser,
    });
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
    this.configMap = new kplus.ConfigMap(this, 'config', { metadata: workload.metadata('prometheus-config'), data: { 'prometheus.yml': configYaml } });
    this.rulesConfigMap = new kplus.ConfigMap(this, 'rules', { metadata: workload.metadata('prometheus-rules'), data: { 'key-server.yml': rulesYaml } });

    const ports = [{ name: 'web', port: prometheusPort, targetPort: prometheusPort }];
    this.service = workload.addService('service', { ports });
    this.url = `http://${name}.${props.namespace}.svc:${prometheusPort}`;
    this.governingService = workload.addGoverningService(ports);

    this.statefulSet = new kplus.StatefulSet(this, 'statefulset', {
      ...workload.podTemplateProps([configYaml, rulesYaml]),
      service: this.governingService,
      replicas,
      serviceAccount: props.serviceAccount,
      // Kubernetes service discovery authenticates with the pod's token; RbacBundle's ServiceAccount does not mount it by default.
      automountServiceAccountToken: true,
      terminationGracePeriod: Duration.minutes(2),
    });
    const container = this.statefulSet.addContainer({
      name,
      image: formatImageReference(props.image === undefined ? defaultImage('prometheus') : parseImageReference('image', props.image)),
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      args: [
        `--config.file=${prometheusPaths.config}`,
        `--storage.tsdb.path=${prometheusPaths.data}`,
        `--storage.tsdb.retention.time=${promDuration(retention, 'retention')}`,
        `--storage.tsdb.retention.size=${retentionMebibytes}MB`,
        // Prometheus 3 ships no console templates (the --web.console.* flags of 2.x pointed at them); it sets
        // GOMEMLIMIT from the memory limit by itself (--auto-gomemlimit, on by default).
      ],
      ports: [{ name: 'web', number: prometheusPort }],
      resources: props.resources ?? {
        cpu: { request: kplus.Cpu.millis(200), limit: kplus.Cpu.units(1) },
        memory: { request: Size.gibibytes(1), limit: Size.gibibytes(2) },
      },
      securityContext: workload.containerSecurity,
      // Replaying a large write-ahead log after a restart can take minutes.
      startup: kplus.Probe.fromHttpGet('/-/ready', { port: prometheusPort, periodSeconds: Duration.seconds(10), failureThreshold: 60, timeoutSeconds: monitoringProbeTimeout }),
      readiness: kplus.Probe.fromHttpGet('/-/ready', { port: prometheusPort, periodSeconds: Duration.seconds(10), failureThreshold: 3, timeoutSeconds: monitoringProbeTimeout }),
      liveness: kplus.Probe.fromHttpGet('/-/healthy', { port: prometheusPort, periodSeconds: Duration.seconds(15), failureThreshold: 4, timeoutSeconds: monitoringProbeTimeout }),
    });
    container.mount('/etc/prometheus/config', kplus.Volume.fromConfigMap(this, 'config-volume', this.configMap, { name: 'config' }), { readOnly: true });
    container.mount(prometheusPaths.rules, kplus.Volume.fromConfigMap(this, 'rules-volume', this.rulesConfigMap, { name: 'rules' }), { readOnly: true });
    if (props.keyServerCa) {
      // Only the CA certificate: the Secret also holds the key server's private key, which Prometheus must not see.
      const caSecret = kplus.Secret.fromSecretName(this, 'key-server-ca-secret', props.keyServerCa.name);
      const caFile = prometheusPaths.keyServerCa.split('/').pop()!;
      container.mount(prometheusPaths.keyServerCa.replace(`/${caFile}`, ''), secretVolume(this, 'key-server-ca-volume', caSecret, {
        name: 'key-server-ca', items: { [props.keyServerCa.key]: { path: caFile } },
      }), { readOnly: true });
    }
    // One volume per Secret, holding every key a remote-write target reads from it: targets sharing a Secret would
    // otherwise mount two volumes at one path, which the API server refuses.
    const keysBySecret = new Map<string, Set<string>>();
    for (const [index, target] of props.remoteWrite.entries()) {
      if (!target.bearerTokenSecret) continue;
      const { name, key } = target.bearerTokenSecret;
      requireDnsSubdomain(`remoteWrite[${index}].bearerTokenSecret.name`, name);
      requireSecretKey(`remoteWrite[${index}].bearerTokenSecret.key`, key);
      keysBySecret.set(name, (keysBySecret.get(name) ?? new Set<string>()).add(key));
    }
    for (const [index, [secretName, keys]] of [...keysBySecret].entries()) {
      const secret = kplus.Secret.fromSecretName(this, `remote-write-secret-${index}`, secretName);
      container.mount(remoteWriteSecretDirectory(secretName), secretVolume(this, `remote-write-volume-${index}`, secret, {
        name: `remote-write-${index}`, items: Object.fromEntries([...keys].map((key) => [key, { path: key }])),
      }), { readOnly: true });
    }
    workload.addVolumeClaim(this.statefulSet, { name: 'data', mountPath: prometheusPaths.data, storage: storageQuantity, storageClassName: props.storageClassName });
    workload.harden(this.statefulSet);

    this.podDisruptionBudget = workload.addDisruptionBudget('pdb', { mostPods: replicas, prop: 'prometheus' });
    // Egress stays open: Prometheus reaches the API server, every scrape target, Alertmanager and remote-write endpoints.
    const policy = workload.addNetworkPolicy();
    policy.allowFrom('web', { podLabels: { ...props.queryClientLabels } });
    this.networkPolicy = policy.resource;
  }
}
