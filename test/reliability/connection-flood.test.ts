// Bounded memory whatever clients do: thousands of idle TLS connections, thousands of clients that never read their
// answers, a TLS handshake flood and an HTTP/2 session flood, each against the compiled server as the image runs it
// (its node flags, default --max-connections), while a polite keep-alive client keeps getting keys.
//
// File descriptors: each scenario opens up to 2,000 client sockets in this process and the server holds at most its
// cap (128) plus the polite client's: about 2,200 descriptors, checked against `ulimit -n` before anything starts.
import { readFileSync } from 'node:fs';
import * as https from 'node:https';
import * as net from 'node:net';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { memoryUsage, resetPeakMemory } from '../../bench/proc-stats';
import { readObjects } from '../../scripts/common/manifests';
import { entrypointNodeFlags, readDockerfile } from '../../scripts/common/dockerfile';
import { handlers, metricNames as names } from '../../server/metric-catalogue';
import { DEFAULT_MAX_CONNECTIONS } from '../../server/config';
import { defaultContainerLimits } from '../../constructs/key-server/resources';
import { getRequestBlock, headersFrame, PREFACE, frame, FrameType } from '../server/helpers/h2-frames';
import { fetchText, parsePrometheusText, sampleValue, samplesOf, type Sample } from '../server/helpers/http';
import { createTestCertificate, makeTempDirectory, type TestCertificate } from '../server/helpers/tls';
import { compileServer, startServerProcess, type ServerProcess } from './helpers/compiled-server';

const MiB = 1024 * 1024;
/** The pod's memory request (KeyServerApp's default resources): what no client behaviour may push RSS past. */
const POD_MEMORY_REQUEST = 96 * MiB;
/** The pod's memory limit (KeyServerApp's default resources): past it the kernel kills the container. */
const POD_MEMORY_LIMIT = defaultContainerLimits.memoryBytes;
const CLIENTS = 2000;
/** Client connections opened at once while a flood builds up. */
const WAVE = 50;
const DESCRIPTORS_NEEDED = CLIENTS + DEFAULT_MAX_CONNECTIONS + 100;
const REPO_ROOT = join(__dirname, '..', '..');

function openFileLimit(): number {
  const match = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  return match === null || match[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(match[1]);
}

/** A client that asks for a key every 100 ms on one keep-alive connection, timing each answer. */
function startPoliteClient(url: string, ca: string): { stop(): Promise<{ latenciesMs: number[]; failures: string[] }> } {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca });
  const latenciesMs: number[] = [];
  const failures: string[] = [];
  let running = true;
  async function once(): Promise<void> {
    const startedAt = performance.now();
    try {
      const response = await fetchText(`${url}/key/32`, { agent, ca, timeoutMs: 5000 });
      if (response.status !== 200) failures.push(`status ${response.status}`);
    } catch (error) {
      // A keep-alive connection the server closed at the cap as the request left: retried once, as Node's
      // documentation advises for idempotent requests and as Go, curl and load balancers do.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ECONNRESET' && code !== 'EPIPE') throw error;
      const retried = await fetchText(`${url}/key/32`, { agent, ca, timeoutMs: 5000 }).catch((retryError: Error) => retryError);
      if (retried instanceof Error || retried.status !== 200) failures.push(String(retried instanceof Error ? retried.message : retried.status));
    }
    latenciesMs.push(performance.now() - startedAt);
  }
  const loop = (async () => {
    while (running) {
      await once().catch((error: Error) => failures.push(error.message));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      agent.destroy();
      return { latenciesMs, failures };
    },
  };
}

function percentile(values: readonly number[], share: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1)] ?? 0;
}

/** Opens `count` TLS connections to `port`, `WAVE` at a time; `onOpen` writes whatever the scenario sends. */
async function openClients(port: number, count: number, alpn: string, onOpen: (socket: tls.TLSSocket) => void): Promise<tls.TLSSocket[]> {
  const sockets: tls.TLSSocket[] = [];
  const openOne = (): Promise<void> =>
    new Promise((resolve) => {
      const socket = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', rejectUnauthorized: false, ALPNProtocols: [alpn] }, () => {
        onOpen(socket);
        resolve();
      });
      socket.on('error', () => resolve());
      socket.on('close', () => resolve());
      sockets.push(socket);
    });
  for (let opened = 0; opened < count; opened += WAVE) {
    await Promise.all(Array.from({ length: Math.min(WAVE, count - opened) }, openOne));
  }
  return sockets;
}

/** What one scenario measured. */
interface FloodResult {
  readonly peakRssBytes: number;
  readonly latenciesMs: number[];
  readonly failures: string[];
  readonly samples: Sample[];
}

describe('connection floods against the compiled server', () => {
  const temp = makeTempDirectory('key-server-flood-');
  let certificate: TestCertificate;
  let cliPath: string;
  const nodeFlags = entrypointNodeFlags(readDockerfile(join(REPO_ROOT, 'Dockerfile')));

  beforeAll(() => {
    const limit = openFileLimit();
    if (limit < DESCRIPTORS_NEEDED) {
      throw new Error(`these tests need ${DESCRIPTORS_NEEDED} file descriptors; ulimit -n is ${limit}`);
    }
    certificate = createTestCertificate(temp.directory);
    cliPath = compileServer(join(temp.directory, 'app'));
  });

  afterAll(() => temp.remove());

  /** The environment the Deployment in dist/ gives the container (NODE_OPTIONS with the heap ceiling, among others). */
  function deploymentEnvironment(): Record<string, string> {
    const deployment = readObjects(join(REPO_ROOT, 'dist')).find((object) => object.kind === 'Deployment') as unknown as {
      spec: { template: { spec: { containers: Array<{ env?: Array<{ name: string; value?: string }> }> } } };
    };
    return Object.fromEntries((deployment.spec.template.spec.containers[0].env ?? []).filter((variable) => variable.value !== undefined).map((variable) => [variable.name, variable.value as string]));
  }

  /** Starts a server, runs `flood` against it beside a polite client, and measures the server's peak RSS. */
  async function underFlood(args: readonly string[], flood: (server: ServerProcess, port: number) => Promise<void>, environment: Record<string, string> = {}): Promise<FloodResult> {
    const server = await startServerProcess(
      cliPath,
      ['--tls-cert', certificate.certFile, '--tls-key', certificate.keyFile, '--metrics-port', '0', '--shutdown-delay', '0', ...args],
      { nodeFlags, spawnOptions: { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...environment } } },
    );
    const pid = server.child.pid as number;
    try {
      const port = Number(new URL(server.url).port);
      expect((await fetchText(`${server.url}/key/32`, { ca: certificate.certPem })).status).toBe(200);
      resetPeakMemory(pid);
      const polite = startPoliteClient(server.url, certificate.certPem);
      await flood(server, port);
      const { latenciesMs, failures } = await polite.stop();
      const peakRssBytes = memoryUsage(pid).peakRssBytes;
      const samples = parsePrometheusText((await fetchText(`${server.metricsUrl}/metrics`, { ca: certificate.certPem })).body);
      return { peakRssBytes, latenciesMs, failures, samples };
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  }

  function report(name: string, result: FloodResult, extra = ''): void {
    const counted = (reason: string) => sampleValue(result.samples, names.httpConnectionsClosedTotal, { reason });
    console.log(
      `${name}: server peak RSS ${(result.peakRssBytes / MiB).toFixed(1)} MiB (pod request 96 MiB); polite client ${result.latenciesMs.length} keys, ` +
        `${result.failures.length} failed, p50 ${percentile(result.latenciesMs, 0.5).toFixed(0)} ms, p99 ${percentile(result.latenciesMs, 0.99).toFixed(0)} ms, ` +
        `max ${Math.max(...result.latenciesMs).toFixed(0)} ms; connections closed at the cap: ${counted('idle_evicted')} idle, ` +
        `${counted('send_timeout')} stuck, ${counted('max_connections')} refused${extra}`,
    );
  }

  function expectPoliteClientServed(result: FloodResult): void {
    expect(result.failures).toEqual([]);
    expect(result.latenciesMs.length).toBeGreaterThanOrEqual(10);
    expect(percentile(result.latenciesMs, 0.99)).toBeLessThan(1000);
  }

  it(`keeps ${CLIENTS} idle TLS connections from pushing RSS past the pod's memory request`, async () => {
    let sockets: tls.TLSSocket[] = [];
    const result = await underFlood([], async (_server, port) => {
      sockets = await openClients(port, CLIENTS, 'http/1.1', () => undefined);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    });
    for (const socket of sockets) socket.destroy();
    report(`${CLIENTS} idle TLS connections`, result);
    expect(result.peakRssBytes).toBeLessThan(POD_MEMORY_REQUEST);
    expect(sampleValue(result.samples, names.httpOpenConnections)).toBeLessThanOrEqual(DEFAULT_MAX_CONNECTIONS + 1);
    expectPoliteClientServed(result);
  }, 90_000);

  it(`keeps ${CLIENTS} clients that pipeline /key/1024 requests and never read from pushing RSS past it, and counts every key it generates as answered`, async () => {
    let sockets: tls.TLSSocket[] = [];
    const result = await underFlood([], async (_server, port) => {
      // 8 requests each: half the pipelining limit, so every connection keeps requests waiting for answers it never reads.
      sockets = await openClients(port, CLIENTS, 'http/1.1', (socket) => {
        socket.write('GET /key/1024 HTTP/1.1\r\nHost: localhost\r\n\r\n'.repeat(8));
        socket.pause();
      });
      await new Promise((resolve) => setTimeout(resolve, 1000));
    });
    for (const socket of sockets) socket.destroy();
    const keys = samplesOf(result.samples, names.keyGenerationsTotal).reduce((total, sample) => total + sample.value, 0);
    const answered = sampleValue(result.samples, names.httpRequestsTotal, { code: '200', handler: handlers.key, method: 'GET' });
    const unanswered = samplesOf(result.samples, names.httpRequestsUnansweredTotal).reduce((total, sample) => total + sample.value, 0);
    report(`${CLIENTS} non-reading pipelining clients`, result, `; ${keys} keys generated, ${answered} answers counted, ${unanswered} requests unanswered (no key)`);
    expect(result.peakRssBytes).toBeLessThan(POD_MEMORY_REQUEST);
    // Every key generated went into an answer handed to the kernel and counted; the requests that never got one made none.
    expect(keys).toBe(answered);
    expectPoliteClientServed(result);
  }, 90_000);

  // Deep pipelines: Node's HTTP/1.1 parser turns a whole TLS read (about 470 minimal requests) into request objects
  // before any handler runs, natively (the socket is consumed by the parser, out of JavaScript's reach), so this flood
  // cannot be held under the pod's memory request (README, "Residual risks"). What must hold, and is asserted: with
  // the heap ceiling the Deployment sets (NODE_OPTIONS) the process stays under the pod's limit, so the kernel never
  // kills it, serves the polite client, and makes no key for a request it does not answer.
  it(`keeps ${CLIENTS} clients that pipeline 400 requests in one write under the pod's memory limit with the Deployment's heap ceiling`, async () => {
    const environment = deploymentEnvironment();
    expect(environment.NODE_OPTIONS).toMatch(/--max-old-space-size=\d+/);
    let sockets: tls.TLSSocket[] = [];
    const result = await underFlood([], async (_server, port) => {
      sockets = await openClients(port, CLIENTS, 'http/1.1', (socket) => {
        socket.write('GET /key/32 HTTP/1.1\r\nHost: localhost\r\n\r\n'.repeat(400));
        socket.pause();
      });
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }, environment);
    for (const socket of sockets) socket.destroy();
    const keys = samplesOf(result.samples, names.keyGenerationsTotal).reduce((total, sample) => total + sample.value, 0);
    const answered = sampleValue(result.samples, names.httpRequestsTotal, { code: '200', handler: handlers.key, method: 'GET' });
    report(`${CLIENTS} clients pipelining 400 requests (${environment.NODE_OPTIONS})`, result, `; ${keys} keys generated, ${answered} answers counted`);
    expect(result.peakRssBytes).toBeLessThan(POD_MEMORY_LIMIT);
    expect(keys).toBe(answered);
    expectPoliteClientServed(result);
  }, 120_000);

  it(`admits new TLS clients while ${DEFAULT_MAX_CONNECTIONS} TCP connections hold every slot and never start their handshake`, async () => {
    // The kubelet's probes and every load balancer health check open a new connection: a cap full of sockets that
    // never send a ClientHello (reopened as soon as they close) must not lock them out until the handshake timeout.
    const attempts: Array<{ at: number; ok: boolean }> = [];
    let holdersOpened = 0;
    const result = await underFlood([], async (server, port) => {
      const holders = new Set<net.Socket>();
      const startedAt = Date.now();
      const until = startedAt + 8000;
      const hold = (): void => {
        if (Date.now() > until) return;
        const socket = net.connect(port, '127.0.0.1');
        holdersOpened++;
        holders.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => {
          holders.delete(socket);
          setTimeout(hold, 20);
        });
      };
      for (let i = 0; i < DEFAULT_MAX_CONNECTIONS; i++) hold();
      while (Date.now() < until) {
        const at = Date.now() - startedAt;
        const ok = await fetchText(`${server.url}/health`, { ca: certificate.certPem, timeoutMs: 3000 })
          .then((response) => response.status === 200, () => false);
        attempts.push({ at, ok });
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      for (const socket of holders) socket.destroy();
    });
    // The holders become evictable once they have spent a second without finishing a handshake.
    const settled = attempts.filter((attempt) => attempt.at >= 2000);
    const admitted = settled.filter((attempt) => attempt.ok).length;
    report(`${DEFAULT_MAX_CONNECTIONS} silent TCP holders`, result, `; ${holdersOpened} holders opened; new clients after 2 s: ${admitted} of ${settled.length} served`);
    expect(settled.length).toBeGreaterThanOrEqual(10);
    expect(admitted / settled.length).toBeGreaterThanOrEqual(0.9);
    expect(sampleValue(result.samples, names.httpConnectionsClosedTotal, { reason: 'idle_evicted' })).toBeGreaterThan(0);
  }, 90_000);

  // The flood that sized the pod's memory limit: 1,000 clients at once, each pipelining 400 /key/1024 requests and
  // reconnecting as soon as it is closed, keep about 100 MB of Node's request objects alive. With a 96 MiB heap V8
  // aborted the process in 2 of 6 runs; the Deployment's ceiling (half the limit) must let it live, under the limit.
  it('survives 1,000 clients that pipeline 400 /key/1024 requests and reconnect as soon as they are closed, under the pod\'s memory limit', async () => {
    const environment = deploymentEnvironment();
    let connections = 0;
    let serverAlive = true;
    const result = await underFlood([], async (server, port) => {
      const until = Date.now() + 10_000;
      const sockets = new Set<tls.TLSSocket>();
      const payload = 'GET /key/1024 HTTP/1.1\r\nHost: localhost\r\n\r\n'.repeat(400);
      const connect = (): void => {
        if (Date.now() > until) return;
        connections++;
        const socket = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => {
          socket.write(payload);
          socket.pause();
        });
        sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => {
          sockets.delete(socket);
          setTimeout(connect, 20);
        });
      };
      for (let i = 0; i < 1000; i++) connect();
      while (Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        if (server.child.exitCode !== null || server.child.signalCode !== null) serverAlive = false;
      }
      for (const socket of sockets) socket.destroy();
      serverAlive &&= server.child.exitCode === null && server.child.signalCode === null;
    }, environment);
    report(`1,000 reconnecting clients pipelining 400 /key/1024 (${environment.NODE_OPTIONS})`, result, `; ${connections} connections`);
    expect(serverAlive).toBe(true);
    expect(result.peakRssBytes).toBeLessThan(POD_MEMORY_LIMIT);
    // Served, if seconds late: the event loop spends the flood parsing requests it then refuses.
    expect(result.failures).toEqual([]);
    expect(result.latenciesMs.length).toBeGreaterThanOrEqual(5);
  }, 120_000);

  it('keeps a TLS handshake flood (50 clients connecting, handshaking and leaving for 8 s) from pushing RSS past it', async () => {
    let handshakes = 0;
    const result = await underFlood([], async (_server, port) => {
      const until = Date.now() + 8000;
      const loop = async (): Promise<void> => {
        while (Date.now() < until) {
          await new Promise<void>((resolve) => {
            const socket = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', rejectUnauthorized: false }, () => {
              handshakes++;
              socket.destroy();
              resolve();
            });
            socket.on('error', () => resolve());
            socket.on('close', () => resolve());
          });
        }
      };
      await Promise.all(Array.from({ length: WAVE }, loop));
    });
    report('TLS handshake flood', result, `; ${handshakes} handshakes (${(handshakes / 8).toFixed(0)} a second)`);
    expect(handshakes).toBeGreaterThan(1000);
    expect(result.peakRssBytes).toBeLessThan(POD_MEMORY_REQUEST);
    expectPoliteClientServed(result);
  }, 90_000);

  it(`keeps ${CLIENTS} HTTP/2 sessions that open 100 streams each and never read within the connection cap and under the pod's memory limit`, async () => {
    let sockets: tls.TLSSocket[] = [];
    const result = await underFlood([], async (_server, port) => {
      sockets = await openClients(port, CLIENTS, 'h2', (socket) => {
        const streams = Array.from({ length: 100 }, (_, index) => headersFrame(1 + 2 * index, getRequestBlock('/key/1024')));
        socket.write(Buffer.concat([PREFACE, frame(FrameType.settings, 0, 0), ...streams]));
        socket.pause();
      });
      await new Promise((resolve) => setTimeout(resolve, 1000));
    });
    for (const socket of sockets) socket.destroy();
    report(`${CLIENTS} non-reading HTTP/2 sessions`, result);
    // Measured at 95.6 MiB, against 130 to 138 MiB with 256 connections: Node's HTTP/2 keeps tens of MiB after
    // churning sessions however few stay open (a bare node:http2 server grows 58 to 86 MiB under the same flood).
    // Asserted against the pod's limit, which it must never reach; the figure is printed beside the request.
    expect(result.peakRssBytes).toBeLessThan(POD_MEMORY_LIMIT);
    expect(sampleValue(result.samples, names.httpOpenConnections)).toBeLessThanOrEqual(DEFAULT_MAX_CONNECTIONS + 1);
    expectPoliteClientServed(result);
  }, 90_000);
});
