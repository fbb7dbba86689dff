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

/**
 * Container images that would not pull as written: no registry (a bare `key-server` or `grafana/grafana` resolves to
 * docker.io), or neither a tag nor a digest (`:latest` by default). A registry is the first path component when it
 * holds a dot or a port, or is `localhost`, as the container runtime reads it.
 */
export function imageReferenceViolations(objects: readonly Json[]): string[] {
  const violations: string[] = [];
  for (const template of podTemplates(objects)) {
    for (const container of [...(template.spec?.initContainers ?? []), ...(template.spec?.containers ?? [])]) {
      const image: string = container.image ?? '';
      const [repositoryAndTag, digest] = image.split('@');
      const firstComponent = repositoryAndTag.split('/')[0];
      const hasRegistry = repositoryAndTag.includes('/') && (/[.:]/.test(firstComponent) || firstComponent === 'localhost');
      const tag = /:([^/:]+)$/.exec(repositoryAndTag)?.[1];
      if (!hasRegistry) violations.push(`${name(template.owner)}: container ${container.name} image ${image} names no registry`);
      if (tag === undefined && digest === undefined) violations.push(`${name(template.owner)}: container ${container.name} image ${image} has no tag or digest`);
      if (tag === 'latest') violations.push(`${name(template.owner)}: container ${container.name} image ${image} is tagged latest`);
      if (digest !== undefined && !/^sha(256:[a-f0-9]{64}|512:[a-f0-9]{128})$/.test(digest)) violations.push(`${name(template.owner)}: container ${container.name} image ${image} has a malformed digest`);
    }
  }
  return violations;
}

/** Labels by which a GitOps tool or a manifest tool claims an object (Argo CD label tracking reads `instance`). */
const ownershipLabels = ['app.kubernetes.io/instance', 'app.kubernetes.io/managed-by'];

/**
 * Templates from which a controller creates objects that carry no owner reference, and so would be pruned by Argo CD
 * if they claimed its Application: cert-manager's Secret from `secretTemplate` (no owner reference unless
 * cert-manager runs with --enable-certificate-owner-ref) and a StatefulSet's PersistentVolumeClaims from
 * `volumeClaimTemplates` (kept after the StatefulSet by default).
 */
export function controllerTemplateOwnershipViolations(objects: readonly Json[]): string[] {
  const violations: string[] = [];
  const check = (object: Json, where: string, labels: Record<string, string> | undefined) => {
    for (const key of Object.keys(labels ?? {}).filter((label) => ownershipLabels.includes(label))) {
      violations.push(`${name(object)}: ${where} gives the objects it creates ${key}, which claims GitOps ownership of objects not in Git`);
    }
  };
  for (const object of objects) {
    if (object.kind === 'Certificate') check(object, 'secretTemplate', object.spec?.secretTemplate?.labels);
    for (const [index, claim] of (object.spec?.volumeClaimTemplates ?? []).entries()) check(object, `volumeClaimTemplates[${index}]`, claim.metadata?.labels);
  }
  return violations;
}

/** Secret volumes whose files others than owner and group could read (Kubernetes defaults to 0644). */
export function secretVolumeModeViolations(objects: readonly Json[]): string[] {
  const violations: string[] = [];
  for (const template of podTemplates(objects)) {
    for (const volume of template.spec?.volumes ?? []) {
      if (volume.secret === undefined) continue;
      const modes = [volume.secret.defaultMode ?? 0o644, ...(volume.secret.items ?? []).flatMap((item: Json) => (item.mode === undefined ? [] : [item.mode]))];
      if (modes.some((mode) => (mode & 0o007) !== 0)) violations.push(`${name(template.owner)}: Secret volume ${volume.name} is readable by others (mode ${modes.map((mode) => mode.toString(8)).join(', ')})`);
    }
  }
  return violations;
}

/**
 * The library's one disruption policy: `maxUnavailable` (one pod at a time however far the autoscaler scaled), with
 * unhealthy pods always evictable, and no budget over a workload that never runs more than one pod.
 */
export function disruptionPolicyViolations(objects: readonly Json[]): string[] {
  const violations: string[] = [];
  for (const pdb of ofKind(objects, 'PodDisruptionBudget')) {
    if (pdb.spec?.minAvailable !== undefined || pdb.spec?.maxUnavailable === undefined) violations.push(`${name(pdb)}: sets minAvailable instead of maxUnavailable`);
    if (pdb.spec?.unhealthyPodEvictionPolicy !== 'AlwaysAllow') violations.push(`${name(pdb)}: unhealthy pods can block a drain (unhealthyPodEvictionPolicy is not AlwaysAllow)`);
    for (const template of podTemplates(objects).filter((t) => t.namespace === pdb.metadata?.namespace && selectorMatches(pdb.spec?.selector, t.labels))) {
      const hpa = ofKind(objects, 'HorizontalPodAutoscaler').find((candidate) => candidate.spec?.scaleTargetRef?.name === template.owner.metadata?.name);
      const mostPods = hpa?.spec?.maxReplicas ?? template.owner.spec?.replicas ?? 1;
      if (mostPods <= 1) violations.push(`${name(pdb)}: budgets ${name(template.owner)}, which never runs more than one pod`);
    }
  }
  return violations;
}

/** StatefulSets whose serviceName is not a headless Service (clusterIP None) of their namespace selecting their pods. */
export function governingServiceViolations(objects: readonly Json[]): string[] {
  const violations: string[] = [];
  for (const statefulSet of ofKind(objects, 'StatefulSet')) {
    const service = ofKind(objects, 'Service').find((candidate) =>
      candidate.metadata?.name === statefulSet.spec?.serviceName && candidate.metadata?.namespace === statefulSet.metadata?.namespace);
    if (service === undefined) violations.push(`${name(statefulSet)}: serviceName ${statefulSet.spec?.serviceName} is no Service of these objects`);
    else if (service.spec?.clusterIP !== 'None') violations.push(`${name(statefulSet)}: serviceName ${service.metadata.name} is not headless (clusterIP ${service.spec?.clusterIP ?? 'allocated'})`);
    else if (!selectorMatches({ matchLabels: service.spec.selector }, statefulSet.spec?.template?.metadata?.labels)) violations.push(`${name(statefulSet)}: its headless Service does not select its pods`);
  }
  return violations;
}

/** Pods that set an fsGroup but let the kubelet re-chown every volume at each start (`Always`, the default). */
export function fsGroupChangePolicyViolations(objects: readonly Json[]): string[] {
  return podTemplates(objects)
    .filter((t) => t.spec?.securityContext?.fsGroup !== undefined && t.spec.securityContext.fsGroupChangePolicy !== 'OnRootMismatch')
    .map((t) => `${name(t.owner)}: fsGroupChangePolicy ${t.spec.securityContext.fsGroupChangePolicy ?? 'Always (default)'} re-chowns its volumes at every start`);
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
    ...imageReferenceViolations(objects),
    ...controllerTemplateOwnershipViolations(objects),
    ...secretVolumeModeViolations(objects),
    ...disruptionPolicyViolations(objects),
    ...governingServiceViolations(objects),
    ...fsGroupChangePolicyViolations(objects),
  ];
}
