/**
 * The fuzz generators are pure and seeded: the same (seed, index) gives the
 * same bytes, every native API and every mutation family is reached, valid
 * frames are valid to the broker's own decoders, and the lies they tell are
 * lies the broker's checks see.
 */
import { pack, unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { decodeKafkaRequest } from '../../src/protocol/kafka/codec.js';
import { ApiKey, apiName } from '../../src/protocol/native/api-keys.js';
import { decodeRequest } from '../../src/protocol/native/frame.js';
import { SluiceError } from '../../src/shared/errors.js';
import { validateBatch } from '../../src/wire/record-batch.js';
import { parseArgs } from './args.js';
import { frameMutationKinds, mutateFrame } from './frame-mutations.js';
import type { FuzzFrame } from './fuzz-frame.js';
import { kafkaFrame, kafkaKinds, kafkaPayload, lengthFields } from './kafka-mutator.js';
import { kafkaTemplates } from './kafka-templates.js';
import { RawMsgpack, writeMsgpack } from './msgpack-writer.js';
import { nativeBody, smallBatch } from './native-bodies.js';
import { nativeFrame, nativeKinds } from './native-mutator.js';
import { Random } from './random.js';
import { mutateBatch } from './record-batch-mutations.js';
import { connectionPlan, longFramesMax, splitClosers } from './sender.js';

const maxFrameBytes = 100 * 1024 * 1024;
const sample = 3000;

describe('the native generator', () => {
  it('replays: the same seed and index give the same frame, another seed another', () => {
    for (const i of [0, 1, 77, 2999]) {
      expect(nativeFrame(7, i, maxFrameBytes)).toEqual(nativeFrame(7, i, maxFrameBytes));
    }
    const a = Array.from({ length: 50 }, (_, i) => nativeFrame(7, i, maxFrameBytes).bytes.toString('hex'));
    const b = Array.from({ length: 50 }, (_, i) => nativeFrame(8, i, maxFrameBytes).bytes.toString('hex'));
    expect(a.filter((x, i) => x === b[i]).length).toBeLessThan(5);
  });

  it('reaches every native API and every mutation family', () => {
    const frames = Array.from({ length: sample }, (_, i) => nativeFrame(1, i, maxFrameBytes));
    expect(new Set(frames.map((f) => f.kind))).toEqual(new Set(nativeKinds));
    const apis = new Set(frames.filter((f) => f.kind === 'valid').map((f) => f.api));
    expect(apis).toEqual(new Set(Object.values(ApiKey).map(apiName)));
    const details = new Set(frames.map((f) => f.detail));
    for (const label of ['null-element', 'deep-nesting', 'huge-claim', 'proto-key', 'nan', 'ext', 'wrong-type']) {
      expect(
        [...details].some((d) => d.includes(label)),
        label,
      ).toBe(true);
    }
  });

  it('writes valid frames the broker decodes: the declared length, a five-element envelope, a map body', () => {
    const valid = Array.from({ length: sample }, (_, i) => nativeFrame(2, i, maxFrameBytes)).filter(
      (f) => f.kind === 'valid',
    );
    expect(valid.length).toBeGreaterThan(100);
    for (const f of valid) {
      expect(f.bytes.readInt32BE(0)).toBe(f.bytes.length - 4);
      const { header, body } = decodeRequest(f.bytes.subarray(4));
      expect(apiName(header.apiKey)).toBe(f.api);
      expect(header.correlationId).toBe(f.index + 1);
      expect(typeof body).toBe('object');
    }
  });

  it("makes bad batches the broker's batch validation refuses (CRC, magic, truncation)", () => {
    const random = new Random(3);
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const { bytes, kind } = mutateBatch(smallBatch(random), random, smallBatch(random));
      seen.add(kind);
      if (kind === 'crc' || kind === 'magic' || kind === 'truncated') {
        expect(() => validateBatch(bytes, 0, bytes.length), kind).toThrow();
      }
      if (kind === 'lz4-frame') {
        // a lying lz4 frame is refused with a typed error (or, a lie that still decodes, accepted)
        try {
          validateBatch(bytes, 0, bytes.length);
        } catch (err) {
          expect(err, 'lz4-frame refusal').toBeInstanceOf(SluiceError);
        }
      }
    }
    expect(seen.size).toBe(12);
  });

  it("writes every native API's body as msgpackr (the native client's encoder) would", () => {
    const random = new Random(4);
    for (const key of Object.values(ApiKey)) {
      const body = nativeBody(key, random);
      expect(unpack(writeMsgpack(body)), apiName(key)).toEqual(unpack(pack(body)));
    }
  });
});

describe('the MessagePack writer', () => {
  it('writes what msgpackr reads back, and raw bytes verbatim', () => {
    const value = {
      a: [1, -1, -33, 300, 70_000, -70_000, 2 ** 40, 1.5, null, true, false],
      s: 'x'.repeat(40),
      b: Buffer.from([1, 2]),
    };
    expect(unpack(writeMsgpack(value))).toEqual(value);
    expect(writeMsgpack([new RawMsgpack(Buffer.from([0xc1]), 'reserved')])).toEqual(Buffer.from([0x91, 0xc1]));
  });
});

describe('the Kafka generator', () => {
  it("replays, reaches every family, and its valid frames decode with the listener's own codec", async () => {
    const templates = await kafkaTemplates();
    expect(kafkaFrame(templates, 5, 10, maxFrameBytes)).toEqual(kafkaFrame(templates, 5, 10, maxFrameBytes));
    const frames = Array.from({ length: sample }, (_, i) => kafkaFrame(templates, 5, i, maxFrameBytes));
    expect(new Set(frames.map((f) => f.kind))).toEqual(new Set(kafkaKinds));
    for (const f of frames.filter((x) => x.kind === 'valid')) {
      const request = decodeKafkaRequest(f.bytes.subarray(4));
      expect(request.api, f.api).toBeDefined();
      expect(request.header.correlationId).toBe(f.index + 1);
    }
    // every advertised API kafkajs has an encoder for has a template (not DescribeCluster, IncrementalAlterConfigs)
    expect(new Set(templates.map((t) => t.apiKey)).size).toBe(19);
  });

  it('finds the string and array lengths in a request body', () => {
    const body = Buffer.concat([Buffer.from([0, 0, 0, 1, 0, 4]), Buffer.from('fuzz')]);
    expect(lengthFields(body)).toEqual(
      expect.arrayContaining([
        { at: 0, width: 4 },
        { at: 4, width: 2 },
      ]),
    );
    expect(kafkaPayload(3, 1, 9, body).readInt32BE(4)).toBe(9);
  });
});

describe('frame mutations and the connection plan', () => {
  it('reach every kind and keep the prefix honest except where they lie about it', () => {
    const random = new Random(6);
    const payload = Buffer.from('0123456789abcdef');
    const seen = new Set<string>();
    for (let i = 0; i < 400; i++) {
      const { bytes, kind } = mutateFrame(payload, random, 4, maxFrameBytes);
      seen.add(kind);
      if (kind === 'bit-flip' || kind === 'truncate' || kind === 'extend')
        expect(bytes.readInt32BE(0)).toBe(bytes.length - 4);
      if (kind === 'length-negative') expect(bytes.readInt32BE(0)).toBeLessThan(0);
    }
    expect(seen).toEqual(new Set(frameMutationKinds));
  });

  it('covers every frame once, in order, on short and long connections', () => {
    const plan = [...connectionPlan(9, 'native', 5000)];
    expect(plan[0]?.start).toBe(0);
    for (let i = 1; i < plan.length; i++)
      expect(plan[i]?.start).toBe((plan[i - 1]?.start ?? 0) + (plan[i - 1]?.count ?? 0));
    expect(plan.reduce((n, p) => n + p.count, 0)).toBe(5000);
    expect(plan.some((p) => p.count === 1)).toBe(true);
    expect(plan.some((p) => p.count > 1)).toBe(true);
    expect(Math.max(...plan.map((p) => p.count))).toBeLessThanOrEqual(longFramesMax);
    expect([...connectionPlan(9, 'native', 5000)]).toEqual(plan);
  });

  it('puts at most one undecodable frame on a long connection, last; the others go alone', () => {
    const f = (index: number): FuzzFrame => ({
      listener: 'native',
      index,
      kind: 'k',
      detail: '',
      api: 'a',
      bytes: Buffer.alloc(0),
    });
    const frames = [0, 1, 2, 3, 4].map(f);
    const bad = new Set([1, 3]);
    const split = splitClosers(frames, (x) => !bad.has(x.index)).map((c) => c.map((x) => x.index));
    expect(split).toEqual([[0, 2, 4, 1], [3]]);
    expect(splitClosers([f(7)], () => false).map((c) => c.map((x) => x.index))).toEqual([[7]]);
    expect(splitClosers(frames, () => true)).toEqual([frames]);
  });

  it('parses the CLI', () => {
    expect(parseArgs(['--frames', '2000', '--seed', '42', '--listener', 'kafka'], 1)).toMatchObject({
      frames: 2000,
      seed: 42,
      listeners: ['kafka'],
    });
    expect(parseArgs([], 5)).toMatchObject({ frames: 100_000, seed: 5, listeners: ['native', 'kafka'] });
    expect(() => parseArgs(['--frames', '-3'], 1)).toThrow(/--frames/);
    expect(() => parseArgs(['--listener', 'http'], 1)).toThrow(/--listener/);
  });
});
