// Structured logging: one JSON object per line, so log pipelines parse events without regexes.

/** Severity of a log event. */
export type LogLevel = 'info' | 'warn' | 'error';

/** Extra fields of one event. Never put key material here: logs are kept longer and read by more people than keys. */
export type LogFields = Readonly<Record<string, unknown>>;

/** Writes events; the server only ever logs through this interface. */
export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** Where log lines go: `process.stdout` in production, an array in tests. */
export interface LineSink {
  write(line: string): unknown;
}

/** A logger writing `{"time","level","msg",...fields}` lines to `sink`. */
export function createJsonLogger(sink: LineSink, now: () => Date = () => new Date()): Logger {
  function log(level: LogLevel, message: string, fields?: LogFields): void {
    sink.write(`${JSON.stringify({ time: now().toISOString(), level, msg: message, ...fields }, replaceErrors)}\n`);
  }
  return {
    info: (message, fields) => log('info', message, fields),
    warn: (message, fields) => log('warn', message, fields),
    error: (message, fields) => log('error', message, fields),
  };
}

/** A logger that drops everything, for tests that do not look at logs. */
export const silentLogger: Logger = Object.freeze({
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
});

/** Errors stringify to `{}` by default; keep their message and code (the stack is noise in one-line logs). */
function replaceErrors(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as NodeJS.ErrnoException).code;
    return code === undefined ? { message: value.message } : { message: value.message, code };
  }
  return value;
}
