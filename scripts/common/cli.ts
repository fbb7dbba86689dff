// Shared entry point of the delivery scripts: argument parsing, one message per failure, exit codes.
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Exit code for a missing prerequisite or a failed step. */
export const EXIT_FAILED = 1;
/** Exit code for arguments the script does not understand. */
export const EXIT_USAGE = 2;

/** Thrown for bad arguments: printed with the usage text, exit code 2. */
export class UsageError extends Error {}

/** A line on stderr prefixed with the script's name, so interleaved npm output says who spoke. */
export function logger(script: string): (line: string) => void {
  return (line) => process.stderr.write(`${script}: ${line}\n`);
}

/** Option values by name; each script narrows the types of the options it declared. */
export type ParsedOptions = Readonly<Record<string, string | boolean | Array<string | boolean> | undefined>>;

/** Parses `argv` strictly (unknown flags and stray arguments are usage errors). */
export function parseOptions(argv: readonly string[], options: NonNullable<ParseArgsConfig['options']>): ParsedOptions {
  try {
    return parseArgs({ args: [...argv], options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Runs a script's main function and turns its outcome into an exit code and one clear message. */
export function runScript(script: string, usage: string, main: () => Promise<void> | void): void {
  const log = logger(script);
  Promise.resolve()
    .then(main)
    .then(
      () => undefined,
      (error: unknown) => {
        if (error instanceof UsageError) {
          log(error.message);
          process.stderr.write(usage);
          process.exitCode = EXIT_USAGE;
          return;
        }
        log(`FAILED: ${(error as Error).message}`);
        process.exitCode = EXIT_FAILED;
      },
    );
}
