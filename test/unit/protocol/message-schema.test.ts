/**
 * The Kafka message-schema machinery: fields present only in their versions
 * (defaults elsewhere), compact forms and tagged-field sections in flexible
 * versions, unknown tagged fields skipped, partial values written with defaults.
 */
import { describe, expect, it } from 'vitest';
import { KafkaReader, KafkaWriter } from '../../../src/protocol/binary/primitives.js';
import {
  array,
  bool,
  bytes,
  field,
  int16,
  int32,
  int64,
  nullableArray,
  nullableString,
  string,
  struct,
} from '../../../src/protocol/binary/schema.js';

const schema = struct({
  name: field(string, ''),
  count: field(int32, 7, 1),
  gone: field(int16, -1, 0, 1),
  note: field(nullableString, null),
  items: field(array(struct({ id: field(int64, 0), on: field(bool, false, 2) })), []),
  maybe: field(nullableArray(int32), null, 2),
  blob: field(bytes, Buffer.alloc(0)),
});

function roundTrip(version: number, flexible: boolean, value: Parameters<typeof schema.write>[1]) {
  const w = new KafkaWriter();
  schema.write(w, value, { version, flexible });
  const buf = w.toBuffer();
  const r = new KafkaReader(buf);
  const back = schema.read(r, { version, flexible });
  expect(r.remaining).toBe(0);
  return { buf, back };
}

describe('Kafka message schemas', () => {
  const value = {
    name: 'ab',
    count: 3,
    gone: 5,
    note: null,
    items: [{ id: 9, on: true }],
    maybe: [1, 2],
    blob: Buffer.from([0xee]),
  };

  it('v0 writes only the v0 fields, in order, classic forms', () => {
    const { buf, back } = roundTrip(0, false, value);
    expect(buf.toString('hex')).toBe(
      ['0002', '6162', '0005', 'ffff', '00000001', '0000000000000009', '00000001', 'ee'].join(''),
    );
    expect(back).toEqual({ ...value, count: 7, items: [{ id: 9, on: false }], maybe: null });
  });

  it('a flexible version uses compact forms and adds empty tagged sections', () => {
    const { buf, back } = roundTrip(2, true, value);
    expect(buf.toString('hex')).toBe(
      [
        '03',
        '6162', // name: compact string (length + 1)
        '00000003', // count
        '00', // note: compact null
        '02', // items: compact array of 1
        '0000000000000009',
        '01',
        '00', // the item's tagged fields
        '03',
        '00000001',
        '00000002', // maybe
        '02',
        'ee', // blob
        '00', // the struct's tagged fields
      ].join(''),
    );
    expect(back).toEqual({ ...value, gone: -1 });
  });

  it('skips tagged fields it does not know', () => {
    const w = new KafkaWriter()
      .compactNullableString('x')
      .int32(1)
      .uvarint(0) // note null
      .uvarint(1) // items: none
      .uvarint(0) // maybe: null
      .uvarint(1) // blob: empty
      .uvarint(2) // two tagged fields
      .uvarint(0)
      .uvarint(2)
      .int16(0x1234)
      .uvarint(5)
      .uvarint(1)
      .int8(1);
    const r = new KafkaReader(w.toBuffer());
    expect(schema.read(r, { version: 3, flexible: true })).toMatchObject({ name: 'x', count: 1, maybe: null });
    expect(r.remaining).toBe(0);
  });

  it('writes defaults for fields a partial value leaves out', () => {
    const w = new KafkaWriter();
    schema.write(w, { name: 'e' } as Parameters<typeof schema.write>[1], { version: 1, flexible: false });
    const back = schema.read(new KafkaReader(w.toBuffer()), { version: 1, flexible: false });
    expect(back).toEqual({ name: 'e', count: 7, gone: -1, note: null, items: [], maybe: null, blob: Buffer.alloc(0) });
  });

  it('a truncated message is a typed error, not garbage', () => {
    const w = new KafkaWriter();
    schema.write(w, value, { version: 1, flexible: false });
    const cut = w.toBuffer().subarray(0, 9);
    expect(() => schema.read(new KafkaReader(cut), { version: 1, flexible: false })).toThrow(/truncated/);
  });
});

describe('KafkaWriter chunks', () => {
  it('references large byte fields instead of copying them, and patches the size prefix', () => {
    const big = Buffer.alloc(100_000, 7);
    const w = new KafkaWriter().int32(0).int32(42).nullableBytes(big).int16(1);
    w.patchInt32(0, w.length - 4);
    const chunks = w.toBuffers();
    expect(chunks.some((c) => c === big)).toBe(true);
    const all = Buffer.concat(chunks);
    expect(all.length).toBe(4 + 4 + 4 + 100_000 + 2);
    expect(all.readInt32BE(0)).toBe(all.length - 4);
    expect(all.readInt32BE(8)).toBe(100_000);
    expect(all.readInt16BE(all.length - 2)).toBe(1);
    expect(w.toBuffer().equals(all)).toBe(true);
  });
});
