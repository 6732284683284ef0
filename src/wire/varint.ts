/**
 * Zig-zag varints as used inside Kafka records (protobuf encoding).
 *
 * One reader for every decoder: readVarint / readVarlong / readBytes take a
 * position and return the value, and leave the position after it in a
 * module-level cursor (readEnd()), so walking the records of a batch
 * allocates nothing per field (a { value, pos } result would be an object per
 * call; the consumer's decode loop reads five to seven fields per record).
 * One decoder runs at a time (JavaScript is single-threaded): read the cursor
 * right after the call. VarintReader wraps them for decoders that prefer an
 * object per batch.
 */
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { bufferView } from './buffer-view.js';

/** Where the last readVarint / readVarlong / readBytes stopped. */
let cursor = 0;

/** The position after the field the last read* call returned. */
export function readEnd(): number {
  return cursor;
}

function truncated(pos: number): never {
  throw new SluiceError(ErrorCode.CorruptRecord, `truncated varint at byte ${pos}`);
}

/** A zig-zag varint of at most 32 bits at `pos` (before `end`); readEnd() is past it. */
export function readVarint(buf: Buffer, pos: number, end: number): number {
  if (pos >= end) truncated(pos);
  let byte = buf[pos++] as number;
  if (byte < 0x80) {
    // one byte: every record length, attribute and small delta of a 100 B record
    cursor = pos;
    return (byte >>> 1) ^ -(byte & 1);
  }
  let raw = byte & 0x7f;
  for (let shift = 7; ; shift += 7) {
    if (pos >= end) truncated(pos);
    byte = buf[pos++] as number;
    if (shift === 28) {
      if (byte > 0x0f) throw new SluiceError(ErrorCode.CorruptRecord, 'varint longer than 32 bits');
      raw |= byte << 28;
      break;
    }
    raw |= (byte & 0x7f) << shift;
    if (byte < 0x80) break;
  }
  cursor = pos;
  return (raw >>> 1) ^ -(raw & 1);
}

/**
 * A zig-zag varlong at `pos`, exact for |v| < 2^53; readEnd() is past it. The
 * zig-zag value 2|v|+sign can need 54 bits, more than a double holds exactly,
 * so the sign is taken from bit 0 of the first byte and the magnitude is
 * summed from the rest.
 */
export function readVarlong(buf: Buffer, pos: number, end: number): number {
  if (pos >= end) truncated(pos);
  const first = buf[pos++] as number;
  if (first < 0x80) {
    cursor = pos;
    return (first >>> 1) ^ -(first & 1);
  }
  const negative = (first & 1) === 1;
  let m = (first & 0x7f) >>> 1;
  let scale = 64;
  for (let i = 1, byte = first; byte >= 0x80; i++) {
    if (pos >= end) truncated(pos);
    if (i === 10) throw new SluiceError(ErrorCode.CorruptRecord, 'varlong longer than 64 bits');
    byte = buf[pos++] as number;
    m += (byte & 0x7f) * scale;
    scale *= 128;
  }
  cursor = pos;
  return negative ? -m - 1 : m;
}

/**
 * Nullable bytes at `pos` (a zig-zag varint length, -1 for null, then the
 * bytes) as a view of `buf`, no copy; readEnd() is past them.
 */
export function readBytes(buf: Buffer, pos: number, end: number): Buffer | null {
  const length = readVarint(buf, pos, end);
  if (length < 0) return null;
  const from = cursor;
  const to = from + length;
  if (to > end) throw new SluiceError(ErrorCode.CorruptRecord, `${length} bytes past the end at byte ${from}`);
  cursor = to;
  return buf.subarray(from, to);
}

/**
 * readBytes for a hot loop over one buffer: `memory` and `base` are `buf.buffer` and
 * `buf.byteOffset`, read once by the caller (their getters cost more than the view itself).
 */
export function readBytesOf(
  memory: ArrayBufferLike,
  base: number,
  buf: Buffer,
  pos: number,
  end: number,
): Buffer | null {
  const length = readVarint(buf, pos, end);
  if (length < 0) return null;
  const from = cursor;
  const to = from + length;
  if (to > end) throw new SluiceError(ErrorCode.CorruptRecord, `${length} bytes past the end at byte ${from}`);
  cursor = to;
  return bufferView(memory, base + from, length);
}

/** A cursor over `buf` from `pos` to `end`, reading through the functions above. */
export class VarintReader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    pos: number,
    readonly end: number,
  ) {
    this.pos = pos;
  }

  /** A zig-zag varint that fits in 32 bits. */
  varint(): number {
    const v = readVarint(this.buf, this.pos, this.end);
    this.pos = cursor;
    return v;
  }

  /** A zig-zag varlong, exact for |v| < 2^53 (see readVarlong). */
  varlong(): number {
    const v = readVarlong(this.buf, this.pos, this.end);
    this.pos = cursor;
    return v;
  }

  skip(bytes: number): void {
    if (bytes < 0 || this.pos + bytes > this.end) truncated(this.pos);
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

/** Writes a zig-zag varlong (exact for |v| < 2^53, see readVarlong); returns the position after it. */
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
