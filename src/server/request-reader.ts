/**
 * Splits one connection's byte stream into request frames (length:int32 |
 * payload, both listeners) under the broker's request memory pool: a frame's
 * announced length is checked against socket.request.max.bytes and reserved in
 * the pool before its body is read. When the reservation does not fit the
 * reader is `blocked` (the connection stops reading from its socket) until the
 * pool wakes it. Every complete frame is handed on with its reservation, which
 * the connection releases once the request is answered.
 *
 * Nothing is allocated from an announced length: the bytes that arrive are
 * kept as the socket's own chunks and copied into one buffer only when the
 * whole frame is there. This is the path of TLS connections ('data' chunks);
 * plaintext ones read into frame memory (request-receiver.ts).
 */
import { performance } from 'node:perf_hooks';
import { frameHeaderBytes } from '../protocol/native/frame.js';
import type { RequestMemoryPool } from './request-memory-pool.js';

export class RequestReader {
  private chunks: Buffer[] = [];
  private bufferedBytes = 0;
  /** The current frame's announced payload length, once its header is in. */
  private frameLength: number | undefined;
  private reserved = false;
  /** Bytes of ours counted as stray in the pool (held beyond our reservation). */
  private strayBytes = 0;
  private startedAt: number | undefined;
  private stopped = false;
  private readonly retry = (): boolean => {
    if (this.stopped) return true;
    this.process();
    if (!this.blocked) this.onUnblocked();
    return !this.blocked;
  };

  constructor(
    private readonly pool: RequestMemoryPool,
    private readonly maxFrameBytes: number,
    /** A whole frame's payload, with the bytes reserved for it (give them back with pool.release). */
    private readonly onFrame: (payload: Buffer, reservedBytes: number) => void,
    private readonly onOversize: (claimedBytes: number) => void,
    /** Called when a blocked reader got its memory (the connection resumes reading). */
    private readonly onUnblocked: () => void,
  ) {}

  /** True while the current frame waits for pool memory: do not read from the socket. */
  get blocked(): boolean {
    return this.frameLength !== undefined && !this.reserved && !this.stopped;
  }

  /** performance.now() when the first byte of the incomplete frame arrived; undefined between frames. */
  get frameStartedAt(): number | undefined {
    return this.startedAt;
  }

  push(chunk: Buffer): void {
    if (this.stopped || chunk.length === 0) return;
    if (this.bufferedBytes === 0) this.startedAt = performance.now();
    this.chunks.push(chunk);
    this.bufferedBytes += chunk.length;
    this.process();
  }

  /** Gives back everything this reader holds (the connection closed). Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.pool.cancel(this.retry);
    this.chunks = [];
    this.bufferedBytes = 0;
    this.startedAt = undefined;
    this.pool.addStray(-this.strayBytes);
    this.strayBytes = 0;
    if (this.reserved && this.frameLength !== undefined) this.pool.release(this.frameLength);
    this.reserved = false;
    this.frameLength = undefined;
  }

  private process(): void {
    while (!this.stopped) {
      if (this.frameLength === undefined) {
        if (this.bufferedBytes < frameHeaderBytes) break;
        const length = this.peekLength();
        if (length < 0 || length > this.maxFrameBytes || length > this.pool.frameBytesMax) {
          this.stop();
          this.onOversize(length);
          return;
        }
        this.frameLength = length;
      }
      if (!this.reserved) {
        if (!this.pool.tryReserve(this.frameLength)) {
          this.pool.wait(this.retry);
          break;
        }
        this.reserved = true;
      }
      const frameBytes = frameHeaderBytes + this.frameLength;
      if (this.bufferedBytes < frameBytes) break;
      const frame = this.take(frameBytes);
      const reservedBytes = this.frameLength;
      this.frameLength = undefined;
      this.reserved = false;
      this.startedAt = this.bufferedBytes > 0 ? performance.now() : undefined;
      this.onFrame(frame.subarray(frameHeaderBytes), reservedBytes);
    }
    this.settleStray();
  }

  /** Counts what we hold beyond our reservation as stray bytes in the pool. */
  private settleStray(): void {
    if (this.stopped) return;
    const covered = this.reserved && this.frameLength !== undefined ? frameHeaderBytes + this.frameLength : 0;
    const stray = Math.max(0, this.bufferedBytes - covered);
    if (stray !== this.strayBytes) {
      this.pool.addStray(stray - this.strayBytes);
      this.strayBytes = stray;
    }
  }

  private peekLength(): number {
    const first = this.chunks[0] as Buffer;
    if (first.length >= frameHeaderBytes) return first.readInt32BE(0);
    return Buffer.concat(this.chunks, frameHeaderBytes).readInt32BE(0);
  }

  /** Removes the first `n` buffered bytes (all present) as one buffer; copies only when they span chunks. */
  private take(n: number): Buffer {
    const first = this.chunks[0] as Buffer;
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.bufferedBytes -= n;
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0] as Buffer;
      const part = Math.min(chunk.length, n - filled);
      chunk.copy(out, filled, 0, part);
      filled += part;
      if (part === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(part);
    }
    this.bufferedBytes -= n;
    return out;
  }
}
