/**
 * The LZ4 reader under a seeded stream of mutated frames (lz4-mutations.ts):
 * every frame either decodes within the bound or fails with Lz4FormatError
 * (CORRUPT_RECORD through the codec layer) — never another exception, never
 * output past the bound. The broker-level fuzz (`npm run fuzz`) sends the
 * same lies inside Produce batches (record-batch-mutations.ts, 'lz4-frame').
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, SluiceError } from '../../src/shared/errors.js';
import { inflateRecords } from '../../src/wire/compression.js';
import { Lz4FormatError, lz4DecodeFrames } from '../../src/wire/lz4.js';
import { Compression } from '../../src/wire/record-batch.js';
import { lz4Bomb, lz4MutationKinds, lz4Payload, mutateLz4Frame, validLz4Frame } from './lz4-mutations.js';
import { Random } from './random.js';

const seed = 1616;
const frames = 4000;
/** Small, so a bomb reaches it after one block and a valid payload (at most ~9 KB) still fits. */
const bound = 64 * 1024;

describe('lz4 frames under mutation', () => {
  it(`${frames} mutated frames (seed ${seed}): decoded within ${bound} bytes or refused typed`, () => {
    const random = new Random(seed);
    const seen = new Map<string, { decoded: number; refused: number }>();
    for (let i = 0; i < frames; i++) {
      const payload = lz4Payload(random);
      const valid = validLz4Frame(random, payload);
      expect(lz4DecodeFrames(valid, bound).equals(payload), `valid frame ${i}`).toBe(true);
      const { bytes, kind } = mutateLz4Frame(valid, random);
      const tally = seen.get(kind) ?? { decoded: 0, refused: 0 };
      seen.set(kind, tally);
      try {
        const out = lz4DecodeFrames(bytes, bound);
        expect(out.length).toBeLessThanOrEqual(bound);
        tally.decoded++;
      } catch (err) {
        if (!(err instanceof Lz4FormatError)) throw new Error(`frame ${i} (${kind}) threw ${String(err)}`);
        tally.refused++;
      }
    }
    expect(new Set(seen.keys())).toEqual(new Set(lz4MutationKinds));
    // the lies that can never decode were all refused
    for (const kind of ['truncated', 'offset', 'bomb'] as const) expect(seen.get(kind)?.decoded, kind).toBe(0);
    // and the codec layer turns every refusal into CORRUPT_RECORD
    for (let i = 0; i < 200; i++) {
      const { bytes } = mutateLz4Frame(validLz4Frame(random, lz4Payload(random)), random);
      try {
        inflateRecords(Compression.lz4, bytes);
      } catch (err) {
        expect(err).toBeInstanceOf(SluiceError);
        expect((err as SluiceError).code).toBe(ErrorCode.CorruptRecord);
      }
    }
  });

  it('a bomb stops at the bound: 16 KiB that would make 16 MiB fail at 64 KiB', () => {
    const bomb = lz4Bomb(4);
    expect(bomb.length).toBeLessThan(70 * 1024);
    expect(() => lz4DecodeFrames(bomb, bound)).toThrow(Lz4FormatError);
    expect(lz4DecodeFrames(bomb, 16 * 1024 * 1024).length).toBe(16 * 1024 * 1024);
  });
});
