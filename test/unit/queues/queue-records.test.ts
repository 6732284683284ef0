/**
 * Queue log records: messages and state records round-trip through a real
 * RecordBatch, are told apart by the reserved header, TTLs become absolute
 * expiries, and bad input is refused with typed errors.
 */
import { describe, expect, it } from 'vitest';
import { expirationHeader } from '../../../src/protocol/native/queue-messages.js';
import {
  decodeStateRecord,
  expiryOf,
  isStateRecord,
  messageRecordInput,
  stateHeader,
  stateRecordInput,
} from '../../../src/queues/queue-records.js';
import { isSluiceError } from '../../../src/shared/errors.js';
import { decodeRecords } from '../../../src/wire/record-batch-decoder.js';
import { encodeRecordBatch } from '../../../src/wire/record-batch-encoder.js';

describe('queue records', () => {
  it('round-trips messages and state records through one batch and tells them apart', () => {
    const now = 1_700_000_000_000;
    const batch = encodeRecordBatch([
      messageRecordInput({ value: Buffer.from('hello'), headers: [{ key: 'k', value: Buffer.from('v') }] }, now),
      stateRecordInput({ op: 'done', offsets: [0, 3, 5], reason: 'ack' }, now),
      stateRecordInput({ op: 'count', counts: [[7, 2]] }, now),
      stateRecordInput({ op: 'stats', counters: { enqueued: 9, dequeued: 4, deadLettered: 1 } }, now),
    ]);
    const [message, done, count, stats] = decodeRecords(batch);
    expect(message && isStateRecord(message)).toBe(false);
    expect(message?.value?.toString()).toBe('hello');
    expect(message?.headers).toEqual([{ key: 'k', value: Buffer.from('v') }]);
    expect(done && isStateRecord(done)).toBe(true);
    expect(done && decodeStateRecord(done)).toEqual({ op: 'done', offsets: [0, 3, 5], reason: 'ack' });
    expect(count && decodeStateRecord(count)).toEqual({ op: 'count', counts: [[7, 2]] });
    expect(stats && decodeStateRecord(stats)).toEqual({
      op: 'stats',
      counters: { enqueued: 9, dequeued: 4, deadLettered: 1 },
    });
  });

  it('turns a TTL into an absolute expiry header, and no TTL into no expiry', () => {
    const withTtl = messageRecordInput({ value: Buffer.from('x'), ttlMs: 500 }, 1000);
    expect(withTtl.headers?.find((h) => h.key === expirationHeader)?.value?.toString()).toBe('1500');
    expect(expiryOf(withTtl.headers ?? [])).toBe(1500);
    expect(expiryOf(messageRecordInput({ value: Buffer.from('x') }, 1000).headers ?? [])).toBe(
      Number.POSITIVE_INFINITY,
    );
  });

  it('refuses bad input with typed errors', () => {
    const refused = (f: () => unknown): boolean => {
      try {
        f();
        return false;
      } catch (err) {
        return isSluiceError(err, 'SLUICE_ERR_INVALID_REQUEST');
      }
    };
    expect(refused(() => messageRecordInput({ value: 'text' as unknown as Buffer }, 0))).toBe(true);
    expect(refused(() => messageRecordInput({ value: Buffer.from('x'), ttlMs: 0 }, 0))).toBe(true);
    expect(refused(() => messageRecordInput({ value: Buffer.from('x'), ttlMs: 1.5 }, 0))).toBe(true);
    expect(
      refused(() => messageRecordInput({ value: Buffer.from('x'), headers: [{ key: stateHeader, value: null }] }, 0)),
    ).toBe(true);
  });

  it('ignores a state record whose value is not a state', () => {
    const batch = encodeRecordBatch([
      { key: null, value: Buffer.from([0xc1]), headers: [{ key: stateHeader, value: Buffer.from('done') }] },
    ]);
    const [record] = decodeRecords(batch);
    expect(record && decodeStateRecord(record)).toBeUndefined();
  });
});
