import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/shared/errors.js';
import {
  readBytes,
  readEnd,
  readVarint as readVarintAt,
  readVarlong as readVarlongAt,
  VarintReader,
  varintSize,
  varlongSize,
  writeVarint,
  writeVarlong,
} from '../../../src/wire/varint.js';
import {
  kafkajsReadVarint,
  kafkajsReadVarlong,
  kafkajsVarintBytes,
  kafkajsVarlongBytes,
} from '../../helpers/kafkajs-wire.js';
import { expectSluiceError, prng } from '../../helpers/wire-bytes.js';

const corrupt = ErrorCode.CorruptRecord;

function varintBytes(value: number): Buffer {
  const buf = Buffer.alloc(16, 0xaa);
  const end = writeVarint(buf, 0, value);
  return buf.subarray(0, end);
}

function varlongBytes(value: number): Buffer {
  const buf = Buffer.alloc(16, 0xaa);
  const end = writeVarlong(buf, 0, value);
  return buf.subarray(0, end);
}

function readVarint(bytes: Buffer): { value: number; pos: number } {
  const r = new VarintReader(bytes, 0, bytes.length);
  const value = r.varint();
  return { value, pos: r.pos };
}

function readVarlong(bytes: Buffer): { value: number; pos: number } {
  const r = new VarintReader(bytes, 0, bytes.length);
  const value = r.varlong();
  return { value, pos: r.pos };
}

/** 2^k and its neighbours, both signs: every byte-length boundary of a zig-zag varint. */
function boundaries(maxBits: number): number[] {
  const out = new Set<number>([0, 1, -1]);
  for (let k = 1; k <= maxBits; k++) {
    const p = 2 ** k;
    for (const v of [p - 1, p, p + 1, -p + 1, -p, -p - 1]) out.add(v);
  }
  return [...out];
}

const int32Boundaries = boundaries(31).filter((v) => v >= -(2 ** 31) && v <= 2 ** 31 - 1);
/** Varlongs Sluice handles exactly: |v| <= 2^52 (and positive values up to 2^53 - 1). */
const varlongExact = [
  ...boundaries(51),
  2 ** 52,
  -(2 ** 52),
  2 ** 52 - 1,
  -(2 ** 52) + 1,
  2 ** 53 - 1,
  2 ** 53 - 2,
  1_700_000_000_000,
  -1_700_000_000_000,
];

describe('varint (zig-zag, 32 bits)', () => {
  it('writes the bytes Kafka specifies for known values', () => {
    const known: [number, string][] = [
      [0, '00'],
      [-1, '01'],
      [1, '02'],
      [-2, '03'],
      [63, '7e'],
      [-64, '7f'],
      [64, '8001'],
      [-65, '8101'],
      [300, 'd804'],
      [2 ** 31 - 1, 'feffffff0f'],
      [-(2 ** 31), 'ffffffff0f'],
    ];
    for (const [value, hex] of known) {
      expect(varintBytes(value).toString('hex'), `varint ${value}`).toBe(hex);
      expect(varintSize(value), `varintSize(${value})`).toBe(hex.length / 2);
      expect(readVarint(Buffer.from(hex, 'hex'))).toEqual({ value, pos: hex.length / 2 });
    }
  });

  it('round trips every byte-length boundary, with size === bytes written === bytes read', () => {
    for (const value of int32Boundaries) {
      const bytes = varintBytes(value);
      expect(varintSize(value), `varintSize(${value})`).toBe(bytes.length);
      expect(readVarint(bytes), `read back ${value}`).toEqual({ value, pos: bytes.length });
    }
    // sizes step at 63/64 and 2^31 - 1 / -2^31
    expect([varintSize(63), varintSize(64), varintSize(-64), varintSize(-65)]).toEqual([1, 2, 1, 2]);
    expect([varintSize(2 ** 31 - 1), varintSize(-(2 ** 31))]).toEqual([5, 5]);
  });

  it('writes at an offset and returns the position after the varint', () => {
    const buf = Buffer.alloc(12, 0xee);
    const end = writeVarint(buf, 3, 300);
    expect(end).toBe(5);
    expect(buf.toString('hex')).toBe('eeeeeed804eeeeeeeeeeeeee');
    const r = new VarintReader(buf, 3, 5);
    expect(r.varint()).toBe(300);
    expect(r.pos).toBe(5);
  });

  it('writes the same bytes as kafkajs and reads kafkajs bytes (boundaries and random values)', () => {
    const next = prng(7);
    const values = [...int32Boundaries];
    for (let i = 0; i < 500; i++) values.push(Math.floor(next() * 2 ** 32) - 2 ** 31);
    for (const value of values) {
      const ours = varintBytes(value);
      const theirs = kafkajsVarintBytes(value);
      expect(ours.toString('hex'), `varint ${value}`).toBe(theirs.toString('hex'));
      expect(readVarint(theirs).value).toBe(value);
      expect(kafkajsReadVarint(ours)).toEqual({ value, size: ours.length });
    }
  });

  it('reads consecutive varints, advancing the cursor', () => {
    const buf = Buffer.alloc(32);
    let pos = 0;
    const values = [0, -1, 64, -(2 ** 31), 12345, 2 ** 31 - 1];
    for (const v of values) pos = writeVarint(buf, pos, v);
    const r = new VarintReader(buf, 0, pos);
    expect(values.map(() => r.varint())).toEqual(values);
    expect(r.pos).toBe(pos);
  });

  it('throws CORRUPT_RECORD on truncated input', () => {
    for (const hex of ['', '80', 'ff', '8080', 'ffffffff', 'feffffff']) {
      const bytes = Buffer.from(hex, 'hex');
      expectSluiceError(() => new VarintReader(bytes, 0, bytes.length).varint(), corrupt);
    }
  });

  it('honours the reader end: bytes past `end` are not read', () => {
    const bytes = Buffer.from('d804', 'hex'); // 300, two bytes
    expectSluiceError(() => new VarintReader(bytes, 0, 1).varint(), corrupt);
    expectSluiceError(() => new VarintReader(bytes, 2, 2).varint(), corrupt);
  });

  it('rejects a varint longer than 32 bits', () => {
    // fifth byte with more than 4 payload bits, or with the continuation bit set
    for (const hex of ['ffffffff1f', 'ffffffff7f', '8080808010', '808080808001', 'ffffffffffffffffff01']) {
      const bytes = Buffer.from(hex, 'hex');
      expectSluiceError(() => new VarintReader(bytes, 0, bytes.length).varint(), corrupt);
    }
  });
});

describe('varlong (zig-zag, 64 bits as JS numbers)', () => {
  it('writes the bytes Kafka specifies for known values', () => {
    const known: [number, string][] = [
      [0, '00'],
      [-1, '01'],
      [1, '02'],
      [63, '7e'],
      [-64, '7f'],
      [64, '8001'],
      [-65, '8101'],
      [2 ** 31 - 1, 'feffffff0f'],
      [-(2 ** 31), 'ffffffff0f'],
      [2 ** 31, '8080808010'],
      [-(2 ** 31) - 1, '8180808010'],
      [2 ** 53 - 1, 'feffffffffffff1f'],
    ];
    for (const [value, hex] of known) {
      expect(varlongBytes(value).toString('hex'), `varlong ${value}`).toBe(hex);
      expect(varlongSize(value), `varlongSize(${value})`).toBe(hex.length / 2);
      expect(readVarlong(Buffer.from(hex, 'hex'))).toEqual({ value, pos: hex.length / 2 });
    }
  });

  it('round trips boundaries beyond 32 bits, with size === bytes written === bytes read', () => {
    for (const value of varlongExact) {
      const bytes = varlongBytes(value);
      expect(varlongSize(value), `varlongSize(${value})`).toBe(bytes.length);
      expect(readVarlong(bytes), `read back ${value}`).toEqual({ value, pos: bytes.length });
    }
  });

  it('writes the same bytes as kafkajs (64-bit Long) and reads kafkajs bytes', () => {
    const next = prng(11);
    const values = [...varlongExact];
    for (let i = 0; i < 300; i++) {
      const magnitude = Math.floor(next() * 2 ** Math.floor(next() * 53));
      values.push(next() < 0.5 && magnitude !== 0 ? -magnitude : magnitude);
    }
    for (const value of values) {
      const ours = varlongBytes(value);
      const theirs = kafkajsVarlongBytes(value);
      expect(ours.toString('hex'), `varlong ${value}`).toBe(theirs.toString('hex'));
      expect(readVarlong(theirs).value, `read kafkajs bytes of ${value}`).toBe(value);
      expect(kafkajsReadVarlong(ours)).toEqual({ value: String(value), size: ours.length });
    }
  });

  it('accepts the longest (10-byte) encoding', () => {
    const bytes = Buffer.from('80808080808080808000', 'hex'); // 0, padded to 10 bytes
    expect(readVarlong(bytes)).toEqual({ value: 0, pos: 10 });
  });

  it('throws CORRUPT_RECORD on truncated input', () => {
    for (const hex of ['', '80', 'ffffffff', 'feffffffffffff']) {
      const bytes = Buffer.from(hex, 'hex');
      expectSluiceError(() => new VarintReader(bytes, 0, bytes.length).varlong(), corrupt);
    }
    const bytes = Buffer.from('feffffffffffff1f', 'hex');
    expectSluiceError(() => new VarintReader(bytes, 0, 7).varlong(), corrupt);
  });

  it('rejects a varlong longer than 64 bits (more than 10 bytes)', () => {
    const bytes = Buffer.from('8080808080808080808001', 'hex');
    expectSluiceError(() => new VarintReader(bytes, 0, bytes.length).varlong(), corrupt);
  });

  // BUG (src/wire/varint.ts): the zig-zag value of a negative v is computed as a
  // double, -v * 2 - 1, which needs 54 bits once v < -2^52 and is rounded to an
  // even number: the sign bit is lost. writeVarlong(-(2^53 - 1)) writes
  // fcffffffffffff1f (Kafka/kafkajs: fdffffffffffff1f), and the reader's
  // `raw % 2` has the same problem, so -(2^52 + 1) reads back as +2^52.
  // Remove `.fails` once fixed.
  it('round trips negative varlongs below -2^52 (down to -(2^53 - 1))', () => {
    for (const value of [-(2 ** 52) - 1, -(2 ** 53) + 1]) {
      expect(varlongBytes(value).toString('hex')).toBe(kafkajsVarlongBytes(value).toString('hex'));
      expect(readVarlong(kafkajsVarlongBytes(value)).value).toBe(value);
    }
  });
});

describe('VarintReader.skip / bytes', () => {
  it('returns a view of the requested bytes and advances', () => {
    const buf = Buffer.from('0102030405', 'hex');
    const r = new VarintReader(buf, 1, 5);
    const view = r.bytes(3);
    expect(view.toString('hex')).toBe('020304');
    expect(r.pos).toBe(4);
    r.skip(1);
    expect(r.pos).toBe(5);
    expect(r.bytes(0).length).toBe(0);
  });

  it('throws CORRUPT_RECORD when skipping past the end or backwards', () => {
    const buf = Buffer.from('0102030405', 'hex');
    expectSluiceError(() => new VarintReader(buf, 0, 3).skip(4), corrupt);
    expectSluiceError(() => new VarintReader(buf, 0, 3).bytes(4), corrupt);
    expectSluiceError(() => new VarintReader(buf, 2, 5).skip(-1), corrupt);
  });
});

describe('readVarint / readVarlong / readBytes (the cursor functions every decoder uses)', () => {
  it('return the value and leave readEnd() after it, allocating no result object', () => {
    const buf = Buffer.alloc(64);
    let pos = writeVarint(buf, 2, -300);
    pos = writeVarlong(buf, pos, 1_700_000_000_000);
    pos = writeVarint(buf, pos, 3);
    buf.write('abc', pos);
    pos += 3;
    pos = writeVarint(buf, pos, -1);
    expect(readVarintAt(buf, 2, pos)).toBe(-300);
    expect(readEnd()).toBe(4);
    expect(readVarlongAt(buf, readEnd(), pos)).toBe(1_700_000_000_000);
    expect(readBytes(buf, readEnd(), pos)?.toString()).toBe('abc');
    expect(readBytes(buf, readEnd(), pos)).toBeNull();
    expect(readEnd()).toBe(pos);
  });

  it('throw CORRUPT_RECORD for bytes past `end`', () => {
    const buf = Buffer.alloc(8);
    const pos = writeVarint(buf, 0, 5); // five bytes claimed, three before the end
    expectSluiceError(() => readBytes(buf, 0, pos + 3), corrupt);
  });
});
