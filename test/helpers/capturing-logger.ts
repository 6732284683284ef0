/** A real pino logger whose JSON lines are kept in memory, for tests that check what was logged. */
import { Writable } from 'node:stream';
import { type Logger, pino } from 'pino';

export interface CapturedLog {
  logger: Logger;
  /** Every line, parsed. */
  lines: Record<string, unknown>[];
  /** Every byte written, to check something never appears. */
  text: () => string;
}

export function capturingLogger(): CapturedLog {
  const lines: Record<string, unknown>[] = [];
  let raw = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const text = chunk.toString('utf8');
      raw += text;
      for (const line of text.split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines, text: () => raw };
}
