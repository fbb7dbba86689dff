// A command left running while a test acts on the cluster (kubectl drain, port-forward): its output as it comes,
// a wait for a line that says something happened, and its exit.
import { spawn } from 'node:child_process';

/** A running command. */
export interface BackgroundCommand {
  /** Everything it printed so far, stdout and stderr interleaved. */
  readonly output: () => string;
  /** Resolves once the output matches `pattern` at least `times` times; rejects at the deadline or if it exits first. */
  readonly waitForOutput: (pattern: RegExp, options?: { times?: number; timeoutMs?: number }) => Promise<void>;
  /** Resolves with the exit code (128 + n for a signal). */
  readonly exited: Promise<number>;
  readonly running: () => boolean;
  /** SIGTERM if still running; resolves once it has exited. */
  readonly stop: () => Promise<number>;
}

/** Starts `command` with `env`; killed after `limitMs` so a hang ends the test, not the suite. */
export function startBackground(command: string, args: readonly string[], env: NodeJS.ProcessEnv, limitMs = 180_000): BackgroundCommand {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  let running = true;
  const limit = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const exited = new Promise<number>((resolve) => {
    child.on('error', (error) => { output += error.message; });
    child.on('close', (code, signal) => {
      running = false;
      clearTimeout(limit);
      for (const listener of listeners) listener();
      resolve(code ?? 128 + (signal === null ? 0 : 15));
    });
  });

  const waitForOutput = (pattern: RegExp, options: { times?: number; timeoutMs?: number } = {}) => new Promise<void>((resolve, reject) => {
    const times = options.times ?? 1;
    const timeoutMs = options.timeoutMs ?? 30_000;
    const global = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
    const check = () => {
      if ((output.match(global)?.length ?? 0) >= times) finish();
      else if (!running) finish(new Error(`${command} exited before printing ${pattern} ${times} time(s); output:\n${output}`));
    };
    const timer = setTimeout(() => finish(new Error(`${command} did not print ${pattern} ${times} time(s) within ${timeoutMs / 1000} s; output:\n${output}`)), timeoutMs);
    function finish(error?: Error) {
      clearTimeout(timer);
      listeners.delete(check);
      if (error === undefined) resolve();
      else reject(error);
    }
    listeners.add(check);
    check();
  });

  return {
    output: () => output,
    waitForOutput,
    exited,
    running: () => running,
    stop: () => {
      if (running) child.kill('SIGTERM');
      return exited;
    },
  };
}
