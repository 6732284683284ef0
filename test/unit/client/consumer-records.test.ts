/**
 * The consumer's record decoding (src/client/consumer/records.ts): fetched
 * batches are checked when they arrive and decoded only as records are taken;
 * keys and values are views of the fetched bytes; a record without headers
 * shares one frozen empty headers object.
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { completeFetch, FetchBuffer, noHeaders } from '../../../src/client/consumer/records.js';
import { newState, type PartitionState } from '../../../src/client/consumer/subscription-state.js';
import { ErrorCode } from '../../../src/shared/errors.js';
import { crc32c } from '../../../src/wire/crc32c.js';
import { Compression, timestampTypeLogAppend } from '../../../src/wire/record-batch.js';
import { encodeRecordBatch } from '../../../src/wire/record-batch-encoder.js';

function batch(base: number, values: string[], options: { compression?: Compression; headers?: boolean } = {}): Buffer {
  return encodeRecordBatch(
    values.map((v, i) => ({
      key: i % 2 === 0 ? Buffer.from(`k${base + i}`) : null,
      value: Buffer.from(v),
      headers: options.headers ? [{ key: 'h', value: Buffer.from(`x${i}`) }] : undefined,
      timestamp: 1_000 + i,
    })),
    { baseOffset: base, compression: options.compression },
  );
}

function state(): PartitionState {
  const s = newState('t', 3, { kind: 'earliest' }, 1 << 20);
  s.position = 0;
  return s;
}

describe('consumer records', () => {
  it('decodes as taken, across batches, skipping records before the fetch offset; positions from the headers', () => {
    const s = state();
    const bytes = Buffer.concat([batch(0, ['a', 'b', 'c']), batch(3, ['d', 'e'])]);
    const c = completeFetch(s, 1, bytes);
    // the position moves past the whole batches at once, before any record is decoded
    expect(s.position).toBe(5);
    const buf = new FetchBuffer();
    buf.push(c as NonNullable<typeof c>);
    expect(buf.length).toBe(4);
    expect(buf.firstOffsetOf('t', 3)).toBe(1);
    const first = buf.take(2);
    expect(first.map((r) => [r.offset, r.value?.toString(), r.key?.toString() ?? null])).toEqual([
      [1, 'b', null],
      [2, 'c', 'k2'],
    ]);
    expect(first[0]).toEqual({
      topic: 't',
      partition: 3,
      offset: 1,
      key: null,
      value: Buffer.from('b'),
      headers: {},
      timestamp: 1_001,
    });
    expect(buf.firstOffsetOf('t', 3)).toBe(3);
    expect(buf.take(10).map((r) => r.offset)).toEqual([3, 4]);
    expect(buf.length).toBe(0);
    expect(buf.take(10)).toEqual([]);
  });

  it('keys and values are views of the fetched bytes; no headers → one shared frozen object', () => {
    const bytes = batch(0, ['v0', 'v1']);
    const buf = new FetchBuffer();
    buf.push(completeFetch(state(), 0, bytes) as NonNullable<ReturnType<typeof completeFetch>>);
    const [a, b] = buf.take(2);
    expect(a?.value?.buffer).toBe(bytes.buffer);
    expect(a?.key?.buffer).toBe(bytes.buffer);
    expect(a?.headers).toBe(noHeaders);
    expect(b?.headers).toBe(noHeaders);
    expect(Object.isFrozen(noHeaders)).toBe(true);
    expect(Object.keys(noHeaders)).toEqual([]);
  });

  it('keys and values are Buffers to every reader (they are made without subarray), and records spread and compare', () => {
    const bytes = Buffer.concat([Buffer.from('pad'), batch(0, ['v0', 'v1'])]).subarray(3); // a fetch at an offset in its memory
    const buf = new FetchBuffer();
    buf.push(completeFetch(state(), 0, bytes) as NonNullable<ReturnType<typeof completeFetch>>);
    const [a] = buf.take(1);
    const value = a?.value as Buffer;
    expect(value instanceof Buffer).toBe(true);
    expect(Buffer.isBuffer(value)).toBe(true);
    expect(value.constructor).toBe(Buffer);
    expect(value.toString()).toBe('v0');
    expect(value.equals(Buffer.from('v0'))).toBe(true);
    expect(value.subarray(1).toString()).toBe('0');
    expect(inspect(value)).toBe('<Buffer 76 30>');
    expect(JSON.stringify(value)).toBe(JSON.stringify(Buffer.from('v0')));
    expect(value).toStrictEqual(Buffer.from('v0'));
    expect(a?.key).toEqual(Buffer.from('k0'));
    expect({ ...a }).toEqual({
      topic: 't',
      partition: 3,
      offset: 0,
      key: Buffer.from('k0'),
      value: Buffer.from('v0'),
      headers: {},
      timestamp: 1_000,
    });
  });

  it('headers when present, compressed batches, LogAppendTime', () => {
    const withHeaders = batch(0, ['a'], { headers: true });
    const gz = batch(1, ['b', 'c'], { compression: Compression.gzip });
    const appended = Buffer.from(batch(3, ['d']));
    // LogAppendTime: the batch's maxTimestamp stands for every record
    appended.writeInt16BE(appended.readInt16BE(21) | timestampTypeLogAppend, 21);
    appended.writeBigInt64BE(77_000n, 35);
    appended.writeUInt32BE(crc32c(appended.subarray(21)), 17);
    const s = state();
    const buf = new FetchBuffer();
    for (const bytes of [withHeaders, gz, appended]) {
      buf.push(completeFetch(s, s.position as number, bytes) as NonNullable<ReturnType<typeof completeFetch>>);
    }
    const records = buf.take(10);
    expect(records.map((r) => r.value?.toString())).toEqual(['a', 'b', 'c', 'd']);
    expect(records[0]?.headers).toEqual({ h: Buffer.from('x0') });
    expect(Object.isFrozen(records[0]?.headers)).toBe(false);
    expect(records.map((r) => r.timestamp)).toEqual([1_000, 1_000, 1_001, 77_000]);
    expect(s.position).toBe(4);
    // a batch whose bytes do not match its CRC is refused on arrival, and the position stays
    appended.writeUInt8((appended.readUInt8(70) ^ 1) & 0xff, 70);
    expect(() => completeFetch(s, 3, appended)).toThrow(/CRC/);
    expect(s.position).toBe(4);
  });

  it('a partial batch at the end is left for the next fetch; none whole: the partition asks for more bytes', () => {
    const s = state();
    const whole = batch(0, ['a']);
    const next = batch(1, ['b', 'c']);
    const c = completeFetch(s, 0, Buffer.concat([whole, next.subarray(0, next.length - 3)]));
    expect(s.position).toBe(1);
    expect(c?.remaining).toBe(1);
    const before = s.maxBytes;
    expect(completeFetch(s, 1, next.subarray(0, 40))).toBeNull();
    expect(s.maxBytes).toBeGreaterThan(before);
    expect(s.position).toBe(1);
  });

  it('a record that does not decode: the records before it are returned, then the error, the partition rewound to it', () => {
    const s = state();
    const good = batch(0, ['a', 'b']);
    const bad = Buffer.from(batch(2, ['c', 'd']));
    const buf = new FetchBuffer();
    buf.push(completeFetch(s, 0, good) as NonNullable<ReturnType<typeof completeFetch>>);
    const c = completeFetch(s, 2, bad) as NonNullable<ReturnType<typeof completeFetch>>;
    // past the CRC check (done on arrival), the record bytes go bad: the first record's length varint
    c.bytes[61] = 0x7e;
    buf.push(c);
    expect(s.position).toBe(4);
    const version = s.version;
    expect(buf.take(10).map((r) => r.offset)).toEqual([0, 1]);
    expect(() => buf.take(10)).toThrow(
      expect.objectContaining({ code: ErrorCode.CorruptRecord, message: expect.stringMatching(/^fetch of t-3: /) }),
    );
    expect(s.position).toBe(2);
    expect(s.version).toBe(version + 1);
    expect(buf.length).toBe(0);
  });

  it('an error from the shared varint reader names the partition (a key longer than its record)', () => {
    const s = state();
    const c = completeFetch(s, 0, Buffer.from(batch(0, ['c']))) as NonNullable<ReturnType<typeof completeFetch>>;
    expect(c.bytes[65]).toBe(4); // the first record's key length: 2 ('k0'), zig-zag
    c.bytes[65] = 40; // 20 bytes, past the record's end
    const buf = new FetchBuffer();
    buf.push(c);
    expect(() => buf.take(10)).toThrow(/^fetch of t-3: 20 bytes past the end/);
  });

  it('counts the fetched bytes it holds until a fetch is taken whole, dropped or not retained (the prefetch bound)', () => {
    const a = state();
    const b = newState('u', 0, { kind: 'earliest' }, 1 << 20);
    const buf = new FetchBuffer();
    const one = batch(0, ['a', 'b']);
    const two = batch(0, ['c']);
    const three = batch(1, ['d', 'e']);
    buf.push(completeFetch(a, 0, one) as NonNullable<ReturnType<typeof completeFetch>>);
    buf.push(completeFetch(b, 0, two) as NonNullable<ReturnType<typeof completeFetch>>);
    expect(buf.bytes).toBe(one.length + two.length);
    // a fetch partly taken is still held
    expect(buf.take(1).map((r) => r.offset)).toEqual([0]);
    expect(buf.bytes).toBe(one.length + two.length);
    expect(buf.take(1).map((r) => r.offset)).toEqual([1]);
    expect(buf.bytes).toBe(two.length);
    buf.push(completeFetch(b, 1, three) as NonNullable<ReturnType<typeof completeFetch>>);
    buf.dropPartition('u', 0);
    expect(buf.bytes).toBe(0);
    buf.push(completeFetch(a, 2, batch(2, ['f'])) as NonNullable<ReturnType<typeof completeFetch>>);
    buf.retain(() => false);
    expect(buf.bytes).toBe(0);
    expect(buf.length).toBe(0);
  });

  it('dropPartition and retain forget buffered fetches and their count', () => {
    const a = state();
    const b = newState('u', 0, { kind: 'earliest' }, 1 << 20);
    const buf = new FetchBuffer();
    buf.push(completeFetch(a, 0, batch(0, ['a', 'b'])) as NonNullable<ReturnType<typeof completeFetch>>);
    buf.push(completeFetch(b, 0, batch(0, ['c'])) as NonNullable<ReturnType<typeof completeFetch>>);
    expect(buf.length).toBe(3);
    buf.dropPartition('t', 3);
    expect(buf.length).toBe(1);
    expect(buf.take(5).map((r) => `${r.topic}:${r.offset}`)).toEqual(['u:0']);
    buf.push(completeFetch(b, 1, batch(1, ['d'])) as NonNullable<ReturnType<typeof completeFetch>>);
    buf.retain((topic) => topic !== 'u');
    expect(buf.length).toBe(0);
    expect(buf.firstOffsetOf('u', 0)).toBeNull();
  });
});
