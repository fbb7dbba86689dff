// The key server's Service: its https and metrics ports by name, and the prometheus.io annotations for a Prometheus
// that discovers targets by annotation rather than by ServiceMonitor.
import type * as kplus from 'cdk8s-plus-27';
import type { HardenedWorkload } from '../workload';

/** The Service's name and the two ports, each by the name the container gives it. */
export interface KeyServerServiceOptions {
  readonly name: string;
  readonly https: { readonly name: string; readonly port: number };
  readonly metrics: { readonly name: string; readonly port: number; readonly path: string; readonly scheme: string };
}

/** The ClusterIP Service in front of the key server's pods. */
export function addKeyServerService(workload: HardenedWorkload, options: KeyServerServiceOptions): kplus.Service {
  const { https, metrics } = options;
  return workload.addService('service', {
    name: options.name,
    ports: [
      { name: https.name, port: https.port, targetPort: https.port },
      { name: metrics.name, port: metrics.port, targetPort: metrics.port },
    ],
    annotations: {
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(metrics.port),
      'prometheus.io/path': metrics.path,
      'prometheus.io/scheme': metrics.scheme,
    },
  });
}
