import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A fresh directory under `root` (default: the OS temp dir); remove it with the returned cleanup. */
export function tempDir(prefix = 'sluice-test-', root = os.tmpdir()): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(root, prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
