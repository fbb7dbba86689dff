// Starting and stopping the benchmark's child processes: the key server, the baseline and the load generator.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { h2loadArgs, parseH2load } from './h2load';

/** The repository root (bench/ sits in it). */
export const ROOT = join(__dirname, '..');

/** A server under test, listening on 127.0.0.1. */
export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  readonly url: string;
  stop(): Promise<void>;
}

/** How long a child may take to print its listening line before the run is abandoned. */
const START_TIMEOUT_MS = 15_000;
/** How long a child gets to exit after SIGTERM before it is killed. */
const STOP_TIMEOUT_MS = 5_000;

/** Every child still running, so an interrupted run can clean up. */
const running = new Set<ChildProcess>();

/** Kills every child this run started (on Ctrl-C or a failure); safe to call twice. */
export function killAll(): void {
  for (const child of running) {
    child.kill('SIGKILL');
  }
  running.clear();
}

/**
 * The compiled key server (`npm run build` first), with the benchmark's certificate, on a free port of 127.0.0.1.
 * `nodeFlags` go to node itself (e.g. `--max-semi-space-size=4`); the baseline gets the same ones.
 */
export function startKeyServer(certFile: string, keyFile: string, nodeFlags: readonly string[] = []): Promise<ServerProcess> {
  // KEY_SERVER_CLI runs another build of the server (an older commit's) against the same baselines and load.
  const cli = process.env.KEY_SERVER_CLI ?? join(ROOT, 'lib/server/cli.js');
  // The 200-connection scenario is past the default --max-connections (128, sized for the pod's memory): the
  // benchmark measures what a request costs, so it raises the cap. KEY_SERVER_ARGS replaces these (e.g. '' for a
  // build that predates the flag).
  const extraArgs = (process.env.KEY_SERVER_ARGS ?? '--max-connections 1000').split(' ').filter((arg) => arg !== '');
  const args = [...nodeFlags, cli, '--host', '127.0.0.1', '--srv-port', '0', '--shutdown-delay', '0', ...extraArgs];
  return startServer('key server', [...args, '--tls-cert', certFile, '--tls-key', keyFile], (line) => {
    const event = parseJsonLine(line);
    return event?.msg === 'listening' && typeof event.url === 'string' ? event.url.replace('localhost', '127.0.0.1') : undefined;
  });
}

/** The bare baseline answering `answers` (path → status and body): node:https, or node:http2 for `h2`. */
export function startBaseline(
  certFile: string,
  keyFile: string,
  answers: Record<string, { status: number; body: string }>,
  nodeFlags: readonly string[] = [],
  protocol: Protocol = 'http/1.1',
): Promise<ServerProcess> {
  const options = JSON.stringify({ certFile, keyFile, answers });
  const script = protocol === 'h2' ? 'baseline-h2-server.js' : 'baseline-server.js';
  return startServer(protocol === 'h2' ? 'HTTP/2 baseline' : 'baseline', [...nodeFlags, join(__dirname, script), options], (line) => {
    const event = parseJsonLine(line);
    return event?.msg === 'listening' ? `https://127.0.0.1:${String(event.port)}` : undefined;
  });
}

function parseJsonLine(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

async function startServer(name: string, args: string[], urlFromLine: (line: string) => string | undefined): Promise<ServerProcess> {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  running.add(child);
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    child.once('exit', (code) => reject(new Error(`${name} exited with code ${code} before listening`)));
    lines.on('line', (line) => {
      const found = urlFromLine(line);
      if (found !== undefined) {
        clearTimeout(timer);
        resolve(found);
      }
    });
  });
  // Keep draining stdout so a chatty child never blocks on a full pipe.
  lines.on('line', () => undefined);
  return {
    name,
    pid: child.pid!,
    url,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) {
        running.delete(child);
        return;
      }
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
      running.delete(child);
    },
  };
}

/** What one load-generator run measured. */
export interface LoadResult {
  readonly requests: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly statuses: Readonly<Record<string, number>>;
}

/** Which load generator drives the servers over HTTP/1.1: autocannon (a devDependency) by default, wrk where installed. */
export type Generator = 'autocannon' | 'wrk';

/** The protocol a scenario speaks: HTTP/1.1 through `Generator`, HTTP/2 through h2load. */
export type Protocol = 'http/1.1' | 'h2';

/** What to send in one load-generator run. */
export interface LoadOptions {
  /** @default 'autocannon' */
  readonly generator?: Generator;
  readonly url: string;
  readonly connections: number;
  readonly durationSeconds: number;
  /** Cycled per connection. */
  readonly paths: readonly string[];
  /** @default 'http/1.1' */
  readonly protocol?: Protocol;
  /** HTTP/2: requests in flight per connection. @default 1 */
  readonly streams?: number;
}

/** The command line of one run: autocannon in a node process of its own, or wrk with two threads (one per core). */
export function generatorCommand(options: LoadOptions): { command: string; args: string[] } {
  if (options.generator === 'wrk') {
    const threads = String(Math.min(2, options.connections));
    return {
      command: 'wrk',
      args: ['-t', threads, '-c', String(options.connections), '-d', `${options.durationSeconds}s`, '-s', join(__dirname, 'wrk-report.lua'), options.url, '--', ...options.paths],
    };
  }
  return { command: process.execPath, args: [join(__dirname, 'load-generator.js'), JSON.stringify(options)] };
}

/** Runs h2load against an HTTP/2 server: Debian's nghttp2-client (scripts/install-test-tools.sh installs it). */
async function runH2load(options: LoadOptions): Promise<LoadResult> {
  const directory = mkdtempSync(join(tmpdir(), 'key-server-h2load-'));
  const logFile = join(directory, 'requests.tsv');
  try {
    const args = h2loadArgs({ ...options, streams: options.streams ?? 1, logFile });
    const child = spawn('h2load', args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let output = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr!.resume();
    const [code] = (await Promise.race([once(child, 'exit'), once(child, 'error').then(([error]) => { throw error; })])) as [number | null];
    running.delete(child);
    if (code !== 0) {
      throw new Error(`h2load exited with code ${code}: ${output.slice(-500)}`);
    }
    return parseH2load(output, readFileSync(logFile, 'utf8'));
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

/** Runs the load generator in its own process and returns its summary. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  if (options.protocol === 'h2') {
    return runH2load(options);
  }
  const { command, args } = generatorCommand(options);
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  running.add(child);
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  running.delete(child);
  if (code !== 0) {
    throw new Error(`load generator exited with code ${code}`);
  }
  const summary = output.split('\n').filter((line) => line.startsWith('{')).pop();
  if (summary === undefined) {
    throw new Error(`load generator printed no summary: ${output.slice(-500)}`);
  }
  return JSON.parse(summary) as LoadResult;
}
