/**
 * A full disk (ENOSPC, or a quota: EDQUOT) is not a broken one: the storage
 * layer refuses writes while it lasts and resumes on its own once space returns
 * (partition-log.ts, log-manager.ts). This module says which errors mean a full
 * disk, probes whether a directory takes writes again, and reads its free space.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { diskFullProbeBytesMax } from '../shared/limits.js';

const fullCodes = new Set(['ENOSPC', 'EDQUOT']);
// LevelDB reports a full disk as an IO error whose message is the C library's strerror text
const fullMessage = /No space left on device|Disk quota exceeded/;
/** Causes followed down an error's chain (SluiceError → Node's fs error, LevelDB → its IO error). */
const causeDepthMax = 5;

/** True when `err` (or an error in its cause chain) says the disk or the user's quota is full. */
export function isDiskFullError(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < causeDepthMax && e instanceof Error; depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== undefined && fullCodes.has(code)) return true;
    if (fullMessage.test(e.message)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * True when `err` (or an error in its cause chain) is a failed fsync. Such a failure, even ENOSPC,
 * is not a full disk the log can wait out: Linux may have dropped the dirty pages the fsync could
 * not write (they are marked clean), so bytes the log holds as written may be gone from the file
 * and a later fsync that succeeds proves nothing. The log goes offline instead (Kafka's answer to
 * any I/O error), and recovery at the next start checks what is past its recovery point.
 */
export function isSyncFailure(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < causeDepthMax && e instanceof Error; depth++) {
    const syscall = (e as NodeJS.ErrnoException).syscall;
    if (syscall === 'fsync' || syscall === 'fdatasync') return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * `err` as LogDirFull (KAFKA_STORAGE_ERROR, retriable) when it means a full disk, with `what`
 * saying what could not be done; otherwise `err` itself.
 */
export function asDiskFull(err: unknown, what: string): unknown {
  if (!isDiskFullError(err) || isSyncFailure(err)) return err;
  return new SluiceError(ErrorCode.LogDirFull, `${what}: the log directory is full`, { cause: err, retriable: true });
}

/** The probe file's name: a dot file, never a partition directory or a segment. */
export const probeFileName = '.sluice-space-probe';

/**
 * Writes `bytes` (at most diskFullProbeBytesMax) to a probe file in `dir`, fsyncs and deletes it.
 * Throws what the file system threw (ENOSPC while the disk is still full); the file is gone either way.
 */
export function probeWritable(dir: string, bytes: number): void {
  const file = path.join(dir, probeFileName);
  const size = Math.max(1, Math.min(bytes, diskFullProbeBytesMax));
  const buf = Buffer.alloc(size);
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'w');
    let written = 0;
    while (written < size) written += fs.writeSync(fd, buf, written, size - written, written);
    fs.fdatasyncSync(fd);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
}

export interface DirSpace {
  freeBytes: number;
  totalBytes: number;
}

/** Free (available to this user) and total bytes of the file system holding `dir` (statfs). */
export function dirSpace(dir: string): DirSpace {
  const s = fs.statfsSync(dir);
  return { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
}
