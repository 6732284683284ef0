/** Start-up failures named by their config key (src/broker/start-errors.ts). */
import { describe, expect, it } from 'vitest';
import { listenFailure, logDirFailure } from '../../../src/broker/start-errors.js';
import { ErrorCode, type SluiceError } from '../../../src/shared/errors.js';

const errno = (code: string, path?: string): NodeJS.ErrnoException =>
  Object.assign(new Error(`${code}: something`), { code, ...(path ? { path } : {}) });

describe('listenFailure', () => {
  it('names the key, the value and --override for a port in use', () => {
    const err = listenFailure(errno('EADDRINUSE'), 'kafka.port', '127.0.0.1', 9093) as SluiceError;
    expect(err.code).toBe(ErrorCode.InvalidConfig);
    expect(err.message).toMatch(/^kafka\.port=9093: 127\.0\.0\.1:9093 is already in use .*--override kafka\.port=PORT/);
  });

  it('names an address that is not this machine', () => {
    const err = listenFailure(errno('EADDRNOTAVAIL'), 'port', '10.9.9.9', 9092) as SluiceError;
    expect(err.message).toMatch(/^port=9092: cannot listen on 10\.9\.9\.9:9092: not an address of this machine/);
  });

  it('passes other errors on as they are', () => {
    const other = new Error('boom');
    expect(listenFailure(other, 'port', 'h', 1)).toBe(other);
  });
});

describe('logDirFailure', () => {
  it('a file, a path through a file, a read-only file system: the key, the path and why', () => {
    const file = logDirFailure(errno('EEXIST', '/data/f'), ['/data/f']) as SluiceError;
    expect(file.code).toBe(ErrorCode.InvalidConfig);
    expect(file.message).toMatch(/^log\.dirs=\/data\/f: cannot use \/data\/f as a data directory: it is a file/);
    expect((logDirFailure(errno('ENOTDIR', '/f/x'), ['/f/x']) as SluiceError).message).toMatch(
      /a part of the path is a file/,
    );
    expect((logDirFailure(errno('EROFS', '/ro/x'), ['/ro/x']) as SluiceError).message).toMatch(/read-only/);
    expect((logDirFailure(errno('EACCES', '/root/x'), ['/root/x']) as SluiceError).message).toMatch(
      /permission denied \(EACCES\) — give a writable directory with --override log\.dirs=PATH/,
    );
  });

  it('passes on an error that is not the directory’s', () => {
    const other = new Error('corrupt index');
    expect(logDirFailure(other, ['/nonexistent-sluice-dir'])).toBe(other);
  });
});
