/**
 * Walks the batches of a segment by their headers alone, in windowed positional reads: what the
 * rebuilds of producer state (producer-state-loader.ts) and of transaction state
 * (txn-state-loader.ts) read back from the log. Unlike segment-scanner.ts it validates nothing
 * beyond the framing: those bytes were validated when they were appended or recovered.
 */
import { batchHeaderBytes } from '../shared/limits.js';
import { batchSizeOf } from '../wire/record-batch.js';

/** Something whose bytes can be read by position: a Segment. */
export interface HeaderSource {
  readonly size: number;
  read(position: number, length: number, into?: Buffer): Buffer;
}

/**
 * Called for each batch: its header starts at `at` of `window` (the bytes read, from the window's
 * start), the batch at `position` of the source, `size` bytes long. The header is always whole in
 * `window`; the rest of the batch only when `at + size <= window.length`. `window` is reused for
 * the next read: a visitor keeps none of it.
 */
export type BatchHeaderVisitor = (window: Buffer, at: number, position: number, size: number) => void;

/** Bytes read at a time: many headers a read, and a bounded buffer whatever the segment's size. */
export const headerWindowBytes = 64 * 1024;

/**
 * Visits the batches of `source` from byte `from` (a batch start) to its end. Stops quietly at a
 * header that cannot be right, or a batch cut short by the end: the log's own validation reports
 * such bytes.
 */
export function walkBatchHeaders(
  source: HeaderSource,
  from: number,
  visit: BatchHeaderVisitor,
  windowBytes = headerWindowBytes,
): void {
  const buffer = Buffer.allocUnsafe(Math.max(windowBytes, batchHeaderBytes));
  let window: Buffer = buffer.subarray(0, 0);
  let windowStart = 0;
  const end = source.size;
  for (let position = from; position + batchHeaderBytes <= end; ) {
    if (position < windowStart || position + batchHeaderBytes > windowStart + window.length) {
      windowStart = position;
      window = source.read(position, Math.min(buffer.length, end - position), buffer);
      if (window.length < batchHeaderBytes) return;
    }
    const at = position - windowStart;
    const size = batchSizeOf(window, at);
    if (size < batchHeaderBytes || position + size > end) return;
    visit(window, at, position, size);
    position += size;
  }
}
