// The key server's startup, readiness and liveness probes: HTTPS GETs on named ports, timed for a busy pod.
import { ApiObject, Duration, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';

/** The two ports the probes knock on, by number (as cdk8s-plus takes them) and by name (as the manifest names them). */
export interface ProbePorts {
  readonly https: { readonly name: string; readonly number: number };
  readonly metrics: { readonly name: string; readonly number: number };
}

/**
 * The probes of the container, each a new TLS connection. Readiness asks the https port, the one clients use: a pod
 * that cannot take a new client there (shutting down, or every connection slot busy) leaves the endpoints. Startup
 * and liveness ask /health on the metrics port, which the NetworkPolicy opens to Prometheus only: clients that fill
 * the https port's connection cap (the cap is per port) must not get the pod restarted, only taken out of rotation.
 * Measured under 200 connections of /key/1024: at a 200m CPU limit a probe took up to 4.4 s (p90 3 s), at 500m or
 * 1 CPU at most 0.1 s. Startup allows 60 s before liveness counts; readiness drops a pod after 15 s of 503 or
 * silence; liveness restarts only after a minute without an answer within 5 s, i.e. a process that is stuck, not
 * one that is busy.
 */
export function keyServerProbes(ports: ProbePorts): { startup: kplus.Probe; readiness: kplus.Probe; liveness: kplus.Probe } {
  return {
    startup: httpsProbe('/health', ports.metrics.number, { period: Duration.seconds(2), failureThreshold: 30, timeout: Duration.seconds(2) }),
    readiness: httpsProbe('/ready', ports.https.number, { period: Duration.seconds(5), failureThreshold: 3, timeout: Duration.seconds(3) }),
    liveness: httpsProbe('/health', ports.metrics.number, { period: Duration.seconds(10), failureThreshold: 6, timeout: Duration.seconds(5) }),
  };
}

/**
 * Makes the probes of the first container name their ports instead of numbers (cdk8s-plus-27's probes take a number
 * only), so a port change cannot leave a probe knocking on the old number.
 */
export function probeByPortName(deployment: kplus.Deployment, ports: ProbePorts): void {
  const portOf = { startupProbe: ports.metrics.name, readinessProbe: ports.https.name, livenessProbe: ports.metrics.name };
  ApiObject.of(deployment).addJsonPatch(...Object.entries(portOf).map(([probe, portName]) =>
    // An IntOrString because KubeDeployment converts the patched JSON through its typed mapper once more.
    JsonPatch.replace(`/spec/template/spec/containers/0/${probe}/httpGet/port`, kplus.k8s.IntOrString.fromString(portName))));
}

/** An HTTPS GET probe on the port's number, which {@link probeByPortName} replaces by its name. */
function httpsProbe(path: string, port: number, timing: { period: Duration; failureThreshold: number; timeout: Duration }): kplus.Probe {
  return kplus.Probe.fromHttpGet(path, {
    scheme: kplus.ConnectionScheme.HTTPS, port, periodSeconds: timing.period, failureThreshold: timing.failureThreshold, timeoutSeconds: timing.timeout,
  });
}
