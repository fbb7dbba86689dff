// Structured logs: one parseable JSON object per line with time, level and message.
import { createJsonLogger } from '../../server/logger';

function capture(): { lines: string[]; sink: { write(line: string): void } } {
  const lines: string[] = [];
  return { lines, sink: { write: (line: string) => void lines.push(line) } };
}

describe('createJsonLogger', () => {
  it('writes one JSON object per line with time, level, message and fields', () => {
    const { lines, sink } = capture();
    const logger = createJsonLogger(sink, () => new Date('2026-01-02T03:04:05.000Z'));
    logger.info('listening', { url: 'https://localhost:1123' });
    logger.warn('careful');
    expect(lines).toEqual([
      '{"time":"2026-01-02T03:04:05.000Z","level":"info","msg":"listening","url":"https://localhost:1123"}\n',
      '{"time":"2026-01-02T03:04:05.000Z","level":"warn","msg":"careful"}\n',
    ]);
  });

  it('keeps an error message and code but not its stack', () => {
    const { lines, sink } = capture();
    const error = Object.assign(new Error('port taken'), { code: 'EADDRINUSE' });
    createJsonLogger(sink).error('could not start listening', { error });
    const record = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(record.level).toBe('error');
    expect(record.error).toEqual({ message: 'port taken', code: 'EADDRINUSE' });
    expect(lines[0]).not.toContain('at ');
  });

  it('keeps a message with a newline on one line', () => {
    const { lines, sink } = capture();
    createJsonLogger(sink).info('two\nlines');
    expect(lines[0].trimEnd().split('\n')).toHaveLength(1);
  });
});
