// Probe timing of the standalone monitoring workloads (Prometheus, Alertmanager, Grafana).
import { Duration } from 'cdk8s';

/**
 * prometheus-operator's probe timeout for Prometheus and Alertmanager, used for Grafana too: a TSDB compaction or a
 * large query can hold the process for more than the 1 s default; readiness fails after 3 misses.
 */
export const monitoringProbeTimeout = Duration.seconds(3);
