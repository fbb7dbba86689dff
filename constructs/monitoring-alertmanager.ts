// Standalone mode: an Alertmanager StatefulSet with its config Secret, storage for silences, Service, PDB and NetworkPolicy.
import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { stringify } from 'yaml';
import { alertmanagerConfig } from './monitoring-alertmanager-config';
import { disruptionBudget } from './disruption-budget';
import { defaultImage, formatImageReference, parseImageReference } from './images';
import {
  addVolumeClaimTemplate, configChecksum, governingService, hardenWorkload, monitoringProbeTimeout, namedPortIngressPolicy,
  restrictedContainerSecurity, restrictedPodSecurity,
} from './monitoring-workload';
import { secretVolume } from './secret-volume';

/** Props of {@link StandaloneAlertmanager}. */
export interface StandaloneAlertmanagerProps {
  readonly namespace: string;
  /** Labels on every object; the pods add `selectorLabels`. */
  readonly labels: Readonly<Record<string, string>>;
  /** Labels that select the Alertmanager pods. */
  readonly selectorLabels: Readonly<Record<string, string>>;
  /** Pods allowed to send alerts (Prometheus). */
  readonly alertSenderLabels: Readonly<Record<string, string>>;
  /**
   * An existing Secret holding `alertmanager.yml` with your receivers' integrations. Without it the construct
   * writes a Secret with the route tree and receivers that send nothing; copy that, do not edit it (the next apply
   * restores it). Alertmanager reads the file at start (nothing sends it a reload); the pod template carries a checksum of this name, so
   * naming a new Secret rolls the pods, while changing the same Secret needs a rollout restart.
   * @default - a generated Secret `alertmanager-config` without integrations
   */
  readonly existingConfigSecretName?: string;
  /**
   * Image, with its registry and a tag or digest.
   * @default - versions.json `images.alertmanager` (quay.io/prometheus/alertmanager:v0.35.0)
   */
  readonly image?: string;
  /**
   * StorageClass of the claim holding silences and the notification log; a StatefulSet's claim template cannot change
   * once created (docs/runbooks.md, "Change monitoring storage").
   * @default - the cluster's default StorageClass
   */
  readonly storageClassName?: string;
}

const alertmanagerUser = 65534;
export const alertmanagerPort = 9093;
/** One replica: no gossip mesh to join (the args switch clustering off). */
const replicas = 1;
const configDirectory = '/etc/alertmanager/config';

/** Alertmanager and the Secret holding its configuration. */
export class StandaloneAlertmanager extends Construct {
  public readonly statefulSet: kplus.StatefulSet;
  public readonly service: kplus.Service;
  /** The headless Service that governs the StatefulSet (`serviceName`). */
  public readonly governingService: kplus.Service;
  /** The generated config Secret, unless an existing one was given. */
  public readonly configSecret?: kplus.Secret;
  /** `host:port` Prometheus sends alerts to. */
  public readonly address: string;

  constructor(scope: Construct, id: string, props: StandaloneAlertmanagerProps) {
    super(scope, id);
    const name = 'alertmanager';
    const metadata = (objectName = name) => ({ name: objectName, namespace: props.namespace, labels: { ...props.labels } });

    let configSecret: kplus.ISecret;
    let checksum: string;
    if (props.existingConfigSecretName) {
      configSecret = kplus.Secret.fromSecretName(this, 'config-secret', props.existingConfigSecretName);
      checksum = configChecksum(props.existingConfigSecretName);
    } else {
      // A Secret although it holds no credential yet: receivers' integrations added later (webhook URLs, API keys) will.
      const configYaml = stringify(alertmanagerConfig());
      this.configSecret = new kplus.Secret(this, 'config', { metadata: metadata('alertmanager-config'), stringData: { 'alertmanager.yml': configYaml } });
      configSecret = this.configSecret;
      checksum = configChecksum(configYaml);
    }

    this.service = new kplus.Service(this, 'service', {
      metadata: metadata(),
      type: kplus.ServiceType.CLUSTER_IP,
      ports: [{ name: 'web', port: alertmanagerPort, targetPort: alertmanagerPort }],
    });
    for (const [key, value] of Object.entries(props.selectorLabels)) this.service.selectLabel(key, value);
    this.address = `${name}.${props.namespace}.svc:${alertmanagerPort}`;
    this.governingService = governingService(this, metadata(), { ...props.selectorLabels }, [{ name: 'web', port: alertmanagerPort, targetPort: alertmanagerPort }]);

    this.statefulSet = new kplus.StatefulSet(this, 'statefulset', {
      metadata: metadata(),
      select: false,
      service: this.governingService,
      replicas,
      podMetadata: { labels: { ...props.labels, ...props.selectorLabels }, annotations: { 'checksum/config': checksum } },
      automountServiceAccountToken: false,
      securityContext: restrictedPodSecurity(alertmanagerUser),
    });
    const container = this.statefulSet.addContainer({
      name,
      image: formatImageReference(props.image === undefined ? defaultImage('alertmanager') : parseImageReference('image', props.image)),
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      args: [
        `--config.file=${configDirectory}/alertmanager.yml`,
        '--storage.path=/alertmanager',
        // One replica: no gossip mesh to join.
        '--cluster.listen-address=',
      ],
      ports: [{ name: 'web', number: alertmanagerPort }],
      resources: {
        cpu: { request: kplus.Cpu.millis(20), limit: kplus.Cpu.millis(200) },
        memory: { request: Size.mebibytes(64), limit: Size.mebibytes(128) },
      },
      securityContext: restrictedContainerSecurity(alertmanagerUser),
      readiness: kplus.Probe.fromHttpGet('/-/ready', { port: alertmanagerPort, periodSeconds: Duration.seconds(10), timeoutSeconds: monitoringProbeTimeout }),
      liveness: kplus.Probe.fromHttpGet('/-/healthy', { port: alertmanagerPort, periodSeconds: Duration.seconds(15), timeoutSeconds: monitoringProbeTimeout }),
    });
    container.mount(configDirectory, secretVolume(this, 'config-volume', configSecret, { name: 'config' }), { readOnly: true });
    addVolumeClaimTemplate(this.statefulSet, 'data', '/alertmanager', '1Gi', props.storageClassName);
    hardenWorkload(this.statefulSet, { ...props.selectorLabels });

    disruptionBudget(this, 'pdb', { metadata: metadata(), selectorLabels: props.selectorLabels, mostPods: replicas, prop: 'alertmanager' });
    namedPortIngressPolicy(this, metadata(), props.selectorLabels, 'web', props.alertSenderLabels);
  }
}
