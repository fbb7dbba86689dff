// Checks of a pod spec against the Kubernetes Pod Security Standard "restricted" (which includes "baseline"),
// written from https://kubernetes.io/docs/concepts/security/pod-security-standards/ so tests need no cluster.

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;

const restrictedVolumeTypes = new Set([
  'configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret',
]);
const safeSysctls = new Set([
  'kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes',
]);
const allowedSeccompTypes = new Set(['RuntimeDefault', 'Localhost']);

function allContainers(spec: Json): Json[] {
  return [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])];
}

/**
 * Every way `podSpec` breaks Pod Security "restricted", one readable line each; empty when it complies.
 * Pod-level settings (runAsNonRoot, seccompProfile) count for containers that do not override them.
 */
export function podSecurityRestrictedViolations(podSpec: Json): string[] {
  const violations: string[] = [];
  const podContext = podSpec.securityContext ?? {};
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
    if (podSpec[field] === true) violations.push(`pod: ${field} must not be true`);
  }
  for (const volume of podSpec.volumes ?? []) {
    const type = Object.keys(volume).find((key) => key !== 'name');
    if (type === undefined || !restrictedVolumeTypes.has(type)) violations.push(`volume ${volume.name}: type ${type} is not allowed`);
  }
  for (const sysctl of podContext.sysctls ?? []) {
    if (!safeSysctls.has(sysctl.name)) violations.push(`pod: sysctl ${sysctl.name} is not allowed`);
  }
  if (podContext.runAsUser === 0) violations.push('pod: runAsUser must not be 0');
  if (podContext.seccompProfile !== undefined && !allowedSeccompTypes.has(podContext.seccompProfile.type)) {
    violations.push(`pod: seccompProfile ${podContext.seccompProfile.type} is not allowed`);
  }
  for (const container of allContainers(podSpec)) {
    const where = `container ${container.name}`;
    const context = container.securityContext ?? {};
    if (context.privileged === true) violations.push(`${where}: privileged must not be true`);
    if (context.allowPrivilegeEscalation !== false) violations.push(`${where}: allowPrivilegeEscalation must be false`);
    if ((context.runAsNonRoot ?? podContext.runAsNonRoot) !== true) violations.push(`${where}: runAsNonRoot must be true`);
    if (context.runAsUser === 0) violations.push(`${where}: runAsUser must not be 0`);
    const seccomp = context.seccompProfile ?? podContext.seccompProfile;
    if (seccomp === undefined || !allowedSeccompTypes.has(seccomp.type)) {
      violations.push(`${where}: seccompProfile must be RuntimeDefault or Localhost`);
    }
    const capabilities = context.capabilities ?? {};
    if (!(capabilities.drop ?? []).includes('ALL')) violations.push(`${where}: capabilities must drop ALL`);
    for (const added of capabilities.add ?? []) {
      if (added !== 'NET_BIND_SERVICE') violations.push(`${where}: capability ${added} must not be added`);
    }
    if (context.procMount !== undefined && context.procMount !== 'Default') violations.push(`${where}: procMount must be Default`);
    for (const port of container.ports ?? []) {
      if (port.hostPort !== undefined && port.hostPort !== 0) violations.push(`${where}: hostPort ${port.hostPort} is not allowed`);
    }
  }
  return violations;
}

/** Containers without both requests and limits for CPU and memory. */
export function missingResourceViolations(podSpec: Json): string[] {
  const violations: string[] = [];
  for (const container of [...(podSpec.initContainers ?? []), ...(podSpec.containers ?? [])]) {
    for (const kind of ['requests', 'limits'] as const) {
      for (const resource of ['cpu', 'memory'] as const) {
        if (container.resources?.[kind]?.[resource] === undefined) {
          violations.push(`container ${container.name}: ${kind}.${resource} is missing`);
        }
      }
    }
  }
  return violations;
}

/** The pod spec of a workload object (Deployment, StatefulSet, DaemonSet, Job, Pod), or undefined. */
export function podSpecOf(object: Json): Json | undefined {
  if (object.kind === 'Pod') return object.spec;
  if (object.kind === 'CronJob') return object.spec?.jobTemplate?.spec?.template?.spec;
  return object.spec?.template?.spec;
}
