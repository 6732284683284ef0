import { describe, expect, it } from 'vitest';
import { crc32c } from '../../../src/wire/crc32c.js';
import { kafkajsCrc32c } from '../../helpers/kafkajs-wire.js';
import { prng, randomBytes } from '../../helpers/wire-bytes.js';

describe('crc32c (Castagnoli)', () => {
  it('has the catalogued check value: crc32c("123456789") = 0xE3069283', () => {
    expect(crc32c(Buffer.from('123456789', 'ascii'))).toBe(0xe3069283);
  });

  // RFC 3720 (iSCSI), appendix B.4 "CRC Examples"
  it('matches the RFC 3720 B.4 test vectors', () => {
    const ascending = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
    const descending = Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i));
    // "An iSCSI - SCSI Read (10) Command PDU", 48 bytes
    const scsiRead = Buffer.from([
      0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ]);
    expect(crc32c(Buffer.alloc(32, 0x00))).toBe(0x8a9136aa);
    expect(crc32c(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43);
    expect(crc32c(ascending)).toBe(0x46dd794e);
    expect(crc32c(descending)).toBe(0x113fdb5c);
    expect(crc32c(scsiRead)).toBe(0xd9963a56);
  });

  it('is 0 for no bytes and always unsigned', () => {
    expect(crc32c(Buffer.alloc(0))).toBe(0);
    const v = crc32c(Buffer.from('123456789'));
    expect(v).toBeGreaterThan(0x7fffffff);
    expect(Number.isInteger(v)).toBe(true);
  });

  it('accepts a plain Uint8Array and hashes only a subarray view', () => {
    const plain = new Uint8Array(Buffer.from('123456789'));
    expect(crc32c(plain)).toBe(0xe3069283);
    const wrapped = Buffer.from('xx123456789yy');
    expect(crc32c(wrapped.subarray(2, 11))).toBe(0xe3069283);
    const u8 = new Uint8Array(wrapped.buffer, wrapped.byteOffset + 2, 9);
    expect(crc32c(u8)).toBe(0xe3069283);
  });

  it("agrees with kafkajs's pure-JavaScript CRC-32C on random inputs", () => {
    const next = prng(42);
    const lengths = [1, 2, 3, 7, 8, 15, 16, 31, 63, 64, 65, 255, 1000, 4096, 65_537];
    for (let i = 0; i < 40; i++) lengths.push(Math.floor(next() * 3000));
    for (const length of lengths) {
      const bytes = randomBytes(next, length);
      expect(crc32c(bytes), `length ${length}`).toBe(kafkajsCrc32c(bytes));
    }
  });

  it('changes when any single bit changes', () => {
    const bytes = randomBytes(prng(3), 64);
    const base = crc32c(bytes);
    for (let bit = 0; bit < 64 * 8; bit += 37) {
      const flipped = Buffer.from(bytes);
      flipped[bit >> 3] = (flipped[bit >> 3] as number) ^ (1 << (bit & 7));
      expect(crc32c(flipped)).not.toBe(base);
    }
  });
});
