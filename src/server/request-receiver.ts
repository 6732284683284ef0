/**
 * Splits one connection's byte stream into request frames (length:int32 |
 * payload, both listeners) under the broker's request memory pool. A plaintext
 * socket reads into memory it is given (net.Socket's `onread` option): it asks
 * nextBuffer() where its next read goes and reports it with filled(). A TLS
 * socket delivers chunks of its own: push() copies each to where a read would
 * have gone. A frame's announced length
 * is checked against socket.request.max.bytes and reserved in the request
 * memory pool before anything of that length is allocated; a frame too large
 * for the rest of the connection's read buffer then gets its own buffer (the
 * bytes so far copied in once) and the socket reads the rest of it straight
 * into it, with no per-read chunk and no concatenation (the copy of every
 * byte of a 1 MiB produce frame was 14 % of a broker's samples).
 *
 * Frame heads and small frames land in the connection's read buffer
 * (readBufferBytes, one per connection; 4 KiB until the client has sent
 * that much): the reads append to it, and a small
 * frame is handed on as a view of it, without a copy; a new read buffer is
 * taken when too little room is left (the old one lives on in the views
 * handed out, as Node's per-read chunks did). Nothing handed on is ever
 * written again.
 *
 * A reader whose next frame does not fit the pool is `blocked`: the
 * connection stops reading from its socket (at most the bytes of the read
 * that brought the head are held, counted as stray in the pool) until the
 * pool wakes it.
 *
 * The socket's next read goes where the last nextBuffer() said, even when the
 * state changed since (a reservation granted while reading was paused): filled()
 * is told which buffer it was, and bytes that landed in the read buffer while
 * a frame has its own are copied over.
 */
import { performance } from 'node:perf_hooks';
import { frameHeaderBytes } from '../protocol/native/frame.js';
import type { RequestMemoryPool } from './request-memory-pool.js';

/** A connection's read buffer: where frame heads and small frames are read. */
export const readBufferBytes = 64 * 1024;
/**
 * A new connection's first read buffer: an idle or metadata-only client holds
 * this little (max.connections of them), one that sends more is given
 * readBufferBytes once this one is used up.
 */
const readBufferFirstBytes = 4 * 1024;
/** Where a stopped receiver's socket may still read (ignored): shared, never read from. */
const discard = Buffer.allocUnsafeSlow(4096);

export class RequestReceiver {
  private buf: Buffer;
  /** Less room than this left in the read buffer (and no small frame to finish in it): a new one is taken. */
  private readonly readRoomMin: number;
  /** Unparsed bytes in buf: [start, end). Bytes below start may be in frames handed on: never written again. */
  private start = 0;
  private end = 0;
  /** The current frame's announced payload length, once its header is in. */
  private frameLength: number | undefined;
  private reserved = false;
  /** The current frame's own memory (allocated after its reservation), and how much of it has arrived. */
  private frame: Buffer | null = null;
  private frameFilled = 0;
  /** Whether the last nextBuffer() was the frame's memory (else the read buffer's tail). */
  private readingIntoFrame = false;
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
    /** The read buffer's size (tests make it small). */
    private readonly readBytes = readBufferBytes,
  ) {
    this.buf = Buffer.allocUnsafe(Math.min(readBytes, readBufferFirstBytes));
    this.readRoomMin = Math.max(1, readBytes >>> 4);
  }

  /** True while the current frame waits for pool memory: do not read from the socket. */
  get blocked(): boolean {
    return this.frameLength !== undefined && !this.reserved && !this.stopped;
  }

  /** performance.now() when the first byte of the incomplete frame arrived; undefined between frames. */
  get frameStartedAt(): number | undefined {
    return this.startedAt;
  }

  /** Where the socket's next read goes (never empty). */
  nextBuffer(): Buffer {
    if (this.stopped) {
      this.readingIntoFrame = false;
      return discard;
    }
    const frame = this.frame;
    if (frame !== null && this.start === this.end) {
      this.readingIntoFrame = true;
      return frame.subarray(this.frameFilled);
    }
    this.readingIntoFrame = false;
    const room = this.buf.length - this.end;
    // a small frame that fits is read on into this buffer, however little room is left
    const fits =
      this.frameLength !== undefined &&
      this.frame === null &&
      this.start + frameHeaderBytes + this.frameLength <= this.buf.length;
    if (room === 0 || (room < this.readRoomMin && !fits)) this.renewReadBuffer();
    return this.buf.subarray(this.end);
  }

  /** The socket read `n` bytes into the buffer the last nextBuffer() gave. */
  filled(n: number): void {
    if (this.stopped || n <= 0) return;
    if (this.startedAt === undefined) this.startedAt = performance.now();
    if (this.readingIntoFrame) {
      this.frameFilled += n;
      this.readingIntoFrame = false;
    } else {
      this.end += n;
    }
    this.process();
  }

  /**
   * Bytes that arrived in a buffer of their own (a TLS socket's 'data' chunks). The frames wholly
   * inside the chunk are handed on as views of it (the socket never writes a chunk again), with no
   * copy; only a frame cut by the chunk's edges is copied, to where a read would have gone. While
   * the receiver is blocked the bytes wait in the read buffer (counted as stray), as a read under
   * way when reading paused does.
   */
  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.stopped) {
      if (this.start === this.end && this.frame === null && this.frameLength === undefined) {
        const whole = wholeFramesEnd(chunk, at);
        if (whole > at) {
          at = this.framesOf(chunk, at, whole);
          continue;
        }
      }
      // a frame cut by the chunk's edge: copy up to its end (everything while blocked)
      const into = this.nextBuffer();
      const n = Math.min(into.length, chunk.length - at, this.blocked ? Infinity : this.bytesToFrameEnd());
      chunk.copy(into, 0, at, at + n);
      at += n;
      this.filled(n);
    }
  }

  /** Hands on the whole frames in chunk[from, to) as views of it; gives where they stopped (a frame may wait for memory). */
  private framesOf(chunk: Buffer, from: number, to: number): number {
    const readBuffer = this.buf;
    this.buf = chunk;
    this.start = from;
    this.end = to;
    if (this.startedAt === undefined) this.startedAt = performance.now();
    this.process();
    const stoppedAt = this.start;
    this.buf = readBuffer;
    this.start = this.end = 0;
    this.settleStray();
    return stoppedAt;
  }

  /** Bytes still missing before the pending frame (or its head) is complete; at least 1. */
  private bytesToFrameEnd(): number {
    const pending = this.end - this.start;
    if (this.frameLength === undefined) return Math.max(1, frameHeaderBytes - pending);
    if (this.frame !== null) return Math.max(1, this.frameLength - this.frameFilled - pending);
    return Math.max(1, frameHeaderBytes + this.frameLength - pending);
  }

  /** Gives back everything this reader holds (the connection closed). Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.pool.cancel(this.retry);
    this.start = this.end = 0;
    this.frame = null;
    this.frameFilled = 0;
    this.startedAt = undefined;
    this.pool.addStray(-this.strayBytes);
    this.strayBytes = 0;
    if (this.reserved && this.frameLength !== undefined) this.pool.release(this.frameLength);
    this.reserved = false;
    this.frameLength = undefined;
  }

  /** A fresh read buffer, with the pending bytes (a partial head or frame) moved to its front. */
  private renewReadBuffer(): void {
    const pending = this.end - this.start;
    const next = Buffer.allocUnsafe(Math.max(this.readBytes, pending + this.readRoomMin));
    this.buf.copy(next, 0, this.start, this.end);
    this.buf = next;
    this.start = 0;
    this.end = pending;
  }

  private process(): void {
    while (!this.stopped) {
      if (this.frameLength === undefined) {
        if (this.end - this.start < frameHeaderBytes) break;
        const length = this.buf.readInt32BE(this.start);
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
      const length = this.frameLength;
      let payload: Buffer;
      if (this.frame !== null) {
        // bytes that landed in the read buffer belong to the frame first
        const part = Math.min(this.end - this.start, length - this.frameFilled);
        if (part > 0) {
          this.buf.copy(this.frame, this.frameFilled, this.start, this.start + part);
          this.start += part;
          this.frameFilled += part;
        }
        if (this.frameFilled < length) break;
        payload = this.frame;
        this.frame = null;
        this.frameFilled = 0;
      } else {
        const at = this.start + frameHeaderBytes;
        if (this.end - at >= length) {
          payload = this.buf.subarray(at, at + length);
          this.start = at + length;
        } else {
          if (at + length <= this.buf.length) break; // read on into the read buffer
          // too large for the read buffer: its own memory, now that it is reserved
          const own = Buffer.allocUnsafe(length);
          this.buf.copy(own, 0, at, this.end);
          this.frame = own;
          this.frameFilled = this.end - at;
          this.start = this.end;
          break;
        }
      }
      this.frameLength = undefined;
      this.reserved = false;
      this.startedAt = this.end > this.start ? performance.now() : undefined;
      this.onFrame(payload, length);
    }
    if (this.start === this.end && this.frame === null && this.frameLength === undefined) this.startedAt = undefined;
    this.settleStray();
  }

  /** Counts what we hold beyond our reservation as stray bytes in the pool. */
  private settleStray(): void {
    if (this.stopped) return;
    const covered =
      this.reserved && this.frameLength !== undefined && this.frame === null ? frameHeaderBytes + this.frameLength : 0;
    const stray = Math.max(0, this.end - this.start - covered);
    if (stray !== this.strayBytes) {
      this.pool.addStray(stray - this.strayBytes);
      this.strayBytes = stray;
    }
  }
}

/** Where the whole frames of `chunk` from `from` on end (`from` when the first is not wholly in it). */
function wholeFramesEnd(chunk: Buffer, from: number): number {
  let pos = from;
  while (pos + frameHeaderBytes <= chunk.length) {
    const length = chunk.readInt32BE(pos);
    if (length < 0 || pos + frameHeaderBytes + length > chunk.length) break;
    pos += frameHeaderBytes + length;
  }
  return pos;
}
