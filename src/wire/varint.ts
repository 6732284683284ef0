/**
 * Zig-zag varints as used inside Kafka records (protobuf encoding).
 * The reader keeps its position in a mutable cursor so that walking the
 * records of a batch allocates nothing per record.
 */
import { ErrorCode, SluiceError } from '../shared/errors.js';

export class VarintReader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    pos: number,
    readonly end: number,
  ) {
    this.pos = pos;
  }

  private truncated(): never {
    throw new SluiceError(ErrorCode.CorruptRecord, `truncated varint at byte ${this.pos}`);
  }

  /** A zig-zag varint that fits in 32 bits. */
  varint(): number {
    let raw = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) this.truncated();
      const byte = this.buf[this.pos++] as number;
      if (shift === 28) {
        if (byte > 0x0f) throw new SluiceError(ErrorCode.CorruptRecord, 'varint longer than 32 bits');
        raw |= byte << 28;
        break;
      }
      raw |= (byte & 0x7f) << shift;
      if (byte < 0x80) break;
      shift += 7;
    }
    return (raw >>> 1) ^ -(raw & 1);
  }

  /** A zig-zag varlong, exact up to 2^53. */
  varlong(): number {
    let raw = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      if (this.pos >= this.end) this.truncated();
      if (i === 10) throw new SluiceError(ErrorCode.CorruptRecord, 'varlong longer than 64 bits');
      const byte = this.buf[this.pos++] as number;
      raw += (byte & 0x7f) * scale;
      if (byte < 0x80) break;
      scale *= 128;
    }
    // zig-zag decode without 32-bit bit operations
    return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
  }

  skip(bytes: number): void {
    if (bytes < 0 || this.pos + bytes > this.end) this.truncated();
    this.pos += bytes;
  }

  bytes(length: number): Buffer {
    this.skip(length);
    return this.buf.subarray(this.pos - length, this.pos);
  }
}

export function varintSize(value: number): number {
  let raw = (value << 1) ^ (value >> 31);
  raw >>>= 0;
  let size = 1;
  while (raw >= 0x80) {
    raw >>>= 7;
    size++;
  }
  return size;
}

export function varlongSize(value: number): number {
  let raw = value >= 0 ? value * 2 : -value * 2 - 1;
  let size = 1;
  while (raw >= 0x80) {
    raw = Math.floor(raw / 128);
    size++;
  }
  return size;
}

/** Writes a zig-zag varint; returns the position after it. */
export function writeVarint(buf: Buffer, pos: number, value: number): number {
  let raw = ((value << 1) ^ (value >> 31)) >>> 0;
  while (raw >= 0x80) {
    buf[pos++] = (raw & 0x7f) | 0x80;
    raw >>>= 7;
  }
  buf[pos++] = raw;
  return pos;
}

export function writeVarlong(buf: Buffer, pos: number, value: number): number {
  let raw = value >= 0 ? value * 2 : -value * 2 - 1;
  while (raw >= 0x80) {
    buf[pos++] = (raw % 128) | 0x80;
    raw = Math.floor(raw / 128);
  }
  buf[pos++] = raw;
  return pos;
}
