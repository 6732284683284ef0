/**
 * The consumer's batch-level path (FetchBuffer.takeRuns / recordsOf in
 * src/client/consumer/records.ts): records taken without an object per record
 * are still walked and checked one by one, counted with their key and value
 * bytes, and decode later into exactly what take() returns; a malformed record
 * inside a batch is a typed error naming its partition, never a crash or a
 * silent skip.
 */
import { describe, expect, it } from 'vitest';
import {
  type CompletedFetch,
  completeFetch,
  FetchBuffer,
  type RecordRun,
  recordsOf,
} from '../../../src/client/consumer/records.js';
import { newState, type PartitionState } from '../../../src/client/consumer/subscription-state.js';
import type { ConsumerRecord } from '../../../src/client/types.js';
import { ErrorCode } from '../../../src/shared/errors.js';
import { Compression } from '../../../src/wire/record-batch.js';
import { encodeRecordBatch } from '../../../src/wire/record-batch-encoder.js';

function batch(
  base: number,
  values: (string | null)[],
  options: { compression?: Compression; headers?: boolean } = {},
) {
  return encodeRecordBatch(
    values.map((v, i) => ({
      key: i % 2 === 0 ? Buffer.from(`key${base + i}`) : null,
      value: v === null ? null : Buffer.from(v),
      headers: options.headers ? [{ key: 'h', value: Buffer.from(`x${i}`) }] : undefined,
      timestamp: 1_000 + i,
    })),
    { baseOffset: base, compression: options.compression },
  );
}

function state(topic = 't', partition = 3): PartitionState {
  const s = newState(topic, partition, { kind: 'earliest' }, 1 << 20);
  s.position = 0;
  return s;
}

function fetched(s: PartitionState, offset: number, bytes: Buffer): CompletedFetch {
  return completeFetch(s, offset, bytes) as CompletedFetch;
}

/** The same fetches in two buffers: one read by take(), one by takeRuns(). */
function twoBuffers(make: () => [PartitionState, number, Buffer][]): { eager: FetchBuffer; runs: FetchBuffer } {
  const eager = new FetchBuffer();
  const runs = new FetchBuffer();
  for (const [s, offset, bytes] of make()) eager.push(fetched(s, offset, bytes));
  for (const [s, offset, bytes] of make()) runs.push(fetched(s, offset, bytes));
  return { eager, runs };
}

function decoded(runs: RecordRun[]): ConsumerRecord[] {
  const out: ConsumerRecord[] = [];
  for (const run of runs) recordsOf(run, out);
  return out;
}

describe('consumer record runs (no object per record)', () => {
  it('count, offsets and key+value bytes from the walk; decoded later, the records equal take()', () => {
    const make = (): [PartitionState, number, Buffer][] => {
      const a = state('t', 3);
      const b = state('u', 0);
      return [
        [a, 1, Buffer.concat([batch(0, ['a', 'bb', null]), batch(3, ['dddd'], { headers: true })])],
        [b, 0, batch(0, ['e', 'ff'], { compression: Compression.gzip })],
      ];
    };
    const { eager, runs } = twoBuffers(make);
    const all = eager.take(100);
    const taken = runs.takeRuns(100);
    expect(runs.length).toBe(0);
    expect(taken.map((r) => [r.state.topic, r.count, r.firstOffset, r.lastOffset, r.bytes])).toEqual([
      // offset 0 lies before the fetch offset: walked, not counted; 'bb' + 'key2' + 'dddd' + 'key3'
      ['t', 3, 1, 3, 2 + 4 + 0 + 4 + 4],
      ['u', 2, 0, 1, 1 + 4 + 2],
    ]);
    const bytesOf = (rs: ConsumerRecord[]) => rs.reduce((n, r) => n + (r.key?.length ?? 0) + (r.value?.length ?? 0), 0);
    expect(taken.reduce((n, r) => n + r.bytes, 0)).toBe(bytesOf(all));
    expect(decoded(taken)).toEqual(all);
    // a run decodes again the same (batch.messages may be read after a setter replaced it, or twice)
    expect(decoded(taken)).toEqual(all);
  });

  it('takes at most n records, resuming mid-batch; a compressed batch is inflated once for walk and decode', () => {
    const s = state();
    const bytes = Buffer.concat([batch(0, ['a', 'b', 'c'], { compression: Compression.gzip }), batch(3, ['d', 'e'])]);
    const eager = new FetchBuffer();
    eager.push(fetched(state(), 0, bytes));
    const all = eager.take(100);
    const buf = new FetchBuffer();
    buf.push(fetched(s, 0, bytes));
    const first = buf.takeRuns(2);
    const second = buf.takeRuns(2);
    const third = buf.takeRuns(2);
    expect([first, second, third].map((rs) => rs.map((r) => [r.firstOffset, r.lastOffset, r.count]))).toEqual([
      [[0, 1, 2]],
      [[2, 3, 2]],
      [[4, 4, 1]],
    ]);
    expect(buf.takeRuns(2)).toEqual([]);
    const records = decoded([...first, ...second, ...third]);
    expect(records).toEqual(all);
    // decoding reuses what the walk inflated: values are views of it, and the second run (starting
    // inside the compressed batch) carries the same inflated records in its copy of the cursor
    const inflated = first[0]?.from.inflated?.[0] as Buffer;
    expect(records[0]?.value?.buffer).toBe(inflated.buffer);
    expect(second[0]?.from.body).toBe(inflated);
    expect(records[2]?.value?.buffer).toBe(inflated.buffer);
  });

  it('a bad record length inside a batch: the runs before it are handed out, then a typed error, the partition rewound', () => {
    const s = state();
    const buf = new FetchBuffer();
    buf.push(fetched(s, 0, batch(0, ['a', 'b'])));
    const c = fetched(s, 2, Buffer.from(batch(2, ['c', 'd', 'e'])));
    // past the CRC check (done on arrival), the second record's length goes bad: longer than the batch
    const second = 61 + 1 + (c.bytes[61] as number) / 2;
    c.bytes[second] = 0x7e;
    buf.push(c);
    const version = s.version;
    const runs = buf.takeRuns(10);
    // the good fetch, then the one record of the bad batch before the bad length
    expect(runs.map((r) => [r.firstOffset, r.lastOffset, r.count])).toEqual([
      [0, 1, 2],
      [2, 2, 1],
    ]);
    expect(decoded(runs).map((r) => r.value?.toString())).toEqual(['a', 'b', 'c']);
    expect(() => buf.takeRuns(10)).toThrow(
      expect.objectContaining({
        code: ErrorCode.CorruptRecord,
        message: 'fetch of t-3: a record length of 63',
      }),
    );
    expect(s.position).toBe(3);
    expect(s.version).toBe(version + 1);
    expect(buf.length).toBe(0);
  });

  it('malformed fields inside a record are refused by the walk as by decoding: key past the end, header without a key, a length that lies', () => {
    const cases: [string, (b: Buffer) => void, RegExp][] = [
      ['key past its record', (b) => (b[65] = 40), /^fetch of t-3: 20 bytes past the end/],
      // the header's key length (before 'h', its value length, 'x0') set to zig-zag -1: null
      ['header key null', (b) => (b[b.length - 5] = 1), /^fetch of t-3: a header without a key/],
      [
        'record shorter than its fields',
        (b) => (b[61] = (b[61] as number) - 2),
        /does not match its length|past the end|truncated/,
      ],
    ];
    for (const [what, spoil, message] of cases) {
      for (const how of ['takeRuns', 'take'] as const) {
        const c = fetched(state(), 0, Buffer.from(batch(0, ['v'], { headers: true })));
        spoil(c.bytes);
        const buf = new FetchBuffer();
        buf.push(c);
        let thrown: unknown = null;
        try {
          buf[how](10);
        } catch (err) {
          thrown = err;
        }
        expect(thrown, `${what} (${how})`).toMatchObject({
          code: ErrorCode.CorruptRecord,
          message: expect.stringMatching(message),
        });
      }
    }
  });
});
