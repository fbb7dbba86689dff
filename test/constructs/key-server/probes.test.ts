// The key server's probes: HTTPS on named ports, timed so a busy pod is not restarted, and placed so a full https port does not restart it.
import { KeyServerApp, KeyServerAppProps } from '../../../constructs';
import { only, synthesize } from '../helpers/synth';

/* eslint-disable @typescript-eslint/no-explicit-any */

function synth(props: KeyServerAppProps = {}): { app: KeyServerApp; objects: any[] } {
  let app!: KeyServerApp;
  const objects = synthesize((scope) => { app = new KeyServerApp(scope, 'keys', props); });
  return { app, objects };
}

describe('KeyServerApp probes', () => {
  test('probes use HTTPS: readiness /ready on the named https port, startup and liveness /health on the metrics port', () => {
    const container = only(synth().objects, 'Deployment').spec.template.spec.containers[0];
    expect(container.startupProbe.httpGet).toEqual({ path: '/health', port: 'metrics', scheme: 'HTTPS' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/ready', port: 'https', scheme: 'HTTPS' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/health', port: 'metrics', scheme: 'HTTPS' });
  });

  test('a busy pod is not restarted: liveness waits 5 s per probe and a minute of failures, under a 1-CPU limit', () => {
    const container = only(synth().objects, 'Deployment').spec.template.spec.containers[0];
    const window = (probe: any) => ({ timeout: probe.timeoutSeconds, failingFor: probe.periodSeconds * probe.failureThreshold });
    // Measured under 200 connections: a probe's new TLS handshake took up to 4.4 s at a 200m limit, 0.1 s at 1 CPU.
    expect(window(container.livenessProbe)).toEqual({ timeout: 5, failingFor: 60 });
    expect(window(container.readinessProbe)).toEqual({ timeout: 3, failingFor: 15 });
    expect(container.resources.limits.cpu).toBe('1');
  });
});
