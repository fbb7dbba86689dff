// What a key server's objects, ports and labels are called unless told otherwise: KeyServerApp builds with these, and
// KeyServerApp.fromAttributes assumes them, so a key server installed from this package's manifests imports by namespace alone.
import { defaultConfig } from '../../server/config';
import { recommendedLabels, selectorLabelsOf } from '../labels';

/** The server's own defaults, from its flag contract. */
const server = defaultConfig();

/** The names and ports of a key server unless its props say otherwise. */
export const keyServerDefaults = {
  /** Base name of every object, and `app.kubernetes.io/instance`. */
  name: 'key-server',
  namespace: 'key-server',
  /** `app.kubernetes.io/part-of`. */
  partOf: 'key-server',
  /** The one container of the pod. */
  containerName: 'key-server',
  /** The port serving keys over HTTPS (`--srv-port`), at the server's default. */
  httpsPortName: 'https',
  httpsPort: server.srvPort,
  /** The port serving only /metrics (`--metrics-port`), the one the NetworkPolicy keeps to Prometheus. */
  metricsPortName: 'metrics',
  metricsPort: 9464,
  metricsPath: '/metrics',
  /** The address, the key sizes and the shutdown delay: the server's defaults (`::` serves IPv4 and IPv6 alike). */
  host: server.host,
  minSize: server.minSize,
  maxSize: server.maxSize,
  shutdownDelaySeconds: server.shutdownDelay,
} as const;

/** `app.kubernetes.io/name` and `component` of every key server object. */
const application = { name: 'key-server', component: 'server' } as const;

/** The recommended labels of a key server's objects. */
export function keyServerLabels(instance: string, version: string, partOf: string): Record<string, string> {
  return recommendedLabels({ ...application, instance, version, partOf });
}

/** The labels that select a key server's pods: stable across versions, so a Deployment's immutable selector survives an upgrade. */
export function keyServerSelectorLabels(instance: string): Record<string, string> {
  return selectorLabelsOf({ ...application, instance });
}
