/**
 * Fetched bytes to records (the consumer's hot path), and the buffer of
 * records fetched but not yet returned by poll().
 */
import { ErrorCode, SluiceError } from '../../shared/errors.js';
import { batchBytesMax, batchHeaderBytes } from '../../shared/limits.js';
import { batchSizeOf, lastOffsetOf, logOverheadBytes } from '../../wire/record-batch.js';
import { forEachRecord } from '../../wire/record-batch-decoder.js';
import type { ConsumerRecord } from '../types.js';
import type { PartitionState } from './subscription-state.js';

const emptyBuffer = Buffer.alloc(0);

/** Records in arrival order (in order per partition); take() from the front without copying the rest. */
export class RecordList {
  private items: ConsumerRecord[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(r: ConsumerRecord): void {
    this.items.push(r);
  }

  /** Removes and returns up to `n` records from the front. */
  take(n: number): ConsumerRecord[] {
    const end = Math.min(this.items.length, this.head + n);
    const out = this.items.slice(this.head, end);
    this.head = end;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return out;
  }

  /** Drops what was pushed after the list had `length` records (a decode that failed half-way). */
  truncate(length: number): void {
    this.items.length = this.head + length;
  }

  firstOffsetOf(topic: string, partition: number): number | null {
    for (let i = this.head; i < this.items.length; i++) {
      const r = this.items[i] as ConsumerRecord;
      if (r.topic === topic && r.partition === partition) return r.offset;
    }
    return null;
  }

  dropPartition(topic: string, partition: number): void {
    this.retain((t, p) => t !== topic || p !== partition);
  }

  retain(keep: (topic: string, partition: number) => boolean): void {
    if (this.length === 0) return;
    const out: ConsumerRecord[] = [];
    for (let i = this.head; i < this.items.length; i++) {
      const r = this.items[i] as ConsumerRecord;
      if (keep(r.topic, r.partition)) out.push(r);
    }
    this.items = out;
    this.head = 0;
  }
}

/** The offset after the last whole batch in `bytes` (`from` when there is none), read from batch headers only. */
export function endOfWholeBatches(bytes: Buffer | undefined, from: number): number {
  let next = from;
  if (!bytes) return next;
  for (let pos = 0; bytes.length - pos >= batchHeaderBytes; ) {
    const size = batchSizeOf(bytes, pos);
    if (size < batchHeaderBytes || pos + size > bytes.length) break;
    next = Math.max(next, lastOffsetOf(bytes, pos) + 1);
    pos += size;
  }
  return next;
}

/**
 * Decodes the whole batches of a fetch of `state` at `offset` into `out`
 * (records before `offset` skipped) and advances the position past them;
 * returns how many records were added.
 */
export function decodeRecords(
  state: PartitionState,
  offset: number,
  bytes: Buffer | undefined,
  out: RecordList,
): number {
  if (!bytes || bytes.length === 0) return 0;
  let added = 0;
  let pos = 0;
  let next = offset;
  while (bytes.length - pos >= batchHeaderBytes) {
    const size = batchSizeOf(bytes, pos);
    if (size < batchHeaderBytes) {
      throw new SluiceError(
        ErrorCode.CorruptRecord,
        `fetch of ${state.topic}-${state.partition}: impossible batch length ${size - logOverheadBytes}`,
      );
    }
    if (pos + size > bytes.length) break; // a partial batch at the end: fetched again next time
    const batch = bytes.subarray(pos, pos + size);
    const { topic, partition } = state;
    // one object per record, built directly (this loop is the consumer's hot path)
    forEachRecord(batch, 0, (recordOffset, timestamp, key, value, recordHeaders) => {
      if (recordOffset < next) return;
      const headers: Record<string, Buffer> = {};
      for (const h of recordHeaders) headers[h.key] = h.value ?? emptyBuffer;
      out.push({ topic, partition, offset: recordOffset, key, value, headers, timestamp });
      added++;
      next = recordOffset + 1;
    });
    next = Math.max(next, lastOffsetOf(batch) + 1);
    pos += size;
  }
  if (next === offset && bytes.length > 0) {
    // not one whole batch fitted: ask for more next time (a batch is at most batchBytesMax)
    state.maxBytes = Math.min(batchBytesMax + logOverheadBytes, Math.max(state.maxBytes * 2, bytes.length * 2));
  }
  state.position = next;
  return added;
}
