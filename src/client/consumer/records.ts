/**
 * Fetched bytes to records (the consumer's hot path), and the buffer of
 * fetched bytes not yet returned by poll().
 *
 * Records are decoded when they are taken, not when they arrive (the Java
 * client's CompletedFetch does the same): the buffer holds fetched batches
 * (checked: framing and CRC) and a cursor into them, so the records of a
 * fetch ahead are plain bytes until poll() or run() asks for them, and every
 * record object dies young (objects held across scavenges were the
 * consumer's garbage-collection cost: 25 % of its time at 100 B records).
 */
import { ErrorCode, SluiceError } from '../../shared/errors.js';
import { batchBytesMax, batchHeaderBytes } from '../../shared/limits.js';
import { inflateRecords } from '../../wire/compression.js';
import {
  attributesOf,
  baseOffsetOf,
  baseTimestampOf,
  batchSizeOf,
  Compression,
  checkFraming,
  compressionOf,
  crcMatches,
  Field,
  lastOffsetDeltaOf,
  lastOffsetOf,
  logOverheadBytes,
  maxTimestampOf,
  recordsCountOf,
  timestampTypeLogAppend,
} from '../../wire/record-batch.js';
import { readBytesOf, readEnd, readVarint, readVarlong } from '../../wire/varint.js';
import type { ConsumerRecord } from '../types.js';
import type { PartitionState } from './subscription-state.js';
import { type AbortedTransaction, AbortedTransactionFilter, isControlBatch } from './transaction-filter.js';

const emptyBuffer = Buffer.alloc(0);

/**
 * The headers of every record that has none: one shared frozen object, so a
 * record without headers costs no allocation (Object.keys() of it is empty;
 * it cannot be written to).
 */
export const noHeaders: Readonly<Record<string, Buffer>> = Object.freeze({});

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

/** One partition's fetched batches, consumed from the front by take(). */
export interface CompletedFetch {
  state: PartitionState;
  /** The state's version when fetched: a seek or pause since makes these bytes stale. */
  version: number;
  bytes: Buffer;
  /** End of the whole batches in `bytes`. */
  end: number;
  /** Start of the next batch to open. */
  batchPos: number;
  /** The offset of the next record to hand out: records before it are skipped. */
  nextOffset: number;
  /** Records not yet handed out (approximate: records before the fetch offset included). */
  remaining: number;
  // the batch being read: its records' bytes (inflated when compressed), the next record's position
  body: Buffer;
  /** body.buffer and body.byteOffset, read once per batch (values are views of them). */
  memory: ArrayBufferLike;
  base: number;
  at: number;
  bodyEnd: number;
  left: number;
  baseOffset: number;
  baseTimestamp: number;
  appendTime: number;
  /** Set when decoding failed: thrown by the next take(). */
  error: unknown;
  /** read_committed: skips the batches of aborted transactions (null: read_uncommitted). */
  filter: AbortedTransactionFilter | null;
}

/**
 * Checks the whole batches of a fetch of `state` at `offset` (framing, CRC)
 * and advances the position past them (from the batch headers, control
 * batches included); returns the fetch to buffer, or null when it holds no
 * whole batch. `aborted`: read_committed, the answer's aborted transactions
 * (their batches are skipped when taken); undefined: read_uncommitted.
 */
export function completeFetch(
  state: PartitionState,
  offset: number,
  bytes: Buffer | undefined,
  aborted?: readonly AbortedTransaction[],
): CompletedFetch | null {
  if (!bytes || bytes.length === 0) return null;
  const { topic, partition } = state;
  let pos = 0;
  let next = offset;
  let count = 0;
  while (bytes.length - pos >= batchHeaderBytes) {
    const size = batchSizeOf(bytes, pos);
    if (size < batchHeaderBytes) {
      throw new SluiceError(
        ErrorCode.CorruptRecord,
        `fetch of ${topic}-${partition}: impossible batch length ${size - logOverheadBytes}`,
      );
    }
    if (pos + size > bytes.length) break; // a partial batch at the end: fetched again next time
    checkFraming(bytes, pos, pos + size);
    if (!crcMatches(bytes, pos, size)) {
      throw new SluiceError(
        ErrorCode.CorruptRecord,
        `fetch of ${topic}-${partition}: CRC-32C mismatch in the batch at offset ${baseOffsetOf(bytes, pos)}`,
      );
    }
    const base = baseOffsetOf(bytes, pos);
    const last = base + lastOffsetDeltaOf(bytes, pos);
    // control batches hold no record for the application
    if (last >= next && !isControlBatch(bytes, pos))
      count += base >= next ? recordsCountOf(bytes, pos) : Math.min(recordsCountOf(bytes, pos), last + 1 - next);
    next = Math.max(next, last + 1);
    pos += size;
  }
  if (pos === 0) {
    // not one whole batch fitted: ask for more next time (a batch is at most batchBytesMax)
    state.maxBytes = Math.min(batchBytesMax + logOverheadBytes, Math.max(state.maxBytes * 2, bytes.length * 2));
    return null;
  }
  state.position = next;
  return {
    state,
    version: state.version,
    bytes,
    end: pos,
    batchPos: 0,
    nextOffset: offset,
    remaining: count,
    body: bytes,
    memory: bytes.buffer,
    base: bytes.byteOffset,
    at: 0,
    bodyEnd: 0,
    left: 0,
    baseOffset: 0,
    baseTimestamp: 0,
    appendTime: -1,
    error: null,
    filter: aborted === undefined ? null : new AbortedTransactionFilter(aborted),
  };
}

/**
 * Opens the next batch of `c` that holds records for the application (never
 * a control batch; under read_committed never an aborted transaction's);
 * false when none is left.
 */
function openBatch(c: CompletedFetch): boolean {
  const { bytes } = c;
  let pos = c.batchPos;
  let size = 0;
  for (;;) {
    if (pos >= c.end) {
      c.batchPos = pos;
      return false;
    }
    size = batchSizeOf(bytes, pos);
    const skipped = c.filter !== null ? c.filter.skip(bytes, pos) : isControlBatch(bytes, pos);
    if (!skipped) break;
    pos += size;
  }
  c.batchPos = pos + size;
  c.baseOffset = baseOffsetOf(bytes, pos);
  c.baseTimestamp = baseTimestampOf(bytes, pos);
  // LogAppendTime: the broker's time in maxTimestamp stands for every record (Kafka's rule)
  c.appendTime = (attributesOf(bytes, pos) & timestampTypeLogAppend) !== 0 ? maxTimestampOf(bytes, pos) : -1;
  c.left = recordsCountOf(bytes, pos);
  const codec = compressionOf(bytes, pos);
  if (codec === Compression.none) {
    c.body = bytes;
    c.memory = bytes.buffer;
    c.base = bytes.byteOffset;
    c.at = pos + Field.records;
    c.bodyEnd = pos + size;
  } else {
    c.body = inflateRecords(codec, bytes.subarray(pos + Field.records, pos + size));
    c.memory = c.body.buffer;
    c.base = c.body.byteOffset;
    c.at = 0;
    c.bodyEnd = c.body.length;
  }
  return true;
}

/**
 * Decodes up to `max` records of `c` into `out` (the consumer's hot path: one
 * object per record, key and value views of the fetched bytes, no copy;
 * `noHeaders` for a record without headers); returns how many were added.
 */
function decodeInto(c: CompletedFetch, max: number, out: ConsumerRecord[]): number {
  const { topic, partition } = c.state;
  let added = 0;
  while (added < max) {
    if (c.left === 0 && !openBatch(c)) break;
    // the record's fields, read in place; a value or key is a view of the fetched bytes
    const { body: buf, memory, base } = c;
    const length = readVarint(buf, c.at, c.bodyEnd);
    const recordEnd = readEnd() + length;
    if (length < 0 || recordEnd > c.bodyEnd) corrupt(topic, partition, `a record length of ${length}`);
    c.at = recordEnd;
    const delta = readVarlong(buf, readEnd() + 1, recordEnd); // after the attributes byte
    const offset = c.baseOffset + readVarint(buf, readEnd(), recordEnd);
    const key = readBytesOf(memory, base, buf, readEnd(), recordEnd);
    const value = readBytesOf(memory, base, buf, readEnd(), recordEnd);
    const headerCount = readVarint(buf, readEnd(), recordEnd);
    let headers = noHeaders as Record<string, Buffer>;
    if (headerCount > 0) {
      headers = {};
      for (let h = 0; h < headerCount; h++) {
        const name = readBytesOf(memory, base, buf, readEnd(), recordEnd);
        if (name === null) corrupt(topic, partition, 'a header without a key');
        headers[name.toString('utf8')] = readBytesOf(memory, base, buf, readEnd(), recordEnd) ?? emptyBuffer;
      }
    }
    if (readEnd() !== recordEnd) corrupt(topic, partition, `the record at offset ${offset} does not match its length`);
    c.left--;
    if (offset < c.nextOffset) continue;
    c.nextOffset = offset + 1;
    out.push({
      topic,
      partition,
      offset,
      key,
      value,
      headers,
      timestamp: c.appendTime >= 0 ? c.appendTime : c.baseTimestamp + delta,
    });
    added++;
  }
  return added;
}

function corrupt(topic: string, partition: number, what: string): never {
  throw new SluiceError(ErrorCode.CorruptRecord, `fetch of ${topic}-${partition}: ${what}`);
}

/** A decoding error names its partition (the varint reader, shared by every decoder, does not know it). */
function inPartition(err: unknown, state: PartitionState): unknown {
  const where = `fetch of ${state.topic}-${state.partition}`;
  if (!(err instanceof SluiceError) || err.message.startsWith(where)) return err;
  return new SluiceError(err.code, `${where}: ${err.message}`, { cause: err });
}

/** Fetched batches in arrival order (in order per partition); records decoded as they are taken. */
export class FetchBuffer {
  private fetches: CompletedFetch[] = [];
  private count = 0;
  private byteCount = 0;

  /** Records buffered (approximate: may count records a fetch skips). */
  get length(): number {
    return this.count;
  }

  /** Fetched bytes held (each buffered fetch's whole batches, until its last record is taken). */
  get bytes(): number {
    return this.byteCount;
  }

  push(c: CompletedFetch): void {
    this.fetches.push(c);
    this.count += c.remaining;
    this.byteCount += c.end;
  }

  /**
   * Removes and returns up to `n` records from the front. A record that
   * cannot be decoded: its partition's buffered fetches are dropped, the
   * partition is rewound to it (older deliveries stale), and the error is
   * thrown (after the records decoded before it were returned).
   */
  take(n: number): ConsumerRecord[] {
    const out: ConsumerRecord[] = [];
    // fetches taken whole are removed once at the end: a shift() each is quadratic for 100,000 partitions' fetches
    let head = 0;
    try {
      while (out.length < n && head < this.fetches.length) {
        const c = this.fetches[head] as CompletedFetch;
        if (c.error !== null) {
          for (let i = 0; i < head; i++) this.byteCount -= (this.fetches[i] as CompletedFetch).end;
          this.fetches.splice(0, head);
          head = 0;
          this.dropPartition(c.state.topic, c.state.partition);
          const { state } = c;
          state.position = c.nextOffset;
          state.consumed = c.nextOffset;
          state.version++;
          throw c.error;
        }
        let added = 0;
        try {
          added = decodeInto(c, n - out.length, out);
        } catch (err) {
          c.error = inPartition(err, c.state);
          if (out.length > 0) break;
          continue;
        }
        const before = c.remaining;
        c.remaining = Math.max(0, c.remaining - added);
        if (c.left === 0 && c.batchPos >= c.end) {
          head++;
          this.count -= before;
        } else this.count -= before - c.remaining;
      }
    } finally {
      if (head > 0) {
        for (let i = 0; i < head; i++) this.byteCount -= (this.fetches[i] as CompletedFetch).end;
        this.fetches.splice(0, head);
      }
    }
    return out;
  }

  firstOffsetOf(topic: string, partition: number): number | null {
    for (const c of this.fetches) {
      if (c.state.topic === topic && c.state.partition === partition) return c.nextOffset;
    }
    return null;
  }

  dropPartition(topic: string, partition: number): void {
    this.retain((t, p) => t !== topic || p !== partition);
  }

  retain(keep: (topic: string, partition: number) => boolean): void {
    const kept: CompletedFetch[] = [];
    for (const c of this.fetches) {
      if (keep(c.state.topic, c.state.partition)) kept.push(c);
      else {
        this.count -= c.remaining;
        this.byteCount -= c.end;
      }
    }
    this.fetches = kept;
  }
}
