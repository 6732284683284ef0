/**
 * Buffers for the producer's batches. Records are written straight into
 * their open batch's buffer at send() (no object per record); a batch that
 * outgrows its buffer moves to one twice as large. Sizes are powers of two
 * from 512 bytes, so a buffer freed by an answered batch fits a later one:
 * up to `maxFreeBytes` of them are kept for reuse instead of allocated again
 * (bounded: beyond, a freed buffer is left to the garbage collector).
 */

/** The smallest buffer: 2^9 bytes. */
const minShift = 9;
/** Buffers above 2^21 bytes (a batch beyond the 1 MiB grow ceiling) are allocated to size, never kept. */
const maxShift = 21;

/** The power-of-two size class holding `bytes`. */
function shiftOf(bytes: number): number {
  let shift = minShift;
  while (1 << shift < bytes) shift++;
  return shift;
}

export class BatchBuffers {
  /** Free buffers by size class (index: the power of two). */
  private readonly free: Buffer[][] = [];
  private freeBytes = 0;

  constructor(readonly maxFreeBytes: number) {}

  /** Bytes held by free buffers (tests). */
  get held(): number {
    return this.freeBytes;
  }

  /** A buffer of at least `bytes` (its contents are garbage). */
  take(bytes: number): Buffer {
    const shift = shiftOf(bytes);
    if (shift > maxShift) return Buffer.allocUnsafeSlow(bytes);
    const kept = this.free[shift]?.pop();
    if (kept) {
      this.freeBytes -= kept.length;
      return kept;
    }
    // its own memory, not a slice of Node's shared pool: a kept buffer holds nothing else alive
    return Buffer.allocUnsafeSlow(1 << shift);
  }

  /** A buffer nobody reads any more: kept for a later take() while the bound allows. */
  give(buf: Buffer): void {
    const bytes = buf.length;
    const shift = shiftOf(bytes);
    if (shift > maxShift || 1 << shift !== bytes || buf.byteOffset !== 0) return;
    if (this.freeBytes + bytes > this.maxFreeBytes) return;
    let list = this.free[shift];
    if (!list) {
      list = [];
      this.free[shift] = list;
    }
    list.push(buf);
    this.freeBytes += bytes;
  }
}
