import { gunzipSync, gzipSync } from 'node:zlib';
import { compress as snappyCompress } from 'snappyjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode } from '../../../src/shared/errors.js';
import { decompressedBytesMax } from '../../../src/shared/limits.js';
import { deflateRecords, inflateRecords } from '../../../src/wire/compression.js';
import type { RecordInput } from '../../../src/wire/record.js';
import { Compression, compressionOf, validateBatch } from '../../../src/wire/record-batch.js';
import { decodeBatchRecords } from '../../../src/wire/record-batch-decoder.js';
import { encodeRecordBatch } from '../../../src/wire/record-batch-encoder.js';
import { At, copy, expectSluiceError, loadFixture, prng, randomBytes, reseal } from '../../helpers/wire-bytes.js';

const { CorruptRecord: CORRUPT, UnsupportedCompression: UNSUPPORTED } = ErrorCode;
const T = 1_700_000_000_000;

const records: RecordInput[] = Array.from({ length: 20 }, (_, i) => ({
  key: i % 3 === 0 ? null : Buffer.from(`key-${i}`),
  value: Buffer.from(`value-${i} `.repeat(20)),
  timestamp: T + i,
  headers: i % 2 ? [{ key: 'n', value: Buffer.from(String(i)) }] : [],
}));

function gzipBatch(): Buffer {
  return encodeRecordBatch(records, { baseOffset: 50, compression: Compression.gzip });
}

/** Replaces the records area of a batch, fixing batchLength and the CRC. */
function withRecordsArea(batch: Buffer, area: Buffer): Buffer {
  const out = Buffer.concat([batch.subarray(0, At.records), area]);
  out.writeInt32BE(out.length - 12, At.batchLength);
  return reseal(out);
}

describe('deflateRecords / inflateRecords', () => {
  it('codec none passes the bytes through; gzip round trips', () => {
    const bytes = randomBytes(prng(5), 10_000);
    expect(deflateRecords(Compression.none, bytes)).toBe(bytes);
    const gz = deflateRecords(Compression.gzip, bytes);
    expect(gz.subarray(0, 2).toString('hex')).toBe('1f8b'); // a gzip member, as Kafka requires for codec 1
    expect(gunzipSync(gz).equals(bytes)).toBe(true);
    expect(inflateRecords(Compression.gzip, gz).equals(bytes)).toBe(true);
    expect(inflateRecords(Compression.gzip, gzipSync(bytes, { level: 9 })).equals(bytes)).toBe(true);
  });

  it('inflates a stream of several gzip members (as some producers write)', () => {
    const joined = Buffer.concat([gzipSync(Buffer.from('abc')), gzipSync(Buffer.from('def'))]);
    expect(inflateRecords(Compression.gzip, joined).toString()).toBe('abcdef');
  });

  it('refuses unknown codecs with UNSUPPORTED_COMPRESSION both ways', () => {
    for (const codec of [5, 6, 7]) {
      expectSluiceError(() => deflateRecords(codec, Buffer.from('x')), UNSUPPORTED);
      expectSluiceError(() => inflateRecords(codec, Buffer.from('x')), UNSUPPORTED);
    }
    // lz4 is read and written (test/unit/wire/lz4.test.ts): a byte that is no frame is corrupt, not unsupported
    expectSluiceError(() => inflateRecords(Compression.lz4, Buffer.from('x')), CORRUPT);
  });

  it('turns every zlib failure into CORRUPT_RECORD, keeping the cause', () => {
    const gz = gzipSync(Buffer.from('some records '.repeat(50)));
    const notGzip = Buffer.from('definitely not gzip');
    const truncated = gz.subarray(0, gz.length - 10);
    const badTrailer = copy(gz);
    badTrailer[gz.length - 5] = (badTrailer[gz.length - 5] as number) ^ 0xff; // stored CRC-32 of the data
    const badBody = copy(gz);
    badBody[15] = (badBody[15] as number) ^ 0xff;
    for (const bytes of [notGzip, truncated, badTrailer, badBody, Buffer.alloc(0)]) {
      const err = expectSluiceError(() => inflateRecords(Compression.gzip, bytes), CORRUPT);
      expect(err.cause).toBeInstanceOf(Error);
    }
  });
});

describe('gzip batches', () => {
  it('round trip through validateBatch and the decoder, and are smaller', () => {
    const buf = gzipBatch();
    const plain = encodeRecordBatch(records, { baseOffset: 50 });
    expect(compressionOf(buf)).toBe(Compression.gzip);
    expect(buf.length).toBeLessThan(plain.length);
    expect(validateBatch(buf, 0, buf.length)).toBe(buf.length);
    expect(decodeBatchRecords(buf)).toEqual(decodeBatchRecords(plain));
    expect(decodeBatchRecords(buf).map((r) => r.offset)).toEqual(records.map((_, i) => 50 + i));
  });

  it('with a corrupt gzip stream (CRC recomputed) → CORRUPT_RECORD from validateBatch and the decoder', () => {
    const good = gzipBatch();
    const area = good.subarray(At.records);
    const cases: Buffer[] = [];
    // a flipped byte inside the deflate data
    const flipped = copy(area);
    flipped[20] = (flipped[20] as number) ^ 0x55;
    cases.push(flipped);
    // a wrong gzip trailer
    const trailer = copy(area);
    trailer[trailer.length - 1] = (trailer[trailer.length - 1] as number) ^ 0x01; // ISIZE
    cases.push(trailer);
    // truncated stream
    cases.push(area.subarray(0, area.length - 8));
    // not gzip at all
    cases.push(Buffer.from('0123456789abcdef'));
    for (const c of cases) {
      const buf = withRecordsArea(good, c);
      expectSluiceError(() => validateBatch(buf, 0, buf.length), CORRUPT);
      expectSluiceError(() => decodeBatchRecords(buf), CORRUPT);
    }
  });

  it('whose inflated records are malformed (valid gzip) → CORRUPT_RECORD', () => {
    const good = gzipBatch();
    const inflated = gunzipSync(good.subarray(At.records));
    for (const body of [inflated.subarray(0, inflated.length - 1), Buffer.concat([inflated, Buffer.from([0])])]) {
      const buf = withRecordsArea(good, gzipSync(body));
      expectSluiceError(() => validateBatch(buf, 0, buf.length), CORRUPT);
    }
  });

  it('with a flipped byte and no CRC fix → CORRUPT_RECORD (the CRC covers the compressed bytes)', () => {
    const buf = gzipBatch();
    buf[buf.length - 3] = (buf[buf.length - 3] as number) ^ 0x10;
    expectSluiceError(() => validateBatch(buf, 0, buf.length), CORRUPT);
  });
});

describe('inflate bound', () => {
  afterEach(() => {
    vi.doUnmock('../../../src/shared/limits.js');
    vi.resetModules();
  });

  it(`refuses a gzip bomb past decompressedBytesMax (${decompressedBytesMax} bytes) with CORRUPT_RECORD`, () => {
    // sixteen 16 MiB members of zeros (= the bound exactly) plus one more byte: ~260 KB compressed
    const member = gzipSync(Buffer.alloc(16 * 1024 * 1024), { level: 9 });
    const members = decompressedBytesMax / (16 * 1024 * 1024);
    expect(Number.isInteger(members)).toBe(true);
    const bomb = Buffer.concat([...Array<Buffer>(members).fill(member), gzipSync(Buffer.alloc(1))]);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    expectSluiceError(() => inflateRecords(Compression.gzip, bomb), CORRUPT);
  });

  it('inflates exactly up to the bound and refuses one byte more (bound lowered to 4096)', async () => {
    vi.resetModules();
    vi.doMock('../../../src/shared/limits.js', async (importOriginal) => ({
      ...(await importOriginal<typeof import('../../../src/shared/limits.js')>()),
      decompressedBytesMax: 4096,
    }));
    const fresh = await import('../../../src/wire/compression.js');
    const bytes = randomBytes(prng(9), 4097);
    expect(
      fresh.inflateRecords(Compression.gzip, gzipSync(bytes.subarray(0, 4096))).equals(bytes.subarray(0, 4096)),
    ).toBe(true);
    let thrown: unknown;
    try {
      fresh.inflateRecords(Compression.gzip, gzipSync(bytes));
    } catch (err) {
      thrown = err;
    }
    // a fresh module graph: compare the code, not the class identity
    expect((thrown as { code?: string } | undefined)?.code).toBe(CORRUPT);
  });
});

describe('snappy', () => {
  // raw snappy written by hand from the format description: varint length 5, one literal of 5 bytes
  const literal = Buffer.concat([Buffer.from([5, (5 - 1) << 2]), Buffer.from('hello')]);
  const xerialHeader = Buffer.from('82534e41505059000000000100000001', 'hex');
  const block = (b: Buffer): Buffer => {
    const length = Buffer.alloc(4);
    length.writeInt32BE(b.length, 0);
    return Buffer.concat([length, b]);
  };

  it('inflates raw snappy and the xerial framing of Java and librdkafka producers (several blocks)', () => {
    expect(inflateRecords(Compression.snappy, literal).toString()).toBe('hello');
    const big = randomBytes(prng(3), 70_000);
    const compressed = Buffer.from(snappyCompress(big));
    expect(inflateRecords(Compression.snappy, compressed).equals(big)).toBe(true);
    const framed = Buffer.concat([xerialHeader, block(literal), block(compressed)]);
    expect(inflateRecords(Compression.snappy, framed).equals(Buffer.concat([Buffer.from('hello'), big]))).toBe(true);
  });

  it('refuses broken snappy with CORRUPT_RECORD', () => {
    const cases = [
      Buffer.from([5, (9 - 1) << 2, 0x68]), // a literal longer than the data
      Buffer.concat([xerialHeader, Buffer.from([0, 0, 0, 9]), literal]), // a block overrunning the data
      Buffer.concat([xerialHeader, Buffer.from([0, 0])]), // a cut block length
      Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // no valid length varint
    ];
    for (const c of cases) expectSluiceError(() => inflateRecords(Compression.snappy, c), CORRUPT);
  });

  it(`refuses a snappy stream claiming more than decompressedBytesMax`, () => {
    // varint of decompressedBytesMax + 1, then nothing: refused before any allocation
    const claim: number[] = [];
    for (let v = decompressedBytesMax + 1; ; v = Math.floor(v / 128)) {
      if (v < 128) {
        claim.push(v);
        break;
      }
      claim.push((v % 128) | 0x80);
    }
    expectSluiceError(() => inflateRecords(Compression.snappy, Buffer.from(claim)), CORRUPT);
  });
});

describe('zstd frames of the zstd tool', () => {
  const fixture = loadFixture<{ frames: Record<string, string> }>('wire/zstd-frames.json');
  const frame = (name: string): Buffer => Buffer.from(fixture.frames[name] as string, 'hex');

  it('inflates frames written by the zstd tool, with and without a content size', () => {
    expect(inflateRecords(Compression.zstd, frame('text')).toString()).toBe('hello zstd records');
    expect(inflateRecords(Compression.zstd, frame('a4096')).equals(Buffer.alloc(4096, 'a'))).toBe(true);
    expect(inflateRecords(Compression.zstd, frame('a4096Streamed')).equals(Buffer.alloc(4096, 'a'))).toBe(true);
  });

  it('refuses broken zstd with CORRUPT_RECORD', () => {
    const good = frame('text');
    for (const c of [good.subarray(0, good.length - 4), Buffer.from('not zstd at all'), Buffer.alloc(0)]) {
      expectSluiceError(() => inflateRecords(Compression.zstd, c), CORRUPT);
    }
  });

  it('stops at the bound while inflating (bound lowered to 4096)', async () => {
    vi.resetModules();
    vi.doMock('../../../src/shared/limits.js', async (importOriginal) => ({
      ...(await importOriginal<typeof import('../../../src/shared/limits.js')>()),
      decompressedBytesMax: 4096,
    }));
    const fresh = await import('../../../src/wire/compression.js');
    expect(fresh.inflateRecords(Compression.zstd, frame('a4096')).length).toBe(4096);
    let thrown: unknown;
    try {
      fresh.inflateRecords(Compression.zstd, frame('a4097'));
    } catch (err) {
      thrown = err;
    }
    expect((thrown as { code?: string } | undefined)?.code).toBe(CORRUPT);
    vi.doUnmock('../../../src/shared/limits.js');
    vi.resetModules();
  });
});
