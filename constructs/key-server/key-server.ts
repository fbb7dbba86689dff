// IKeyServer: what other constructs (the monitoring first of all) wire to on a key server, whether this app built it
// (KeyServerApp) or it was installed by other means (KeyServerApp.fromAttributes).
import type * as kplus from 'cdk8s-plus-27';
import type { IConstruct } from 'constructs';
import type { PeerSelector } from '../network-policy';
import type { SecretKeyReference } from '../secrets';
import type { ContainerLimits } from './resources';

/**
 * A key server in a cluster, as other constructs see it: where it runs, how its metrics are reached and labelled, and
 * the one thing they may ask of it, to admit a peer to its metrics port. Monitoring reads only this, so it works the
 * same for a KeyServerApp of this app and for a key server imported with `KeyServerApp.fromAttributes`.
 */
export interface IKeyServer extends IConstruct {
  /** Base name of its objects, `app.kubernetes.io/instance`; objects made for it (a ServiceMonitor) take it too. */
  readonly name: string;
  /** Namespace it runs in: the `namespace` label of its series. */
  readonly namespace: string;
  /** `app.kubernetes.io/version` of its objects, which the objects made for it repeat. */
  readonly version: string;
  /** `app.kubernetes.io/part-of` of its objects, which the objects made for it repeat. */
  readonly partOf: string;
  /**
   * Name of the Service in front of its pods. Prometheus gives its series this `job` label (the Prometheus Operator
   * names the job after the Service; the standalone scrape config does the same).
   */
  readonly serviceName: string;
  /** Labels that select its pods; its Service carries them too, which is how a ServiceMonitor finds the Service. */
  readonly selectorLabels: Record<string, string>;
  /** Name of its Deployment: kube-state-metrics' `deployment` label, and the prefix of its pods' names. */
  readonly deploymentName: string;
  /** Name of its container: the `container` label cAdvisor and kube-state-metrics give its series. */
  readonly containerName: string;
  /** Name of the container and Service port serving only /metrics. */
  readonly metricsPortName: string;
  /** Path of the metrics endpoint. */
  readonly metricsPath: string;
  /**
   * The CA certificate that signed its serving certificate, as a key of a Secret in its namespace; undefined when
   * unknown, in which case a scraper must be given one (or told to skip verification).
   */
  readonly caSecret?: SecretKeyReference;
  /** The name its certificate is verified against: scrapes go to pod IPs, which the certificate does not name. */
  readonly tlsServerName: string;
  /** Its container's CPU and memory limits, which the resource alerts compare the process's usage with. */
  readonly containerLimits: ContainerLimits;
  /** Its Namespace object, when this app emits it: objects created in that namespace in the same chart must follow it. */
  readonly namespaceResource?: kplus.Namespace;

  /**
   * Admits `peer` to the metrics port, next to whoever is admitted already. The key server writes the NetworkPolicy
   * itself, so no other construct writes a policy that selects its pods.
   */
  allowMetricsFrom(peer: PeerSelector): void;
}
