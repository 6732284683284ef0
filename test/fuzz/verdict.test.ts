/** The fuzz verdict (verdict.ts): it must see a failure line, a loss, a duplicate, a misplaced record and a dead broker. */
import { describe, expect, it } from 'vitest';
import { type Acknowledged, checkLedger, classifyLogLine, countFailures, type RunOutcome, verdict } from './verdict.js';

const pino = (fields: Record<string, unknown>): string =>
  JSON.stringify({ level: 30, time: 1_700_000_000_000, pid: 1, name: 'broker', ...fields });

const requestFailed = pino({
  level: 50,
  api: 'Produce',
  err: { type: 'TypeError', message: "Cannot read properties of null (reading 'name')", stack: 'TypeError: ...' },
  msg: 'request failed',
});

const acked: Acknowledged[] = [
  { value: 'wb-all-0', partition: 0, offset: 0 },
  { value: 'wb-all-1', partition: 1, offset: 0 },
  { value: 'wb-one-0', partition: 0, offset: 1 },
];

const clean = (): RunOutcome => ({ brokerAlive: true, failures: [], ledger: checkLedger(acked, acked) });

describe('classifyLogLine', () => {
  it('reports a handler failure with its error class and API', () => {
    expect(classifyLogLine(requestFailed)).toEqual({
      kind: 'request-failed',
      errType: 'TypeError',
      api: 'Produce',
      message: "request failed: Cannot read properties of null (reading 'name')",
      timeMs: 1_700_000_000_000,
    });
  });

  it('reports an unencodable response, a fatal line, a logged TypeError and a RangeError on stderr', () => {
    expect(
      classifyLogLine(pino({ level: 50, msg: 'response could not be encoded; closing the connection' }))?.kind,
    ).toBe('encode-failed');
    expect(classifyLogLine(pino({ level: 60, msg: 'broker stopping' }))?.kind).toBe('uncaught');
    expect(classifyLogLine(pino({ level: 30, msg: 'unhandled rejection' }))?.kind).toBe('uncaught');
    expect(classifyLogLine(pino({ level: 40, msg: 'x', err: { type: 'RangeError', message: 'bad' } }))?.kind).toBe(
      'js-error',
    );
    const stderr = classifyLogLine('RangeError [ERR_OUT_OF_RANGE]: The value of "offset" is out of range.');
    expect(stderr).toMatchObject({ kind: 'stderr', errType: 'RangeError' });
    expect(classifyLogLine('[UnhandledPromiseRejection: This error originated either by throwing ...]')?.kind).toBe(
      'stderr',
    );
  });

  it('passes ordinary lines: a refused request closing its connection, info lines, blank lines, other output', () => {
    expect(
      classifyLogLine(
        pino({
          level: 40,
          remote: '127.0.0.1',
          reason: 'undecodable request: Unexpected end',
          msg: 'closing connection',
        }),
      ),
    ).toBeUndefined();
    expect(classifyLogLine(pino({ msg: 'broker listening', port: 9092 }))).toBeUndefined();
    expect(classifyLogLine('')).toBeUndefined();
    expect(classifyLogLine('Debugger attached.')).toBeUndefined();
  });

  it('counts failures by kind, error class and API', () => {
    const f = classifyLogLine(requestFailed);
    if (!f) throw new Error('not classified');
    expect(countFailures([f, f, { ...f, api: 'Fetch' }])).toEqual([
      { key: 'request-failed TypeError Produce', count: 2, example: f.message },
      { key: 'request-failed TypeError Fetch', count: 1, example: f.message },
    ]);
  });
});

describe('checkLedger', () => {
  it('finds every acknowledged record once where it was acknowledged', () => {
    expect(checkLedger(acked, [...acked].reverse())).toEqual({
      acknowledged: 3,
      lost: 0,
      duplicated: 0,
      wrongOffset: 0,
    });
  });

  it('counts a lost record, a duplicated one and one at another offset', () => {
    const read = [
      { value: 'wb-all-0', partition: 0, offset: 0 },
      { value: 'wb-all-0', partition: 0, offset: 2 },
      { value: 'wb-one-0', partition: 0, offset: 5 },
      { value: 'never-acked', partition: 2, offset: 0 },
    ];
    expect(checkLedger(acked, read)).toEqual({ acknowledged: 3, lost: 1, duplicated: 1, wrongOffset: 1 });
  });
});

describe('verdict', () => {
  it('passes a clean run', () => {
    expect(verdict(clean())).toEqual({ ok: true, reasons: [] });
  });

  it('fails on a failure line', () => {
    const f = classifyLogLine(requestFailed);
    if (!f) throw new Error('not classified');
    expect(verdict({ ...clean(), failures: [f] })).toEqual({
      ok: false,
      reasons: ['1 handler failure line(s) in the broker log'],
    });
  });

  it('fails on a loss, a duplicate and a misplaced record', () => {
    expect(verdict({ ...clean(), ledger: checkLedger(acked, acked.slice(1)) }).reasons).toEqual([
      '1 acknowledged record(s) lost',
    ]);
    expect(verdict({ ...clean(), ledger: checkLedger(acked, [...acked, acked[0] as Acknowledged]) }).reasons).toEqual([
      '1 duplicated record(s)',
    ]);
    const moved = acked.map((a, i) => (i === 2 ? { ...a, offset: 9 } : a));
    expect(verdict({ ...clean(), ledger: checkLedger(acked, moved) }).reasons).toEqual([
      '1 record(s) not at their acknowledged offset',
    ]);
  });

  it('fails on a dead broker', () => {
    expect(verdict({ ...clean(), brokerAlive: false })).toEqual({
      ok: false,
      reasons: ['broker dead or not answering'],
    });
  });

  it('fails when the well-behaved producer got nothing acknowledged (nothing was measured)', () => {
    expect(verdict({ ...clean(), ledger: checkLedger([], []) }).ok).toBe(false);
  });
});
