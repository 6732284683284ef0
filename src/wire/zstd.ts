/**
 * zstd compression (codec 4) through @bokuweb/zstd-wasm: the reference C
 * library built to WebAssembly, so Node 20 (whose zlib has no zstd) needs no
 * native build. Its module loads asynchronously: `initZstd()` runs once per
 * process — at broker start, when the logs open (before any listener accepts),
 * and in a producer whose compression is zstd before its first batch — and
 * `zstdCompress` is synchronous afterwards, like the other codecs. Called
 * before set-up finished, it fails with CodecNotReady rather than with the
 * module's own TypeError.
 *
 * Reading zstd stays with fzstd (./compression.ts): zstd-wasm's decompress
 * allocates whatever output size the frame header declares (a 6 KB frame
 * inflated to 200 MB when measured), with no bound a caller can set, while
 * fzstd's streaming decoder stops at decompressedBytesMax.
 */

import { compress, init } from '@bokuweb/zstd-wasm';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { zstdCompressBytesMax } from '../shared/limits.js';

/** Kafka's producer default (compression.zstd.level, KIP-390) and zstd's own. */
export const zstdLevel = 3;

let ready = false;
let starting: Promise<void> | undefined;

/** Loads the zstd module once; later calls return the same promise. A failed load may be retried. */
export function initZstd(): Promise<void> {
  starting ??= init().then(
    () => {
      ready = true;
    },
    (err: unknown) => {
      starting = undefined;
      throw new SluiceError(ErrorCode.CodecNotReady, `zstd did not load: ${(err as Error).message}`, { cause: err });
    },
  );
  return starting;
}

/** True once initZstd() has finished. */
export function zstdReady(): boolean {
  return ready;
}

/** `bytes` as one zstd frame (with its content size, as Kafka's clients write it). */
export function zstdCompress(bytes: Uint8Array): Buffer {
  if (!ready) {
    throw new SluiceError(ErrorCode.CodecNotReady, 'zstd is not set up: await initZstd() before compressing');
  }
  if (bytes.length > zstdCompressBytesMax) {
    throw new SluiceError(
      ErrorCode.RecordTooLarge,
      `zstd compresses at most ${zstdCompressBytesMax} bytes of records per batch, not ${bytes.length}`,
    );
  }
  const out = compress(bytes, zstdLevel);
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}
