// Reads what the end-to-end test runs from the synthesized manifests, following the references a cluster follows.
//
// ServiceMonitor → Service (by label) → port by name → Deployment (by selector) → container port → the server
// flag that opens it. Every hop that does not resolve throws an error naming the object and the name it looked
// for, so a renamed port fails here with the target's name instead of as a scrape target that never comes up.
import { App, Testing } from 'cdk8s';
import { buildOperatorMode } from '../../main';
import type { GrafanaDashboard, KeyServerApp } from '../../constructs';
import type { RuleGroup } from '../../constructs/monitoring/rules/rule-types';

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped JSON here, as a cluster sees them */
type Manifest = any;

/** Every object of dist/ (operator mode, production), synthesized in-process from main.ts, and the KeyServerApp behind them. */
export function synthesizeOperatorManifests(): { objects: Manifest[]; keyServer: KeyServerApp } {
  const app: App = Testing.app();
  const { keyServer } = buildOperatorMode(app, 'production');
  return { objects: app.charts.flatMap((chart) => Testing.synth(chart)), keyServer };
}

/** What a ServiceMonitor endpoint resolves to: where and how Prometheus scrapes, and the process behind it. */
export interface ScrapeTarget {
  /** `serviceMonitor/<namespace>/<name>/<endpoint index>`, the operator's scrape job name. */
  readonly jobName: string;
  /** How the target is named in failure messages. */
  readonly description: string;
  readonly namespace: string;
  /** The `job` label: the Service name (the operator's default without `jobLabel`). */
  readonly service: string;
  /** The `endpoint` label: the endpoint's port name. */
  readonly endpointPortName: string;
  readonly scheme: string;
  readonly metricsPath: string;
  readonly interval: string;
  readonly scrapeTimeout: string;
  readonly tls: {
    /** The Secret and key holding the CA, or undefined with insecureSkipVerify. */
    readonly caSecret?: { readonly name: string; readonly key: string };
    readonly serverName?: string;
    readonly insecureSkipVerify: boolean;
  };
  readonly deploymentName: string;
  readonly containerName: string;
  /** The container's args, exactly as in the manifest. */
  readonly containerArgs: readonly string[];
  /** Container port numbers by port name. */
  readonly containerPorts: Readonly<Record<string, number>>;
  /** The container port the endpoint resolves to. */
  readonly metricsContainerPort: number;
  /** The container port the readiness probe knocks on: where clients and probes go. */
  readonly servingContainerPort: number;
  /** Mount path of the volume holding the CA's Secret, where the server reads its certificate. */
  readonly tlsMountPath?: string;
  /** DNS names of the cert-manager Certificate writing that Secret. */
  readonly certificateDnsNames: readonly string[];
}

function includesLabels(labels: Record<string, string> | undefined, wanted: Record<string, string>): boolean {
  return Object.entries(wanted).every(([key, value]) => labels?.[key] === value);
}

function objectName(object: Manifest): string {
  return `${object.kind} ${object.metadata?.namespace}/${object.metadata?.name}`;
}

/** Resolves endpoint `endpointIndex` of the only ServiceMonitor in `objects` to the process that serves it. */
export function resolveScrapeTarget(objects: readonly Manifest[], endpointIndex = 0): ScrapeTarget {
  const monitors = objects.filter((object) => object.kind === 'ServiceMonitor');
  if (monitors.length !== 1) {
    throw new Error(`expected one ServiceMonitor in the manifests, found ${monitors.length}`);
  }
  const monitor = monitors[0];
  const endpoint = monitor.spec.endpoints?.[endpointIndex];
  const jobName = `serviceMonitor/${monitor.metadata.namespace}/${monitor.metadata.name}/${endpointIndex}`;
  const description = `scrape target ${jobName} (${objectName(monitor)}, endpoint port "${endpoint?.port}")`;
  if (endpoint === undefined || typeof endpoint.port !== 'string') {
    throw new Error(`${description}: the endpoint must name a Service port`);
  }
  const namespaces: string[] = monitor.spec.namespaceSelector?.matchNames ?? [monitor.metadata.namespace];
  const services = objects.filter((object) => object.kind === 'Service'
    && namespaces.includes(object.metadata.namespace)
    && includesLabels(object.metadata.labels, monitor.spec.selector?.matchLabels ?? {}));
  if (services.length !== 1) {
    throw new Error(`${description}: selects ${services.length} Services with labels ${JSON.stringify(monitor.spec.selector?.matchLabels)}, expected 1`);
  }
  const service = services[0];
  const servicePort = service.spec.ports.find((port: Manifest) => port.name === endpoint.port);
  if (servicePort === undefined) {
    const names = service.spec.ports.map((port: Manifest) => port.name).join(', ');
    throw new Error(`${description}: ${objectName(service)} has no port named "${endpoint.port}" (its ports: ${names})`);
  }
  const deployments = objects.filter((object) => object.kind === 'Deployment'
    && object.metadata.namespace === service.metadata.namespace
    && includesLabels(object.spec.template.metadata?.labels, service.spec.selector ?? {}));
  if (deployments.length !== 1) {
    throw new Error(`${description}: ${objectName(service)} selects ${deployments.length} Deployments, expected 1`);
  }
  const deployment = deployments[0];
  const targetPort = servicePort.targetPort ?? servicePort.port;
  const podSpec = deployment.spec.template.spec;
  const container = podSpec.containers.find((candidate: Manifest) => (candidate.ports ?? []).some((port: Manifest) =>
    (typeof targetPort === 'string' ? port.name === targetPort : port.containerPort === targetPort)));
  if (container === undefined) {
    throw new Error(`${description}: ${objectName(service)} port "${endpoint.port}" targets ${targetPort}, which no container of ${objectName(deployment)} declares`);
  }
  const containerPorts: Record<string, number> = Object.fromEntries(
    (container.ports ?? []).map((port: Manifest) => [port.name ?? String(port.containerPort), port.containerPort]));
  const portNumber = (port: number | string) => (typeof port === 'number' ? port : containerPorts[port]);
  const probePort = container.readinessProbe?.httpGet?.port;
  if (probePort === undefined || portNumber(probePort) === undefined) {
    throw new Error(`${objectName(deployment)} container ${container.name}: the readiness probe port ${probePort} is not a container port`);
  }

  const tlsConfig = endpoint.tlsConfig ?? {};
  const caSecret = tlsConfig.ca?.secret;
  const volume = caSecret && (podSpec.volumes ?? []).find((candidate: Manifest) => candidate.secret?.secretName === caSecret.name);
  const mount = volume && (container.volumeMounts ?? []).find((candidate: Manifest) => candidate.name === volume.name);
  const certificate = caSecret && objects.find((object) => object.kind === 'Certificate'
    && object.metadata.namespace === monitor.metadata.namespace && object.spec.secretName === caSecret.name);
  return {
    jobName,
    description,
    namespace: service.metadata.namespace,
    service: service.metadata.name,
    endpointPortName: endpoint.port,
    scheme: endpoint.scheme ?? 'http',
    metricsPath: endpoint.path ?? '/metrics',
    interval: endpoint.interval,
    scrapeTimeout: endpoint.scrapeTimeout,
    tls: { caSecret, serverName: tlsConfig.serverName, insecureSkipVerify: tlsConfig.insecureSkipVerify ?? false },
    deploymentName: deployment.metadata.name,
    containerName: container.name,
    containerArgs: container.args ?? [],
    containerPorts,
    metricsContainerPort: portNumber(targetPort),
    servingContainerPort: portNumber(probePort),
    tlsMountPath: mount?.mountPath,
    certificateDnsNames: certificate?.spec.dnsNames ?? [],
  };
}

/** What must differ on this machine from the pod: where the server binds and where its certificate lies. */
export interface LocalEnvironment {
  readonly host: string;
  /** Local port for each container port number the args open. */
  readonly ports: ReadonlyMap<number, number>;
  readonly certFile: string;
  readonly keyFile: string;
}

const portFlags = new Set(['--srv-port', '--metrics-port']);

/**
 * The container args with only the machine-specific values swapped: `--host`, the port flags (by the container
 * port they open) and the certificate files (which must lie under the TLS Secret's mount). Every other flag and
 * value passes through untouched. Throws when a port flag opens no declared container port, or when the
 * metrics port the ServiceMonitor scrapes is opened by no flag.
 */
export function localServerArgs(target: ScrapeTarget, local: LocalEnvironment): string[] {
  const args = [...target.containerArgs];
  const declaredPorts = new Set(Object.values(target.containerPorts));
  const opened = new Set<number>();
  for (let index = 0; index < args.length; index++) {
    const flag = args[index];
    const value = args[index + 1];
    if (!flag.startsWith('--') || value === undefined || value.startsWith('--')) {
      continue;
    }
    if (flag === '--host') {
      args[index + 1] = local.host;
    } else if (portFlags.has(flag)) {
      const port = Number(value);
      const localPort = local.ports.get(port);
      if (!declaredPorts.has(port) || localPort === undefined) {
        throw new Error(`${target.description}: container ${target.containerName} arg ${flag} ${value} opens a port the container does not declare (declared: ${JSON.stringify(target.containerPorts)})`);
      }
      opened.add(port);
      args[index + 1] = String(localPort);
    } else if (flag === '--tls-cert' || flag === '--tls-key') {
      if (target.tlsMountPath === undefined || !value.startsWith(`${target.tlsMountPath}/`)) {
        throw new Error(`${target.description}: ${flag} ${value} is not in the mount of Secret ${target.tls.caSecret?.name}, whose CA the scrape trusts`);
      }
      args[index + 1] = flag === '--tls-cert' ? local.certFile : local.keyFile;
    }
    index++;
  }
  if (!opened.has(target.metricsContainerPort)) {
    throw new Error(`${target.description}: resolves to container port ${target.metricsContainerPort}, but no flag of ${target.containerName} (${target.containerArgs.join(' ')}) opens it`);
  }
  return args;
}

/** The labels Kubernetes service discovery and the operator give the target's series, for a static target. */
export function kubernetesTargetLabels(target: ScrapeTarget, podName: string): Record<string, string> {
  return {
    job: target.service,
    namespace: target.namespace,
    service: target.service,
    pod: podName,
    container: target.containerName,
    endpoint: target.endpointPortName,
  };
}

/** Options of {@link scrapeConfig}. */
export interface ScrapeConfigOptions {
  /** `host:port` of the local process. */
  readonly address: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Replaces the endpoint's interval, so the test needs seconds, not minutes. */
  readonly interval: string;
  /** Where the CA of `target.tls.caSecret` is on this machine. */
  readonly caFile: string;
}

/** The scrape job the operator generates for the target, with discovery swapped for one labelled static target. */
export function scrapeConfig(target: ScrapeTarget, options: ScrapeConfigOptions): Record<string, unknown> {
  return {
    job_name: target.jobName,
    scheme: target.scheme,
    metrics_path: target.metricsPath,
    scrape_interval: options.interval,
    scrape_timeout: options.interval,
    tls_config: target.tls.insecureSkipVerify
      ? { insecure_skip_verify: true }
      : { ca_file: options.caFile, server_name: target.tls.serverName },
    static_configs: [{ targets: [options.address], labels: { ...options.labels } }],
  };
}

/** The rule groups of the only PrometheusRule, as a rule file holds them. */
export function ruleGroupsFrom(objects: readonly Manifest[]): RuleGroup[] {
  const rules = objects.filter((object) => object.kind === 'PrometheusRule');
  if (rules.length !== 1) {
    throw new Error(`expected one PrometheusRule in the manifests, found ${rules.length}`);
  }
  return rules[0].spec.groups;
}

/**
 * A copy of `groups` on the test's clock: every alert waits `forDuration` instead of its own `for`, and every group is
 * evaluated at the test Prometheus' global interval instead of its own (the long windows' 2 m); nothing else changes.
 */
export function withTestTiming(groups: readonly RuleGroup[], forDuration: string): RuleGroup[] {
  return groups.map(({ interval: _ownInterval, ...group }) => ({
    ...group,
    rules: group.rules.map((rule) => ('alert' in rule ? { ...rule, for: forDuration } : rule)),
  }));
}

/** The dashboards Grafana's sidecar would load: every `.json` in ConfigMaps labelled `grafana_dashboard`. */
export function dashboardsFrom(objects: readonly Manifest[]): GrafanaDashboard[] {
  return objects
    .filter((object) => object.kind === 'ConfigMap' && object.metadata.labels?.grafana_dashboard !== undefined)
    .flatMap((configMap) => Object.entries<string>(configMap.data ?? {})
      .filter(([key]) => key.endsWith('.json'))
      .map(([, json]) => JSON.parse(json) as GrafanaDashboard));
}
