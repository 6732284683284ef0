/**
 * The LZ4 frame reader and writer (src/wire/lz4.ts) and its checksum
 * (xxhash32.ts), against the reference implementation: frames written by the
 * `lz4` command-line tool (a fixture, and live), frames Sluice writes read
 * back by that tool, and hand-laid frames that lie in one field each.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/shared/errors.js';
import { decompressedBytesMax } from '../../../src/shared/limits.js';
import { deflateRecords, inflateRecords } from '../../../src/wire/compression.js';
import { Lz4FormatError, lz4DecodeFrames, lz4EncodeFrame } from '../../../src/wire/lz4.js';
import type { RecordInput } from '../../../src/wire/record.js';
import { Compression, compressionOf, validateBatch } from '../../../src/wire/record-batch.js';
import { decodeBatchRecords } from '../../../src/wire/record-batch-decoder.js';
import { encodeRecordBatch } from '../../../src/wire/record-batch-encoder.js';
import { xxhash32 } from '../../../src/wire/xxhash32.js';
import { repoRoot } from '../../helpers/broker-process.js';
import { expectSluiceError, loadFixture, prng, randomBytes } from '../../helpers/wire-bytes.js';

const CORRUPT = ErrorCode.CorruptRecord;
const lz4Tool = '/usr/bin/lz4';

/** The fixture's text: 1500 JSON lines (the generator the fixture's description names). */
function jsonLines(): Buffer {
  return Buffer.from(
    Array.from(
      { length: 1500 },
      (_, i) => `{"id":${i},"user":"user-${i % 37}","tags":["a${i % 5}","b${i % 11}"],"ok":${i % 2 === 0}}\n`,
    ).join(''),
  );
}

function xorshiftNoise(length: number, seed: number): Buffer {
  let x = seed;
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

const fixture = loadFixture<{ frames: Record<string, string> }>('wire/lz4-frames.json');
const frame = (name: string): Buffer => Buffer.from(fixture.frames[name] as string, 'hex');

/** Header of a frame: magic, FLG, BD, [content size], HC computed right. */
function header(flg: number, bd: number, contentSize?: number): Buffer {
  const descriptor = Buffer.alloc(contentSize === undefined ? 2 : 10);
  descriptor[0] = flg;
  descriptor[1] = bd;
  if (contentSize !== undefined) descriptor.writeBigUInt64LE(BigInt(contentSize), 2);
  const magic = Buffer.from([0x04, 0x22, 0x4d, 0x18]);
  return Buffer.concat([magic, descriptor, Buffer.from([(xxhash32(descriptor) >>> 8) & 0xff])]);
}
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0, 0);
  return b;
};
const endMark = u32(0);
/** A frame of independent 64 KiB blocks (FLG 0x60, BD 0x40) holding these compressed blocks. */
const frameOf = (...blocks: Buffer[]): Buffer =>
  Buffer.concat([header(0x60, 0x40), ...blocks.flatMap((b) => [u32(b.length), b]), endMark]);

function expectFormatError(fn: () => unknown, pattern?: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown, 'an Lz4FormatError').toBeInstanceOf(Lz4FormatError);
  if (pattern) expect((thrown as Error).message).toMatch(pattern);
}

beforeAll(() => {
  execFileSync('bash', [path.join(repoRoot, 'scripts/debian-package.sh'), 'ensure', 'lz4', lz4Tool], {
    stdio: 'inherit',
    timeout: 300_000,
  });
});

describe('xxhash32', () => {
  it("gives the reference implementation's values (seed 0 and 1, short and long input)", () => {
    const h = (s: string, seed = 0): number => xxhash32(Buffer.from(s), 0, Buffer.byteLength(s), seed);
    expect(h('')).toBe(0x02cc5d05);
    expect(h('a')).toBe(0x550d7456);
    expect(h('abc')).toBe(0x32d153ff);
    expect(h('Nobody inspects the spammish repetition')).toBe(0xe2293b2f);
    expect(h('', 1)).toBe(0x0b2cb792);
    // a range inside a larger buffer hashes as that range alone
    const b = Buffer.from('xxabcxx');
    expect(xxhash32(b, 2, 5)).toBe(0x32d153ff);
  });
});

describe('frames written by the lz4 tool (reference implementation)', () => {
  const text = jsonLines();

  it('decodes every layout: independent and linked blocks, block and content checksums, content size, stored blocks', () => {
    expect(lz4DecodeFrames(frame('hello'), 1024).toString()).toBe('hello lz4 hello lz4 hello lz4 records');
    for (const name of [
      'textIndependent64k',
      'textLinked64k',
      'textBlockChecksums256k',
      'textContentSize',
      'textNoContentChecksum',
      'textHigh',
    ]) {
      expect(lz4DecodeFrames(frame(name), decompressedBytesMax).equals(text), name).toBe(true);
    }
    expect(lz4DecodeFrames(frame('noiseStored'), 1 << 20).equals(xorshiftNoise(3000, 7))).toBe(true);
  });

  it('decodes what the tool writes now, live, for random and repetitive data of many sizes', () => {
    const random = prng(21);
    for (const size of [1, 12, 13, 100, 65_535, 65_536, 65_537, 300_000]) {
      const repetitive = Buffer.from(
        Array.from({ length: size }, (_, i) => 'abcdefgh'.charCodeAt((i * 7 + Math.floor(i / 100)) % 8)),
      );
      for (const data of [randomBytes(random, size), repetitive]) {
        for (const options of [['-BD'], ['-BI', '-BX', '--content-size'], ['-9', '-B5']]) {
          const f = execFileSync(lz4Tool, ['-c', '-q', ...options], { input: data });
          expect(lz4DecodeFrames(f, decompressedBytesMax).equals(data), `${size} ${options.join(' ')}`).toBe(true);
        }
      }
    }
  });

  it('reads several frames in a row and skips skippable frames, as the format allows', () => {
    const skippable = Buffer.concat([u32(0x184d2a53), u32(3), Buffer.from('zzz')]);
    const joined = Buffer.concat([frame('hello'), skippable, frame('noiseStored')]);
    const out = lz4DecodeFrames(joined, 1 << 20);
    expect(
      out.equals(Buffer.concat([Buffer.from('hello lz4 hello lz4 hello lz4 records'), xorshiftNoise(3000, 7)])),
    ).toBe(true);
  });
});

describe('frames Sluice writes', () => {
  it('are read by the lz4 tool and by the reader, laid out as Kafka producers write them', () => {
    const random = prng(5);
    const inputs = [
      Buffer.from('x'),
      Buffer.from('hello hello hello hello hello'),
      jsonLines(),
      Buffer.alloc(300_000, 7),
      randomBytes(random, 200_000),
      Buffer.concat([randomBytes(random, 70_000), Buffer.alloc(70_000, 1), jsonLines()]),
    ];
    for (const data of inputs) {
      const f = lz4EncodeFrame(data);
      expect(f.readUInt32LE(0)).toBe(0x184d2204);
      expect(f[4], 'FLG: version 01, independent blocks, no checksums').toBe(0x60);
      expect(f[5], 'BD: 64 KiB blocks').toBe(0x40);
      expect(f.subarray(f.length - 4).equals(endMark)).toBe(true);
      expect(execFileSync(lz4Tool, ['-d', '-c', '-q'], { input: f }).equals(data), `${data.length} bytes`).toBe(true);
      expect(lz4DecodeFrames(f, decompressedBytesMax).equals(data)).toBe(true);
    }
    // compressible data shrinks, incompressible data is stored (at most a few bytes per 64 KiB block larger)
    expect(lz4EncodeFrame(jsonLines()).length).toBeLessThan(jsonLines().length / 3);
    const noise = randomBytes(random, 200_000);
    expect(lz4EncodeFrame(noise).length).toBeLessThanOrEqual(200_000 + 11 + 4 * 4);
  });

  it('round trip for every size around the block and end-of-block limits', () => {
    const random = prng(8);
    for (let size = 0; size < 80; size++) {
      const data = Buffer.from(Array.from({ length: size }, (_, i) => (i % 5 === 0 ? random() * 256 : 97 + (i % 3))));
      expect(lz4DecodeFrames(lz4EncodeFrame(data), 1 << 20).equals(data), `${size}`).toBe(true);
    }
  });
});

describe('malformed frames fail with Lz4FormatError and write nothing past the bound', () => {
  const hello = frame('hello');
  // one block: 5 literals "abcde", a match at offset 5 of 4+2 bytes, then 5 last literals
  const block = Buffer.from([0x52, ...Buffer.from('abcde'), 5, 0, 0x50, ...Buffer.from('vwxyz')]);

  it('a hand-laid frame decodes (the baseline the lies below start from)', () => {
    expect(lz4DecodeFrames(frameOf(block), 100).toString()).toBe('abcdeabcdeavwxyz');
  });

  it('every prefix of a frame (truncation at every byte)', () => {
    for (const f of [hello, frameOf(block), frame('textBlockChecksums256k').subarray(0, 400)]) {
      for (let n = 0; n < f.length; n++) expectFormatError(() => lz4DecodeFrames(f.subarray(0, n), 1 << 20));
    }
  });

  it('a lie in the descriptor: magic, version, reserved bits, block size id, header checksum, dictionary', () => {
    const lies: Buffer[] = [];
    const magic = Buffer.from(hello);
    magic[0] = 0x05;
    lies.push(magic);
    lies.push(Buffer.concat([header(0xa0, 0x40), endMark])); // version 10
    lies.push(Buffer.concat([header(0x62, 0x40), endMark])); // FLG reserved bit
    lies.push(Buffer.concat([header(0x60, 0xc0), endMark])); // BD reserved bit
    lies.push(Buffer.concat([header(0x60, 0x41), endMark])); // BD low reserved bits
    for (const id of [0, 1, 2, 3]) lies.push(Buffer.concat([header(0x60, id << 4), endMark]));
    const hc = Buffer.from(hello);
    hc[6] = (hc[6] as number) ^ 0x01;
    lies.push(hc);
    const dict = Buffer.concat([u32(0x184d2204), Buffer.from([0x61, 0x40, 1, 2, 3, 4])]);
    lies.push(Buffer.concat([dict, Buffer.from([(xxhash32(dict, 4) >>> 8) & 0xff]), endMark]));
    for (const f of lies) expectFormatError(() => lz4DecodeFrames(f, 1 << 20));
  });

  it('lengths that lie: block sizes, literal and match lengths, offsets, content size', () => {
    const cases: Array<[Buffer, RegExp]> = [
      // a block size past the data, and one past the frame's block maximum
      [Buffer.concat([header(0x60, 0x40), u32(100), block, endMark]), /runs past the data/],
      [Buffer.concat([header(0x60, 0x40), u32(65_537), Buffer.alloc(65_537), endMark]), /passes the frame's/],
      [Buffer.concat([header(0x60, 0x40), u32(0x80000000 | 65_537), Buffer.alloc(65_537), endMark]), /passes/],
      [Buffer.concat([header(0x60, 0x40), u32(0x7fffffff), endMark]), /passes/],
      // literals longer than the block; a literal length whose extra bytes run off the end
      [frameOf(Buffer.from([0x90, 1, 2, 3])), /literals of 9 bytes run past/],
      [frameOf(Buffer.from([0xf0, 255, 255])), /literal length runs past/],
      // offset 0; an offset reaching before the output; the offset cut off
      [frameOf(Buffer.from([0x10, 0x61, 0, 0, 0x10, 0x61])), /offset 0/],
      [frameOf(Buffer.from([0x10, 0x61, 2, 0, 0x10, 0x61])), /offset 2 reaches before/],
      [frameOf(Buffer.from([0x10, 0x61, 1])), /offset cut off/],
      // a match length whose extra bytes run off the end; a block ending after a match (no last literals)
      [frameOf(Buffer.from([0x1f, 0x61, 1, 0, 255])), /match length runs past/],
      [frameOf(Buffer.from([0x10, 0x61, 1, 0])), /ends without its last literals/],
      // a content size the blocks do not match, and one past the bound
      [Buffer.concat([header(0x68, 0x40, 17), u32(block.length), block, endMark]), /descriptor says 17/],
      [Buffer.concat([header(0x68, 0x40, 2 ** 40), endMark]), /claims more than/],
      // a block checksum and a content checksum that do not match
      [
        Buffer.concat([header(0x70, 0x40), u32(block.length), block, u32(12345), endMark]),
        /block checksum does not match/,
      ],
      [Buffer.concat([header(0x64, 0x40), u32(block.length), block, endMark, u32(12345)]), /content checksum/],
      // bytes after the frame that are no frame
      [Buffer.concat([hello, Buffer.from('garbage!')]), /not an lz4 frame/],
      [Buffer.concat([u32(0x184d2a50), u32(100), Buffer.alloc(3)]), /skippable frame of 100 bytes/],
      [Buffer.alloc(0), /no lz4 frame/],
    ];
    for (const [f, pattern] of cases) expectFormatError(() => lz4DecodeFrames(f, 1 << 20), pattern);
  });

  it('an independent block cannot reach into the block before it; a linked block can', () => {
    const first = Buffer.from([0x50, ...Buffer.from('abcde')]);
    const second = Buffer.from([0x00, 5, 0, 0x10, 0x7a]); // a match of 4 at offset 5, then "z"
    expectFormatError(() => lz4DecodeFrames(frameOf(first, second), 100), /reaches before/);
    const linked = Buffer.concat([header(0x40, 0x40), u32(first.length), first, u32(second.length), second, endMark]);
    expect(lz4DecodeFrames(linked, 100).toString()).toBe('abcdeabcdz');
  });

  it("accepts Kafka's old broken header checksum (over the magic too) only when asked", () => {
    const descriptor = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40]);
    const legacy = Buffer.concat([
      descriptor,
      Buffer.from([(xxhash32(descriptor) >>> 8) & 0xff]),
      u32(block.length),
      block,
      endMark,
    ]);
    expectFormatError(() => lz4DecodeFrames(legacy, 100), /header checksum/);
    expect(lz4DecodeFrames(legacy, 100, { legacyHeaderChecksum: true }).toString()).toBe('abcdeabcdeavwxyz');
  });
});

/** A block of 4 MiB from ~16 KiB: one literal, one match at offset 1 as long as the block allows, five last literals. */
function bombBlock(): Buffer {
  const matchLength = 4 * 1024 * 1024 - 1 - 5;
  let rest = matchLength - 4 - 15;
  const lengthBytes: number[] = [];
  while (rest >= 255) {
    lengthBytes.push(255);
    rest -= 255;
  }
  lengthBytes.push(rest);
  return Buffer.from([0x1f, 0x61, 1, 0, ...lengthBytes, 0x50, 1, 2, 3, 4, 5]);
}

describe('decompression bombs', () => {
  const blockBytes = 4 * 1024 * 1024;
  const bomb = (blocks: number): Buffer => {
    const b = bombBlock();
    return Buffer.concat([
      header(0x60, 0x70),
      ...Array.from({ length: blocks }, () => [u32(b.length), b]).flat(),
      endMark,
    ]);
  };

  it('inflate exactly to the bound and fail one block past it, without growing the output past the bound', () => {
    expect(lz4DecodeFrames(bomb(1), blockBytes).length).toBe(blockBytes);
    expect(lz4DecodeFrames(bomb(3), 3 * blockBytes).length).toBe(3 * blockBytes);
    expectFormatError(() => lz4DecodeFrames(bomb(3), 3 * blockBytes - 1), /past its block size or the bound/);
    expectFormatError(() => lz4DecodeFrames(bomb(2), 1000), /past its block size or the bound/);
    // stored blocks against the bound too
    const stored = Buffer.concat([header(0x60, 0x40), u32(0x80000000 | 600), Buffer.alloc(600), endMark]);
    expect(lz4DecodeFrames(stored, 600).length).toBe(600);
    expectFormatError(() => lz4DecodeFrames(stored, 599), /more than 599 bytes/);
  });

  it(`a bomb past decompressedBytesMax (${decompressedBytesMax} bytes) from about 1 MB is CORRUPT_RECORD`, () => {
    const blocks = decompressedBytesMax / blockBytes + 1;
    const b = bomb(blocks);
    expect(b.length).toBeLessThan(1.1 * 1024 * 1024);
    const err = expectSluiceError(() => inflateRecords(Compression.lz4, b), CORRUPT);
    expect(err.cause).toBeInstanceOf(Lz4FormatError);
  });
});

describe('lz4 record batches (codec 3)', () => {
  const records: RecordInput[] = Array.from({ length: 50 }, (_, i) => ({
    key: i % 4 === 0 ? null : Buffer.from(`key-${i}`),
    value: Buffer.from(`{"n":${i},"pad":"${'p'.repeat(100)}"}`),
    timestamp: 1_700_000_000_000 + i,
    headers: [],
  }));

  it('round trip through the batch encoder, validateBatch and the decoder, and are smaller', () => {
    const lz4 = encodeRecordBatch(records, { baseOffset: 7, compression: Compression.lz4 });
    const plain = encodeRecordBatch(records, { baseOffset: 7 });
    expect(compressionOf(lz4)).toBe(Compression.lz4);
    expect(lz4.length).toBeLessThan(plain.length / 3);
    expect(validateBatch(lz4, 0, lz4.length)).toBe(lz4.length);
    expect(decodeBatchRecords(lz4)).toEqual(decodeBatchRecords(plain));
  });

  it('deflateRecords writes lz4 and snappy (xerial framing) that inflateRecords reads', () => {
    const data = jsonLines();
    expect(inflateRecords(Compression.lz4, deflateRecords(Compression.lz4, data)).equals(data)).toBe(true);
    const snappy = deflateRecords(Compression.snappy, data);
    expect(snappy.subarray(0, 8).toString('hex')).toBe('82534e4150505900'); // xerial magic, as Kafka's Java producer
    expect(inflateRecords(Compression.snappy, snappy).equals(data)).toBe(true);
    expect(snappy.length).toBeLessThan(data.length / 2);
  });
});
