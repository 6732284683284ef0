/**
 * Splits a plaintext socket's bytes into frames, reading a frame that spans
 * reads straight into a buffer of its own length (net's `onread` with a
 * buffer chosen per read): the kernel copies a fetch answer's bytes once,
 * into the buffer the records are then views of. Reading into 64 KiB chunks
 * and joining them (FrameReader) copied every fetched byte twice and
 * allocated each byte twice; at 100 B records the join was 8-9 % of a
 * consumer's profile.
 *
 * Reads that are not part of such a frame go into one reused scratch buffer;
 * whole frames found there are copied out (one copy per read, small: acks,
 * metadata), since a decoded answer keeps views of its payload. Bounded as
 * FrameReader: a frame longer than `maxFrameBytes` is reported through
 * onOversize and the receiver stops.
 */
import { frameHeaderBytes } from '../protocol/native/frame.js';

/** Bytes of the reused read buffer (libuv's default read size). */
const scratchBytes = 64 * 1024;

export class FrameReceiver {
  private readonly scratch = Buffer.allocUnsafe(scratchBytes);
  /** The frame (length prefix excluded) being read in place; null: reads go to scratch. */
  private frame: Buffer | null = null;
  private filled = 0;
  /** The first bytes of a frame header that ended a read (fewer than 4). */
  private carry: Buffer | null = null;
  private failed = false;

  constructor(
    private readonly maxFrameBytes: number,
    private readonly onFrame: (payload: Buffer) => void,
    private readonly onOversize: (claimedBytes: number) => void,
  ) {}

  /** The buffer the next socket read fills (net's onread `buffer` function). */
  next(): Buffer {
    return this.frame === null ? this.scratch : this.frame.subarray(this.filled);
  }

  /** True while a frame is read in place (the bytes of a read are not in `scratch`). */
  get inFrame(): boolean {
    return this.frame !== null;
  }

  /** `n` bytes were read into the buffer next() returned (net's onread `callback`). */
  received(n: number): void {
    if (this.failed) return;
    const frame = this.frame;
    if (frame !== null) {
      this.filled += n;
      if (this.filled < frame.length) return;
      this.frame = null;
      this.filled = 0;
      this.onFrame(frame);
      return;
    }
    let data = this.scratch.subarray(0, n);
    if (this.carry !== null) {
      data = Buffer.concat([this.carry, data]);
      this.carry = null;
    }
    // the whole frames of this read: one copy out of scratch, each frame a view of it
    let end = 0;
    let length = 0;
    for (;;) {
      if (data.length - end < frameHeaderBytes) break;
      length = data.readInt32BE(end);
      if (length < 0 || length > this.maxFrameBytes) break;
      if (data.length - end - frameHeaderBytes < length) break;
      end += frameHeaderBytes + length;
    }
    if (end > 0) {
      const whole = Buffer.allocUnsafe(end);
      data.copy(whole, 0, 0, end);
      for (let pos = 0; pos < end && !this.failed; ) {
        const size = whole.readInt32BE(pos);
        this.onFrame(whole.subarray(pos + frameHeaderBytes, pos + frameHeaderBytes + size));
        pos += frameHeaderBytes + size;
      }
    }
    const rest = data.length - end;
    if (rest === 0 || this.failed) return;
    if (rest < frameHeaderBytes) {
      this.carry = Buffer.from(data.subarray(end));
      return;
    }
    if (length < 0 || length > this.maxFrameBytes) {
      this.failed = true;
      this.onOversize(length);
      return;
    }
    // a frame that continues past this read: its own buffer, the rest of it read in place
    const start = end + frameHeaderBytes;
    this.frame = Buffer.allocUnsafe(length);
    this.filled = data.copy(this.frame, 0, start);
  }
}
