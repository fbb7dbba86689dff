// Runs the `key-server` CLI from source (ts-node, transpile only) as a child process, as a user or kubelet would.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const REPO_ROOT = join(__dirname, '..', '..', '..');
const CLI_SOURCE = join(REPO_ROOT, 'server', 'cli.ts');

/** How a finished CLI run ended. */
export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Spawns the CLI with `args`; `env` is added to a copy of the test's environment minus the server's variables. */
export function spawnCli(args: readonly string[], env: Readonly<Record<string, string>> = {}): ChildProcess {
  const baseEnv = { ...process.env };
  for (const name of ['SRV_PORT', 'HOST', 'MAX_SIZE', 'MIN_SIZE', 'METRICS_PORT', 'TLS_CERT_FILE', 'TLS_KEY_FILE', 'SHUTDOWN_DELAY', 'ACCESS_LOG', 'FAULT_ERROR_RATIO', 'FAULT_LATENCY', 'AUTH_TOKEN_FILE', 'RATE_LIMIT', 'RATE_LIMIT_BURST', 'MAX_CONNECTIONS', 'KEEP_ALIVE_TIMEOUT']) {
    delete baseEnv[name];
  }
  return spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', CLI_SOURCE, ...args], {
    cwd: REPO_ROOT,
    env: { ...baseEnv, TS_NODE_PROJECT: join(REPO_ROOT, 'tsconfig.json'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Collects a child's output and resolves when it exits; kills it after `timeoutMs` so a hang fails the test. */
export function waitForExit(child: ChildProcess, timeoutMs = 20_000): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`CLI did not exit within ${timeoutMs} ms; stdout: ${stdout} stderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Runs the CLI to completion. */
export function runCli(args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<CliResult> {
  return waitForExit(spawnCli(args, env));
}

/** Resolves with the first JSON log line on the child's stdout whose `msg` is `message`. */
export function waitForLogLine(child: ChildProcess, message: string, timeoutMs = 20_000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`no "${message}" log line within ${timeoutMs} ms: ${buffered}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString('utf8');
      for (const line of buffered.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const record = JSON.parse(line) as Record<string, unknown>;
          if (record.msg === message) {
            clearTimeout(timer);
            child.stdout?.off('data', onData);
            resolve(record);
            return;
          }
        } catch {
          // a partial line: wait for the rest
        }
      }
    };
    child.stdout?.on('data', onData);
    child.on('exit', () => reject(new Error(`CLI exited before logging "${message}": ${buffered}`)));
  });
}
