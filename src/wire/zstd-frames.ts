/**
 * The frame layout of zstd data (RFC 8878, section 3.1), walked without
 * decoding: where each frame starts and ends, the window it asks for and the
 * content size it declares. The decoder (fzstd) allocates a frame's window —
 * for a single-segment frame, its declared content size — before reading a
 * block, up to 2 GB for a 15-byte frame, and does not check the content size
 * it was told against what it produced. Sluice looks at each frame here first
 * (src/wire/compression.ts), so a header that asks for more than the output
 * bound is refused before anything is allocated, and a frame that produces a
 * different size than it declared is refused after.
 */

import { ErrorCode, SluiceError } from '../shared/errors.js';

export interface ZstdFrame {
  /** Offsets of the whole frame (header to checksum) in the data. */
  start: number;
  end: number;
  /** Bytes of history the decoder keeps (for a single-segment frame, its content size). */
  windowSize: number;
  /** False: the window is the content size (the frame is one segment). */
  windowed: boolean;
  /** The declared decompressed size, when the header carries it. */
  contentSize: number | undefined;
  /** The most the frame's blocks can decode to (raw and RLE blocks their size, a compressed block its maximum). */
  contentBound: number;
}

const zstdMagic = 0xfd2fb528;
/** Skippable frames: magic 0x184D2A50 to 0x184D2A5F, a 4-byte size, that many bytes. */
const skippableMagicBase = 0x184d2a50;
const blockHeaderBytes = 3;
/** Block_Maximum_Size: no block holds more than 128 KiB, compressed or not. */
const blockBytesMax = 128 * 1024;

function corrupt(message: string): SluiceError {
  return new SluiceError(ErrorCode.CorruptRecord, message);
}

/** An unsigned little-endian field of 0-8 bytes (exact up to 2^53, enough to compare with any bound). */
function readLE(buf: Buffer, pos: number, bytes: number): number {
  let value = 0;
  for (let i = bytes - 1; i >= 0; i--) value = value * 256 + (buf[pos + i] as number);
  return value;
}

function need(buf: Buffer, pos: number, bytes: number, what: string): void {
  if (pos + bytes > buf.length) throw corrupt(`zstd data ends inside ${what}`);
}

/** The zstd frame at `pos` (its header and blocks walked, not decoded). */
function frameAt(buf: Buffer, pos: number): ZstdFrame {
  need(buf, pos, 5, 'a frame header');
  const descriptor = buf[pos + 4] as number;
  if (descriptor & 0x08) throw corrupt('zstd frame header: reserved bit set');
  const singleSegment = (descriptor & 0x20) !== 0;
  const hasChecksum = (descriptor & 0x04) !== 0;
  const dictionaryIdBytes = [0, 1, 2, 4][descriptor & 0x03] as number;
  const sizeFlag = descriptor >> 6;
  const contentSizeBytes = sizeFlag === 0 ? (singleSegment ? 1 : 0) : 1 << sizeFlag;
  let p = pos + 5;
  let windowSize = 0;
  if (!singleSegment) {
    need(buf, p, 1, 'a frame header');
    const windowDescriptor = buf[p++] as number;
    const windowBase = 2 ** (10 + (windowDescriptor >> 3));
    windowSize = windowBase + (windowBase / 8) * (windowDescriptor & 0x07);
  }
  need(buf, p, dictionaryIdBytes + contentSizeBytes, 'a frame header');
  p += dictionaryIdBytes;
  let contentSize: number | undefined;
  if (contentSizeBytes > 0) {
    contentSize = readLE(buf, p, contentSizeBytes) + (contentSizeBytes === 2 ? 256 : 0);
    p += contentSizeBytes;
  }
  if (singleSegment) windowSize = contentSize as number;
  const blockMax = Math.min(windowSize, blockBytesMax);
  let contentBound = 0;
  for (let last = false; !last; ) {
    need(buf, p, blockHeaderBytes, 'a block header');
    const header = readLE(buf, p, blockHeaderBytes);
    p += blockHeaderBytes;
    last = (header & 1) === 1;
    const type = (header >> 1) & 0x03;
    const size = header >>> 3;
    if (type === 3) throw corrupt('zstd block of the reserved type');
    if (size > blockMax) throw corrupt(`zstd block of ${size} bytes, more than the frame allows (${blockMax})`);
    // an RLE block is one byte repeated `size` times
    const stored = type === 1 ? 1 : size;
    contentBound += type === 2 ? blockMax : size;
    need(buf, p, stored, 'a block');
    p += stored;
  }
  if (hasChecksum) {
    need(buf, p, 4, 'the content checksum');
    p += 4;
  }
  return { start: pos, end: p, windowSize, windowed: !singleSegment, contentSize, contentBound };
}

/** Every zstd frame of `buf` in order, skippable frames passed over. Throws CorruptRecord on a broken layout. */
export function* zstdFrames(buf: Buffer): Generator<ZstdFrame> {
  let pos = 0;
  while (pos < buf.length) {
    need(buf, pos, 4, 'a frame magic number');
    const magic = buf.readUInt32LE(pos);
    if (magic === zstdMagic) {
      const frame = frameAt(buf, pos);
      pos = frame.end;
      yield frame;
    } else if ((magic & 0xfffffff0) >>> 0 === skippableMagicBase) {
      need(buf, pos + 4, 4, 'a skippable frame size');
      const size = buf.readUInt32LE(pos + 4);
      need(buf, pos + 8, size, 'a skippable frame');
      pos += 8 + size;
    } else {
      throw corrupt(`not a zstd frame at byte ${pos}`);
    }
  }
}
