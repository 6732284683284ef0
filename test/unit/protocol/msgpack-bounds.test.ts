/**
 * The walk over a native request's msgpack before it is decoded
 * (src/protocol/native/msgpack-bounds.ts): every request Sluice's clients
 * write passes, large ones included; amplification, nesting, extension types
 * and lying lengths are refused before msgpackr builds anything; and it never
 * throws, whatever the bytes.
 */
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { ApiKey } from '../../../src/protocol/native/api-keys.js';
import { encodeRequest } from '../../../src/protocol/native/frame.js';
import { msgpackBoundsProblem } from '../../../src/protocol/native/msgpack-bounds.js';
import { requestMsgpackDepthMax, requestMsgpackItemsMax } from '../../../src/shared/limits.js';
import { nativeRequestExamples } from '../../helpers/native-requests.js';
import { prng } from '../../helpers/prng.js';

const header = { apiKey: ApiKey.Produce, apiVersion: 0, correlationId: 1, clientId: 'c' };
const payload = (body: unknown): Buffer => encodeRequest(header, body).subarray(4);
/** A request envelope around raw body bytes. */
const enveloped = (body: Buffer): Buffer => Buffer.concat([Buffer.from([0x95, 0, 0, 1, 0xa1, 0x63]), body]);
const unpackr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false });

describe('msgpack bounds of native requests', () => {
  it('passes every example request, well-formed or malformed', () => {
    for (const example of nativeRequestExamples) {
      expect(msgpackBoundsProblem(payload(example.valid)), example.name).toBeUndefined();
    }
  });

  it('passes large legitimate requests: 1 MiB of records, 100,000 topic names, undefined fields', () => {
    const records = Buffer.alloc(1024 * 1024, 7);
    expect(
      msgpackBoundsProblem(payload({ acks: 1, topics: [{ name: 't', partitions: [{ partition: 0, records }] }] })),
    ).toBeUndefined();
    const names = Array.from({ length: 100_000 }, (_, i) => `topic-${i}`);
    expect(msgpackBoundsProblem(payload({ topics: names }))).toBeUndefined();
    expect(msgpackBoundsProblem(payload({ topics: null, groupId: undefined, when: new Date(0) }))).toBeUndefined();
  });

  it('refuses more values than the bound, before any is built', () => {
    const count = requestMsgpackItemsMax + 1;
    const list = Buffer.alloc(5 + count, 0x80);
    list[0] = 0xdd;
    list.writeUInt32BE(count, 1);
    expect(msgpackBoundsProblem(enveloped(list))).toBe(`more than ${requestMsgpackItemsMax} msgpack values`);
  });

  it('refuses nesting deeper than the bound, without recursion', () => {
    const deep = (levels: number) => enveloped(Buffer.concat([Buffer.alloc(levels, 0x91), Buffer.from([0xc0])]));
    expect(msgpackBoundsProblem(deep(requestMsgpackDepthMax - 3))).toBeUndefined();
    expect(msgpackBoundsProblem(deep(requestMsgpackDepthMax))).toBe(
      `msgpack nested deeper than ${requestMsgpackDepthMax}`,
    );
    expect(msgpackBoundsProblem(deep(1_000_000))).toBe(`msgpack nested deeper than ${requestMsgpackDepthMax}`);
  });

  it('refuses extension types other than undefined and timestamps', () => {
    for (const [ext, bytes] of [
      [5, [0xd4, 0x05, 0x01]],
      [0x65, [0xc7, 0x01, 0x65, 0x90]],
      [0x70, [0xc7, 0x02, 0x70, 0x92, 0x01]],
      [0x42, [0xd8, 0x42, ...Buffer.alloc(16)]],
      [0x72, [0xd4, 0x72, 0x00]],
      [0x73, [0xc8, 0x00, 0x01, 0x73, 0x90]],
      [0x40, [0xc9, 0, 0, 0, 1, 0x40, 0x00]],
    ] as [number, number[]][]) {
      expect(msgpackBoundsProblem(enveloped(Buffer.from(bytes))), `ext ${ext}`).toBe(
        `msgpack extension ${ext} is not accepted`,
      );
    }
    expect(msgpackBoundsProblem(enveloped(Buffer.from([0xc1])))).toBe('msgpack type 0xc1 is not accepted');
  });

  it('refuses lengths that claim more than the frame holds, and trailing bytes', () => {
    for (const bytes of [
      [0xdd, 0xff, 0xff, 0xff, 0xff],
      [0xdf, 0xff, 0xff, 0xff, 0xff],
      [0xdb, 0xff, 0xff, 0xff, 0xff],
      [0xc6, 0x00, 0x00, 0x10, 0x00, 0x01],
      [0xc9, 0xff, 0xff, 0xff, 0xff, 0x00],
      [0xcb, 0x00],
      [0xdc, 0x00],
      [0x92, 0x01],
    ]) {
      expect(msgpackBoundsProblem(enveloped(Buffer.from(bytes))), Buffer.from(bytes).toString('hex')).toBe(
        'truncated msgpack',
      );
    }
    expect(msgpackBoundsProblem(Buffer.concat([payload({}), Buffer.from([0x00])]))).toBe(
      'bytes after the msgpack value',
    );
    expect(msgpackBoundsProblem(Buffer.alloc(0))).toBe('truncated msgpack');
  });

  it('never throws on mutated requests, and what it passes msgpackr decodes', () => {
    const random = prng(0xb0b);
    const pick = (n: number) => Math.floor(random() * n);
    const seeds = nativeRequestExamples.map((e) => payload(e.valid));
    let passed = 0;
    for (let i = 0; i < 20_000; i++) {
      const bytes = Buffer.from(seeds[i % seeds.length] as Buffer);
      for (let flips = 1 + pick(4); flips > 0; flips--) bytes[pick(bytes.length)] = pick(256);
      const cut = pick(3) === 0 ? bytes.subarray(0, pick(bytes.length + 1)) : bytes;
      const problem = msgpackBoundsProblem(cut);
      if (problem !== undefined) continue;
      passed++;
      try {
        unpackr.unpack(cut);
      } catch (err) {
        // the one thing the walk does not look at: msgpackr refuses maps and lists as map keys
        expect((err as Error).message, cut.toString('hex')).toMatch(/Invalid property type|non-string keys/);
      }
    }
    expect(passed).toBeGreaterThan(1000);
  });
});
