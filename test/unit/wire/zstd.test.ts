/**
 * zstd written by Sluice (src/wire/zstd.ts, zstd-wasm) and read back by the
 * bounded decoder (fzstd, src/wire/compression.ts): round trips at the codec
 * and batch level, the typed error before set-up, and the bounds both ways
 * (a frame that inflates past decompressedBytesMax, a frame whose header
 * lies, an input larger than the compressor takes).
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { ErrorCode } from '../../../src/shared/errors.js';
import { zstdCompressBytesMax, zstdWindowBytesMax } from '../../../src/shared/limits.js';
import { deflateRecords, inflateRecords } from '../../../src/wire/compression.js';
import type { RecordInput } from '../../../src/wire/record.js';
import { Compression, compressionOf, validateBatch } from '../../../src/wire/record-batch.js';
import { decodeBatchRecords } from '../../../src/wire/record-batch-decoder.js';
import { encodeRecordBatch } from '../../../src/wire/record-batch-encoder.js';
import { initZstd, zstdCompress, zstdReady } from '../../../src/wire/zstd.js';
import { expectSluiceError, prng, randomBytes } from '../../helpers/wire-bytes.js';

const zstdMagic = '28b52ffd';

describe('before set-up', () => {
  it('compressing is a CodecNotReady SluiceError (not the module’s TypeError), through deflateRecords too', async () => {
    // a fresh copy of the modules: the one this file set up below must not be the one tested here
    vi.resetModules();
    const zstd = await import('../../../src/wire/zstd.js');
    const compression = await import('../../../src/wire/compression.js');
    const errors = await import('../../../src/shared/errors.js');
    expect(zstd.zstdReady()).toBe(false);
    for (const f of [
      () => zstd.zstdCompress(Buffer.from('x')),
      () => compression.deflateRecords(4, Buffer.from('x')),
    ]) {
      let thrown: unknown;
      try {
        f();
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(errors.SluiceError);
      expect((thrown as { code: string }).code).toBe(ErrorCode.CodecNotReady);
      expect((thrown as Error).message).toMatch(/initZstd/);
    }
    // (not set up here: zstd-wasm is one instance per process, and loading it again under a
    // module already using it would swap its memory mid-use — the one-promise initZstd prevents that)
    vi.resetModules();
  });
});

describe('after set-up', () => {
  beforeAll(() => initZstd());

  it('initZstd is one promise per process, and zstdReady says it finished', async () => {
    expect(initZstd()).toBe(initZstd());
    await initZstd();
    expect(zstdReady()).toBe(true);
  });

  it('round trips random, repetitive and empty records through deflateRecords and the bounded reader', () => {
    const random = randomBytes(prng(7), 100_000);
    const repetitive = Buffer.from('{"user":42,"action":"click"}\n'.repeat(5_000));
    for (const bytes of [random, repetitive, Buffer.alloc(0), Buffer.from('x')]) {
      const frame = deflateRecords(Compression.zstd, bytes);
      expect(frame.subarray(0, 4).toString('hex')).toBe(zstdMagic);
      expect(inflateRecords(Compression.zstd, frame).equals(bytes)).toBe(true);
    }
    expect(deflateRecords(Compression.zstd, repetitive).length).toBeLessThan(repetitive.length / 50);
  });

  it('writes RecordBatch v2 with codec 4 whose records decode as they were', () => {
    const records: RecordInput[] = Array.from({ length: 50 }, (_, i) => ({
      key: i % 5 === 0 ? null : Buffer.from(`k${i}`),
      value: Buffer.from(`value ${i} `.repeat(30)),
      timestamp: 1_700_000_000_000 + i,
      headers: i % 2 ? [{ key: 'h', value: Buffer.from(String(i)) }] : [],
    }));
    const batch = encodeRecordBatch(records, { baseOffset: 100, compression: Compression.zstd });
    expect(compressionOf(batch)).toBe(Compression.zstd);
    expect(validateBatch(batch, 0, batch.length)).toBe(batch.length);
    expect(decodeBatchRecords(batch)).toEqual(decodeBatchRecords(encodeRecordBatch(records, { baseOffset: 100 })));
  });

  it('refuses more input than zstdCompressBytesMax with RECORD_TOO_LARGE, before copying it into WebAssembly memory', () => {
    expectSluiceError(() => zstdCompress(Buffer.alloc(zstdCompressBytesMax + 1)), ErrorCode.RecordTooLarge);
  });

  it('reads a hostile frame within the bound: a small frame that inflates past decompressedBytesMax is CORRUPT_RECORD (bound lowered to 64 KiB)', async () => {
    const bomb = zstdCompress(Buffer.alloc(1024 * 1024));
    expect(bomb.length).toBeLessThan(200);
    vi.resetModules();
    vi.doMock('../../../src/shared/limits.js', async (importOriginal) => ({
      ...(await importOriginal<typeof import('../../../src/shared/limits.js')>()),
      decompressedBytesMax: 64 * 1024,
    }));
    const fresh = await import('../../../src/wire/compression.js');
    let thrown: unknown;
    try {
      fresh.inflateRecords(Compression.zstd, bomb);
    } catch (err) {
      thrown = err;
    }
    expect((thrown as { code?: string } | undefined)?.code).toBe(ErrorCode.CorruptRecord);
    expect((thrown as Error).message).toMatch(/more than 65536 bytes/);
    vi.doUnmock('../../../src/shared/limits.js');
    vi.resetModules();
  });

  it('refuses a frame whose header claims more content than it carries, or that is cut short, with CORRUPT_RECORD', () => {
    const frame = zstdCompress(Buffer.from('hello zstd, '.repeat(100)));
    // single segment, 4-byte content size of 1.5 GB, then a raw last block of 3 bytes
    const liar = Buffer.from([
      0x28, 0xb5, 0x2f, 0xfd, 0xa0, 0x00, 0x00, 0x00, 0x60, 0x19, 0x00, 0x00, 0x61, 0x62, 0x63,
    ]);
    for (const bad of [liar, frame.subarray(0, frame.length - 3), frame.subarray(0, 6)]) {
      expectSluiceError(() => inflateRecords(Compression.zstd, bad), ErrorCode.CorruptRecord);
    }
    // (before the frame walk, fzstd allocated the 1.5 GB the liar declares and answered 'abc')
    expect(inflateRecords(Compression.zstd, Buffer.concat([frame, frame])).length).toBe(2 * 1200);
  });

  it('refuses a frame that asks for a window above zstdWindowBytesMax before the decoder allocates it', () => {
    // no content size, window descriptor exponent 18: 2^28 bytes; one raw block 'abc'
    const greedy = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 18 << 3, 0x19, 0x00, 0x00, 0x61, 0x62, 0x63]);
    expect(2 ** 28).toBeGreaterThan(zstdWindowBytesMax);
    expectSluiceError(() => inflateRecords(Compression.zstd, greedy), ErrorCode.CorruptRecord);
    // a 1 KiB window is fine
    const modest = Buffer.from(greedy);
    modest[5] = 0;
    expect(inflateRecords(Compression.zstd, modest).toString()).toBe('abc');
  });
});
