// `npm run verify`: a smoke test of the deployed key server through `kubectl port-forward` (a key, readiness, metrics).
import { spawn, type ChildProcess } from 'node:child_process';
import * as https from 'node:https';
import * as net from 'node:net';
import { handlers, metricNames } from '../server/metric-catalogue';
import { logger, parseOptions, runScript } from './common/cli';
import { connectKubectl, shellLine } from './common/kubectl';
import { keyServerTarget, readObjects, serviceHostName, type KeyServerTarget } from './common/manifests';

const usage = `usage: npm run verify [-- [--dir dist/] [--key-length 32]]
  Forwards local ports to the key server Service and checks a key, /ready and /metrics over HTTPS,
  trusting only ca.crt of the Service's TLS Secret. Local ports: KEY_SERVER_VERIFY_HTTPS_PORT (default 18443)
  and KEY_SERVER_VERIFY_METRICS_PORT (default 19464).
`;

/** How long port-forward may take to accept connections: it needs the API server and a ready pod. */
const PORT_FORWARD_TIMEOUT_MS = 20_000;
/** Per-request limit; a healthy key server answers in milliseconds. */
const REQUEST_TIMEOUT_MS = 5_000;

/** A local port from the environment, or the default. */
export function localPort(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${name} must be a port number (1-65535), got '${value}'`);
  }
  return port;
}

/** Why a /key answer is not a key of `length` bytes in hex, or undefined when it is. */
export function keyProblem(status: number, body: string, length: number): string | undefined {
  if (status !== 200) return `expected 200, got ${status}: ${body.trim().slice(0, 200)}`;
  const key = body.trim();
  if (!new RegExp(`^[0-9a-f]{${length * 2}}$`).test(key)) return `expected ${length * 2} hex digits, got '${key.slice(0, 80)}'`;
  return undefined;
}

/** Why a /metrics answer lacks the key server's own series, or undefined when it has them. */
export function metricsProblem(status: number, body: string): string | undefined {
  if (status !== 200) return `expected 200, got ${status}`;
  const missing = [metricNames.keyGenerationsTotal, metricNames.httpRequestsTotal].filter((name) => !new RegExp(`^${name}\\{`, 'm').test(body));
  return missing.length === 0 ? undefined : `no ${missing.join(', ')} series in the exposition`;
}

interface Answer { readonly status: number; readonly body: string }

/** GET over HTTPS to a forwarded local port, checking the certificate against `ca` for the in-cluster name. */
function get(port: number, path: string, ca: string, hostName: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = https.get({ host: '127.0.0.1', port, path, ca, servername: hostName, headers: { host: hostName }, timeout: REQUEST_TIMEOUT_MS, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    request.on('error', reject);
  });
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

/** Resolves once every port accepts connections; rejects after the timeout with what port-forward printed. */
async function waitForPorts(ports: readonly number[], forward: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + PORT_FORWARD_TIMEOUT_MS;
  for (;;) {
    const open = await Promise.all(ports.map(connects));
    if (open.every(Boolean)) return;
    if (Date.now() > deadline || (forward.exitCode !== null && forward.exitCode !== 0)) {
      throw new Error(`port-forward did not open 127.0.0.1:${ports.join(', ')} within ${PORT_FORWARD_TIMEOUT_MS / 1000} s: ${output().trim() || 'no output'}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function check(log: (line: string) => void, what: string, problem: Promise<string | undefined>): Promise<void> {
  const found = await problem.catch((error: Error) => `request failed: ${error.message}`);
  if (found !== undefined) throw new Error(`${what}: ${found}`);
  log(`ok   ${what}`);
}

async function smokeTest(log: (line: string) => void, target: KeyServerTarget, ca: string, ports: { https: number; metrics: number }, keyLength: number): Promise<void> {
  const host = serviceHostName(target);
  await check(log, `GET /key/${keyLength} returns ${keyLength} random bytes in hex`,
    get(ports.https, `/key/${keyLength}`, ca, host).then((answer) => keyProblem(answer.status, answer.body, keyLength)));
  await check(log, `GET ${handlers.ready} is 200`,
    get(ports.https, handlers.ready, ca, host).then((answer) => (answer.status === 200 ? undefined : `expected 200, got ${answer.status}`)));
  await check(log, `GET ${handlers.metrics} on the metrics port has the key server's series`,
    get(ports.metrics, handlers.metrics, ca, host).then((answer) => metricsProblem(answer.status, answer.body)));
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2), {
    dir: { type: 'string', default: 'dist/' },
    'key-length': { type: 'string', default: '32' },
  });
  if (options.help) {
    process.stdout.write(usage);
    return;
  }
  const keyLength = Number(options['key-length']);
  if (!Number.isInteger(keyLength) || keyLength < 1) throw new Error(`--key-length must be a positive integer, got '${options['key-length'] as string}'`);
  const ports = {
    https: localPort(process.env.KEY_SERVER_VERIFY_HTTPS_PORT, 18443, 'KEY_SERVER_VERIFY_HTTPS_PORT'),
    metrics: localPort(process.env.KEY_SERVER_VERIFY_METRICS_PORT, 19464, 'KEY_SERVER_VERIFY_METRICS_PORT'),
  };
  const log = logger('verify');
  const kubectl = connectKubectl(log);
  const target = keyServerTarget(readObjects(options.dir as string));

  // Trust only the cluster's CA for the key server: a wrong certificate is as much a failure as a wrong answer.
  const caBase64 = kubectl.read(['-n', target.namespace, 'get', 'secret', target.tlsSecretName, '-o', 'jsonpath={.data.ca\\.crt}']).trim();
  if (caBase64 === '') {
    throw new Error(`Secret ${target.namespace}/${target.tlsSecretName} has no ca.crt: is cert-manager issuing it (kubectl -n ${target.namespace} describe certificate), or was \`npm run dev-cert\` applied?`);
  }
  const ca = Buffer.from(caBase64, 'base64').toString('utf8');

  const forwardArgs = ['-n', target.namespace, 'port-forward', '--address', '127.0.0.1', `service/${target.serviceName}`,
    `${ports.https}:${target.httpsPort}`, `${ports.metrics}:${target.metricsPort}`];
  log(`$ ${shellLine(forwardArgs)} &`);
  const forward = spawn(kubectl.path, forwardArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  forward.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  forward.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  try {
    await waitForPorts([ports.https, ports.metrics], forward, () => output);
    await smokeTest(log, target, ca, ports, keyLength);
  } finally {
    if (forward.exitCode === null) forward.kill('SIGTERM');
  }
  log(`the key server in ${kubectl.context} (${target.namespace}/${target.serviceName}) answers keys, is ready and exports metrics`);
}

if (require.main === module) {
  runScript('verify', usage, main);
}
