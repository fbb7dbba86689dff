// Cross-object checks a cluster would otherwise reveal at run time: selectors that select nothing, ports that
// are not declared, autoscalers aimed at nothing, Secrets mounted that nobody creates. Each returns readable lines.

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;

const workloadKinds = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job']);

function ofKind(objects: readonly Json[], kind: string): Json[] {
  return objects.filter((o) => o.kind === kind);
}

function name(object: Json): string {
  return `${object.kind}/${object.metadata?.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata?.name}`;
}

/** Whether every label of `selector` is in `labels`, and every matchExpression holds. */
export function selectorMatches(selector: Json, labels: Record<string, string> = {}): boolean {
  const matchLabels: Record<string, string> = selector?.matchLabels ?? (selector?.matchExpressions ? {} : selector ?? {});
  const labelsMatch = Object.entries(matchLabels).every(([key, value]) => labels[key] === value);
  const expressionsMatch = (selector?.matchExpressions ?? []).every((e: Json) => {
    switch (e.operator) {
      case 'In': return e.values.includes(labels[e.key]);
      case 'NotIn': return !e.values.includes(labels[e.key]);
      case 'Exists': return e.key in labels;
      case 'DoesNotExist': return !(e.key in labels);
      default: return false;
    }
  });
  return labelsMatch && expressionsMatch;
}

/** Pod templates (namespace, labels, spec, owner) of every workload. */
export function podTemplates(objects: readonly Json[]): { owner: Json; namespace: string; labels: Record<string, string>; spec: Json }[] {
  return objects
    .filter((o) => workloadKinds.has(o.kind))
    .map((o) => ({ owner: o, namespace: o.metadata?.namespace, labels: o.spec?.template?.metadata?.labels ?? {}, spec: o.spec?.template?.spec }));
}

/** Workloads whose own selector does not match their pod template (the API server refuses them). */
export function workloadSelectorViolations(objects: readonly Json[]): string[] {
  return podTemplates(objects)
    .filter((t) => t.owner.kind !== 'Job' && !selectorMatches(t.owner.spec?.selector, t.labels))
    .map((t) => `${name(t.owner)}: selector does not match its pod template labels`);
}

function containerPorts(spec: Json): Json[] {
  return (spec?.containers ?? []).flatMap((c: Json) => c.ports ?? []);
}

function portDeclared(ports: Json[], port: string | number): boolean {
  return ports.some((p) => (typeof port === 'string' ? p.name === port : p.containerPort === port));
}

/**
 * Services whose selector matches no pod template in their namespace, or whose targetPort (name or number)
 * no selected container declares.
 */
export function serviceViolations(objects: readonly Json[]): string[] {
  const violations: string[] = [];
  for (const service of ofKind(objects, 'Service')) {
    if (service.spec?.selector === undefined) continue;
    const selected = podTemplates(objects).filter((t) =>
      t.namespace === service.metadata?.namespace && selectorMatches({ matchLabels: service.spec.selector }, t.labels));
    if (selected.length === 0) {
      violations.push(`${name(service)}: selector matches no pod template`);
      continue;
    }
    for (const port of service.spec.ports ?? []) {
      const target = port.targetPort ?? port.port;
      if (!selected.every((t) => portDeclared(containerPorts(t.spec), target))) {
        violations.push(`${name(service)}: targetPort ${target} of port ${port.name} is not a declared container port`);
      }
    }
  }
  return violations;
}

/** Probes whose port (name or number) the container does not declare. */
export function probePortViolations(objects: readonly Json[]): string[] {
  const violations: string[] = [];
  for (const template of podTemplates(objects)) {
    for (const container of template.spec?.containers ?? []) {
      for (const probeName of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
        const probe = container[probeName];
        const port = probe?.httpGet?.port ?? probe?.tcpSocket?.port ?? probe?.grpc?.port;
        if (probe !== undefined && port !== undefined && !portDeclared(container.ports ?? [], port)) {
          violations.push(`${name(template.owner)}: ${container.name} ${probeName} port ${port} is not declared`);
        }
      }
    }
  }
  return violations;
}

/** HPAs whose scaleTargetRef names no object of this set; PDBs whose selector matches no pod template. */
export function scalingAndDisruptionViolations(objects: readonly Json[]): string[] {
  const violations: string[] = [];
  for (const hpa of ofKind(objects, 'HorizontalPodAutoscaler')) {
    const ref = hpa.spec?.scaleTargetRef ?? {};
    const target = objects.find((o) => o.kind === ref.kind && o.metadata?.name === ref.name && o.metadata?.namespace === hpa.metadata?.namespace);
    if (target === undefined) violations.push(`${name(hpa)}: scaleTargetRef ${ref.kind}/${ref.name} does not exist`);
    else if (target.apiVersion !== ref.apiVersion) violations.push(`${name(hpa)}: scaleTargetRef apiVersion ${ref.apiVersion} is not ${target.apiVersion}`);
    if (target?.spec?.replicas !== undefined) violations.push(`${name(hpa)}: ${name(target)} sets replicas, which fights the autoscaler`);
  }
  for (const pdb of ofKind(objects, 'PodDisruptionBudget')) {
    const selected = podTemplates(objects).filter((t) => t.namespace === pdb.metadata?.namespace && selectorMatches(pdb.spec?.selector, t.labels));
    if (selected.length === 0) violations.push(`${name(pdb)}: selector matches no pod template`);
  }
  return violations;
}

/** ServiceMonitor endpoints whose port names no port of a Service the monitor selects. */
export function serviceMonitorPortViolations(objects: readonly Json[]): string[] {
  const violations: string[] = [];
  for (const monitor of ofKind(objects, 'ServiceMonitor')) {
    const namespaces: string[] | undefined = monitor.spec?.namespaceSelector?.any
      ? undefined : monitor.spec?.namespaceSelector?.matchNames ?? [monitor.metadata?.namespace];
    const services = ofKind(objects, 'Service').filter((s) =>
      (namespaces === undefined || namespaces.includes(s.metadata?.namespace)) && selectorMatches(monitor.spec?.selector, s.metadata?.labels));
    if (services.length === 0) violations.push(`${name(monitor)}: selector matches no Service`);
    for (const endpoint of monitor.spec?.endpoints ?? []) {
      if (endpoint.port !== undefined && !services.some((s) => (s.spec?.ports ?? []).some((p: Json) => p.name === endpoint.port))) {
        violations.push(`${name(monitor)}: endpoint port ${endpoint.port} is not a port of a selected Service`);
      }
    }
  }
  return violations;
}

/** Secret volumes naming a Secret that no Secret object, cert-manager Certificate or `external` name provides. */
export function mountedSecretViolations(objects: readonly Json[], external: readonly string[] = []): string[] {
  const provided = new Set<string>();
  for (const o of objects) {
    if (o.kind === 'Secret') provided.add(`${o.metadata?.namespace}/${o.metadata?.name}`);
    if (o.kind === 'Certificate') provided.add(`${o.metadata?.namespace}/${o.spec?.secretName}`);
  }
  const violations: string[] = [];
  for (const template of podTemplates(objects)) {
    for (const volume of template.spec?.volumes ?? []) {
      const secretName = volume.secret?.secretName;
      if (secretName !== undefined && !provided.has(`${template.namespace}/${secretName}`) && !external.includes(secretName)) {
        violations.push(`${name(template.owner)}: volume ${volume.name} mounts Secret ${secretName}, which nothing creates`);
      }
    }
  }
  return violations;
}

/** All of the above. */
export function invariantViolations(objects: readonly Json[], options: { externalSecrets?: readonly string[] } = {}): string[] {
  return [
    ...workloadSelectorViolations(objects),
    ...serviceViolations(objects),
    ...probePortViolations(objects),
    ...scalingAndDisruptionViolations(objects),
    ...serviceMonitorPortViolations(objects),
    ...mountedSecretViolations(objects, options.externalSecrets),
  ];
}
