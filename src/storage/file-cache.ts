/**
 * A bounded cache of open segment files (issue 20 item 5). Each partition's
 * segments used to hold an open file descriptor for their whole life: past the
 * process's open files limit (ulimit -n) creations failed with EMFILE and the
 * broker could not start again. Now at most `max` segment files are open; the
 * least recently used is closed when another must open, and a closed file is
 * opened again (read-write, never created) by the next read, append, cut or
 * fsync that needs it.
 *
 * Nothing of a segment's state lives in its descriptor: appends and reads are
 * positional (pwrite/pread at the segment's own size and positions), so a file
 * reopened for an append writes where the last one ended. Durability does not
 * depend on the descriptor either: fsync makes a file's (inode's) written data
 * durable whichever descriptor wrote it, so a flush of a segment whose
 * descriptor was closed since its last append reopens the file and fsyncs that.
 * A descriptor in use by an fsync on the thread pool is pinned and never closed
 * under it (its number could otherwise be reused by another file and fsynced
 * in its place).
 *
 * Least recently used order is an intrusive doubly linked list (no map lookups
 * on the append path): a use moves the file to the head, eviction takes the tail.
 */
import fs from 'node:fs';
import { logOpenFilesMin, logOpenFilesShareOfLimit, logOpenFilesUnknownLimit } from '../shared/limits.js';

/** Raised when opening a file finds the process out of descriptors. */
const outOfFiles = new Set(['EMFILE', 'ENFILE']);

export interface FileCacheStats {
  /** Files open now. */
  open: number;
  /** The cap. */
  max: number;
  /** Opens of a file that had been closed by the cache (reopens on demand). */
  reopens: number;
  /** Files closed to make room. */
  evictions: number;
}

export class FileCache {
  private head: CachedFile | undefined;
  private tail: CachedFile | undefined;
  private count = 0;
  private reopens = 0;
  private evictions = 0;

  constructor(private cap: number) {
    if (!Number.isSafeInteger(cap) || cap < 1) throw new RangeError(`a file cache holds at least 1 file, got ${cap}`);
  }

  get max(): number {
    return this.cap;
  }

  /** Changes the cap; files beyond it are closed now (least recently used first). */
  setMax(max: number): void {
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`a file cache holds at least 1 file, got ${max}`);
    this.cap = max;
    this.shrinkTo(max);
  }

  get stats(): FileCacheStats {
    return { open: this.count, max: this.cap, reopens: this.reopens, evictions: this.evictions };
  }

  /**
   * Opens `path` with `flags` now (a creation must create it now, and fail now when it cannot) and
   * returns its handle; later reopens use 'r+'.
   */
  open(path: string, flags: string): CachedFile {
    const file = new CachedFile(this, path);
    file.attach(this.openFd(path, flags));
    return file;
  }

  /** A handle on `path` that opens it ('r+') only when first used: loading a log opens no file. */
  lazy(path: string): CachedFile {
    return new CachedFile(this, path);
  }

  /** @internal an open descriptor of `path`, making room first; on EMFILE/ENFILE more room and one retry. */
  openFd(path: string, flags: string): number {
    this.shrinkTo(this.cap - 1);
    try {
      return fs.openSync(path, flags);
    } catch (err) {
      if (!outOfFiles.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
      // other descriptors (connections, LevelDB) took what this cache counted on: give back an
      // eighth of the cached files (at least one) and try once more
      if (!this.shrinkTo(this.count - Math.max(1, this.count >> 3))) throw err;
      return fs.openSync(path, flags);
    }
  }

  /** Closes unpinned files, least recently used first, until at most `target` are open; true when any closed. */
  private shrinkTo(target: number): boolean {
    let closed = false;
    let at = this.tail;
    while (this.count > target && at) {
      const prev = at.prev;
      if (at.pins === 0) {
        at.evict();
        this.evictions++;
        closed = true;
      }
      at = prev;
    }
    return closed;
  }

  /** @internal a pinned file was let go: back within the cap if opens went past it meanwhile. */
  unpinned(): void {
    if (this.count > this.cap) this.shrinkTo(this.cap);
  }

  /** @internal */
  linked(file: CachedFile, reopened: boolean): void {
    this.count++;
    if (reopened) this.reopens++;
    file.prev = undefined;
    file.next = this.head;
    if (this.head) this.head.prev = file;
    this.head = file;
    if (!this.tail) this.tail = file;
  }

  /** @internal */
  unlinked(file: CachedFile): void {
    this.count--;
    if (file.prev) file.prev.next = file.next;
    else this.head = file.next;
    if (file.next) file.next.prev = file.prev;
    else this.tail = file.prev;
    file.prev = undefined;
    file.next = undefined;
  }

  /** @internal moves `file` (open) to the head. */
  touched(file: CachedFile): void {
    if (this.head === file) return;
    // unlink without counting, then link at the head
    if (file.prev) file.prev.next = file.next;
    if (file.next) file.next.prev = file.prev;
    else this.tail = file.prev;
    file.prev = undefined;
    file.next = this.head;
    if (this.head) this.head.prev = file;
    this.head = file;
  }
}

/** One file of the cache: open or closed, reopened by fd(); closed for good by close(). */
export class CachedFile {
  /** @internal list links, newest towards the head */
  prev: CachedFile | undefined;
  next: CachedFile | undefined;
  /** @internal fsyncs in flight on the descriptor: it is not evicted while any run. */
  pins = 0;
  private descriptor = -1;
  private everOpen = false;
  private done = false;

  constructor(
    private readonly cache: FileCache,
    readonly path: string,
  ) {}

  /** True while a descriptor is open (tests; the stats count them all). */
  get isOpen(): boolean {
    return this.descriptor >= 0;
  }

  /** True once close() ran: the file is no longer used by its segment (deleted, replaced or closed). */
  get closed(): boolean {
    return this.done;
  }

  /** @internal */
  attach(fd: number): void {
    this.descriptor = fd;
    this.cache.linked(this, this.everOpen);
    this.everOpen = true;
  }

  /** The open descriptor, reopening the file ('r+') when the cache had closed it. */
  fd(): number {
    if (this.done) throw Object.assign(new Error(`${this.path} is closed`), { code: 'EBADF' });
    if (this.descriptor >= 0) {
      this.cache.touched(this);
      return this.descriptor;
    }
    this.attach(this.cache.openFd(this.path, 'r+'));
    return this.descriptor;
  }

  /**
   * Runs `use` with the descriptor held open: the cache does not close it until `use` settles
   * (an fsync on the thread pool). Closed for good meanwhile (the segment deleted): `use` ends
   * on a descriptor already closed, its EBADF is the caller's to judge.
   */
  async pinned<T>(use: (fd: number) => Promise<T>): Promise<T> {
    const fd = this.fd();
    this.pins++;
    try {
      return await use(fd);
    } finally {
      this.pins--;
      // files opened past the cap while this one was pinned are closed now
      if (this.pins === 0) this.cache.unpinned();
    }
  }

  /** @internal the cache closes it to make room. */
  evict(): void {
    const fd = this.descriptor;
    this.descriptor = -1;
    this.cache.unlinked(this);
    fs.closeSync(fd);
  }

  /** Closes the descriptor and retires the handle (the segment is closed, deleted or replaced). */
  close(): void {
    if (this.done) return;
    this.done = true;
    if (this.descriptor < 0) return;
    const fd = this.descriptor;
    this.descriptor = -1;
    this.cache.unlinked(this);
    fs.closeSync(fd);
  }
}

/**
 * The cache the segments of a process share unless given another: a log manager sets its cap
 * from log.open.files.max (log-manager.ts); segments made outside one (tools, tests) use it as is.
 */
export const defaultFileCache = new FileCache(1024);

/** The soft limit on open files of this process, or undefined where /proc is not there or it is unlimited. */
export function processOpenFilesLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    return !m || m[1] === 'unlimited' ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

/** log.open.files.max as configured (0: derived from the open files limit `limit`, see limits.ts). */
export function openFilesMaxFor(configured: number, limit: number | undefined): number {
  if (configured > 0) return configured;
  if (limit === undefined) return logOpenFilesUnknownLimit;
  return Math.max(logOpenFilesMin, Math.floor(limit * logOpenFilesShareOfLimit));
}
