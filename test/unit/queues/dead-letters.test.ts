/**
 * Dead-letter decisions and the records a dispatcher writes: which queues
 * are dead-letter queues, where dead letters go, their headers, what a
 * redrive sends back, and state records split into bounded chunks.
 */
import { describe, expect, it } from 'vitest';
import { parseBrokerConfig } from '../../../src/config/broker-config.js';
import { DlqHeader } from '../../../src/protocol/native/queue-messages.js';
import {
  deadLetterMessage,
  deadLetterQueueFor,
  exceedsRedeliveries,
  isDeadLetterQueue,
  maxRedeliveriesFor,
  redriveMessage,
} from '../../../src/queues/dead-letters.js';
import { redriveChunk } from '../../../src/queues/queue-admin-ops.js';
import type { Entry } from '../../../src/queues/queue-entry.js';
import { decodeStateRecord, doneStateRecords } from '../../../src/queues/queue-records.js';
import { queueStateFlushRecordsMax } from '../../../src/shared/limits.js';
import type { DecodedRecord } from '../../../src/wire/record.js';

function record(offset: number, headers: [string, string][]): DecodedRecord {
  return {
    offset,
    timestamp: 0,
    key: null,
    value: Buffer.from(`m${offset}`),
    headers: headers.map(([key, value]) => ({ key, value: Buffer.from(value) })),
  };
}

const headerMap = (headers: { key: string; value: Buffer | null }[] | undefined) =>
  Object.fromEntries((headers ?? []).map((h) => [h.key, h.value?.toString()]));

describe('dead letters', () => {
  it('tells dead-letter queues apart and knows where dead letters go', () => {
    expect(isDeadLetterQueue('DLQ.orders', '')).toBe(true);
    expect(isDeadLetterQueue('orders', '')).toBe(false);
    expect(isDeadLetterQueue('all-dead', 'all-dead')).toBe(true);
    expect(deadLetterQueueFor('orders', '')).toBe('DLQ.orders');
    expect(deadLetterQueueFor('orders', 'all-dead')).toBe('all-dead');
  });

  it('never dead-letters what fails in a dead-letter queue', () => {
    const config = parseBrokerConfig(new Map([['queue.max.redeliveries', '2']]));
    expect(maxRedeliveriesFor('orders', config)).toBe(2);
    expect(maxRedeliveriesFor('DLQ.orders', config)).toBe(-1);
    expect(exceedsRedeliveries(2, 2)).toBe(false);
    expect(exceedsRedeliveries(3, 2)).toBe(true);
    expect(exceedsRedeliveries(1_000, -1)).toBe(false);
  });

  it('replaces earlier dead-letter headers and redrives only what came from the queue', () => {
    const source = record(7, [
      ['app', 'x'],
      [DlqHeader.reason, 'old'],
    ]);
    const dead = deadLetterMessage(source, { queue: 'orders', reason: 'rejected', deliveryCount: 3, offset: 7 });
    expect(headerMap(dead.headers)).toEqual({
      app: 'x',
      [DlqHeader.originalQueue]: 'orders',
      [DlqHeader.reason]: 'rejected',
      [DlqHeader.deliveryCount]: '3',
      [DlqHeader.originalOffset]: '7',
    });
    const inDlq = record(
      0,
      (dead.headers ?? []).map((h) => [h.key, h.value?.toString() ?? '']),
    );
    expect(headerMap(redriveMessage(inDlq, 'orders')?.headers)).toEqual({ app: 'x' });
    expect(redriveMessage(inDlq, 'payments')).toBeUndefined();

    const entries = [0, 1, 2].map((offset) => ({ offset }) as Entry);
    const records = new Map([
      [0, record(0, [[DlqHeader.originalQueue, 'orders']])],
      [2, record(2, [[DlqHeader.originalQueue, 'payments']])],
    ]);
    const { going, messages } = redriveChunk(entries, records, 'orders');
    expect(going.map((e) => e.offset)).toEqual([0]);
    expect(messages.map((m) => m.value?.toString())).toEqual(['m0']);
  });
});

describe('state records', () => {
  it('writes delivery counts before done offsets, chunked', () => {
    const n = queueStateFlushRecordsMax + 1;
    const offsets = Array.from({ length: n }, (_, i) => i);
    const records = doneStateRecords(offsets, 'purge', [[5, 2]], 1);
    const states = records.map((r) => decodeStateRecord(r as DecodedRecord));
    expect(states.map((s) => s?.op)).toEqual(['count', 'done', 'done']);
    expect(states.flatMap((s) => (s?.op === 'done' ? s.offsets : []))).toEqual(offsets);
    expect(doneStateRecords([], 'ack', [], 1)).toEqual([]);
  });
});
