/**
 * Compression codecs of record batches, selected by attribute bits 0-2.
 *
 * Sluice writes none, gzip (Node's zlib), snappy (xerial framing, as Kafka's
 * Java and librdkafka producers write it: snappyjs), lz4 (the LZ4 frame
 * format: ./lz4.ts) and zstd (./zstd.ts: zstd-wasm, which needs initZstd()
 * once first). It reads what Kafka clients write with gzip, snappy (raw or
 * xerial), lz4 and zstd (fzstd, a pure-JS streaming decoder: Node 20's zlib
 * has no zstd, and fzstd, unlike zstd-wasm's decoder, can be bounded).
 *
 * Every decoder is bounded by decompressedBytesMax, so a small batch cannot
 * inflate into unbounded memory (a "zip bomb" is CORRUPT_RECORD).
 */

import { gunzipSync, gzipSync } from 'node:zlib';
import { Decompress as ZstdStream } from 'fzstd';
import { compress as snappyCompress, uncompress as snappyUncompress } from 'snappyjs';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { decompressedBytesMax, zstdWindowBytesMax } from '../shared/limits.js';
import { lz4DecodeFrames, lz4EncodeFrame } from './lz4.js';
import { zstdCompress } from './zstd.js';
import { zstdFrames } from './zstd-frames.js';

const names = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

function unsupported(codec: number, what: string): SluiceError {
  return new SluiceError(
    ErrorCode.UnsupportedCompression,
    `compression ${names[codec] ?? codec} is not supported ${what}`,
  );
}

function corrupt(codec: number, err: unknown): SluiceError {
  return new SluiceError(
    ErrorCode.CorruptRecord,
    `${names[codec] ?? codec} records do not inflate: ${(err as Error).message}`,
    { cause: err },
  );
}

/** xerial's snappy stream header: magic, then int32 version and int32 compatible version. */
const xerialMagic = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const xerialHeaderBytes = 16;

// the decoders' own errors: each is wrapped by corrupt() with the codec's name
function tooLarge(max = decompressedBytesMax): SluiceError {
  return new SluiceError(ErrorCode.CorruptRecord, `more than ${max} bytes`);
}

/** Raw snappy, or xerial framing (header, then int32-length-prefixed raw snappy blocks). */
function unsnappy(bytes: Buffer, outputMax: number): Buffer {
  const raw = (block: Buffer, left: number): Buffer => {
    const out = snappyUncompress(block, left);
    return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  };
  if (bytes.length < xerialHeaderBytes || !bytes.subarray(0, xerialMagic.length).equals(xerialMagic)) {
    return raw(bytes, outputMax);
  }
  const blocks: Buffer[] = [];
  let total = 0;
  let pos = xerialHeaderBytes;
  while (pos < bytes.length) {
    if (pos + 4 > bytes.length) throw new SluiceError(ErrorCode.CorruptRecord, 'truncated xerial block length');
    const length = bytes.readInt32BE(pos);
    pos += 4;
    if (length < 0 || pos + length > bytes.length) {
      throw new SluiceError(ErrorCode.CorruptRecord, `xerial block of ${length} bytes overruns the data`);
    }
    const block = raw(bytes.subarray(pos, pos + length), outputMax - total);
    pos += length;
    total += block.length;
    blocks.push(block);
  }
  return blocks.length === 1 ? (blocks[0] as Buffer) : Buffer.concat(blocks, total);
}

/**
 * zstd through fzstd's streaming decoder, frame by frame, so the output bound holds while decoding.
 * Each frame's header is read first (./zstd-frames.ts): fzstd allocates the window a header asks for
 * (for a single-segment frame, its declared content size) before decoding, and does not check the
 * declared size against its output, so both are checked here.
 */
function unzstd(bytes: Buffer, outputMax: number): Buffer {
  // the streaming decoder takes no input as no output; a batch's records area is never empty
  if (bytes.length === 0) throw new SluiceError(ErrorCode.CorruptRecord, 'no zstd frame');
  const chunks: Uint8Array[] = [];
  let total = 0;
  // the windows fzstd allocates for this data, frame after frame
  let windows = 0;
  for (const frame of zstdFrames(bytes)) {
    if (frame.contentSize !== undefined && frame.contentSize > frame.contentBound) {
      throw new SluiceError(
        ErrorCode.CorruptRecord,
        `a frame declaring ${frame.contentSize} bytes whose blocks hold at most ${frame.contentBound}`,
      );
    }
    if (frame.contentSize !== undefined && frame.contentSize > outputMax - total) throw tooLarge(outputMax);
    if (frame.windowed && frame.windowSize > zstdWindowBytesMax) {
      throw new SluiceError(
        ErrorCode.CorruptRecord,
        `a window of ${frame.windowSize} bytes, more than ${zstdWindowBytesMax}`,
      );
    }
    windows += frame.windowSize;
    if (windows > decompressedBytesMax) {
      throw new SluiceError(
        ErrorCode.CorruptRecord,
        `frames whose windows take more than ${decompressedBytesMax} bytes`,
      );
    }
    let produced = 0;
    const stream = new ZstdStream((chunk) => {
      total += chunk.length;
      produced += chunk.length;
      if (total > outputMax) throw tooLarge(outputMax);
      chunks.push(chunk);
    });
    stream.push(bytes.subarray(frame.start, frame.end), true);
    if (frame.contentSize !== undefined && produced !== frame.contentSize) {
      throw new SluiceError(
        ErrorCode.CorruptRecord,
        `a frame declaring ${frame.contentSize} bytes decoded to ${produced}`,
      );
    }
  }
  return Buffer.concat(chunks, total);
}

/**
 * The records area of a compressed batch, decompressed within the output bound.
 * `legacyLz4HeaderChecksum`: message format v0 wrappers, whose lz4 frames may carry
 * Kafka's old header checksum (KAFKA-3160). `outputMax` (at most, and by default,
 * decompressedBytesMax): a smaller bound, for a caller that keeps several outputs at once.
 */
export function inflateRecords(
  codec: number,
  bytes: Buffer,
  options: { legacyLz4HeaderChecksum?: boolean; outputMax?: number } = {},
): Buffer {
  const max = Math.max(0, Math.min(options.outputMax ?? decompressedBytesMax, decompressedBytesMax));
  let inflate: (b: Buffer) => Buffer;
  switch (codec) {
    case 1:
      inflate = (b) => gunzipSync(b, { maxOutputLength: Math.max(1, max) });
      break;
    case 2:
      inflate = (b) => unsnappy(b, max);
      break;
    case 3:
      inflate = (b) => lz4DecodeFrames(b, max, { legacyHeaderChecksum: options.legacyLz4HeaderChecksum === true });
      break;
    case 4:
      inflate = (b) => unzstd(b, max);
      break;
    default:
      throw unsupported(codec, '(gzip, snappy, lz4 and zstd are)');
  }
  try {
    return inflate(bytes);
  } catch (err) {
    throw corrupt(codec, err);
  }
}

/** Raw snappy blocks of this many input bytes, as xerial's SnappyOutputStream (Kafka's Java producer) cuts them. */
const xerialBlockBytes = 32 * 1024;

/** xerial framing: the header (version 1, compatible version 1), then int32-length-prefixed raw snappy blocks. */
function snappyXerial(bytes: Buffer): Buffer {
  const parts: Buffer[] = [xerialMagic, Buffer.from([0, 0, 0, 1, 0, 0, 0, 1])];
  for (let start = 0; start < bytes.length; start += xerialBlockBytes) {
    const block = snappyCompress(bytes.subarray(start, start + xerialBlockBytes));
    const length = Buffer.alloc(4);
    length.writeInt32BE(block.byteLength, 0);
    parts.push(length, Buffer.from(block.buffer, block.byteOffset, block.byteLength));
  }
  return Buffer.concat(parts);
}

export function deflateRecords(codec: number, bytes: Buffer): Buffer {
  switch (codec) {
    case 0:
      return bytes;
    case 1:
      return gzipSync(bytes);
    case 2:
      return snappyXerial(bytes);
    case 3:
      return lz4EncodeFrame(bytes);
    case 4:
      return zstdCompress(bytes);
    default:
      throw unsupported(codec, 'for writing (none, gzip, snappy, lz4 and zstd are)');
  }
}
