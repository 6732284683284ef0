/**
 * Compression codecs of record batches, selected by attribute bits 0-2.
 * gzip comes from Node's zlib; snappy, lz4 and zstd are refused with a typed
 * error until a codec is added.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { decompressedBytesMax } from '../shared/limits.js';

const names = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

function unsupported(codec: number): SluiceError {
  return new SluiceError(
    ErrorCode.UnsupportedCompression,
    `compression ${names[codec] ?? codec} is not supported (none and gzip are)`,
  );
}

export function inflateRecords(codec: number, bytes: Buffer): Buffer {
  if (codec !== 1) throw unsupported(codec);
  try {
    return gunzipSync(bytes, { maxOutputLength: decompressedBytesMax });
  } catch (err) {
    throw new SluiceError(ErrorCode.CorruptRecord, `gzip records do not inflate: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

export function deflateRecords(codec: number, bytes: Buffer): Buffer {
  if (codec === 0) return bytes;
  if (codec !== 1) throw unsupported(codec);
  return gzipSync(bytes);
}
