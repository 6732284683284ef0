/**
 * Start-up failures in the words of the configuration: a listener port in use
 * or an unusable data directory names the config key and its value, and says
 * how to choose another (issue 19 item 2).
 */
import { accessSync, constants } from 'node:fs';
import { ErrorCode, SluiceError } from '../shared/errors.js';

/** `err` from binding `key`'s listener on host:port, as a SluiceError naming the key when the port is taken. */
export function listenFailure(err: unknown, key: string, host: string, port: number): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') {
    return new SluiceError(
      ErrorCode.InvalidConfig,
      `${key}=${port}: ${host}:${port} is already in use (another broker or program listens there) — choose another port with --override ${key}=PORT (0 picks a free one)`,
      { cause: err },
    );
  }
  if (code === 'EADDRNOTAVAIL' || code === 'EACCES') {
    const what =
      code === 'EACCES' ? 'not permitted (a port below 1024 needs privileges)' : 'not an address of this machine';
    return new SluiceError(
      ErrorCode.InvalidConfig,
      `${key}=${port}: cannot listen on ${host}:${port}: ${what} (${code}) — choose another with --override`,
      { cause: err },
    );
  }
  return err;
}

/** Why a directory of log.dirs cannot be used, from the errno of creating or opening it. */
const dirProblems: Record<string, string> = {
  EEXIST: 'it is a file, not a directory',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOENT: 'its parent cannot be created',
};

/** `err` from opening the data directories, as a SluiceError naming log.dirs and the path when it is the directory's fault. */
export function logDirFailure(err: unknown, dirs: readonly string[]): unknown {
  const e = err as NodeJS.ErrnoException | undefined;
  let code = e?.code;
  let where = e?.path;
  if (code === undefined || !(code in dirProblems)) {
    // the index database's own error names no errno: a directory it may not write is the usual cause
    const denied = dirs.find((dir) => !writable(dir));
    if (denied === undefined) return err;
    code = 'EACCES';
    where = denied;
  }
  where ??= dirs.join(',');
  return new SluiceError(
    ErrorCode.InvalidConfig,
    `log.dirs=${dirs.join(',')}: cannot use ${where} as a data directory: ${dirProblems[code]} (${code}) — give a writable directory with --override log.dirs=PATH`,
    { cause: err },
  );
}

/** Whether this process may create files in `dir` (a missing one is not this check's to judge). */
function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}
