#!/usr/bin/env node
// The `key-server` bin: parse flags and environment, start the server, shut down gracefully on SIGTERM/SIGINT, reload
// the certificate and token files on SIGHUP.
import { constants as osConstants } from 'node:os';
import { helpText, parseConfig } from './config';
import { createJsonLogger } from './logger';
import { createKeyServer, type KeyServer } from './server';
import { TokenFileError } from './auth';
import { CertificateError } from './tls';

/** Exit code for a configuration the server refuses to start with (as the issue and the Deployment expect). */
const EXIT_INVALID_CONFIG = 2;
/** Exit code when the server could not start for another reason (port in use, permission denied). */
const EXIT_START_FAILED = 1;

function main(): void {
  const parsed = parseConfig(process.argv.slice(2), process.env);
  if (parsed.kind === 'help') {
    process.stdout.write(helpText());
    return;
  }
  if (parsed.kind === 'error') {
    failConfig(parsed.message);
    return;
  }
  const logger = createJsonLogger(process.stdout);
  let server: KeyServer;
  try {
    server = createKeyServer(parsed.config, { logger });
  } catch (error) {
    if (error instanceof CertificateError || error instanceof TokenFileError) {
      failConfig(error.message);
      return;
    }
    throw error;
  }

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      // A second Ctrl-C or SIGTERM means "now": skip the delay and the drain, and say which signal ended it.
      logger.warn('second signal: exiting without draining', { signal, exitCode: exitCodeFor(signal) });
      process.exit(exitCodeFor(signal));
    }
    logger.info('signal received: shutting down', { signal });
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('shutdown failed', { error });
        process.exit(EXIT_START_FAILED);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // SIGHUP conventionally means "reread your files"; without a handler it would kill the process with no drain.
  process.on('SIGHUP', () => {
    logger.info('SIGHUP: reloading the certificate and token files');
    server.reload().then(
      (result) => logger.info('reload finished', { ...result }),
      (error: unknown) => logger.error('reload failed', { error }),
    );
  });

  server.listen().catch((error: unknown) => {
    logger.error('could not start listening', { error });
    process.exit(EXIT_START_FAILED);
  });
}

/**
 * The exit code of a process ended by `signal` without a graceful shutdown: 128 plus the signal number, the shell's
 * convention (SIGINT 130, SIGTERM 143), so a supervisor can tell which signal it was.
 */
export function exitCodeFor(signal: NodeJS.Signals): number {
  return 128 + (osConstants.signals[signal] ?? 0);
}

/** One clear line on stderr and exit code 2, before anything listens. */
function failConfig(message: string): void {
  process.stderr.write(`key-server: invalid configuration: ${message}\n`);
  process.exitCode = EXIT_INVALID_CONFIG;
}

if (require.main === module) {
  main();
}
