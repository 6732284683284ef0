import { describe, expect, it } from 'vitest';
import { parseAddress, parseBrokers, reconnectDelayMs } from '../../../src/client/brokers.js';
import { ErrorCode } from '../../../src/shared/errors.js';
import { expectSluiceError } from '../../helpers/wire-bytes.js';

const bad = ErrorCode.InvalidArgument;

describe('broker lists', () => {
  it('defaults to 127.0.0.1:9092', () => {
    const l = parseBrokers();
    expect(l.brokers).toEqual([{ host: '127.0.0.1', port: 9092 }]);
    expect(l.reconnect.randomize).toBe(false);
  });

  it('takes an array, a comma string, tcp:// prefixes and a default port', () => {
    expect(parseBrokers(['a:1', 'b:2']).brokers).toEqual([
      { host: 'a', port: 1 },
      { host: 'b', port: 2 },
    ]);
    expect(parseBrokers(' a:1 , tcp://b:2,c ').brokers).toEqual([
      { host: 'a', port: 1 },
      { host: 'b', port: 2 },
      { host: 'c', port: 9092 },
    ]);
    expect(parseBrokers(['a:1,b:2']).brokers).toHaveLength(2);
  });

  it('parses IPv6 in brackets', () => {
    expect(parseAddress('[::1]:9093')).toEqual({ host: '::1', port: 9093 });
    expect(parseAddress('tcp://[fe80::1]')).toEqual({ host: 'fe80::1', port: 9092 });
    expectSluiceError(() => parseAddress('::1:9092'), bad);
  });

  it('refuses bad entries with InvalidArgument', () => {
    for (const text of ['', ' , ', 'a:', 'a:0', 'a:65536', 'a:x', 'http://a:1', 'a b:1', '[::1']) {
      expectSluiceError(() => parseBrokers(text), bad);
    }
    expectSluiceError(() => parseBrokers([]), bad);
  });
});

describe('failover URLs', () => {
  it('parses the CONTRACT example', () => {
    const l = parseBrokers('failover:(tcp://a:9092,tcp://b:9093)?randomize=false&initialReconnectDelay=1000');
    expect(l.brokers).toEqual([
      { host: 'a', port: 9092 },
      { host: 'b', port: 9093 },
    ]);
    expect(l.reconnect.randomize).toBe(false);
    expect(l.reconnect.initialReconnectDelayMs).toBe(1000);
  });

  it("randomizes by default (ActiveMQ's default) and takes the other options", () => {
    const l = parseBrokers(
      'failover:(tcp://h1:1)?maxReconnectDelay=5000&useExponentialBackOff=true&backOffMultiplier=3&maxReconnectAttempts=7&timeout=2000',
    );
    expect(l.reconnect).toMatchObject({
      randomize: true,
      maxReconnectDelayMs: 5000,
      useExponentialBackOff: true,
      backOffMultiplier: 3,
      maxReconnectAttempts: 7,
      timeoutMs: 2000,
    });
  });

  it('accepts the forms without parentheses and failover://', () => {
    expect(parseBrokers('failover:tcp://a:1,tcp://b:2').brokers).toHaveLength(2);
    expect(parseBrokers('failover://(tcp://a:1)').brokers).toEqual([{ host: 'a', port: 1 }]);
    expect(parseBrokers('failover:(tcp://a:1)').reconnect.randomize).toBe(true);
    expect(parseBrokers(['failover:(tcp://a:1,tcp://b:2)']).brokers).toHaveLength(2);
  });

  it('maxReconnectAttempts -1 or 0 still means a bounded number', () => {
    expect(parseBrokers('failover:(tcp://a:1)?maxReconnectAttempts=-1').reconnect.maxReconnectAttempts).toBeGreaterThan(
      0,
    );
    expect(parseBrokers('failover:(tcp://a:1)?maxReconnectAttempts=0').reconnect.maxReconnectAttempts).toBeGreaterThan(
      0,
    );
  });

  it('refuses unknown options, bad values and broken syntax', () => {
    for (const url of [
      'failover:(tcp://a:1)?randomise=false',
      'failover:(tcp://a:1)?randomize=maybe',
      'failover:(tcp://a:1)?initialReconnectDelay=-5',
      'failover:(tcp://a:1)?initialReconnectDelay=abc',
      'failover:(tcp://a:1',
      'failover:(tcp://a:1)x',
      'failover:()',
      'failover:(tcp://a:1)?timeout',
    ]) {
      expectSluiceError(() => parseBrokers(url), bad);
    }
  });

  it('reconnect delays back off exponentially up to the maximum', () => {
    const p = parseBrokers('failover:(tcp://a:1)?initialReconnectDelay=100&maxReconnectDelay=1000').reconnect;
    expect([0, 1, 2, 3, 4, 10].map((a) => reconnectDelayMs(p, a))).toEqual([100, 200, 400, 800, 1000, 1000]);
    const flat = parseBrokers('failover:(tcp://a:1)?initialReconnectDelay=50&useExponentialBackOff=false').reconnect;
    expect(reconnectDelayMs(flat, 5)).toBe(50);
  });
});
