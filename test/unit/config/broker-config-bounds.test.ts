import { describe, expect, it } from 'vitest';
import { parseBrokerConfig } from '../../../src/config/broker-config.js';
import { ErrorCode, SluiceError } from '../../../src/shared/errors.js';

const parse = (entries: Record<string, string>) => parseBrokerConfig(new Map(Object.entries(entries)));

describe('broker config: request memory and connection bounds', () => {
  it('bounds everything by default', () => {
    const c = parse({});
    expect(c.int('queued.max.request.bytes')).toBe(128 * 1024 * 1024);
    expect(c.int('socket.request.read.timeout.ms')).toBe(30_000);
    expect(c.int('connections.max.idle.ms')).toBe(600_000);
    expect(c.int('max.connections')).toBe(4096);
    expect(c.int('max.connections.per.ip')).toBe(1024);
    expect(c.int('connection.failed.authentication.delay.ms')).toBe(100);
  });

  it("refuses connection.failed.authentication.delay.ms not below connections.max.idle.ms (Kafka's rule)", () => {
    expect(() =>
      parse({ 'connection.failed.authentication.delay.ms': '2000', 'connections.max.idle.ms': '2000' }),
    ).toThrow(/connection\.failed\.authentication\.delay\.ms.*less than connections\.max\.idle\.ms \(2000\)/);
    expect(
      parse({ 'connection.failed.authentication.delay.ms': '0', 'connections.max.idle.ms': '2000' }).int(
        'connection.failed.authentication.delay.ms',
      ),
    ).toBe(0);
  });

  it('refuses a pool that cannot hold socket.request.max.bytes beside the small-frame reserve', () => {
    let err: unknown;
    try {
      parse({ 'queued.max.request.bytes': String(100 * 1024 * 1024) });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SluiceError);
    expect((err as SluiceError).code).toBe(ErrorCode.InvalidConfig);
    expect((err as Error).message).toMatch(/queued\.max\.request\.bytes.*at least 119837257/);
    // a smaller frame limit makes the same pool valid
    expect(
      parse({ 'queued.max.request.bytes': String(4 * 1024 * 1024), 'socket.request.max.bytes': '2097152' }).int(
        'queued.max.request.bytes',
      ),
    ).toBe(4 * 1024 * 1024);
  });

  it('refuses unbounded or nonsensical values', () => {
    for (const [key, value] of [
      ['queued.max.request.bytes', '-1'],
      ['socket.request.read.timeout.ms', '0'],
      ['connections.max.idle.ms', '-1'],
      ['max.connections', '0'],
      ['max.connections.per.ip', '0'],
      ['connection.failed.authentication.delay.ms', '-1'],
      ['connection.failed.authentication.delay.ms', '25001'],
    ] as const) {
      expect(() => parse({ [key]: value }), key).toThrow(SluiceError);
    }
  });
});
