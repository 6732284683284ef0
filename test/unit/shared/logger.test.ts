import { describe, expect, it } from 'vitest';
import { createLogger, formatMessage, resolveLogFormat } from '../../../src/shared/logger.js';

/** A destination that keeps what the logger wrote, line by line. */
function capture(): { lines: string[]; write: (s: string) => void } {
  const lines: string[] = [];
  return { lines, write: (s: string) => lines.push(...s.split('\n').filter((l) => l !== '')) };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes
const ansi = /\u001b\[[0-9;]*m/g;

describe('log.format', () => {
  it('auto is pretty on a terminal and JSON otherwise; json and pretty are what they say', () => {
    expect(resolveLogFormat('auto', true)).toBe('pretty');
    expect(resolveLogFormat('auto', false)).toBe('json');
    expect(resolveLogFormat('json', true)).toBe('json');
    expect(resolveLogFormat('pretty', false)).toBe('pretty');
  });

  it('json writes one JSON object per line, as before', () => {
    const out = capture();
    const logger = createLogger('sluice', { format: 'auto', isTty: false, destination: out }).child({ brokerId: 3 });
    logger.info({ topic: 't', partition: 0 }, 'leading partition');
    expect(out.lines).toHaveLength(1);
    const entry = JSON.parse(out.lines[0] ?? '') as Record<string, unknown>;
    expect(entry).toMatchObject({ level: 30, name: 'sluice', brokerId: 3, topic: 't', partition: 0 });
    expect(entry.msg).toBe('leading partition');
  });

  it('pretty writes a human line with its fields on it, written before the call returns', () => {
    const out = capture();
    const logger = createLogger('sluice', { format: 'pretty', isTty: false, destination: out }).child({ brokerId: 3 });
    logger.warn({ topic: 'orders', isr: [1, 2], note: 'two words' }, 'leading partition');
    expect(out.lines).toHaveLength(1);
    const line = (out.lines[0] ?? '').replace(ansi, '');
    expect(line).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: \[broker 3\] leading partition /);
    expect(line).toContain('topic=orders isr=1,2 note="two words"');
    expect(line).not.toContain('pid=');
  });

  it('pretty shows an error field with its message on the line and its stack below', () => {
    const out = capture();
    const logger = createLogger('sluice', { format: 'pretty', isTty: false, destination: out });
    logger.error({ err: new Error('disk on fire') }, 'append failed');
    expect(out.lines[0]?.replace(ansi, '')).toMatch(/ERROR: append failed err="disk on fire"$/);
    expect(out.lines[1]).toMatch(/^ {4}Error: disk on fire$/);
    expect(out.lines[2]).toMatch(/^ {4} {4}at /);
  });

  it('formats nested objects as JSON and quotes empty strings', () => {
    expect(formatMessage({ msg: 'm', a: { b: 1 }, e: '', n: null, ok: true })).toBe('m a={"b":1} e="" n=null ok=true');
  });

  it('rejects an unknown level', () => {
    expect(() => createLogger('x', { level: 'loud' })).toThrow(/unknown log level/);
  });
});
