// Standalone mode: an Alertmanager StatefulSet with its config Secret, storage for silences, Service, PDB and NetworkPolicy.
import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { stringify } from 'yaml';
import { defaultImage, formatImageReference, parseImageReference } from '../images';
import { secretVolume } from '../secrets';
import { HardenedWorkload } from '../workload';
import { alertmanagerConfig } from './alertmanager-config';
import { monitoringProbeTimeout } from './probe-timing';

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
    const workload = new HardenedWorkload(this, {
      name, namespace: props.namespace, labels: props.labels, selectorLabels: props.selectorLabels, user: alertmanagerUser,
    });

    let configSecret: kplus.ISecret;
    // What the pod template's checksum covers: the Secret's name when it is not ours, so naming another one rolls the pods.
    let configFile: string;
    if (props.existingConfigSecretName) {
      configSecret = kplus.Secret.fromSecretName(this, 'config-secret', props.existingConfigSecretName);
      configFile = props.existingConfigSecretName;
    } else {
      // A Secret although it holds no credential yet: receivers' integrations added later (webhook URLs, API keys) will.
      configFile = stringify(alertmanagerConfig());
      this.configSecret = new kplus.Secret(this, 'config', { metadata: workload.metadata('alertmanager-config'), stringData: { 'alertmanager.yml': configFile } });
      configSecret = this.configSecret;
    }

    const ports = [{ name: 'web', port: alertmanagerPort, targetPort: alertmanagerPort }];
    this.service = workload.addService('service', { ports });
    this.address = `${name}.${props.namespace}.svc:${alertmanagerPort}`;
    this.governingService = workload.addGoverningService(ports);

    this.statefulSet = new kplus.StatefulSet(this, 'statefulset', {
      ...workload.podTemplateProps([configFile]),
      service: this.governingService,
      replicas,
      automountServiceAccountToken: false,
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
      securityContext: workload.containerSecurity,
      readiness: kplus.Probe.fromHttpGet('/-/ready', { port: alertmanagerPort, periodSeconds: Duration.seconds(10), timeoutSeconds: monitoringProbeTimeout }),
      liveness: kplus.Probe.fromHttpGet('/-/healthy', { port: alertmanagerPort, periodSeconds: Duration.seconds(15), timeoutSeconds: monitoringProbeTimeout }),
    });
    container.mount(configDirectory, secretVolume(this, 'config-volume', configSecret, { name: 'config' }), { readOnly: true });
    workload.addVolumeClaim(this.statefulSet, { name: 'data', mountPath: '/alertmanager', storage: '1Gi', storageClassName: props.storageClassName });
    workload.harden(this.statefulSet);

    workload.addDisruptionBudget('pdb', { mostPods: replicas, prop: 'alertmanager' });
    workload.addNetworkPolicy().allowFrom('web', { podLabels: { ...props.alertSenderLabels } });
  }
}
