// A real Kubernetes control plane for one test file: etcd and kube-apiserver (optionally kube-controller-manager)
// built from Go modules by the toolchain, on 127.0.0.1 with free ports and fresh certificates, with the CRDs the
// manifests use installed from ../shared/crds, and a kubectl bound to it. Torn down by stop().
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { requireProgram } from '../../../scripts/toolchain/build-tools';
import { freePort } from '../../server/helpers/http';
import { createControlPlanePki, type CertificateFiles, type ControlPlanePki } from './pki';

const repositoryRoot = resolve(__dirname, '..', '..', '..');

/** The upstream CRD files beside the project (never copied into it). */
export const sharedCrdDirectory = resolve(repositoryRoot, '..', 'shared', 'crds');

/**
 * Address ranges the API server allocates from. Data only: nothing in the tests connects to them.
 */
const serviceClusterIpRange = '10.96.0.0/16';
const clusterCidr = '10.244.0.0/16';

/**
 * kubectl's arguments for an apply as users make it (README, `npm run deploy`): server-side, with strict field
 * validation, so an unknown or misspelt field is an error rather than a silently dropped line.
 */
export function serverSideApplyArgs(fileOrDirectory: string): string[] {
  return ['apply', '--server-side', '--field-manager=key-server', '--validate=strict', '-f', fileOrDirectory];
}

/** What a kubectl (or helm) run printed and how it ended. */
export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@link startControlPlane}. */
export interface ControlPlaneOptions {
  /** CRD files to install and wait for. @default every file in ../shared/crds */
  readonly crdFiles?: readonly string[];
  /**
   * Also run kube-controller-manager (namespace deletion, service accounts, garbage collection, deployments, ...).
   * @default false
   */
  readonly controllerManager?: boolean;
  /** How long start-up may take once the binaries exist. @default 90 s */
  readonly startTimeoutMs?: number;
  /** Extra kube-controller-manager flags (e.g. a shorter HPA sync period), after the defaults so they win. @default none */
  readonly controllerManagerArgs?: readonly string[];
}

/** A running control plane. */
export interface ControlPlane {
  readonly directory: string;
  readonly kubeconfig: string;
  readonly serverUrl: string;
  /** The admin client certificate (system:masters). */
  readonly admin: CertificateFiles;
  readonly caFile: string;
  /** The certificates, to issue more (the scheduler's client certificate, a fake kubelet's serving certificate). */
  readonly pki: ControlPlanePki;
  /** Runs Debian's kubectl against this API server; never throws on a non-zero exit. */
  readonly kubectl: (args: readonly string[], input?: string) => Promise<CommandResult>;
  /** Runs any command with KUBECONFIG pointing here. */
  readonly run: (command: string, args: readonly string[], options?: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string }) => Promise<CommandResult>;
  /** The last lines of a component's log (for failure messages); components started beside it log to `<name>.log` in `directory`. */
  readonly logTail: (component: 'etcd' | 'kube-apiserver' | 'kube-controller-manager' | (string & {}), lines?: number) => string;
  readonly stop: () => Promise<void>;
}

/** Runs `command` and collects its output; resolves (never rejects) once it exits. */
export function runCommand(command: string, args: readonly string[], options: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<CommandResult> {
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', (error) => { clearTimeout(timer); resolvePromise({ code: 127, stdout, stderr: `${stderr}${error.message}` }); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? 128, stdout, stderr: signal === null ? stderr : `${stderr}killed by ${signal}` });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** A component process whose output goes to a file (a pipe nobody reads would stall a chatty server). */
export function startComponent(program: string, args: readonly string[], logFile: string): ChildProcess {
  const output = openSync(logFile, 'a');
  try {
    return spawn(program, args, { stdio: ['ignore', output, output], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  } finally {
    closeSync(output);
  }
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. */
export async function stopComponent(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolvePromise) => child.once('exit', resolvePromise));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** GET `path` with the admin certificate; resolves with the status, or 0 when nothing answers yet. */
export function adminGet(port: number, path: string, admin: CertificateFiles, caFile: string): Promise<{ status: number; body: string }> {
  return new Promise((resolvePromise) => {
    const req = request({
      host: '127.0.0.1', port, path, method: 'GET', timeout: 5_000,
      ca: readFileSync(caFile), cert: readFileSync(admin.certFile), key: readFileSync(admin.keyFile),
    }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => { body += chunk.toString(); });
      response.on('end', () => resolvePromise({ status: response.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolvePromise({ status: 0, body: '' }));
    req.end();
  });
}

/** Polls until `check` holds or the deadline passes (bounded; checks every 200 ms). */
export async function waitUntil(what: string, deadline: number, check: () => Promise<boolean>, describeFailure: () => string): Promise<void> {
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolvePromise) => setTimeout(resolvePromise, 200));
  }
  throw new Error(`${what} did not happen in time\n${describeFailure()}`);
}

/** A kubeconfig for `client` on this API server (the only one its file names). */
export function kubeconfigFor(serverUrl: string, caFile: string, client: CertificateFiles, user: string): string {
  return [
    'apiVersion: v1', 'kind: Config', 'current-context: test',
    'clusters:', '- name: test', '  cluster:', `    server: ${serverUrl}`, `    certificate-authority: ${caFile}`,
    'users:', `- name: ${user}`, '  user:', `    client-certificate: ${client.certFile}`, `    client-key: ${client.keyFile}`,
    'contexts:', '- name: test', '  context:', '    cluster: test', `    user: ${user}`, '',
  ].join('\n');
}

/** Starts etcd and kube-apiserver (and, if asked, kube-controller-manager) and installs the CRDs. */
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const etcd = requireProgram('etcd');
  const apiServer = requireProgram('kube-apiserver');
  const controllerManager = options.controllerManager ? requireProgram('kube-controller-manager') : undefined;
  const kubectlPath = 'kubectl';
  const directory = mkdtempSync(join(tmpdir(), 'key-server-control-plane-'));
  const started = Date.now();
  const deadline = started + (options.startTimeoutMs ?? 90_000);
  const pki = createControlPlanePki(directory);
  const [etcdClientPort, etcdPeerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const logFile = (component: string) => join(directory, `${component}.log`);
  const children: ChildProcess[] = [];
  const logTail = (component: string, lines = 30) => {
    try {
      return readFileSync(logFile(component), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  };

  const stop = async () => {
    for (const child of [...children].reverse()) await stopComponent(child);
    rmSync(directory, { recursive: true, force: true });
  };

  try {
    children.push(startComponent(etcd, [
      '--name', 'test', '--data-dir', join(directory, 'etcd'),
      '--listen-client-urls', `http://127.0.0.1:${etcdClientPort}`, '--advertise-client-urls', `http://127.0.0.1:${etcdClientPort}`,
      '--listen-peer-urls', `http://127.0.0.1:${etcdPeerPort}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${etcdPeerPort}`,
      '--initial-cluster', `test=http://127.0.0.1:${etcdPeerPort}`,
      // A throwaway store: durability costs seconds per test file and buys nothing here.
      '--unsafe-no-fsync', '--log-level', 'warn',
    ], logFile('etcd')));

    const serverUrl = `https://127.0.0.1:${apiPort}`;
    children.push(startComponent(apiServer, [
      `--etcd-servers=http://127.0.0.1:${etcdClientPort}`,
      '--bind-address=127.0.0.1', `--secure-port=${apiPort}`, '--advertise-address=127.0.0.1',
      `--cert-dir=${join(directory, 'apiserver-certs')}`,
      `--tls-cert-file=${pki.apiServer.certFile}`, `--tls-private-key-file=${pki.apiServer.keyFile}`,
      `--client-ca-file=${pki.caFile}`,
      '--service-account-issuer=https://kubernetes.default.svc',
      `--service-account-key-file=${pki.serviceAccountPublicKeyFile}`,
      `--service-account-signing-key-file=${pki.serviceAccountKeyFile}`,
      `--service-cluster-ip-range=${serviceClusterIpRange}`,
      // As a production cluster authorizes; admission stays at its defaults, PodSecurity among them.
      '--authorization-mode=Node,RBAC',
      // The default reconciler would publish 127.0.0.1 as the `kubernetes` Service's endpoint, which validation refuses.
      '--endpoint-reconciler-type=none',
      // How it reaches a kubelet (port-forward, logs), which only the cluster helper's fake nodes serve: at the node's
      // InternalIP (127.0.0.1 there; the Hostname address would be a DNS lookup), with its certificate verified.
      '--kubelet-preferred-address-types=InternalIP', `--kubelet-certificate-authority=${pki.caFile}`,
      '--profiling=false',
    ], logFile('kube-apiserver')));

    await waitUntil(
      'kube-apiserver /readyz',
      deadline,
      async () => (await adminGet(apiPort, '/readyz', pki.admin, pki.caFile)).status === 200,
      () => `kube-apiserver log:\n${logTail('kube-apiserver')}\netcd log:\n${logTail('etcd')}`,
    );

    const kubeconfig = join(directory, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigFor(serverUrl, pki.caFile, pki.admin, 'admin'), { mode: 0o600 });
    // Own discovery cache per control plane, so a port reused by a later test never sees stale API groups.
    const environment = { ...process.env, KUBECONFIG: kubeconfig, KUBECACHEDIR: join(directory, 'kube-cache'), HOME: directory };
    const run = (command: string, args: readonly string[], runOptions: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}) =>
      runCommand(command, args, { ...runOptions, env: { ...environment, ...runOptions.env } });
    const kubectl = (args: readonly string[], input?: string) =>
      run(kubectlPath, ['--cache-dir', join(directory, 'kube-cache'), ...args], { input });

    if (controllerManager !== undefined) {
      const client = pki.issueClient('system:kube-controller-manager', []);
      const controllerKubeconfig = join(directory, 'controller-manager.kubeconfig');
      writeFileSync(controllerKubeconfig, kubeconfigFor(serverUrl, pki.caFile, client, 'system:kube-controller-manager'), { mode: 0o600 });
      children.push(startComponent(controllerManager, [
        `--kubeconfig=${controllerKubeconfig}`, `--authentication-kubeconfig=${controllerKubeconfig}`, `--authorization-kubeconfig=${controllerKubeconfig}`,
        '--bind-address=127.0.0.1', `--secure-port=${await freePort()}`, `--cert-dir=${join(directory, 'controller-manager-certs')}`,
        `--service-account-private-key-file=${pki.serviceAccountKeyFile}`, `--root-ca-file=${pki.caFile}`,
        '--use-service-account-credentials=true', `--cluster-cidr=${clusterCidr}`, `--service-cluster-ip-range=${serviceClusterIpRange}`,
        '--leader-elect=false', '--controllers=*', '--profiling=false',
        ...(options.controllerManagerArgs ?? []),
      ], logFile('kube-controller-manager')));
    }

    const crdFiles = options.crdFiles ?? readdirSync(sharedCrdDirectory).filter((file) => file.endsWith('.yaml')).map((file) => join(sharedCrdDirectory, file));
    if (crdFiles.length > 0) {
      const applied = await kubectl(['apply', '--server-side', '--field-manager=key-server-tests', ...crdFiles.flatMap((file) => ['-f', file])]);
      if (applied.code !== 0) throw new Error(`installing CRDs failed: ${applied.stderr}`);
      const waited = await kubectl(['wait', '--for=condition=Established', '--timeout=60s', ...crdFiles.flatMap((file) => ['-f', file])]);
      if (waited.code !== 0) throw new Error(`CRDs not Established: ${waited.stderr}`);
    }
    return { directory, kubeconfig, serverUrl, admin: pki.admin, caFile: pki.caFile, pki, kubectl, run, logTail, stop };
  } catch (error) {
    const message = (error as Error).message;
    await stop();
    throw new Error(`test control plane failed to start after ${Math.round((Date.now() - started) / 1000)} s: ${message}`);
  }
}
