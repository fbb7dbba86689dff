// A small HTTP(S) client for tests over real sockets, and a reader for the Prometheus text format.
import * as http from 'node:http';
import * as https from 'node:https';
import { createServer } from 'node:net';
import type { TLSSocket } from 'node:tls';

/** A whole response, read to the end. */
export interface TestResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  /** Serial number of the certificate the server presented (HTTPS only), upper-case hex. */
  readonly peerCertificateSerial?: string;
  /** Local port of the connection, to tell whether two requests shared one keep-alive connection. */
  readonly localPort?: number;
}

/** Options for {@link fetchText}. */
export interface TestRequestOptions {
  /** @default 'GET' */
  readonly method?: string;
  readonly headers?: http.OutgoingHttpHeaders;
  /** Reuse connections through this agent (keep-alive tests); by default a fresh connection per request. */
  readonly agent?: http.Agent | https.Agent;
  /** Trust exactly this CA/certificate PEM; without it, HTTPS certificates are not verified. */
  readonly ca?: string;
  /** Abort if no full response arrives in time, in milliseconds. @default 10000 */
  readonly timeoutMs?: number;
}

/** Sends one request to `url` and resolves with the whole response; rejects on network errors and timeouts. */
export function fetchText(url: string, options: TestRequestOptions = {}): Promise<TestResponse> {
  const secure = url.startsWith('https:');
  const requestOptions: https.RequestOptions = {
    method: options.method ?? 'GET',
    headers: options.headers,
    agent: options.agent ?? false,
    timeout: options.timeoutMs ?? 10_000,
  };
  if (secure) {
    requestOptions.ca = options.ca;
    requestOptions.rejectUnauthorized = options.ca !== undefined;
  }
  return new Promise((resolve, reject) => {
    const request = (secure ? https : http).request(url, requestOptions, (response) => {
      const socket = response.socket as TLSSocket;
      const peerCertificateSerial = secure ? socket.getPeerCertificate().serialNumber?.toUpperCase() : undefined;
      const localPort = socket.localPort;
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          peerCertificateSerial,
          localPort,
        }),
      );
    });
    request.on('timeout', () => request.destroy(new Error(`request to ${url} timed out`)));
    request.on('error', reject);
    request.end();
  });
}

/** One sample of a metric: its labels and value. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Parses Prometheus text exposition into samples (enough for prom-client's output: no escapes in label values). */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) {
      continue;
    }
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) {
      throw new Error(`not a Prometheus sample line: ${line}`);
    }
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"/g)) {
      labels[pair[1]] = pair[2];
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** The samples named `name`, optionally only those whose labels include `labels`. */
export function samplesOf(samples: readonly Sample[], name: string, labels: Readonly<Record<string, string>> = {}): Sample[] {
  return samples.filter(
    (sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
}

/** The value of the one sample matching `name` and `labels`; 0 when there is none (a counter not yet incremented). */
export function sampleValue(samples: readonly Sample[], name: string, labels: Readonly<Record<string, string>> = {}): number {
  const matching = samplesOf(samples, name, labels);
  if (matching.length > 1) {
    throw new Error(`${matching.length} samples match ${name} ${JSON.stringify(labels)}; add labels`);
  }
  return matching[0]?.value ?? 0;
}

/** Runs `task` for each index in [0, count) with at most `concurrency` running at once; resolves with the results in order. */
export async function mapConcurrently<T>(count: number, concurrency: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < count) {
      const index = next++;
      results[index] = await task(index);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}

/** A port nobody listens on right now on 127.0.0.1 (the kernel's pick; released before it is returned). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
