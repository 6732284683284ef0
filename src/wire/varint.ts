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

  /**
   * A zig-zag varlong, exact for |v| < 2^53. The zig-zag value 2|v|+sign can
   * need 54 bits, more than a double holds exactly, so the sign is taken from
   * bit 0 of the first byte and the magnitude is summed from the rest.
   */
  varlong(): number {
    if (this.pos >= this.end) this.truncated();
    const first = this.buf[this.pos++] as number;
    const negative = (first & 1) === 1;
    let m = (first & 0x7f) >>> 1;
    let scale = 64;
    for (let i = 1, byte = first; byte >= 0x80; i++) {
      if (this.pos >= this.end) this.truncated();
      if (i === 10) throw new SluiceError(ErrorCode.CorruptRecord, 'varlong longer than 64 bits');
      byte = this.buf[this.pos++] as number;
      m += (byte & 0x7f) * scale;
      scale *= 128;
    }
    return negative ? -m - 1 : m;
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
  let rest = Math.floor((value < 0 ? -value - 1 : value) / 64);
  let size = 1;
  while (rest > 0) {
    rest = Math.floor(rest / 128);
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

/** Writes a zig-zag varlong (exact for |v| < 2^53, see VarintReader.varlong); returns the position after it. */
export function writeVarlong(buf: Buffer, pos: number, value: number): number {
  const negative = value < 0;
  const m = negative ? -value - 1 : value;
  let rest = Math.floor(m / 64);
  const low = (m % 64) * 2 + (negative ? 1 : 0);
  buf[pos++] = rest > 0 ? low | 0x80 : low;
  while (rest > 0) {
    const bits = rest % 128;
    rest = Math.floor(rest / 128);
    buf[pos++] = rest > 0 ? bits | 0x80 : bits;
  }
  return pos;
}
