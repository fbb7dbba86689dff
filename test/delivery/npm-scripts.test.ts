// npm run deploy / verify / clean / dev-cert against a fake kubectl that records its arguments: prerequisite checks,
// the exact kubectl commands, and verify's checks against a real key server on 127.0.0.1.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { createSelfSignedCertificate } from '../../server/dev-cert';
import { apiVersionsOf, keyServerTarget, readObjects } from '../../scripts/common/manifests';
import { startTestServer, type RunningTestServer } from '../server/helpers/server';
import { FakeKubectl, pathWithOnly, repoRoot, runNpmScript } from './helpers/fake-kubectl';

const distObjects = readObjects(path.join(repoRoot, 'dist'));
const target = keyServerTarget(distObjects);
/** Every apiVersion dist/ uses: a cluster with cert-manager and prometheus-operator installed. */
const fullCluster = apiVersionsOf(distObjects);
const withoutCertManager = fullCluster.filter((apiVersion) => !apiVersion.startsWith('cert-manager.io/'));

let fake: FakeKubectl;
beforeAll(() => {
  fake = new FakeKubectl();
});
afterAll(() => fake.remove());
beforeEach(() => fake.reset());

describe.each(['deploy', 'verify', 'clean'])('npm run %s prerequisites', (script) => {
  test('stops with a clear message and exit 1 when kubectl is not on PATH', async () => {
    const result = await runNpmScript(script, [], { ...process.env, PATH: pathWithOnly(fake.directory, []) });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${script}: FAILED: kubectl not found on PATH: install it`);
  });

  test('stops with a clear message and exit 1 when no context is selected, before touching the cluster', async () => {
    const result = await runNpmScript(script, [], fake.environment({ apiVersions: fullCluster }));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no Kubernetes context selected');
    expect(result.stderr).toContain('kubectl config use-context');
    expect(fake.calls().map((call) => call.args)).toEqual([['config', 'current-context']]);
  });
});

describe('npm run deploy', () => {
  test('applies dist/ server-side to the current context and waits for the rollout', async () => {
    const result = await runNpmScript('deploy', [], fake.environment({ context: 'kind-key-server', apiVersions: fullCluster }));
    expect(result.stderr).toContain('context: kind-key-server');
    expect(result.code).toBe(0);
    expect(fake.calls().map((call) => call.args)).toEqual([
      ['config', 'current-context'],
      ['api-versions'],
      ['apply', '--server-side', '-f', 'dist/'],
      ['-n', target.namespace, 'rollout', 'status', `deployment/${target.deploymentName}`, '--timeout=180s'],
      ['-n', target.namespace, 'get', `deployment/${target.deploymentName}`, '-o', 'jsonpath={.spec.replicas}'],
    ]);
  });

  test('after the rollout of a new Deployment (one replica), waits for the autoscaler\'s minimum and that rollout', async () => {
    expect(target.autoscalerMinReplicas).toBeGreaterThan(1);
    const result = await runNpmScript('deploy', [], fake.environment({ context: 'kind-key-server', apiVersions: fullCluster, replicas: '1' }));
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`waiting for the autoscaler to raise ${target.deploymentName} from 1 to its minimum of ${target.autoscalerMinReplicas} replicas`);
    const rollout = ['-n', target.namespace, 'rollout', 'status', `deployment/${target.deploymentName}`, '--timeout=180s'];
    expect(fake.calls().map((call) => call.args).slice(3)).toEqual([
      rollout,
      ['-n', target.namespace, 'get', `deployment/${target.deploymentName}`, '-o', 'jsonpath={.spec.replicas}'],
      ['-n', target.namespace, 'wait', `deployment/${target.deploymentName}`, `--for=jsonpath={.spec.replicas}=${target.autoscalerMinReplicas}`, '--timeout=180s'],
      rollout,
    ]);
  });

  test('leaves a Deployment at the autoscaler\'s minimum, or paused at 0 by its owner, alone after the rollout', async () => {
    for (const replicas of [String(target.autoscalerMinReplicas), '0']) {
      fake.reset();
      const result = await runNpmScript('deploy', [], fake.environment({ context: 'kind-key-server', apiVersions: fullCluster, replicas }));
      const calls = fake.calls().map((call) => call.args);
      expect({ replicas, code: result.code, waited: calls.some((args) => args.includes('wait')), rollouts: calls.filter((args) => args.includes('rollout')).length })
        .toEqual({ replicas, code: 0, waited: false, rollouts: 1 });
    }
  });

  test('refuses a cluster without cert-manager, naming the missing API and both ways out, and applies nothing', async () => {
    const result = await runNpmScript('deploy', [], fake.environment({ context: 'kind-key-server', apiVersions: withoutCertManager }));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cert-manager.io/v1: install cert-manager');
    expect(result.stderr).toContain('npm run dev-cert');
    expect(fake.calls().map((call) => call.args[0])).toEqual(['config', 'api-versions']);
  });

  test('with --dev-cert asks for `npm run dev-cert` first when its Secret manifest is missing', async () => {
    const result = await runNpmScript('deploy', ['--dev-cert', '--dev-cert-dir', path.join(fake.directory, 'none')],
      fake.environment({ context: 'kind-key-server', apiVersions: withoutCertManager }));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/key-server-tls\.secret\.yaml not found: run `npm run dev-cert` first/);
  });

  test('fails with the failing command named when the rollout does not complete', async () => {
    const result = await runNpmScript('deploy', [], fake.environment({ context: 'kind-key-server', apiVersions: fullCluster, failOn: 'rollout' }));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`deploy: FAILED: \`kubectl -n ${target.namespace} rollout status deployment/${target.deploymentName} --timeout=180s\` failed`);
  });

  test('rejects an unknown flag with the usage text and exit 2', async () => {
    const result = await runNpmScript('deploy', ['--force'], fake.environment({ context: 'kind-key-server', apiVersions: fullCluster }));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('usage: npm run deploy');
    expect(fake.calls()).toEqual([]);
  });
});

describe('npm run dev-cert, then npm run deploy -- --dev-cert', () => {
  let certDirectory: string;
  beforeAll(() => {
    certDirectory = path.join(fake.directory, 'certs');
  });

  test('writes a certificate for the in-cluster names and a kubernetes.io/tls Secret the Deployment mounts', async () => {
    const result = await runNpmScript('dev-cert', ['--out', certDirectory], fake.environment({}));
    expect(result.stderr).toContain('dev-cert: wrote');
    expect(result.code).toBe(0);
    const secretFile = path.join(certDirectory, `${target.tlsSecretName}.secret.yaml`);
    expect(fs.statSync(secretFile).mode & 0o777).toBe(0o600);
    const secret = parse(fs.readFileSync(secretFile, 'utf8')) as { kind: string; type: string; metadata: { name: string; namespace: string }; data: Record<string, string> };
    expect(secret).toMatchObject({ kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: target.tlsSecretName, namespace: target.namespace } });
    const certificate = new X509Certificate(Buffer.from(secret.data['tls.crt'], 'base64'));
    expect(certificate.checkPrivateKey(createPrivateKey(Buffer.from(secret.data['tls.key'], 'base64')))).toBe(true);
    expect(secret.data['ca.crt']).toBe(secret.data['tls.crt']);
    for (const name of target.dnsNames) {
      expect(certificate.subjectAltName).toContain(`DNS:${name}`);
    }
  });

  test('deploys without cert-manager: its objects left out, the dev Secret applied after the namespace', async () => {
    const result = await runNpmScript('deploy', ['--dev-cert', '--dev-cert-dir', certDirectory],
      fake.environment({ context: 'kind-key-server', apiVersions: withoutCertManager }));
    expect(result.code).toBe(0);
    const calls = fake.calls();
    expect(calls.map((call) => call.args)).toEqual([
      ['config', 'current-context'],
      ['api-versions'],
      ['apply', '--server-side', '-f', '-'],
      ['apply', '--server-side', '-f', path.join(certDirectory, `${target.tlsSecretName}.secret.yaml`)],
      ['-n', target.namespace, 'rollout', 'status', `deployment/${target.deploymentName}`, '--timeout=180s'],
      ['-n', target.namespace, 'get', `deployment/${target.deploymentName}`, '-o', 'jsonpath={.spec.replicas}'],
    ]);
    const applied = parseAllDocuments(calls[2].stdin ?? '').map((document) => document.toJSON() as { apiVersion: string; kind: string });
    expect(applied.length).toBe(distObjects.filter((object) => !object.apiVersion.startsWith('cert-manager.io/')).length);
    expect(applied.some((object) => object.apiVersion.startsWith('cert-manager.io/'))).toBe(false);
    expect(applied.map((object) => object.kind)).toContain('Deployment');
  });

  test('deploys dist/standalone/ the same way, with its own Prometheus and without cert-manager', async () => {
    const standalone = readObjects(path.join(repoRoot, 'dist', 'standalone'));
    const result = await runNpmScript('deploy', ['--dir', 'dist/standalone/', '--dev-cert', '--dev-cert-dir', certDirectory],
      fake.environment({ context: 'kind-key-server', apiVersions: apiVersionsOf(standalone).filter((apiVersion) => !apiVersion.startsWith('cert-manager.io/')) }));
    expect(result.code).toBe(0);
    const calls = fake.calls();
    const applied = parseAllDocuments(calls[2].stdin ?? '').map((document) => document.toJSON() as { apiVersion: string; kind: string });
    expect(applied.map((object) => object.kind)).toContain('StatefulSet');
    expect(applied.some((object) => object.apiVersion.startsWith('cert-manager.io/'))).toBe(false);
    expect(calls[4].args).toEqual(['-n', target.namespace, 'rollout', 'status', `deployment/${target.deploymentName}`, '--timeout=180s']);
  });

  test('refuses to deploy dist/standalone/ without --dev-cert while its TLS Secret is not in the cluster, naming it and both ways to make it', async () => {
    fake.reset();
    const standalone = readObjects(path.join(repoRoot, 'dist', 'standalone'));
    const result = await runNpmScript('deploy', ['--dir', 'dist/standalone/'],
      fake.environment({ context: 'kind-key-server', apiVersions: apiVersionsOf(standalone), failOn: 'get' }));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Secret ${target.namespace}/${target.tlsSecretName}, which the pods mount, is not in the cluster`);
    expect(result.stderr).toContain('npm run dev-cert');
    expect(fake.calls().map((call) => call.args[0] === '-n' ? call.args[2] : call.args[0])).not.toContain('apply');
  });

  test('deploys dist/standalone/ without --dev-cert once its TLS Secret exists (your PKI\'s), applying nothing of cert-manager', async () => {
    fake.reset();
    const standalone = readObjects(path.join(repoRoot, 'dist', 'standalone'));
    const result = await runNpmScript('deploy', ['--dir', 'dist/standalone/'], fake.environment({ context: 'kind-key-server', apiVersions: apiVersionsOf(standalone) }));
    expect(result.code).toBe(0);
    expect(fake.calls().map((call) => call.args)).toContainEqual(['-n', target.namespace, 'get', 'secret', target.tlsSecretName, '-o', 'name']);
    expect(fake.calls().map((call) => call.args)).toContainEqual(['apply', '--server-side', '-f', 'dist/standalone/']);
  });

  test('dev-cert says openssl is missing instead of failing obscurely', async () => {
    const result = await runNpmScript('dev-cert', ['--out', certDirectory], { ...process.env, PATH: pathWithOnly(fake.directory, []) });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('dev-cert: FAILED: openssl not found on PATH');
  });
});

describe('npm run clean', () => {
  test('deletes what dist/ declares from the current context and waits for it to go', async () => {
    const result = await runNpmScript('clean', [], fake.environment({ context: 'kind-key-server', apiVersions: fullCluster }));
    expect(result.code).toBe(0);
    expect(fake.calls().map((call) => call.args)).toEqual([
      ['config', 'current-context'],
      ['api-versions'],
      ['delete', '--ignore-not-found', '--wait=true', '-f', 'dist/'],
    ]);
  });

  test('on a cluster without cert-manager leaves its kinds out instead of failing on them', async () => {
    const result = await runNpmScript('clean', [], fake.environment({ context: 'kind-key-server', apiVersions: withoutCertManager }));
    expect(result.code).toBe(0);
    const calls = fake.calls();
    expect(calls[2].args).toEqual(['delete', '--ignore-not-found', '--wait=true', '-f', '-']);
    expect(calls[2].stdin).toContain('kind: Deployment');
    expect(calls[2].stdin).not.toContain('cert-manager.io/');
  });
});

describe('npm run verify against a real key server on 127.0.0.1 (the fake port-forward starts nothing)', () => {
  let server: RunningTestServer;
  let caBase64: string;
  let ports: Record<string, string>;
  let certDirectory: string;

  beforeAll(async () => {
    certDirectory = path.join(fake.directory, 'verify-certs');
    const made = await runNpmScript('dev-cert', ['--out', certDirectory], fake.environment({}));
    expect(made.code).toBe(0);
    const certFile = path.join(certDirectory, `${target.tlsSecretName}.crt`);
    server = await startTestServer({ tls: { certFile, keyFile: path.join(certDirectory, `${target.tlsSecretName}.key`) }, metricsPort: 0 });
    caBase64 = fs.readFileSync(certFile).toString('base64');
    ports = {
      KEY_SERVER_VERIFY_HTTPS_PORT: String(new URL(server.addresses.url).port),
      KEY_SERVER_VERIFY_METRICS_PORT: String(new URL(server.addresses.metricsUrl as string).port),
    };
  }, 60_000);
  afterAll(() => server.stop());

  test('forwards the Service ports, trusts the Secret\'s ca.crt, and passes on a key, readiness and metrics', async () => {
    const result = await runNpmScript('verify', [], fake.environment({ context: 'kind-key-server', caBase64 }, ports));
    expect(result.stderr).toContain('ok   GET /key/32 returns 32 random bytes in hex');
    expect(result.stderr).toContain('ok   GET /ready is 200');
    expect(result.stderr).toContain("ok   GET /metrics on the metrics port has the key server's series");
    expect(result.code).toBe(0);
    expect(fake.calls().map((call) => call.args)).toEqual([
      ['config', 'current-context'],
      ['-n', target.namespace, 'get', 'secret', target.tlsSecretName, '-o', 'jsonpath={.data.ca\\.crt}'],
      ['-n', target.namespace, 'port-forward', '--address', '127.0.0.1', `service/${target.serviceName}`,
        `${ports.KEY_SERVER_VERIFY_HTTPS_PORT}:${target.httpsPort}`, `${ports.KEY_SERVER_VERIFY_METRICS_PORT}:${target.metricsPort}`],
    ]);
  });

  test('fails with exit 1 when the served certificate is not the one the Secret\'s CA vouches for', async () => {
    // Same names, another key: what a client sees if the pod serves a certificate the cluster's CA did not sign.
    const other = createSelfSignedCertificate({ directory: path.join(fake.directory, 'other-ca'), commonName: `${target.serviceName}.${target.namespace}.svc` });
    const otherCa = fs.readFileSync(other.certFile).toString('base64');
    const result = await runNpmScript('verify', [], fake.environment({ context: 'kind-key-server', caBase64: otherCa }, ports));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('verify: FAILED: GET /key/32 returns 32 random bytes in hex: request failed');
  });

  test('fails with a clear message when the TLS Secret has no ca.crt', async () => {
    const result = await runNpmScript('verify', [], fake.environment({ context: 'kind-key-server', caBase64: '' }, ports));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Secret ${target.namespace}/${target.tlsSecretName} has no ca.crt`);
  });
});
