/**
 * Hostile MessagePack values for native request bodies: what a decoder or a
 * handler must refuse without a crash, a TypeError or an allocation the
 * bytes do not pay for. Each draw is labelled, so a report can say which.
 */
import { type MsgValue, RawMsgpack } from './msgpack-writer.js';
import type { Random } from './random.js';

/** Deepest nesting drawn: far past any stack, still a bounded frame (1 byte a level). */
export const nestingDepthMax = 200_000;

function u32(tag: number, n: number): Buffer {
  const b = Buffer.alloc(5);
  b[0] = tag;
  b.writeUInt32BE(n >>> 0, 1);
  return b;
}

/** A container claiming far more elements than the bytes after it hold. */
function hugeClaim(random: Random): RawMsgpack {
  const claim = random.pick([0xffffffff, 0x7fffffff, 0x10000000, 1 << 24, 65536 + random.int(1 << 20)]);
  const kind = random.pick(['array', 'map', 'str', 'bin', 'ext'] as const);
  const tag = { array: 0xdd, map: 0xdf, str: 0xdb, bin: 0xc6, ext: 0xc9 }[kind];
  const tail = random.bytes(random.int(8));
  return new RawMsgpack(Buffer.concat([u32(tag, claim), tail]), `huge-${kind}-claim`);
}

function deepNesting(random: Random): RawMsgpack {
  const depth = random.pick([100, 1000, 10_000, random.between(1, nestingDepthMax)]);
  const open = random.chance(0.5) ? Buffer.from([0x91]) : Buffer.from([0x81, 0xa1, 0x61]);
  const parts: Buffer[] = [];
  for (let i = 0; i < depth; i++) parts.push(open);
  parts.push(Buffer.from([0xc0]));
  return new RawMsgpack(Buffer.concat(parts), 'deep-nesting');
}

/** Extension types: the timestamp (-1), msgpackr's own (records, structured clone) and unknown ones. */
function extension(random: Random): RawMsgpack {
  const type = random.pick([
    -1,
    0x72,
    0x73,
    0x74,
    0x65,
    0x62,
    0x70,
    0x78,
    0x69,
    0,
    1,
    127,
    -128,
    random.int(256) - 128,
  ]);
  const len = random.pick([1, 2, 4, 8, 16, random.int(40)]);
  const data = random.bytes(len);
  const fixed: Record<number, number> = { 1: 0xd4, 2: 0xd5, 4: 0xd6, 8: 0xd7, 16: 0xd8 };
  const tag = fixed[len];
  const headBytes = tag !== undefined ? Buffer.from([tag, type & 0xff]) : Buffer.from([0xc7, len, type & 0xff]);
  return new RawMsgpack(Buffer.concat([headBytes, data]), `ext-${type}`);
}

/** A map whose key is `__proto__` (or constructor/prototype) holding a map: prototype pollution bait. */
function protoKey(random: Random): RawMsgpack {
  const key = Buffer.from(random.pick(['__proto__', 'constructor', 'prototype']));
  const inner = Buffer.from([0x81, 0xa5, ...Buffer.from('admin'), 0xc3]);
  return new RawMsgpack(Buffer.concat([Buffer.from([0x81, 0xa0 | key.length]), key, inner]), 'proto-key');
}

const numbers: readonly [MsgValue, string][] = [
  [Number.NaN, 'nan'],
  [Number.POSITIVE_INFINITY, 'infinity'],
  [Number.NEGATIVE_INFINITY, '-infinity'],
  [-0, 'negative-zero'],
  [-1, 'minus-one'],
  [-2, 'minus-two'],
  [-(2 ** 31), 'int32-min'],
  [2 ** 31 - 1, 'int32-max'],
  [2 ** 31, 'int32-max+1'],
  [2 ** 32, 'uint32-max+1'],
  [2 ** 53 + 2, 'beyond-safe-int'],
  [-(2 ** 53) - 2, 'beyond-safe-int-negative'],
  [1.5, 'fraction'],
  [2n ** 64n - 1n, 'uint64-max'],
  // a small offset as a 64-bit integer, as non-JavaScript encoders write one: msgpackr reads a BigInt
  [2n ** 40n, 'int64-encoded'],
  [-(2n ** 63n), 'int64-min'],
];

/** One hostile value with its label. */
export function hostileValue(random: Random): { value: MsgValue; label: string } {
  switch (random.int(10)) {
    case 0:
      return { value: null, label: 'null' };
    case 1: {
      const [value, label] = random.pick(numbers);
      return { value, label };
    }
    case 2:
      return { value: hugeClaim(random), label: 'huge-claim' };
    case 3:
      return { value: deepNesting(random), label: 'deep-nesting' };
    case 4:
      return { value: extension(random), label: 'ext' };
    case 5:
      return { value: protoKey(random), label: 'proto-key' };
    case 6:
      return {
        value: random.pick<MsgValue>([[null], [null, null], [[]], [{}], [Number.NaN]]),
        label: 'nulls-in-array',
      };
    case 7: {
      // wrong type: what a field never holds
      const wrong: MsgValue[] = [true, false, 'x', '', Buffer.alloc(3), [], {}, 7, 'a'.repeat(300)];
      return { value: random.pick(wrong), label: 'wrong-type' };
    }
    case 8:
      return {
        value: new RawMsgpack(
          random.pick([Buffer.from([0xc1]), Buffer.from([0xd9]), Buffer.from([0xcb, 0, 0]), Buffer.from([0xdc, 0xff])]),
          'reserved-or-cut',
        ),
        label: 'reserved-or-cut',
      };
    default:
      return { value: 'x'.repeat(random.pick([0, 1, 249, 250, 1000, 70_000])), label: 'long-string' };
  }
}
