// Free ports, bounded polling and the key server as a child process, for the end-to-end test.
import type { ChildProcess } from 'node:child_process';
import { spawnCli, waitForLogLine } from '../server/helpers/cli';

export { freePort } from '../server/helpers/http';

/**
 * Polls `check` every `intervalMs` until it returns true, for at most `timeoutMs`. A string return means "not yet"
 * and says what was seen, so the timeout error tells why; a throw ends the wait at once.
 */
export async function waitFor(
  description: string, timeoutMs: number, check: () => Promise<boolean | string> | boolean | string, intervalMs = 250,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastSeen: boolean | string = false;
  for (;;) {
    lastSeen = await check();
    if (lastSeen === true) {
      return;
    }
    if (Date.now() >= deadline) {
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}${typeof lastSeen === 'string' ? `; last seen: ${lastSeen}` : ''}`);
}

/** The key server running as its own process, as the container runs it. */
export interface KeyServerProcess {
  readonly child: ChildProcess;
  /** Everything it printed so far. */
  log(): string;
  /** SIGTERM (the kubelet's way), SIGKILL if it has not exited after `graceMs`; resolves on exit. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts `key-server <args>` from source and resolves once it logs `listening`; kills it and rejects otherwise. */
export async function startKeyServerProcess(args: readonly string[]): Promise<KeyServerProcess> {
  const child = spawnCli(args);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const stop = (graceMs = 15_000) => stopProcess(child, graceMs);
  try {
    await waitForLogLine(child, 'listening', 30_000);
  } catch (error) {
    await stop(0);
    throw new Error(`key-server ${args.join(' ')} did not start: ${(error as Error).message}\n${output}`);
  }
  return { child, log: () => output, stop };
}

/** Ends `child`: SIGTERM, SIGKILL after `graceMs`; resolves once it has exited. Safe to call twice. */
export function stopProcess(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    child.kill(graceMs > 0 ? 'SIGTERM' : 'SIGKILL');
  });
}
