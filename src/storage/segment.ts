/**
 * One segment file of a partition log: raw RecordBatch v2 bytes back to back,
 * named by the base offset of its first batch. Appends are positional
 * writeSync calls (page-cache writes cost microseconds; a thread-pool hop would
 * cost more than the copy); fsync runs off the event loop.
 */
import fs from 'node:fs';
import path from 'node:path';
import { assert } from '../shared/assert.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { noTimestamp } from '../wire/record-batch.js';
import { segmentFileName } from './names.js';

export interface SegmentSummary {
  /** Bytes of valid batches in the file. */
  size: number;
  /** Offset after the last record in the segment (the base offset when empty). */
  nextOffset: number;
  /** Largest record timestamp in the segment, -1 when none. */
  maxTimestamp: number;
}

function storageError(what: string, file: string, err: unknown): SluiceError {
  return new SluiceError(ErrorCode.StorageError, `${what} ${file}: ${(err as Error).message}`, { cause: err });
}

export class Segment {
  size: number;
  nextOffset: number;
  maxTimestamp: number;
  /** Bytes from the start whose batches were validated in this process. */
  verifiedBytes = 0;
  /**
   * Where this process's appends began: everything from here to `size` was
   * validated on append. Bytes between verifiedBytes and here are unchecked.
   */
  appendedFrom: number;
  /** Wall-clock time of the segment's first append (its file's creation when reopened), for log.roll.ms. */
  firstAppendMs: number | undefined;
  private fd: number;

  private constructor(
    readonly baseOffset: number,
    readonly path: string,
    fd: number,
    summary: SegmentSummary,
  ) {
    this.fd = fd;
    this.size = summary.size;
    this.nextOffset = summary.nextOffset;
    this.maxTimestamp = summary.maxTimestamp;
    this.appendedFrom = summary.size;
  }

  /** True when the bytes [start, end) were validated in this process. */
  isVerified(start: number, end: number): boolean {
    return end <= this.verifiedBytes || start >= this.appendedFrom;
  }

  static create(dir: string, baseOffset: number): Segment {
    const file = path.join(dir, segmentFileName(baseOffset));
    let fd: number;
    try {
      fd = fs.openSync(file, 'wx+');
    } catch (err) {
      throw storageError('cannot create segment', file, err);
    }
    return new Segment(baseOffset, file, fd, { size: 0, nextOffset: baseOffset, maxTimestamp: noTimestamp });
  }

  /** Opens an existing file; the caller supplies (or recovers) its summary. */
  static open(dir: string, baseOffset: number): Segment {
    const file = path.join(dir, segmentFileName(baseOffset));
    let fd: number;
    try {
      fd = fs.openSync(file, 'r+');
    } catch (err) {
      throw storageError('cannot open segment', file, err);
    }
    const stat = fs.fstatSync(fd);
    const segment = new Segment(baseOffset, file, fd, {
      size: stat.size,
      nextOffset: baseOffset,
      maxTimestamp: noTimestamp,
    });
    // log.roll.ms counts from the segment's creation, not from this process's first append to it
    if (stat.size > 0) segment.firstAppendMs = stat.birthtimeMs > 0 ? stat.birthtimeMs : stat.mtimeMs;
    return segment;
  }

  get summary(): SegmentSummary {
    return { size: this.size, nextOffset: this.nextOffset, maxTimestamp: this.maxTimestamp };
  }

  /** Appends bytes at the end. On failure the file is cut back to its old size. */
  append(bytes: Buffer): number {
    const position = this.size;
    try {
      let written = 0;
      while (written < bytes.length) {
        written += fs.writeSync(this.fd, bytes, written, bytes.length - written, position + written);
      }
    } catch (err) {
      try {
        fs.ftruncateSync(this.fd, position);
      } catch {
        // the log refuses writes after any storage error; a full disk's retry cuts the tail again
        // (PartitionLog.retryWrites) before the log takes writes, and recovery cuts it after a crash
      }
      throw storageError('cannot append to', this.path, err);
    }
    this.size = position + bytes.length;
    return position;
  }

  /** The file's size on disk: more than `size` when a failed write left bytes its cut could not remove. */
  fileSize(): number {
    try {
      return fs.fstatSync(this.fd).size;
    } catch (err) {
      throw storageError('cannot stat', this.path, err);
    }
  }

  /** Reads up to `length` bytes at `position` into `into` (or a new buffer); returns the bytes read. */
  read(position: number, length: number, into?: Buffer): Buffer {
    assert(position >= 0 && length >= 0, 'segment read with a negative position or length');
    const buf = into ?? Buffer.allocUnsafe(length);
    let done = 0;
    try {
      while (done < length) {
        const n = fs.readSync(this.fd, buf, done, length - done, position + done);
        if (n === 0) break;
        done += n;
      }
    } catch (err) {
      throw storageError('cannot read', this.path, err);
    }
    return done === buf.length ? buf : buf.subarray(0, done);
  }

  truncateTo(position: number): void {
    assert(position >= 0 && position <= this.size, 'a truncation cuts within the file, never grows it');
    try {
      fs.ftruncateSync(this.fd, position);
    } catch (err) {
      throw storageError('cannot truncate', this.path, err);
    }
    this.size = position;
    if (this.verifiedBytes > position) this.verifiedBytes = position;
    // whatever is appended from here on is validated on append
    if (this.appendedFrom > position) this.appendedFrom = position;
  }

  flush(): Promise<void> {
    // A log's flush walks its segments while truncation or retention may delete (close) one of them.
    // Such a segment has nothing left to make durable: fsyncing its closed fd failed (EBADF, or
    // ERR_OUT_OF_RANGE for fd -1) and took the whole log offline.
    if (this.fd < 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      fs.fdatasync(this.fd, (err) => {
        if (err && !(this.fd < 0 && err.code === 'EBADF')) reject(storageError('cannot fsync', this.path, err));
        else resolve();
      });
    });
  }

  close(): void {
    if (this.fd < 0) return;
    try {
      fs.closeSync(this.fd);
    } finally {
      this.fd = -1;
    }
  }

  /** Closes and removes the file. */
  delete(): void {
    this.close();
    try {
      fs.rmSync(this.path, { force: true });
    } catch (err) {
      throw storageError('cannot delete', this.path, err);
    }
  }
}
