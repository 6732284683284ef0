import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { murmur2, partitionForKey, StickyPartitioner, toPositive } from '../../../src/client/partitioner.js';
import { prng } from '../../helpers/prng.js';

const require = createRequire(import.meta.url);
// kafkajs's Java-compatible murmur2 (Long arithmetic): an independent reference
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: Buffer) => number;

describe('murmur2 (Kafka Utils.murmur2)', () => {
  // the values of Kafka's own UtilsTest.testMurmur2
  const known: [string, number][] = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ];
  for (const [text, hash] of known) {
    it(`murmur2("${text}") = ${hash}`, () => {
      expect(murmur2(Buffer.from(text, 'utf8'))).toBe(hash);
    });
  }

  it('matches kafkajs for random keys of every length 0..64 (all tail lengths)', () => {
    const rand = prng(42);
    for (let len = 0; len <= 64; len++) {
      for (let n = 0; n < 20; n++) {
        const key = Buffer.alloc(len);
        for (let i = 0; i < len; i++) key[i] = Math.floor(rand() * 256);
        expect(murmur2(key)).toBe(kafkajsMurmur2(key));
      }
    }
  });

  it('toPositive clears the sign bit like Java (not Math.abs)', () => {
    expect(toPositive(-1)).toBe(0x7fffffff);
    expect(toPositive(-2147483648)).toBe(0);
    expect(toPositive(5)).toBe(5);
    expect(toPositive(-973932308)).toBe(-973932308 & 0x7fffffff);
  });
});

describe('partition choice', () => {
  it('a keyed record goes to toPositive(murmur2(key)) % partitions', () => {
    for (const [key, partitions] of [
      ['21', 3],
      ['foobar', 7],
      ['abc', 10],
      ['key-1', 3],
    ] as const) {
      const expected = (murmur2(Buffer.from(key)) & 0x7fffffff) % partitions;
      expect(partitionForKey(Buffer.from(key), partitions)).toBe(expected);
    }
    // fixed points, computed by hand from the known hashes
    expect(partitionForKey(Buffer.from('21'), 3)).toBe((-973932308 & 0x7fffffff) % 3);
    expect(partitionForKey(Buffer.from('abc'), 4)).toBe(479470107 % 4);
  });

  it('is deterministic and stays in range', () => {
    const rand = prng(7);
    for (let i = 0; i < 1000; i++) {
      const key = Buffer.from(`k${Math.floor(rand() * 1e9)}`);
      const p = partitionForKey(key, 12);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(12);
      expect(partitionForKey(key, 12)).toBe(p);
    }
  });

  it('sticky: null-key records stay on one partition until its batch closes, then move', () => {
    const sticky = new StickyPartitioner(prng(3));
    const first = sticky.partition('t', 5);
    for (let i = 0; i < 10; i++) expect(sticky.partition('t', 5)).toBe(first);
    sticky.onBatchClosed('t', (first + 1) % 5, 5); // another partition's batch: no change
    expect(sticky.partition('t', 5)).toBe(first);
    sticky.onBatchClosed('t', first, 5);
    const second = sticky.partition('t', 5);
    expect(second).not.toBe(first);
    expect(second).toBeGreaterThanOrEqual(0);
    expect(second).toBeLessThan(5);
  });

  it('sticky: one partition is always partition 0; topics are independent', () => {
    const sticky = new StickyPartitioner(prng(9));
    expect(sticky.partition('one', 1)).toBe(0);
    sticky.onBatchClosed('one', 0, 1);
    expect(sticky.partition('one', 1)).toBe(0);
    const a = sticky.partition('a', 100);
    sticky.partition('b', 100);
    expect(sticky.partition('a', 100)).toBe(a);
  });

  it('sticky spreads over partitions as batches close', () => {
    const sticky = new StickyPartitioner(prng(11));
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const p = sticky.partition('t', 4);
      seen.add(p);
      sticky.onBatchClosed('t', p, 4);
    }
    expect(seen.size).toBe(4);
  });
});
