/**
 * The Kafka protocol's primitive types (groundwork for issue 9, the Kafka
 * listener): fixed-width big-endian integers, zig-zag and unsigned varints,
 * classic (int16/int32 length) and compact (unsigned varint length + 1)
 * strings, bytes and arrays, and tagged fields of flexible versions. A reader
 * that runs past its end throws a typed InvalidRequest, never reads garbage.
 */
import { ErrorCode, SluiceError } from '../../shared/errors.js';

function truncated(what: string): SluiceError {
  return new SluiceError(ErrorCode.InvalidRequest, `Kafka request truncated while reading ${what}`);
}

export class KafkaReader {
  pos: number;

  constructor(
    private readonly buf: Buffer,
    start = 0,
    private readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.end) throw truncated(what);
  }

  int8(): number {
    this.need(1, 'int8');
    return this.buf.readInt8(this.pos++);
  }

  int16(): number {
    this.need(2, 'int16');
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    this.need(4, 'int32');
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** int64 as a number; exact up to 2^53 (offsets and timestamps are). */
  int64(): number {
    this.need(8, 'int64');
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return Number(v);
  }

  /** Kafka's float64 (IEEE 754 double, big-endian): quota values. */
  float64(): number {
    this.need(8, 'float64');
    const v = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }

  uvarint(): number {
    let value = 0;
    for (let shift = 0; shift <= 28; shift += 7) {
      this.need(1, 'varint');
      const byte = this.buf[this.pos++] as number;
      value |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value >>> 0;
    }
    throw new SluiceError(ErrorCode.InvalidRequest, 'Kafka varint longer than 5 bytes');
  }

  varint(): number {
    const raw = this.uvarint();
    return (raw >>> 1) ^ -(raw & 1);
  }

  private text(length: number, what: string): string {
    this.need(length, what);
    const s = this.buf.toString('utf8', this.pos, this.pos + length);
    this.pos += length;
    return s;
  }

  nullableString(): string | null {
    const length = this.int16();
    return length < 0 ? null : this.text(length, 'string');
  }

  string(): string {
    const s = this.nullableString();
    if (s === null) throw new SluiceError(ErrorCode.InvalidRequest, 'Kafka string is null where one is required');
    return s;
  }

  compactNullableString(): string | null {
    const length = this.uvarint() - 1;
    return length < 0 ? null : this.text(length, 'compact string');
  }

  compactString(): string {
    const s = this.compactNullableString();
    if (s === null)
      throw new SluiceError(ErrorCode.InvalidRequest, 'Kafka compact string is null where one is required');
    return s;
  }

  private slice(length: number, what: string): Buffer {
    this.need(length, what);
    const b = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return b;
  }

  nullableBytes(): Buffer | null {
    const length = this.int32();
    return length < 0 ? null : this.slice(length, 'bytes');
  }

  compactNullableBytes(): Buffer | null {
    const length = this.uvarint() - 1;
    return length < 0 ? null : this.slice(length, 'compact bytes');
  }

  /** A UUID (16 bytes) in Kafka's string form: 22 characters of unpadded URL-safe base64. */
  uuid(): string {
    return this.slice(16, 'uuid').toString('base64url');
  }

  /** An int32-counted array (-1: null). */
  array<T>(item: (r: KafkaReader) => T): T[] | null {
    const count = this.int32();
    return this.items(count, item);
  }

  /** An unsigned-varint-counted array, count + 1 (0: null). */
  compactArray<T>(item: (r: KafkaReader) => T): T[] | null {
    const count = this.uvarint() - 1;
    return this.items(count, item);
  }

  private items<T>(count: number, item: (r: KafkaReader) => T): T[] | null {
    if (count < 0) return null;
    // every item takes at least one byte: a count beyond what is left is a lie, not a reason to allocate
    if (count > this.remaining) throw truncated('array');
    const out: T[] = [];
    for (let i = 0; i < count; i++) out.push(item(this));
    return out;
  }

  /** Tagged fields of a flexible version: none is known yet, so each is skipped. */
  skipTaggedFields(): void {
    const count = this.uvarint();
    for (let i = 0; i < count; i++) {
      this.uvarint(); // tag
      const size = this.uvarint();
      this.slice(size, 'tagged field');
    }
  }
}

/** Bytes at least this long are referenced by the output, not copied (fetched record batches). */
const zeroCopyBytesMin = 8192;

/**
 * A growing buffer for Kafka responses. Large byte fields (fetched record
 * batches) are not copied: the output is a list of chunks that references
 * them, written to the socket as they are.
 */
export class KafkaWriter {
  private buf = Buffer.allocUnsafe(256);
  private pos = 0;
  /** Finished chunks before `buf` (only when a large byte field was referenced). */
  private readonly chunks: Buffer[] = [];
  private chunkBytes = 0;

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  int8(v: number): this {
    this.room(1);
    this.buf.writeInt8(v, this.pos++);
    return this;
  }

  int16(v: number): this {
    this.room(2);
    this.buf.writeInt16BE(v, this.pos);
    this.pos += 2;
    return this;
  }

  int32(v: number): this {
    this.room(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  int64(v: number): this {
    this.room(8);
    this.buf.writeBigInt64BE(BigInt(v), this.pos);
    this.pos += 8;
    return this;
  }

  float64(v: number): this {
    this.room(8);
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
    return this;
  }

  uvarint(v: number): this {
    let value = v >>> 0;
    this.room(5);
    while (value >= 0x80) {
      this.buf[this.pos++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    this.buf[this.pos++] = value;
    return this;
  }

  varint(v: number): this {
    return this.uvarint((v << 1) ^ (v >> 31));
  }

  private raw(bytes: Buffer): this {
    if (bytes.length >= zeroCopyBytesMin) {
      this.chunks.push(this.buf.subarray(0, this.pos), bytes);
      this.chunkBytes += this.pos + bytes.length;
      this.buf = this.buf.subarray(this.pos);
      this.pos = 0;
      return this;
    }
    this.room(bytes.length);
    bytes.copy(this.buf, this.pos);
    this.pos += bytes.length;
    return this;
  }

  nullableString(s: string | null): this {
    if (s === null) return this.int16(-1);
    const bytes = Buffer.from(s, 'utf8');
    return this.int16(bytes.length).raw(bytes);
  }

  compactNullableString(s: string | null): this {
    if (s === null) return this.uvarint(0);
    const bytes = Buffer.from(s, 'utf8');
    return this.uvarint(bytes.length + 1).raw(bytes);
  }

  nullableBytes(b: Buffer | null): this {
    if (b === null) return this.int32(-1);
    return this.int32(b.length).raw(b);
  }

  compactNullableBytes(b: Buffer | null): this {
    if (b === null) return this.uvarint(0);
    return this.uvarint(b.length + 1).raw(b);
  }

  /**
   * A UUID from Kafka's string form (22 characters of URL-safe base64); anything
   * that is not one (an absent id) is written as the zero UUID, Kafka's "none".
   */
  uuid(id: string): this {
    const bytes = /^[A-Za-z0-9_-]{22}$/.test(id) ? Buffer.from(id, 'base64url') : Buffer.alloc(16);
    this.room(16);
    bytes.copy(this.buf, this.pos, 0, 16);
    this.pos += 16;
    return this;
  }

  array<T>(items: readonly T[] | null, write: (w: KafkaWriter, item: T) => void): this {
    if (items === null) return this.int32(-1);
    this.int32(items.length);
    for (const item of items) write(this, item);
    return this;
  }

  compactArray<T>(items: readonly T[] | null, write: (w: KafkaWriter, item: T) => void): this {
    if (items === null) return this.uvarint(0);
    this.uvarint(items.length + 1);
    for (const item of items) write(this, item);
    return this;
  }

  /** No tagged fields (what every flexible response of ours carries). */
  emptyTaggedFields(): this {
    return this.uvarint(0);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.chunkBytes + this.pos;
  }

  /** Overwrites an int32 written earlier at `offset` (a size prefix) without moving on. */
  patchInt32(offset: number, v: number): this {
    const first = this.chunks.length > 0 ? (this.chunks[0] as Buffer) : this.buf;
    first.writeInt32BE(v, offset);
    return this;
  }

  /** The output as chunks (large byte fields referenced, not copied). */
  toBuffers(): Buffer[] {
    const tail = this.buf.subarray(0, this.pos);
    return this.chunks.length === 0 ? [tail] : [...this.chunks, tail];
  }

  toBuffer(): Buffer {
    return this.chunks.length === 0 ? this.buf.subarray(0, this.pos) : Buffer.concat(this.toBuffers());
  }
}

export interface KafkaRequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

/**
 * A request header: v1 (api key, version, correlation id, nullable client
 * id) or, for flexible versions, v2 (v1 + tagged fields). Which one applies
 * depends on the API and version, so the caller says.
 */
export function readRequestHeader(r: KafkaReader, flexible: boolean): KafkaRequestHeader {
  const header = {
    apiKey: r.int16(),
    apiVersion: r.int16(),
    correlationId: r.int32(),
    clientId: r.nullableString(),
  };
  if (flexible) r.skipTaggedFields();
  return header;
}
