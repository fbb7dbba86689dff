// /metrics render time with every series populated: a key server in this process, driven over real HTTPS on
// 127.0.0.1 through every route, method, status and key length bucket it can count, then rendered many times.
import * as https from 'node:https';
import { performance } from 'node:perf_hooks';
import { parseConfig } from '../server/config';
import { createKeyServer } from '../server/server';
import { median, percentile } from './stats';

/** What rendering /metrics costs once every series exists. */
export interface MetricsRenderResult {
  /** Series (sample lines) in one render. */
  readonly series: number;
  readonly renders: number;
  readonly medianMs: number;
  readonly p99Ms: number;
  /** Bytes of one render. */
  readonly bytes: number;
}

/** Methods the server keeps as labels, plus one it folds into OTHER. */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'PROPFIND'];

/** Every path shape that yields a distinct series: each power-of-two length bucket, bad lengths and formats, 404s. */
function pathsToVisit(maxSize: number): string[] {
  const paths = ['/health', '/ready', '/metrics', '/nowhere', '/key/0', '/key/abc', '/key/16?format=nope'];
  for (let length = 1; length <= maxSize; length *= 2) {
    paths.push(`/key/${length}`, `/key/${length}?format=base64`);
  }
  return paths;
}

function request(agent: https.Agent, url: string, method: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const outgoing = https.request(url, { method, agent }, (response) => {
      response.resume();
      response.on('end', resolve);
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

/**
 * Starts a key server (TLS, so the certificate series exist; a 50 % injected fault ratio, so the 500 series exist),
 * visits every path with every method a few times, then times `renders` renders of the registry.
 */
export async function measureMetricsRender(certFile: string, keyFile: string, renders: number): Promise<MetricsRenderResult> {
  const parsed = parseConfig(
    ['--host', '127.0.0.1', '--srv-port', '0', '--shutdown-delay', '0', '--fault-error-ratio', '0.5', '--tls-cert', certFile, '--tls-key', keyFile],
    {},
  );
  if (parsed.kind !== 'config') {
    throw new Error(`metrics render benchmark: bad config (${parsed.kind === 'error' ? parsed.message : 'help'})`);
  }
  const server = createKeyServer(parsed.config);
  const { url } = await server.listen();
  const agent = new https.Agent({ keepAlive: true, maxSockets: 8, rejectUnauthorized: false });
  try {
    const visits: Array<Promise<void>> = [];
    for (const path of pathsToVisit(parsed.config.maxSize)) {
      for (const method of METHODS) {
        // Four visits per pair: with the 50 % fault ratio, a key path almost surely gets both a 200 and a 500.
        for (let visit = 0; visit < 4; visit++) {
          visits.push(request(agent, `${url.replace('localhost', '127.0.0.1')}${path}`, method));
        }
      }
    }
    await Promise.all(visits);
    const timings: number[] = [];
    let body = '';
    for (let index = 0; index < renders; index++) {
      const startedAt = performance.now();
      body = await server.registry.metrics();
      timings.push(performance.now() - startedAt);
    }
    const series = body.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length;
    return { series, renders, medianMs: median(timings), p99Ms: percentile(timings, 0.99), bytes: Buffer.byteLength(body) };
  } finally {
    agent.destroy();
    await server.close();
  }
}
