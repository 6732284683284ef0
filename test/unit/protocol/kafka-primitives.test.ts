/**
 * Kafka protocol primitives: byte layouts from the protocol guide (classic
 * and compact strings, varints, arrays, tagged fields, request headers),
 * round trips, and truncated or lying input refused with typed errors.
 */
import { describe, expect, it } from 'vitest';
import { KafkaReader, KafkaWriter, readRequestHeader } from '../../../src/protocol/binary/primitives.js';
import { isSluiceError } from '../../../src/shared/errors.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function refused(f: () => unknown): boolean {
  try {
    f();
    return false;
  } catch (err) {
    return isSluiceError(err, 'SLUICE_ERR_INVALID_REQUEST');
  }
}

describe('Kafka primitives', () => {
  it('lays out classic and compact strings, bytes and arrays as the protocol guide says', () => {
    const w = new KafkaWriter()
      .nullableString('ab')
      .nullableString(null)
      .compactNullableString('ab')
      .compactNullableString(null)
      .nullableBytes(Buffer.from([1]))
      .compactNullableBytes(null)
      .array([7], (x, v) => x.int32(v))
      .compactArray([], () => undefined)
      .emptyTaggedFields();
    expect(w.toBuffer().toString('hex')).toBe(
      ['0002 6162', 'ffff', '03 6162', '00', '00000001 01', '00', '00000001 00000007', '01', '00']
        .join('')
        .replace(/ /g, ''),
    );
  });

  it('encodes zig-zag and unsigned varints like Kafka (and protobuf)', () => {
    const w = new KafkaWriter().varint(0).varint(-1).varint(1).varint(-64).varint(64).uvarint(300);
    expect(w.toBuffer().toString('hex')).toBe('000102' + '7f' + '8001' + 'ac02');
    const r = new KafkaReader(w.toBuffer());
    expect([r.varint(), r.varint(), r.varint(), r.varint(), r.varint(), r.uvarint()]).toEqual([0, -1, 1, -64, 64, 300]);
  });

  it('round-trips every type', () => {
    const w = new KafkaWriter()
      .int8(-2)
      .int16(-300)
      .int32(2 ** 31 - 1)
      .int64(2 ** 40 + 5)
      .nullableString('héllo')
      .compactNullableString('x')
      .nullableBytes(null)
      .compactNullableBytes(Buffer.from('yz'))
      .compactArray(['a', 'b'], (x, s) => x.compactNullableString(s));
    const r = new KafkaReader(w.toBuffer());
    expect(r.int8()).toBe(-2);
    expect(r.int16()).toBe(-300);
    expect(r.int32()).toBe(2 ** 31 - 1);
    expect(r.int64()).toBe(2 ** 40 + 5);
    expect(r.string()).toBe('héllo');
    expect(r.compactString()).toBe('x');
    expect(r.nullableBytes()).toBeNull();
    expect(r.compactNullableBytes()?.toString()).toBe('yz');
    expect(r.compactArray((x) => x.compactString())).toEqual(['a', 'b']);
    expect(r.remaining).toBe(0);
  });

  it('reads request headers v1 and v2 (flexible: tagged fields skipped)', () => {
    // ApiVersions v3: api key 18, version 3, correlation id 1, client id "kcat", one tagged field
    const v2 = hex('0012 0003 00000001 0004 6b636174 01 05 02 aaaa');
    const r = new KafkaReader(v2);
    expect(readRequestHeader(r, true)).toEqual({ apiKey: 18, apiVersion: 3, correlationId: 1, clientId: 'kcat' });
    expect(r.remaining).toBe(0);
    const v1 = new KafkaReader(hex('0000 0007 7fffffff ffff'));
    expect(readRequestHeader(v1, false)).toEqual({
      apiKey: 0,
      apiVersion: 7,
      correlationId: 2 ** 31 - 1,
      clientId: null,
    });
  });

  it('refuses truncated input, lying counts and overlong varints with typed errors', () => {
    expect(refused(() => new KafkaReader(hex('00')).int16())).toBe(true);
    expect(refused(() => new KafkaReader(hex('0005 6162')).string())).toBe(true);
    expect(refused(() => new KafkaReader(hex('ffff')).string())).toBe(true);
    expect(refused(() => new KafkaReader(hex('7fffffff')).array((x) => x.int8()))).toBe(true);
    expect(refused(() => new KafkaReader(hex('ffffffffff01')).uvarint())).toBe(true);
    expect(refused(() => new KafkaReader(hex('01 05 09 aa')).skipTaggedFields())).toBe(true);
  });
});
