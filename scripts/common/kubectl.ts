// Runs kubectl for the delivery scripts: every command is echoed first, so a user can repeat it by hand.
import { spawnSync } from 'node:child_process';
import { MissingPrerequisite, noContextMessage, requireTool } from './prerequisites';

/** A kubectl on PATH with a current context, checked once per script. */
export interface Kubectl {
  readonly path: string;
  readonly context: string;
  /** Runs `kubectl args` with output shown to the user; throws when it fails. */
  run(args: readonly string[], input?: string): void;
  /** Runs `kubectl args` and returns its stdout; throws with its stderr when it fails. */
  read(args: readonly string[]): string;
}

/** Echoes a command the way a shell user would type it. */
export function shellLine(args: readonly string[]): string {
  return ['kubectl', ...args].map((arg) => (/^[\w./:=@,+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** Finds kubectl and its current context, or throws a {@link MissingPrerequisite} saying which is missing. */
export function connectKubectl(log: (line: string) => void): Kubectl {
  const path = requireTool('kubectl');
  const contextResult = spawnSync(path, ['config', 'current-context'], { encoding: 'utf8' });
  const context = contextResult.status === 0 ? contextResult.stdout.trim() : '';
  if (context === '') {
    throw new MissingPrerequisite(noContextMessage((contextResult.stderr ?? '').trim()));
  }
  log(`context: ${context}`);
  return {
    path,
    context,
    run(args, input) {
      log(`$ ${shellLine(args)}${input === undefined ? '' : ' <<(manifests)'}`);
      const result = spawnSync(path, args, { input, stdio: [input === undefined ? 'ignore' : 'pipe', 'inherit', 'inherit'] });
      if (result.status !== 0) {
        throw new Error(`\`${shellLine(args)}\` failed with exit code ${result.status ?? result.signal}`);
      }
    },
    read(args) {
      const result = spawnSync(path, args, { encoding: 'utf8' });
      if (result.status !== 0) {
        throw new Error(`\`${shellLine(args)}\` failed: ${(result.stderr ?? '').trim()}`);
      }
      return result.stdout;
    },
  };
}
