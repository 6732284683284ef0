/**
 * One segment file of a partition log: raw RecordBatch v2 bytes back to back,
 * named by the base offset of its first batch. Appends are positional
 * writeSync calls (page-cache writes cost microseconds; a thread-pool hop would
 * cost more than the copy); fsync runs off the event loop.
 *
 * The file's descriptor comes from a bounded cache (file-cache.ts): it may be
 * closed between uses and is reopened on demand. Nothing here depends on it
 * staying open: every write and read names its position, and `size` (not the
 * descriptor's offset) says where the next append goes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { assert } from '../shared/assert.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { noTimestamp } from '../wire/record-batch.js';
import { type CachedFile, defaultFileCache, type FileCache } from './file-cache.js';
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
  private readonly file: CachedFile;

  private constructor(
    readonly baseOffset: number,
    readonly path: string,
    file: CachedFile,
    summary: SegmentSummary,
    /** The cache this segment's file is opened through (a cleaned replacement uses the same). */
    readonly files: FileCache,
  ) {
    this.file = file;
    this.size = summary.size;
    this.nextOffset = summary.nextOffset;
    this.maxTimestamp = summary.maxTimestamp;
    this.appendedFrom = summary.size;
  }

  /** True when the bytes [start, end) were validated in this process. */
  isVerified(start: number, end: number): boolean {
    return end <= this.verifiedBytes || start >= this.appendedFrom;
  }

  static create(dir: string, baseOffset: number, files: FileCache = defaultFileCache): Segment {
    const file = path.join(dir, segmentFileName(baseOffset));
    let handle: CachedFile;
    try {
      handle = files.open(file, 'wx+');
    } catch (err) {
      throw storageError('cannot create segment', file, err);
    }
    return new Segment(baseOffset, file, handle, { size: 0, nextOffset: baseOffset, maxTimestamp: noTimestamp }, files);
  }

  /**
   * An existing file; the caller supplies (or recovers) its summary. The file is not opened here
   * (a stat gives its size): the first read, append or fsync opens it (issue 20 items 4 and 5).
   */
  static open(dir: string, baseOffset: number, files: FileCache = defaultFileCache): Segment {
    const file = path.join(dir, segmentFileName(baseOffset));
    let stat: fs.Stats;
    try {
      stat = fs.statSync(file);
    } catch (err) {
      throw storageError('cannot open segment', file, err);
    }
    const segment = new Segment(
      baseOffset,
      file,
      files.lazy(file),
      { size: stat.size, nextOffset: baseOffset, maxTimestamp: noTimestamp },
      files,
    );
    // log.roll.ms counts from the segment's creation, not from this process's first append to it
    if (stat.size > 0) segment.firstAppendMs = stat.birthtimeMs > 0 ? stat.birthtimeMs : stat.mtimeMs;
    return segment;
  }

  get summary(): SegmentSummary {
    return { size: this.size, nextOffset: this.nextOffset, maxTimestamp: this.maxTimestamp };
  }

  /** The file's descriptor, reopened when the cache had closed it. */
  private fd(what: string): number {
    try {
      return this.file.fd();
    } catch (err) {
      throw storageError(what, this.path, err);
    }
  }

  /** True while the file is open (the cache may close it between uses; tests). */
  get isOpen(): boolean {
    return this.file.isOpen;
  }

  /** Appends bytes at the end. On failure the file is cut back to its old size. */
  append(bytes: Buffer): number {
    const position = this.size;
    const fd = this.fd('cannot append to');
    try {
      let written = 0;
      while (written < bytes.length) {
        written += fs.writeSync(fd, bytes, written, bytes.length - written, position + written);
      }
    } catch (err) {
      try {
        fs.ftruncateSync(fd, position);
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
      return fs.fstatSync(this.fd('cannot stat')).size;
    } catch (err) {
      throw storageError('cannot stat', this.path, err);
    }
  }

  /** Reads up to `length` bytes at `position` into `into` (or a new buffer); returns the bytes read. */
  read(position: number, length: number, into?: Buffer): Buffer {
    assert(position >= 0 && length >= 0, 'segment read with a negative position or length');
    const buf = into ?? Buffer.allocUnsafe(length);
    let done = 0;
    if (length === 0) return buf.subarray(0, 0);
    const fd = this.fd('cannot read');
    try {
      while (done < length) {
        const n = fs.readSync(fd, buf, done, length - done, position + done);
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
    const fd = this.fd('cannot truncate');
    try {
      fs.ftruncateSync(fd, position);
    } catch (err) {
      throw storageError('cannot truncate', this.path, err);
    }
    this.size = position;
    if (this.verifiedBytes > position) this.verifiedBytes = position;
    // whatever is appended from here on is validated on append
    if (this.appendedFrom > position) this.appendedFrom = position;
  }

  /**
   * fsyncs the file. A descriptor the cache closed since the last append is reopened: fsync makes
   * the file's written data durable whichever descriptor wrote it. The descriptor is pinned while
   * the fsync runs on the thread pool (the cache never closes it under the call).
   */
  flush(): Promise<void> {
    // A log's flush walks its segments while truncation or retention may delete (close) one of them.
    // Such a segment has nothing left to make durable: fsyncing its closed fd failed (EBADF, or
    // ERR_OUT_OF_RANGE for fd -1) and took the whole log offline.
    if (this.file.closed) return Promise.resolve();
    let fd: number;
    try {
      fd = this.file.fd();
    } catch (err) {
      return Promise.reject(storageError('cannot fsync', this.path, err));
    }
    return this.file.pinned(
      () =>
        new Promise<void>((resolve, reject) => {
          fs.fdatasync(fd, (err) => {
            if (err && !(this.file.closed && err.code === 'EBADF'))
              reject(storageError('cannot fsync', this.path, err));
            else resolve();
          });
        }),
    );
  }

  /** Closes the file for good (the segment leaves its log); the cache forgets it. */
  close(): void {
    this.file.close();
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
