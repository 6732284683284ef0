/**
 * The producer's buffer memory (Kafka's buffer.memory / the Java client's
 * BufferPool): bytes of records held between send() and their batch's
 * answer. A send that does not fit waits, first come first served, up to
 * maxBlockMs (Kafka's max.block.ms), then fails with Timeout — backpressure,
 * never unbounded growth. The waiters themselves are bounded too.
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
