// The key server's startup, readiness and liveness probes: HTTPS GETs on the named https port, timed for a busy pod.
import { ApiObject, Duration, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';

/**
 * The probes of the container. Every probe opens a new TLS connection. Measured under 200 connections of /key/1024:
 * at a 200m CPU limit the probe took up to 4.4 s (p90 3 s), at 500m or 1 CPU at most 0.1 s. Startup allows 60 s
 * before liveness counts; readiness drops a pod after 15 s of 503 (shutdown) or silence; liveness restarts only after
 * a minute without an answer within 5 s, i.e. a process that is stuck, not one that is busy.
 */
export function keyServerProbes(httpsPort: number): { startup: kplus.Probe; readiness: kplus.Probe; liveness: kplus.Probe } {
  return {
    startup: httpsProbe('/health', httpsPort, { period: Duration.seconds(2), failureThreshold: 30, timeout: Duration.seconds(2) }),
    readiness: httpsProbe('/ready', httpsPort, { period: Duration.seconds(5), failureThreshold: 3, timeout: Duration.seconds(3) }),
    liveness: httpsProbe('/health', httpsPort, { period: Duration.seconds(10), failureThreshold: 6, timeout: Duration.seconds(5) }),
  };
}

/**
 * Makes the probes of the first container name the port instead of its number (cdk8s-plus-27's probes take a number
 * only), so a port change cannot leave a probe knocking on the old number.
 */
export function probeByPortName(deployment: kplus.Deployment, portName: string): void {
  ApiObject.of(deployment).addJsonPatch(...['startupProbe', 'readinessProbe', 'livenessProbe'].map((probe) =>
    // An IntOrString because KubeDeployment converts the patched JSON through its typed mapper once more.
    JsonPatch.replace(`/spec/template/spec/containers/0/${probe}/httpGet/port`, kplus.k8s.IntOrString.fromString(portName))));
}

/** An HTTPS GET probe on the port's number, which {@link probeByPortName} replaces by its name. */
function httpsProbe(path: string, port: number, timing: { period: Duration; failureThreshold: number; timeout: Duration }): kplus.Probe {
  return kplus.Probe.fromHttpGet(path, {
    scheme: kplus.ConnectionScheme.HTTPS, port, periodSeconds: timing.period, failureThreshold: timing.failureThreshold, timeoutSeconds: timing.timeout,
  });
}
