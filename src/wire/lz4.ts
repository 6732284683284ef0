/**
 * The LZ4 frame format (what Kafka's codec 3 carries), read and written.
 *
 * Frame: magic 0x184D2204 (little-endian), a descriptor (FLG: version 01,
 * block independence, block checksum, content size, content checksum, dict
 * id; BD: block maximum size 64 KiB..4 MiB; the optional 8-byte content size
 * and 4-byte dictionary id; HC, the second byte of xxHash32 of the
 * descriptor), then blocks (a 4-byte little-endian size whose top bit says
 * "stored uncompressed", the data, an optional xxHash32 of the data), an end
 * mark of four zero bytes and an optional xxHash32 of the whole content.
 * Skippable frames (magic 0x184D2A50-5F) and several frames in a row are read
 * as the format allows.
 *
 * Hand-written, not a package: `lz4-napi` decodes frames only asynchronously
 * into a buffer as large as the frame claims, with no output bound; `lz4js`
 * and `lz4` have had no release for years, and neither bounds the output nor
 * checks every length. Here every length is checked against the input and
 * the output against `outputMax` before a byte is written, so a bomb fails
 * after at most `outputMax` bytes and nothing is allocated beyond that.
 *
 * The writer makes the frames Kafka's Java producer makes: independent
 * 64 KiB blocks, no block or content checksum, no content size (the batch's
 * CRC-32C covers the compressed bytes), each block compressed by a greedy
 * hash-table matcher, or stored when compressing does not make it smaller.
 */

import { xxhash32 } from './xxhash32.js';

const frameMagic = 0x184d2204;
const skippableMagicMask = 0xfffffff0;
const skippableMagic = 0x184d2a50;

/** Thrown for every malformed frame; the codec layer turns it into CORRUPT_RECORD. */
export class Lz4FormatError extends Error {
  override name = 'Lz4FormatError';
}

const fail = (message: string): never => {
  throw new Lz4FormatError(message);
};

const blockMaxBytes = [0, 0, 0, 0, 64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024];

const readU32 = (b: Uint8Array, p: number): number =>
  ((b[p] as number) | ((b[p + 1] as number) << 8) | ((b[p + 2] as number) << 16) | ((b[p + 3] as number) << 24)) >>> 0;

export interface Lz4DecodeOptions {
  /**
   * Also accept the header checksum Kafka's message format v0 wrote by
   * mistake (xxHash32 over the magic too, KAFKA-3160). Off for RecordBatch v2.
   */
  legacyHeaderChecksum?: boolean;
}

/** Growable output that never holds more than `max` bytes. */
class Output {
  buf: Buffer;
  pos = 0;
  constructor(
    initial: number,
    readonly max: number,
  ) {
    this.buf = Buffer.allocUnsafe(Math.max(0, Math.min(initial, max)));
  }
  /** Room for `n` more bytes, or a format error when that passes the bound. */
  reserve(n: number): void {
    const need = this.pos + n;
    if (need > this.max) fail(`more than ${this.max} bytes`);
    if (need <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.min(this.max, Math.max(need, this.buf.length * 2)));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }
}

/**
 * Decodes one LZ4 block (src[start, end)) onto `out`, which already holds
 * room for `room` bytes; matches may reach back to `windowStart` (the block's
 * own start for independent blocks, the frame's for linked ones).
 */
function decodeBlock(
  src: Uint8Array,
  start: number,
  end: number,
  out: Output,
  room: number,
  windowStart: number,
): void {
  let dst = out.buf;
  let ip = start;
  let op = out.pos;
  const opEnd = op + room;
  // the output grows (within `room`, itself within the bound) only when a sequence needs it; inline, as a
  // closure over op and dst would slow the loop
  for (;;) {
    if (ip >= end) fail('lz4 block ends without its last literals');
    const token = src[ip++] as number;
    let literals = token >>> 4;
    if (literals === 15) {
      for (;;) {
        if (ip >= end) fail('lz4 literal length runs past the block');
        const more = src[ip++] as number;
        literals += more;
        if (more !== 255) break;
      }
    }
    if (literals > end - ip) fail(`lz4 literals of ${literals} bytes run past the block`);
    if (literals > opEnd - op) fail('lz4 block inflates past its block size or the bound');
    if (op + literals > dst.length) {
      out.pos = op;
      out.reserve(literals);
      dst = out.buf;
    }
    if (literals > 32) dst.set(src.subarray(ip, ip + literals), op);
    else for (let i = 0; i < literals; i++) dst[op + i] = src[ip + i] as number;
    ip += literals;
    op += literals;
    if (ip === end) break; // the last sequence has literals only
    if (end - ip < 2) fail('lz4 match offset cut off');
    const offset = (src[ip] as number) | ((src[ip + 1] as number) << 8);
    ip += 2;
    if (offset === 0 || offset > op - windowStart) fail(`lz4 match offset ${offset} reaches before the data`);
    let length = token & 15;
    if (length === 15) {
      for (;;) {
        if (ip >= end) fail('lz4 match length runs past the block');
        const more = src[ip++] as number;
        length += more;
        if (more !== 255) break;
      }
    }
    length += 4;
    if (length > opEnd - op) fail('lz4 block inflates past its block size or the bound');
    if (op + length > dst.length) {
      out.pos = op;
      out.reserve(length);
      dst = out.buf;
    }
    let from = op - offset;
    if (offset >= length && length > 32) {
      dst.copyWithin(op, from, from + length);
      op += length;
    } else {
      // short, or overlapping (a run repeating the last `offset` bytes): byte by byte
      for (let i = 0; i < length; i++) dst[op++] = dst[from++] as number;
    }
  }
  out.pos = op;
}

/**
 * Decodes LZ4 frames (one or more, skippable frames skipped) into at most
 * `outputMax` bytes. Throws Lz4FormatError for anything malformed.
 */
export function lz4DecodeFrames(input: Uint8Array, outputMax: number, options: Lz4DecodeOptions = {}): Buffer {
  if (input.length === 0) fail('no lz4 frame');
  // a match yields at most 255 bytes per input byte (plus 19): start small, grow on demand up to the bound
  const out = new Output(Math.min(input.length * 4, 1 << 20), outputMax);
  let pos = 0;
  while (pos < input.length) {
    if (input.length - pos < 4) fail('lz4 frame magic cut off');
    const magic = readU32(input, pos);
    if ((magic & skippableMagicMask) >>> 0 === skippableMagic) {
      if (input.length - pos < 8) fail('skippable frame size cut off');
      const size = readU32(input, pos + 4);
      if (size > input.length - pos - 8) fail(`skippable frame of ${size} bytes runs past the data`);
      pos += 8 + size;
      continue;
    }
    if (magic !== frameMagic) fail(`not an lz4 frame (magic 0x${magic.toString(16)})`);
    pos = decodeFrame(input, pos, out, options);
  }
  return out.buf.subarray(0, out.pos);
}

/** One frame starting at `pos` (its magic checked); returns where it ends. */
function decodeFrame(input: Uint8Array, frameStart: number, out: Output, options: Lz4DecodeOptions): number {
  let pos = frameStart + 4;
  if (input.length - pos < 3) fail('lz4 frame descriptor cut off');
  const flg = input[pos] as number;
  const bd = input[pos + 1] as number;
  if (flg >>> 6 !== 1) fail(`lz4 frame version ${flg >>> 6} (only 01 exists)`);
  if (flg & 0x02) fail('lz4 frame descriptor reserved bit set');
  if (bd & 0x8f) fail('lz4 block descriptor reserved bits set');
  const independent = (flg & 0x20) !== 0;
  const blockChecksum = (flg & 0x10) !== 0;
  const hasContentSize = (flg & 0x08) !== 0;
  const contentChecksum = (flg & 0x04) !== 0;
  const hasDictId = (flg & 0x01) !== 0;
  const blockMax = blockMaxBytes[(bd >>> 4) & 7] as number;
  if (blockMax === 0) fail(`lz4 block maximum size id ${(bd >>> 4) & 7} (4-7 exist)`);
  const descriptorBytes = 2 + (hasContentSize ? 8 : 0) + (hasDictId ? 4 : 0);
  if (input.length - pos < descriptorBytes + 1) fail('lz4 frame descriptor cut off');
  let contentSize = -1;
  if (hasContentSize) {
    const low = readU32(input, pos + 2);
    const high = readU32(input, pos + 6);
    if (high !== 0 || low > out.max - out.pos) fail(`lz4 frame claims more than ${out.max} bytes`);
    contentSize = low;
  }
  if (hasDictId) fail('lz4 frame needs a dictionary (none is known)');
  const hc = input[pos + descriptorBytes] as number;
  const expected = (xxhash32(input, pos, pos + descriptorBytes) >>> 8) & 0xff;
  const legacy = options.legacyHeaderChecksum
    ? (xxhash32(input, frameStart, pos + descriptorBytes) >>> 8) & 0xff
    : expected;
  if (hc !== expected && hc !== legacy) fail('lz4 frame header checksum does not match');
  pos += descriptorBytes + 1;

  const contentStart = out.pos;
  for (;;) {
    if (input.length - pos < 4) fail('lz4 block size cut off');
    const word = readU32(input, pos);
    pos += 4;
    if (word === 0) break; // end mark
    const stored = word >= 0x80000000;
    const size = word & 0x7fffffff;
    if (size > blockMax) fail(`lz4 block of ${size} bytes passes the frame's ${blockMax}`);
    if (size > input.length - pos - (blockChecksum ? 4 : 0)) fail(`lz4 block of ${size} bytes runs past the data`);
    if (blockChecksum && xxhash32(input, pos, pos + size) !== readU32(input, pos + size)) {
      fail('lz4 block checksum does not match');
    }
    if (stored) {
      out.reserve(size);
      out.buf.set(input.subarray(pos, pos + size), out.pos);
      out.pos += size;
    } else {
      // one block inflates to at most blockMax; where the bound leaves less, decoding fails on reaching it
      const room = Math.min(blockMax, out.max - out.pos);
      decodeBlock(input, pos, pos + size, out, room, independent ? out.pos : contentStart);
    }
    pos += size + (blockChecksum ? 4 : 0);
  }
  if (contentChecksum) {
    if (input.length - pos < 4) fail('lz4 content checksum cut off');
    if (xxhash32(out.buf, contentStart, out.pos) !== readU32(input, pos)) fail('lz4 content checksum does not match');
    pos += 4;
  }
  if (contentSize >= 0 && out.pos - contentStart !== contentSize) {
    fail(`lz4 frame holds ${out.pos - contentStart} bytes, its descriptor says ${contentSize}`);
  }
  return pos;
}

// ---------------------------------------------------------------- writing

const minMatch = 4;
/** The format's end-of-block rules: the last 5 bytes are literals, the last match starts 12 or more before the end. */
const lastLiterals = 5;
const matchFindLimit = 12;
const hashLog = 14;
const writeBlockBytes = 64 * 1024;

const read32 = (b: Uint8Array, p: number): number =>
  (b[p] as number) | ((b[p + 1] as number) << 8) | ((b[p + 2] as number) << 16) | ((b[p + 3] as number) << 24);

function writeLength(dst: Uint8Array, op: number, n: number): number {
  while (n >= 255) {
    dst[op++] = 255;
    n -= 255;
  }
  dst[op++] = n;
  return op;
}

function writeSequence(
  dst: Uint8Array,
  op: number,
  src: Uint8Array,
  anchor: number,
  literals: number,
  offset: number,
  match: number,
): number {
  const tokenAt = op++;
  let token = 0;
  if (literals >= 15) {
    token = 0xf0;
    op = writeLength(dst, op, literals - 15);
  } else {
    token = literals << 4;
  }
  if (literals > 32) dst.set(src.subarray(anchor, anchor + literals), op);
  else for (let i = 0; i < literals; i++) dst[op + i] = src[anchor + i] as number;
  op += literals;
  if (match > 0) {
    dst[op++] = offset & 0xff;
    dst[op++] = offset >>> 8;
    const m = match - minMatch;
    if (m >= 15) {
      token |= 15;
      op = writeLength(dst, op, m - 15);
    } else {
      token |= m;
    }
  }
  dst[tokenAt] = token;
  return op;
}

/**
 * Compresses src[start, end) as one LZ4 block into dst at `op` (room for
 * lz4BlockBound(end - start) bytes); returns the end of what it wrote.
 */
function encodeBlock(
  src: Uint8Array,
  start: number,
  end: number,
  dst: Uint8Array,
  op: number,
  table: Int32Array,
): number {
  let anchor = start;
  let ip = start;
  const matchEnd = end - lastLiterals;
  const lastMatchStart = end - matchFindLimit;
  let misses = 0;
  while (ip <= lastMatchStart) {
    const seq = read32(src, ip);
    const h = Math.imul(seq, 0x9e3779b1) >>> (32 - hashLog);
    const ref = table[h] as number;
    table[h] = ip;
    if (ref < start || ip - ref > 0xffff || read32(src, ref) !== seq) {
      ip += 1 + (misses++ >> 6); // skip faster through data that does not compress
      continue;
    }
    misses = 0;
    let s = ip;
    let r = ref;
    // extend backwards over literals that also match
    while (s > anchor && r > start && src[s - 1] === src[r - 1]) {
      s--;
      r--;
    }
    let length = ip - s + minMatch;
    while (s + length < matchEnd && src[s + length] === src[r + length]) length++;
    op = writeSequence(dst, op, src, anchor, s - anchor, s - r, length);
    ip = s + length;
    anchor = ip;
    if (ip - 2 > start && ip - 2 <= lastMatchStart)
      table[Math.imul(read32(src, ip - 2), 0x9e3779b1) >>> (32 - hashLog)] = ip - 2;
  }
  return writeSequence(dst, op, src, anchor, end - anchor, 0, 0);
}

/** The matcher's table of positions, reused by every call (emptied first: the writer is synchronous). */
const hashTable = new Int32Array(1 << hashLog);

/** One LZ4 frame of `input`, laid out as Kafka's Java producer writes it. */
export function lz4EncodeFrame(input: Uint8Array): Buffer {
  const blocks = Math.ceil(input.length / writeBlockBytes);
  // header, end mark, and per block its size word and LZ4's bound (n + n/255 + 16)
  const dst = Buffer.allocUnsafe(11 + blocks * 21 + input.length + Math.floor(input.length / 255));
  dst.writeUInt32LE(frameMagic, 0);
  dst[4] = 0x60; // version 01, independent blocks, no checksums, no content size
  dst[5] = 0x40; // 64 KiB blocks
  dst[6] = (xxhash32(dst, 4, 6) >>> 8) & 0xff;
  let op = 7;
  const table = hashTable.fill(-1);
  for (let start = 0; start < input.length; start += writeBlockBytes) {
    const end = Math.min(input.length, start + writeBlockBytes);
    const end2 = encodeBlock(input, start, end, dst, op + 4, table);
    const size = end2 - op - 4;
    if (size < end - start) {
      dst.writeUInt32LE(size, op);
      op = end2;
    } else {
      dst.writeUInt32LE((0x80000000 | (end - start)) >>> 0, op);
      dst.set(input.subarray(start, end), op + 4);
      op += 4 + end - start;
    }
  }
  dst.writeUInt32LE(0, op);
  return dst.subarray(0, op + 4);
}
