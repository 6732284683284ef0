/**
 * The broker-wide budget for request bytes (Kafka's queued.max.request.bytes,
 * bounded here): every frame reserves its length before its body is read, and
 * keeps the reservation until the request is answered. A connection whose next
 * frame does not fit stops reading and waits here; it is woken, in arrival
 * order, when memory is released.
 *
 * Reserving the announced length up front (rather than counting bytes as they
 * arrive) is what guarantees progress: a frame whose reservation was granted
 * can always be read to its end, so two half-received large frames can never
 * wait for each other. Nothing is allocated from an announced length before it
 * is reserved here: a connection then gives a large frame its own buffer and
 * reads (plaintext) or copies (TLS) the rest into it (request-receiver.ts).
 *
 * Fairness: one part in `queuedRequestSmallReserveDivisor` of the pool is kept
 * for small frames (at most `smallFrameBytes`): large frames together never
 * take it. Clients that announce huge frames and stall then hold at most the
 * rest, until their frame deadline closes them, while ordinary produce and
 * fetch requests of other clients keep being admitted.
 *
 * Bytes a socket delivered beyond a reservation (the start of a frame that has
 * to wait, at most about two socket reads per connection) cannot be refused:
 * they are counted as `strayBytes`, outside the admission decisions, and
 * bounded by max.connections.
 */
import { assert } from '../shared/assert.js';
import { queuedRequestSmallFrameBytesMax, queuedRequestSmallReserveDivisor } from '../shared/limits.js';

export class RequestMemoryPool {
  /** Frames of at most this many bytes may use the small-frame reserve. */
  readonly smallFrameBytes: number;
  /** What large frames may hold together: the capacity less the small-frame reserve. */
  readonly largeFramesBytesMax: number;
  private reservedBytes = 0;
  private largeReservedBytes = 0;
  private stray = 0;
  /** Connections waiting for memory, oldest first (a Set keeps insertion order); at most one entry per connection. */
  private readonly waiters = new Set<() => boolean>();

  constructor(readonly capacityBytes: number) {
    assert(Number.isSafeInteger(capacityBytes) && capacityBytes > 0, 'pool capacity must be a positive integer');
    const reserve = Math.floor(capacityBytes / queuedRequestSmallReserveDivisor);
    this.smallFrameBytes = Math.min(queuedRequestSmallFrameBytesMax, reserve);
    this.largeFramesBytesMax = capacityBytes - reserve;
  }

  /** The largest frame this pool can ever admit. */
  get frameBytesMax(): number {
    return Math.max(this.largeFramesBytesMax, this.smallFrameBytes);
  }

  get usedBytes(): number {
    return this.reservedBytes;
  }

  get strayBytes(): number {
    return this.stray;
  }

  get waiting(): number {
    return this.waiters.size;
  }

  /** Reserves `bytes` for one frame if it fits now; never waits. */
  tryReserve(bytes: number): boolean {
    assert(Number.isSafeInteger(bytes) && bytes >= 0, 'a reservation is a non-negative integer');
    if (this.reservedBytes + bytes > this.capacityBytes) return false;
    if (bytes > this.smallFrameBytes) {
      if (this.largeReservedBytes + bytes > this.largeFramesBytesMax) return false;
      this.largeReservedBytes += bytes;
    }
    this.reservedBytes += bytes;
    return true;
  }

  /** Gives back a reservation made by tryReserve (the same byte count), and wakes waiters. */
  release(bytes: number): void {
    assert(bytes >= 0 && bytes <= this.reservedBytes, 'released more request memory than was reserved');
    this.reservedBytes -= bytes;
    if (bytes > this.smallFrameBytes) this.largeReservedBytes -= bytes;
    this.wake();
  }

  /** Counts bytes already received beyond any reservation (negative: no longer held). */
  addStray(delta: number): void {
    this.stray += delta;
    assert(this.stray >= 0, 'stray request bytes went negative');
  }

  /**
   * Queues `retry` to be called when memory is released; it returns true once it
   * got what it waited for (it is then dropped) and false to keep waiting.
   */
  wait(retry: () => boolean): void {
    this.waiters.add(retry);
  }

  cancel(retry: () => boolean): void {
    this.waiters.delete(retry);
  }

  /**
   * Offers the freed memory to waiters, oldest first. A waiter whose frame does
   * not fit does not block younger ones whose frames do (a small frame is not
   * held up behind a large one).
   */
  private wake(): void {
    for (const retry of this.waiters) {
      if (this.reservedBytes >= this.capacityBytes) return;
      if (retry()) this.waiters.delete(retry);
    }
  }
}
