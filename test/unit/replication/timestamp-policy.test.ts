/**
 * The leader's timestamp policy (message.timestamp.type and
 * message.timestamp.difference.max.ms) on real RecordBatch v2 bytes: stamped
 * batches stay valid (CRC) and decode with the append time for every record;
 * out-of-range CreateTime records and producer-set LogAppendTime are refused
 * with INVALID_TIMESTAMP; a corrupt batch is not given a fresh CRC.
 */
import { describe, expect, it } from 'vitest';
import { parseBrokerConfig } from '../../../src/config/broker-config.js';
import { applyTimestampPolicy, timestampPolicyOf } from '../../../src/replication/timestamp-policy.js';
import { ErrorCode } from '../../../src/shared/errors.js';
import { Compression, maxTimestampOf, validateBatch } from '../../../src/wire/record-batch.js';
import { decodeRecords } from '../../../src/wire/record-batch-decoder.js';
import { encodeRecordBatch } from '../../../src/wire/record-batch-encoder.js';

const broker = parseBrokerConfig(new Map());
const now = 1_700_000_000_000;
const batchAt = (timestamps: number[], compression: Compression = Compression.none): Buffer =>
  encodeRecordBatch(
    timestamps.map((timestamp, i) => ({ value: Buffer.from(`v${i}`), timestamp })),
    { compression },
  );

describe('timestamp policy', () => {
  it('reads the topic override, else the broker default', () => {
    expect(timestampPolicyOf({}, broker)).toEqual({ logAppendTime: false, maxDifferenceMs: Number.MAX_SAFE_INTEGER });
    expect(
      timestampPolicyOf(
        { 'message.timestamp.type': 'LogAppendTime', 'message.timestamp.difference.max.ms': '5' },
        broker,
      ),
    ).toEqual({ logAppendTime: true, maxDifferenceMs: 5 });
    const appendTimeBroker = parseBrokerConfig(new Map([['log.message.timestamp.type', 'LogAppendTime']]));
    expect(timestampPolicyOf({}, appendTimeBroker).logAppendTime).toBe(true);
    expect(timestampPolicyOf({ 'message.timestamp.type': 'CreateTime' }, appendTimeBroker).logAppendTime).toBe(false);
  });

  it('LogAppendTime: every batch (plain and gzip) gets the append time, stays valid, and decodes with it for every record', () => {
    const batches = Buffer.concat([batchAt([now - 50_000, now - 40_000]), batchAt([now - 1], Compression.gzip)]);
    expect(applyTimestampPolicy(batches, { logAppendTime: true, maxDifferenceMs: 1 }, now)).toBe(now);
    let pos = 0;
    while (pos < batches.length) {
      expect(maxTimestampOf(batches, pos)).toBe(now);
      expect(batches.readInt16BE(pos + 21) & 0x08).toBe(0x08);
      pos += validateBatch(batches, pos, batches.length);
    }
    expect(decodeRecords(batches).map((r) => r.timestamp)).toEqual([now, now, now]);
  });

  it('CreateTime: leaves batches alone and answers -1; refuses a record too far from now either way', () => {
    const inRange = batchAt([now - 1000, now + 1000]);
    const copy = Buffer.from(inRange);
    expect(applyTimestampPolicy(inRange, { logAppendTime: false, maxDifferenceMs: 1000 }, now)).toBe(-1);
    expect(inRange).toEqual(copy);
    for (const late of [now - 1001, now + 1001]) {
      // the bad record is the second of its batch (behind a good base timestamp), and in a compressed one
      for (const compression of [Compression.none, Compression.gzip]) {
        expect(() =>
          applyTimestampPolicy(batchAt([now, late], compression), { logAppendTime: false, maxDifferenceMs: 1000 }, now),
        ).toThrow(
          expect.objectContaining({ code: ErrorCode.InvalidTimestamp, message: expect.stringContaining(String(late)) }),
        );
      }
    }
    // unbounded (the default): any timestamp
    expect(applyTimestampPolicy(batchAt([0]), timestampPolicyOf({}, broker), now)).toBe(-1);
  });

  it('CreateTime: refuses a batch whose producer set the LogAppendTime attribute', () => {
    const stamped = batchAt([now]);
    applyTimestampPolicy(stamped, { logAppendTime: true, maxDifferenceMs: 0 }, now);
    expect(() => applyTimestampPolicy(stamped, timestampPolicyOf({}, broker), now)).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidTimestamp }),
    );
  });

  it('never gives a corrupt batch a fresh CRC', () => {
    const batch = batchAt([now]);
    batch[batch.length - 1] = (batch[batch.length - 1] as number) ^ 0xff;
    expect(() => applyTimestampPolicy(batch, { logAppendTime: true, maxDifferenceMs: 0 }, now)).toThrow(
      expect.objectContaining({ code: ErrorCode.CorruptRecord }),
    );
    expect(() => validateBatch(batch, 0, batch.length)).toThrow();
  });
});
