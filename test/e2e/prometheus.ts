// Starts the toolchain's `prometheus` (the release the manifests pin) on a free port of 127.0.0.1 and talks to its HTTP API.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireProgram } from '../../scripts/toolchain/build-tools';
import { freePort, stopProcess, waitFor } from './processes';

/** One series of an instant query result. */
export interface PromSample {
  readonly metric: Readonly<Record<string, string>>;
  /** The value as Prometheus prints it (`"NaN"`, `"+Inf"`, `"0.25"`). */
  readonly value: string;
}

/** One entry of `/api/v1/alerts`. */
export interface PromAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly state: 'pending' | 'firing';
  readonly value: string;
}

/** One entry of `activeTargets` in `/api/v1/targets`. */
export interface PromTarget {
  readonly labels: Readonly<Record<string, string>>;
  readonly scrapePool: string;
  readonly scrapeUrl: string;
  readonly health: 'up' | 'down' | 'unknown';
  readonly lastError: string;
}

/** One group of `/api/v1/rules`. */
export interface PromRuleGroup {
  readonly name: string;
  readonly file: string;
  /** Seconds between evaluations: the group's own `interval`, or the global `evaluation_interval`. */
  readonly interval: number;
  readonly rules: ReadonlyArray<{ readonly name: string; readonly health: 'ok' | 'err' | 'unknown'; readonly lastError?: string }>;
}

/** A running Prometheus. */
export interface RunningPrometheus {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Instant query at the current time; rejects when Prometheus refuses the expression (naming it). */
  query(expr: string): Promise<PromSample[]>;
  alerts(): Promise<PromAlert[]>;
  targets(): Promise<PromTarget[]>;
  ruleGroups(): Promise<PromRuleGroup[]>;
  /** The last `lines` lines Prometheus logged, for failure messages. */
  logTail(lines?: number): string;
  /** SIGTERM, then SIGKILL after a grace period; resolves when the process is gone. Safe to call twice. */
  stop(): Promise<void>;
}

/** Options of {@link startPrometheus}. */
export interface StartPrometheusOptions {
  /** A fresh directory for the config, rule files and TSDB; the caller removes it. */
  readonly directory: string;
  /** prometheus.yml as text; `rule_files` should name files given in `files`. */
  readonly config: string;
  /** Extra files written beside prometheus.yml (name → contents), e.g. rule files. @default {} */
  readonly files?: Readonly<Record<string, string>>;
  /** Port to listen on (127.0.0.1), for a config that scrapes Prometheus itself. @default - a free port */
  readonly port?: number;
  /** Flags after the config, storage and listen address, e.g. `--rules.alert.resend-delay=1s`. @default [] */
  readonly args?: readonly string[];
  /** The binary. @default - the toolchain's prometheus, built when missing */
  readonly binary?: string;
  /** How long to wait for `/-/ready`, in milliseconds. @default 20000 */
  readonly readyTimeoutMs?: number;
}

/**
 * Writes the config and files into `directory`, starts Prometheus with its TSDB there and waits for `/-/ready`.
 * Rejects with Prometheus's log when it exits early (a bad config) or is not ready in time; the process is
 * stopped before rejecting, so a failed start leaves nothing behind.
 */
export async function startPrometheus(options: StartPrometheusOptions): Promise<RunningPrometheus> {
  const { directory } = options;
  const configFile = join(directory, 'prometheus.yml');
  writeFileSync(configFile, options.config);
  for (const [name, contents] of Object.entries(options.files ?? {})) {
    writeFileSync(join(directory, name), contents);
  }
  const dataDirectory = join(directory, 'data');
  mkdirSync(dataDirectory, { recursive: true });
  const port = options.port ?? await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(options.binary ?? requireProgram('prometheus'), [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${dataDirectory}`,
    `--web.listen-address=127.0.0.1:${port}`,
    ...(options.args ?? []),
  ], { cwd: directory, stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  const collect = (chunk: Buffer) => log.push(...chunk.toString('utf8').split('\n').filter((line) => line !== ''));
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const logTail = (lines = 40) => log.slice(-lines).join('\n');
  const prometheus: RunningPrometheus = {
    url,
    query: (expr) => instantQuery(url, expr),
    alerts: async () => (await apiGet<{ alerts: PromAlert[] }>(url, '/api/v1/alerts')).alerts,
    targets: async () => (await apiGet<{ activeTargets: PromTarget[] }>(url, '/api/v1/targets?state=active')).activeTargets,
    ruleGroups: async () => (await apiGet<{ groups: PromRuleGroup[] }>(url, '/api/v1/rules')).groups,
    logTail,
    stop: () => stopProcess(child),
  };
  try {
    await waitFor('Prometheus /-/ready', options.readyTimeoutMs ?? 20_000, async () => {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`prometheus exited with ${child.exitCode ?? child.signalCode} before it was ready`);
      }
      try {
        return (await fetch(`${url}/-/ready`)).status === 200;
      } catch {
        return false;
      }
    });
  } catch (error) {
    await prometheus.stop();
    throw new Error(`${(error as Error).message}\n--- prometheus log ---\n${logTail()}`);
  }
  return prometheus;
}

async function apiGet<T>(url: string, path: string): Promise<T> {
  const response = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(10_000) });
  const body = (await response.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') {
    throw new Error(`Prometheus ${path} answered ${response.status}: ${body.error ?? JSON.stringify(body)}`);
  }
  return body.data;
}

async function instantQuery(url: string, expr: string): Promise<PromSample[]> {
  const data = await apiGet<{ resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(
    url, `/api/v1/query?query=${encodeURIComponent(expr)}`,
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n  query: ${expr}`);
  });
  if (data.resultType !== 'vector') {
    throw new Error(`expected an instant vector from ${expr}, got a ${data.resultType}`);
  }
  return data.result.map((entry) => ({ metric: entry.metric, value: entry.value[1] }));
}
