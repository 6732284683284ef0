/**
 * The producer's buffer memory (Kafka's buffer.memory / the Java client's
 * BufferPool): bytes of batch buffers held between send() and their batch's
 * answer. A send first takes its record's bytes (a send that does not fit
 * waits, first come first served, up to maxBlockMs — Kafka's max.block.ms —
 * then fails with Timeout: backpressure, never unbounded growth); once the
 * record is written, the pool is settled to what its batch's buffer really
 * grew by (buffers come in powers of two: a record either fits the room
 * left, costing nothing more, or moves its batch to a larger buffer). The
 * pool may thus go below zero by one buffer growth; later sends wait until
 * answers pay it back. The waiters themselves are bounded too.
 */
import { ErrorCode, SluiceError } from '../../shared/errors.js';
import { producerMemoryWaitersMax } from '../../shared/limits.js';

interface Waiter {
  bytes: number;
  resolve: () => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class MemoryPool {
  private available: number;
  private readonly waiters: Waiter[] = [];

  constructor(
    readonly total: number,
    private readonly waitersMax = producerMemoryWaitersMax,
  ) {
    this.available = total;
  }

  /** Someone waits for memory: the producer then sends what it holds at once instead of lingering. */
  get waiting(): boolean {
    return this.waiters.length > 0;
  }

  /** Bytes free now. */
  get free(): number {
    return this.available;
  }

  /** Takes the bytes at once when they are free and nobody waits; false otherwise. */
  tryAcquire(bytes: number): boolean {
    if (this.waiters.length === 0 && this.available >= bytes) {
      this.available -= bytes;
      return true;
    }
    return false;
  }

  /** Takes the bytes, waiting behind earlier waiters up to maxBlockMs. */
  acquire(bytes: number, maxBlockMs: number): Promise<void> {
    if (this.tryAcquire(bytes)) return Promise.resolve();
    if (this.waiters.length >= this.waitersMax) {
      return Promise.reject(
        new SluiceError(ErrorCode.Timeout, `more than ${this.waitersMax} sends wait for buffer memory`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = {
        bytes,
        resolve,
        reject,
        timer: setTimeout(() => {
          const i = this.waiters.indexOf(w);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(
            new SluiceError(
              ErrorCode.Timeout,
              `no buffer memory for ${bytes} bytes after ${maxBlockMs} ms (bufferMemory ${this.total})`,
            ),
          );
          // the next waiter may be smaller and fit now
          this.grant();
        }, maxBlockMs),
      };
      this.waiters.push(w);
    });
  }

  /**
   * A record that took `acquired` bytes was written and grew its batch's buffer by `grown` bytes
   * (0 when it fitted the room left): the pool keeps the difference or gives it back.
   */
  settle(acquired: number, grown: number): void {
    if (grown > acquired) this.available -= grown - acquired;
    else if (grown < acquired) this.release(acquired - grown);
  }

  /** Bytes taken without waiting (a split batch's new buffers): the pool may go below zero until answers pay it back. */
  charge(bytes: number): void {
    this.available -= bytes;
  }

  release(bytes: number): void {
    this.available += bytes;
    this.grant();
  }

  /** Wakes waiters in order while the first one fits (a large first waiter holds back smaller ones: FIFO). */
  private grant(): void {
    while (this.waiters.length > 0 && this.available >= (this.waiters[0]?.bytes ?? 0)) {
      const w = this.waiters.shift() as Waiter;
      clearTimeout(w.timer);
      this.available -= w.bytes;
      w.resolve();
    }
  }

  /** Fails every waiter (the producer closed). */
  failAll(err: Error): void {
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(err);
    }
  }
}
