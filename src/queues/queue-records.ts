/**
 * What a queue's log holds: message records (what senders sent) and state
 * records (what happened to them), told apart by the `sluice.q` header.
 * Because both live in one log, a transaction's messages and
 * acknowledgements are one batch (visible together or not at all), and the
 * queue's state is replicated and fails over with its messages.
 *
 * State records (msgpack values):
 *  - done:  offsets that left the queue, with why (ack, dlq, expired, purge, redrive);
 *  - count: delivery counts of released messages (so a restart keeps counting towards the DLQ);
 *  - stats: the counters, written before consumed segments are deleted (replay starts there).
 */
import { Packr } from 'msgpackr';
import { expirationHeader, type QueueHeader, type QueueMessageInput } from '../protocol/native/queue-messages.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { queueStateFlushRecordsMax } from '../shared/limits.js';
import type { DecodedRecord, RecordInput } from '../wire/record.js';

export const stateHeader = 'sluice.q';

export type DoneReason = 'ack' | 'dlq' | 'expired' | 'purge' | 'redrive';

export interface QueueCounters {
  enqueued: number;
  dequeued: number;
  deadLettered: number;
}

export type StateRecord =
  | { op: 'done'; offsets: number[]; reason: DoneReason }
  | { op: 'count'; counts: [number, number][] }
  | { op: 'stats'; counters: QueueCounters };

const packr = new Packr({ useRecords: false, mapsAsObjects: true });

export function stateRecordInput(state: StateRecord, timestamp: number): RecordInput {
  return {
    key: null,
    value: Buffer.from(packr.pack(state)),
    headers: [{ key: stateHeader, value: Buffer.from(state.op) }],
    timestamp,
  };
}

/** Delivery counts, then `offsets` done for `reason`, as state records of at most queueStateFlushRecordsMax items each. */
export function doneStateRecords(
  offsets: number[],
  reason: DoneReason,
  counts: [number, number][],
  timestamp: number,
): RecordInput[] {
  const records: RecordInput[] = [];
  for (let i = 0; i < counts.length; i += queueStateFlushRecordsMax) {
    records.push(stateRecordInput({ op: 'count', counts: counts.slice(i, i + queueStateFlushRecordsMax) }, timestamp));
  }
  for (let i = 0; i < offsets.length; i += queueStateFlushRecordsMax) {
    records.push(
      stateRecordInput({ op: 'done', offsets: offsets.slice(i, i + queueStateFlushRecordsMax), reason }, timestamp),
    );
  }
  return records;
}

export function isStateRecord(record: { headers: QueueHeader[] }): boolean {
  return record.headers.some((h) => h.key === stateHeader);
}

export function decodeStateRecord(record: DecodedRecord): StateRecord | undefined {
  if (!record.value) return undefined;
  try {
    const state = packr.unpack(record.value) as StateRecord;
    return state && typeof state === 'object' && typeof state.op === 'string' ? state : undefined;
  } catch {
    return undefined;
  }
}

/** A sent message as a record; a TTL becomes an absolute expiry header. */
export function messageRecordInput(message: QueueMessageInput, now: number): RecordInput {
  if (message.value !== null && !Buffer.isBuffer(message.value)) {
    throw new SluiceError(ErrorCode.InvalidRequest, 'a queue message value must be bytes or null');
  }
  if (message.key !== undefined && message.key !== null && !Buffer.isBuffer(message.key)) {
    throw new SluiceError(ErrorCode.InvalidRequest, 'a queue message key must be bytes or null');
  }
  const headers: QueueHeader[] = [];
  for (const h of message.headers ?? []) {
    if (typeof h?.key !== 'string' || (h.value !== null && !Buffer.isBuffer(h.value))) {
      throw new SluiceError(
        ErrorCode.InvalidRequest,
        'queue message headers must be { key: string, value: bytes | null }',
      );
    }
    if (h.key === stateHeader) throw new SluiceError(ErrorCode.InvalidRequest, `header ${stateHeader} is reserved`);
    headers.push({ key: h.key, value: h.value });
  }
  if (message.ttlMs !== undefined) {
    if (!Number.isSafeInteger(message.ttlMs) || message.ttlMs <= 0) {
      throw new SluiceError(ErrorCode.InvalidRequest, `ttlMs must be a positive integer, got ${message.ttlMs}`);
    }
    headers.push({ key: expirationHeader, value: Buffer.from(String(now + message.ttlMs)) });
  }
  return { key: message.key ?? null, value: message.value, headers, timestamp: now };
}

/** The message's expiry in ms since the epoch, Infinity when it has none. */
export function expiryOf(headers: QueueHeader[]): number {
  const h = headers.find((x) => x.key === expirationHeader);
  const at = h?.value ? Number(h.value.toString()) : Number.NaN;
  return Number.isFinite(at) ? at : Number.POSITIVE_INFINITY;
}
